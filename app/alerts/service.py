"""Hits become alerts: one alert per indicator per story; windowed firings are alerts of their own.

Every change is an AlertEvent (created, hit_added, severity, silenced, unsilenced) so delivery can
announce it. Active silences are applied as hits arrive: a new alert a silence covers starts muted,
and a muted alert comes back when a hit no silence covers joins it. A new hit on a dismissed or
resolved alert is recorded but does not reopen it: the story is the same event the officer closed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.audit import record
from app.alerts.models import Alert, AlertHit, AlertSource
from app.alerts.silences import active_silences, covering, facts, mute, unmute
from app.alerts.stories import story_for
from app.db import utcnow
from app.ingest.models import Item
from app.matching.models import Hit
from app.matching.schema import SEVERITIES


def _higher(a: str, b: str) -> str:
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b


def alerts_for_hits(session: Session, hit_ids: list[int], now: datetime | None = None) -> list[Alert]:
    """Create or update the alerts behind new hits; returns the alerts touched."""
    now = now or utcnow()
    silences = active_silences(session, now)
    touched: dict[int, Alert] = {}
    for hit in session.scalars(select(Hit).where(Hit.id.in_(hit_ids)).order_by(Hit.at, Hit.id)):
        item = session.get(Item, hit.item_id) if hit.item_id is not None else None
        if item is not None:
            story = story_for(session, item)
            key, title, story_id = f"{hit.indicator_id}:story:{story.id}", story.title, story.id
        else:
            key, title, story_id = f"{hit.indicator_id}:hit:{hit.id}", _window_title(hit), None
        alert = session.scalar(select(Alert).where(Alert.group_key == key))
        created = alert is None
        if created:
            alert = Alert(indicator_id=hit.indicator_id, story_id=story_id, group_key=key, status="new",
                          severity=hit.severity, title=title, first_seen_at=hit.at, last_seen_at=hit.at,
                          hit_count=0, library_version=hit.library_version, silenced=False)
            session.add(alert)
            session.flush()
            record(session, alert, "created", "system", to_value="new", at=now)
        else:
            record(session, alert, "hit_added", "system", from_value=str(alert.hit_count),
                   to_value=str(alert.hit_count + 1), at=now)
            raised = _higher(alert.severity, hit.severity)
            if raised != alert.severity:
                record(session, alert, "severity", "system", from_value=alert.severity, to_value=raised, at=now,
                       note=f"raised by hit #{hit.id}")
                alert.severity = raised
        alert.hit_count += 1
        alert.first_seen_at = min(alert.first_seen_at, hit.at)
        alert.last_seen_at = max(alert.last_seen_at, hit.at)
        alert.library_version = hit.library_version
        session.add(AlertHit(alert_id=alert.id, hit_id=hit.id))
        if item is not None and session.get(AlertSource, (item.source, alert.id)) is None:
            session.add(AlertSource(source=item.source, alert_id=alert.id))
        silence = covering(silences, facts(hit, item)) if silences else None
        if silence is not None and (created or alert.muted(now)):
            if alert.silence_id != silence.id:
                mute(session, alert, silence, "system", now)
        elif silence is None and alert.muted(now):
            unmute(session, alert, "system", now, f"hit #{hit.id} is not covered by any silence")
        touched[alert.id] = alert
        session.flush()
    return list(touched.values())


def _window_title(hit: Hit) -> str:
    ev = hit.evidence or {}
    if "actors" in ev:
        return f"{len(ev['actors'])} actors on '{ev.get('topic')}': {', '.join(ev['actors'])}"
    if "ratio" in ev:
        return (f"{', '.join(ev.get('of', []))}: {ev.get('recent')} in {_days(ev.get('recent_window'))} "
                f"vs {ev.get('baseline')} in the {_days(ev.get('baseline_window'))} before")
    if "last_hit" in ev:
        return f"no {', '.join(ev.get('of', []))} since {ev['last_hit'][:10]} after {ev.get('prior')} before"
    if "indicators" in ev:
        return f"{len(ev['indicators'])} indicators together: {', '.join(ev['indicators'])}"
    return hit.indicator_id


def _days(window: str | None) -> str:
    """'14 days, 0:00:00' (a timedelta's str) as '14 days'."""
    return (window or "").removesuffix(", 0:00:00")
