"""Warning level per scenario: weighted distinct indicators fired within the scenario's look-back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LEVELS = ("low", "guarded", "elevated", "high", "severe")
SEVERITY_WEIGHT = {"info": 0.5, "low": 1.0, "medium": 2.0, "high": 3.0, "critical": 4.0}


@dataclass
class LevelChange:
    """A scenario moved from one warning level to another, and why."""

    scenario_id: str
    at: datetime
    level: str
    previous: str | None
    score: float
    reasons: list[dict] = field(default_factory=list)


def members(lib, scenario_id: str) -> dict[str, float]:
    """Indicator id -> weight for the indicators that count towards a scenario."""
    out = {}
    for ind in lib.library.indicators.values():
        if ind.enabled and ind.kind != "calendar" and (scenario_id in ind.scenarios or "*" in ind.scenarios):
            out[ind.id] = ind.weight if ind.weight is not None else SEVERITY_WEIGHT[ind.severity]
    return out


def level_for(score: float, thresholds: dict[str, float]) -> str:
    level = "low"
    for name in LEVELS[1:]:
        if name in thresholds and score >= thresholds[name]:
            level = name
    return level


def assess(lib, store, scenario_id: str, at: datetime) -> tuple[str, float, list[dict]]:
    """The level a scenario stands at, at event time `at`, with the indicators behind it."""
    sc = lib.library.scenarios[scenario_id]
    weights = lib.scenario_members[scenario_id]
    fired = store.count_by_indicator(set(weights), at - sc.lookback, at)
    reasons = sorted(({"indicator": i, "weight": weights[i], "hits": n} for i, n in fired.items()),
                     key=lambda r: (-r["weight"], r["indicator"]))
    score = sum(weights[i] for i in fired)
    return level_for(score, sc.levels), score, reasons


def update_levels(lib, store, at: datetime, scenario_ids=None) -> list[LevelChange]:
    """Re-assess scenarios and record a LevelChange for each one whose level moved."""
    changes = []
    for sid in scenario_ids or lib.library.scenarios:
        level, score, reasons = assess(lib, store, sid, at)
        state = store.get_state(f"scenario:{sid}", "level") or {"level": "low"}
        if level != state["level"]:
            change = LevelChange(sid, at, level, state["level"], score, reasons)
            store.set_state(f"scenario:{sid}", "level", {"level": level, "at": at.isoformat()})
            store.record_level(change)
            changes.append(change)
    return changes
