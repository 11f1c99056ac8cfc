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


def _score(lib, store, scenario_id: str, at: datetime) -> tuple[str, float, frozenset[str]]:
    """Level and score at event time `at`, and the member indicators with hits in the look-back."""
    sc = lib.library.scenarios[scenario_id]
    fired = store.indicators_with_hits(lib.scenario_ids[scenario_id], at - sc.lookback, at)
    score = lib.scenario_score(scenario_id, fired)
    return level_for(score, sc.levels), score, fired


def _reasons(lib, store, scenario_id: str, at: datetime, fired: frozenset[str]) -> list[dict]:
    """The indicators behind a level, heaviest first, with their hit counts (built only when they are shown)."""
    weights = lib.scenario_members[scenario_id]
    counts = store.count_by_indicator(fired, at - lib.library.scenarios[scenario_id].lookback, at)
    return sorted(({"indicator": i, "weight": weights[i], "hits": n} for i, n in counts.items()),
                  key=lambda r: (-r["weight"], r["indicator"]))


def assess(lib, store, scenario_id: str, at: datetime) -> tuple[str, float, list[dict]]:
    """The level a scenario stands at, at event time `at`, with the indicators behind it."""
    level, score, fired = _score(lib, store, scenario_id, at)
    return level, score, _reasons(lib, store, scenario_id, at, fired)


def update_levels(lib, store, at: datetime, scenario_ids=None) -> list[LevelChange]:
    """Re-assess scenarios and record a LevelChange for each one whose level moved."""
    changes = []
    for sid in scenario_ids or lib.library.scenarios:
        level, score, fired = _score(lib, store, sid, at)
        state = store.get_state(f"scenario:{sid}", "level") or {"level": "low"}
        if level != state["level"]:
            reasons = _reasons(lib, store, sid, at, fired)
            change = LevelChange(sid, at, level, state["level"], score, reasons)
            store.set_state(f"scenario:{sid}", "level", {"level": level, "at": at.isoformat()})
            store.record_level(change)
            changes.append(change)
    return changes
