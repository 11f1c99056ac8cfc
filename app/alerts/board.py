"""The I&W board: per scenario its warning level and history, per indicator its state, trend and last hit.

An indicator is *tripped* when it fired within TRIPPED_WITHIN of the board's time, on *watch* when
it fired earlier within the scenario's look-back (so it still counts towards the level), and
*quiet* otherwise. Everything is computed "as of" a time, because event times are what the rules
use: the bundled samples are from 2020-2021, and the board shows their levels as they stood then.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alerts.models import AlertHit
from app.matching.models import Hit, ScenarioLevelEvent
from app.matching.scenarios import assess
from app.matching.sqlstore import SqlStore

TRIPPED_WITHIN = timedelta(days=7)
TREND_DAYS = 30
HISTORY_DAYS = 90
STATES = ("quiet", "watch", "tripped")


@dataclass
class IndicatorState:
    id: str
    name: str
    kind: str
    severity: str
    state: str
    trend: list[int]  # hits per day, oldest first, ending on the board's day
    last_hit_at: datetime | None
    last_alert_id: int | None


@dataclass
class ScenarioState:
    id: str
    name: str
    description: str
    level: str
    score: float
    thresholds: dict[str, float]
    history: list[tuple[datetime, str]]  # level changes within HISTORY_DAYS, the level before them first
    indicators: list[IndicatorState] = field(default_factory=list)


def latest_event_at(session: Session) -> datetime | None:
    """The newest hit's event time: where a board over old sample data is worth looking."""
    return session.scalar(select(func.max(Hit.at)))


def _day(column, dialect: str):
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def daily_hits(session: Session, as_of: datetime, days: int = TREND_DAYS) -> dict[str, list[int]]:
    """Hits per indicator per UTC day for the `days` days ending on as_of's day (oldest first)."""
    last = as_of.date()
    first = last - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=as_of.tzinfo)
    day = _day(Hit.at, session.get_bind().dialect.name)
    rows = session.execute(select(Hit.indicator_id, day, func.count()).where(Hit.at >= start, Hit.at <= as_of)
                           .group_by(Hit.indicator_id, day)).all()
    out: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for indicator_id, d, n in rows:
        offset = (_as_date(d) - first).days
        if 0 <= offset < days:
            out[indicator_id][offset] += n
    return out


def _last_hit(session: Session, indicator_id: str, as_of: datetime) -> tuple[datetime | None, int | None]:
    row = session.execute(select(Hit.at, AlertHit.alert_id).outerjoin(AlertHit, AlertHit.hit_id == Hit.id)
                          .where(Hit.indicator_id == indicator_id, Hit.at <= as_of)
                          .order_by(Hit.at.desc(), Hit.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (None, None)


def state_of(last_hit_at: datetime | None, as_of: datetime, lookback: timedelta) -> str:
    if last_hit_at is None or last_hit_at <= as_of - lookback:
        return "quiet"
    return "tripped" if last_hit_at > as_of - TRIPPED_WITHIN else "watch"


def level_history(session: Session, scenario_id: str, as_of: datetime) -> list[tuple[datetime, str]]:
    start = as_of - timedelta(days=HISTORY_DAYS)
    before = session.scalar(select(ScenarioLevelEvent.level).where(
        ScenarioLevelEvent.scenario_id == scenario_id, ScenarioLevelEvent.at < start)
        .order_by(ScenarioLevelEvent.at.desc(), ScenarioLevelEvent.id.desc()).limit(1))
    changes = session.execute(select(ScenarioLevelEvent.at, ScenarioLevelEvent.level).where(
        ScenarioLevelEvent.scenario_id == scenario_id, ScenarioLevelEvent.at >= start,
        ScenarioLevelEvent.at <= as_of).order_by(ScenarioLevelEvent.at, ScenarioLevelEvent.id)).all()
    return [(start, before or "low"), *[(at, level) for at, level in changes]]


def board(session: Session, lib, as_of: datetime) -> list[ScenarioState]:
    """Every scenario of the library with its indicators, as of an event time."""
    store = SqlStore(session, lib.version)
    trends = daily_hits(session, as_of)
    last_hits: dict[str, tuple[datetime | None, int | None]] = {}
    out = []
    for sid, sc in lib.library.scenarios.items():
        level, score, _ = assess(lib, store, sid, as_of)
        scenario = ScenarioState(sid, sc.name, sc.description, level, score, dict(sc.levels),
                                 level_history(session, sid, as_of))
        for ind in lib.library.indicators.values():
            if not ind.enabled or ind.kind == "calendar" or not (sid in ind.scenarios or "*" in ind.scenarios):
                continue
            if ind.id not in last_hits:
                last_hits[ind.id] = _last_hit(session, ind.id, as_of)
            last_at, alert_id = last_hits[ind.id]
            scenario.indicators.append(IndicatorState(
                ind.id, ind.name, ind.kind, ind.severity, state_of(last_at, as_of, sc.lookback),
                list(trends.get(ind.id, [0] * TREND_DAYS)), last_at, alert_id))
        scenario.indicators.sort(key=lambda i: (-STATES.index(i.state),
                                                -(i.last_hit_at.timestamp() if i.last_hit_at else 0), i.id))
        out.append(scenario)
    return out
