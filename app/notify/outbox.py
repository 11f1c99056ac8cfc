"""Collector and fan-out: audit rows become outbox events, outbox events become deliveries.

The collector reads `alert_events` and `scenario_level_events` beyond a watermark kept in
`notify_cursors`. Ids are handed out before transactions commit, so a lower id can appear after a
higher one was read; such missing ids are remembered as gaps and looked for again until
GAP_TIMEOUT (after which they are taken to be rolled back). Every source row maps to one outbox
row (unique `source`), so reading a row twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertEvent
from app.matching.models import ScenarioLevelEvent
from app.notify import payloads as p
from app.notify.models import Delivery, NotifyCursor, OutboxEvent, WebhookEndpoint

GAP_TIMEOUT = timedelta(minutes=10)
MAX_GAPS = 1000


def _cursor(session: Session, name: str, now: datetime) -> NotifyCursor:
    """The cursor row, write-locked first so collectors (and SQLite writers) take turns."""
    locked = session.execute(update(NotifyCursor).where(NotifyCursor.name == name).values(updated_at=now))
    if locked.rowcount == 0:
        session.add(NotifyCursor(name=name, last_id=0, gaps={}, updated_at=now))
        session.flush()
    return session.get(NotifyCursor, name, populate_existing=True)


def _read(session: Session, cursor: NotifyCursor, model, limit: int) -> list:
    gap_ids = [int(i) for i in cursor.gaps]
    cond = model.id > cursor.last_id
    if gap_ids:
        cond = or_(cond, model.id.in_(gap_ids))
    return list(session.scalars(select(model).where(cond).order_by(model.id).limit(limit)))


def _advance(cursor: NotifyCursor, ids: list[int], now: datetime) -> None:
    """Move the watermark past what was read; remember skipped ids for a while, forget expired ones."""
    seen = set(ids)
    gaps = {k: v for k, v in cursor.gaps.items() if int(k) not in seen}
    top = max([cursor.last_id, *ids])
    missing = [i for i in range(cursor.last_id + 1, top) if i not in seen]
    for i in missing[:MAX_GAPS]:
        gaps[str(i)] = now.isoformat()
    oldest = now - GAP_TIMEOUT
    cursor.gaps = {k: v for k, v in gaps.items() if datetime.fromisoformat(v) > oldest}
    cursor.last_id = top


def _exists(session: Session, sources: list[str]) -> set[str]:
    if not sources:
        return set()
    return set(session.scalars(select(OutboxEvent.source).where(OutboxEvent.source.in_(sources))))


def _collect(session: Session, table: str, model, now: datetime, limit: int,
             event_for: Callable[[object, str], OutboxEvent | None]) -> int:
    """Read a source table past its cursor, add the outbox event `event_for` makes of each row not collected yet
    (None skips the row), then move the cursor; returns how many events were added."""
    cursor = _cursor(session, table, now)
    rows = _read(session, cursor, model, limit)
    done = _exists(session, [f"{table}:{r.id}" for r in rows])
    made = 0
    for row in rows:
        source = f"{table}:{row.id}"
        if source not in done and (event := event_for(row, source)) is not None:
            session.add(event)
            made += 1
    _advance(cursor, [r.id for r in rows], now)
    session.flush()
    return made


def collect_alert_events(session: Session, *, names: p.Names, secret: str, base_url: str, now: datetime,
                         limit: int = 500) -> int:
    """alert_events → alert.created / alert.updated (every audited change: hits, status, severity, silences)."""

    def event_for(ev: AlertEvent, source: str) -> OutboxEvent | None:
        alert = session.get(Alert, ev.alert_id)
        if alert is None:
            return None
        created = ev.action == "created"
        data = {"alert": p.alert_data(session, alert, names, base_url, now)}
        if not created:
            data["change"] = p.change_data(ev)
            data["escalated"] = p.escalates(ev)
        return OutboxEvent(
            event_id=p.event_id(secret, source), type=p.ALERT_CREATED if created else p.ALERT_UPDATED,
            source=source, occurred_at=ev.at, created_at=now, alert_id=alert.id, indicator_id=alert.indicator_id,
            scenario_ids=data["alert"]["scenarios"], severity=alert.severity, silenced=data["alert"]["silenced"],
            escalated=not created and p.escalates(ev), payload=data)

    return _collect(session, "alert_events", AlertEvent, now, limit, event_for)


def collect_level_events(session: Session, *, names: p.Names, secret: str, now: datetime, limit: int = 500) -> int:
    """scenario_level_events → scenario.level_changed; `escalated` when the level rose."""

    def event_for(ev: ScenarioLevelEvent, source: str) -> OutboxEvent:
        data = p.level_data(ev, names)
        return OutboxEvent(
            event_id=p.event_id(secret, source), type=p.LEVEL_CHANGED, source=source, occurred_at=ev.at,
            created_at=now, scenario_ids=[ev.scenario_id], escalated=data["direction"] == "up", payload=data)

    return _collect(session, "scenario_level_events", ScenarioLevelEvent, now, limit, event_for)


def has_work(session: Session) -> bool:
    """A read-only look (no cursor lock, no write) at whether collecting, fanning out or routing has anything to do."""
    cursors = {c.name: c for c in session.scalars(select(NotifyCursor))}
    for name, model in (("alert_events", AlertEvent), ("scenario_level_events", ScenarioLevelEvent)):
        cursor = cursors.get(name)
        if cursor is None or cursor.gaps or (session.scalar(select(func.max(model.id))) or 0) > cursor.last_id:
            return True
    return session.scalar(select(OutboxEvent.id).where(
        or_(OutboxEvent.fanned_out_at.is_(None), OutboxEvent.routed_at.is_(None))).limit(1)) is not None


def claim_batch(session: Session, query, *, skip_locked: bool = True):
    """Rows for this worker only: on PostgreSQL, rows another worker holds are skipped, not waited for."""
    if skip_locked and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def fan_out(session: Session, *, now: datetime, limit: int = 500) -> int:
    """One pending delivery per event per endpoint that wants its type (or the one endpoint it targets)."""
    events = claim_batch(session, select(OutboxEvent).where(OutboxEvent.fanned_out_at.is_(None))
                         .order_by(OutboxEvent.id).limit(limit))
    if not events:
        return 0
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))))
    rows = []
    for ev in events:
        targets = [ev.target_endpoint_id] if ev.target_endpoint_id else \
            [e.id for e in endpoints if ev.type in (e.event_types or [])]
        rows += [{"event_id": ev.id, "endpoint_id": t, "status": "pending", "attempts": 0, "next_attempt_at": now,
                  "created_at": now} for t in targets]
        ev.fanned_out_at = now
    if rows:
        session.execute(insert(Delivery), rows)
    session.flush()
    return len(rows)
