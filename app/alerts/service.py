"""Hits become alerts: one alert per indicator per story; stories cluster items about one event."""

from __future__ import annotations

from datetime import timedelta

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertEvent, AlertHit, Story, StoryItem
from app.ingest.models import Item
from app.matching.models import Hit
from app.matching.normalize import normalize
from app.matching.schema import SEVERITIES

STORY_WINDOW = timedelta(days=2)
STORY_SIMILARITY = 70  # token-set similarity of folded titles+summaries for "same event, reworded"


def story_for(session: Session, item: Item) -> Story:
    """The story an item belongs to: its first copy's, a near-duplicate's from another source, or a new one."""
    if item.duplicate_of_id is not None:
        original = session.get(Item, item.duplicate_of_id)
        if original is not None and original.id != item.id:
            return story_for(session, original)
    existing = session.scalar(select(Story).join(StoryItem).where(StoryItem.item_id == item.id))
    if existing is not None:
        return existing
    sig = normalize(f"{item.title} {item.summary[:300]}").strip()
    candidates = session.scalars(select(Story).where(
        Story.last_seen_at >= item.published_at - STORY_WINDOW,
        Story.first_seen_at <= item.published_at + STORY_WINDOW)).all()
    best, best_score = None, 0.0
    for story in candidates:
        score = max((fuzz.token_set_ratio(sig, s) for s in story.signature), default=0)
        if score > best_score:
            best, best_score = story, score
    if best is None or best_score < STORY_SIMILARITY:
        best = Story(title=item.title or item.summary[:120], signature=[], first_seen_at=item.published_at,
                     last_seen_at=item.published_at)
        session.add(best)
        session.flush()
    best.signature = [*best.signature, sig][-5:]
    best.first_seen_at = min(best.first_seen_at, item.published_at)
    best.last_seen_at = max(best.last_seen_at, item.published_at)
    session.add(StoryItem(story_id=best.id, item_id=item.id))
    session.flush()
    return best


def _higher(a: str, b: str) -> str:
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b


def alerts_for_hits(session: Session, hit_ids: list[int]) -> list[Alert]:
    """Create or update the alerts behind new hits; windowed firings are alerts of their own."""
    touched: dict[int, Alert] = {}
    for hit in session.scalars(select(Hit).where(Hit.id.in_(hit_ids)).order_by(Hit.at, Hit.id)):
        if hit.item_id is not None:
            item = session.get(Item, hit.item_id)
            story = story_for(session, item)
            key, title, story_id = f"{hit.indicator_id}:story:{story.id}", story.title, story.id
        else:
            key, title, story_id = f"{hit.indicator_id}:hit:{hit.id}", _window_title(hit), None
        alert = session.scalar(select(Alert).where(Alert.group_key == key))
        if alert is None:
            alert = Alert(indicator_id=hit.indicator_id, story_id=story_id, group_key=key, status="new",
                          severity=hit.severity, title=title, first_seen_at=hit.at, last_seen_at=hit.at,
                          hit_count=0, library_version=hit.library_version)
            session.add(alert)
            session.flush()
            session.add(AlertEvent(alert_id=alert.id, actor="system", action="created", to_value="new"))
        else:
            session.add(AlertEvent(alert_id=alert.id, actor="system", action="hit_added",
                                   from_value=str(alert.hit_count), to_value=str(alert.hit_count + 1)))
        alert.hit_count += 1
        alert.severity = _higher(alert.severity, hit.severity)
        alert.first_seen_at = min(alert.first_seen_at, hit.at)
        alert.last_seen_at = max(alert.last_seen_at, hit.at)
        alert.library_version = hit.library_version
        session.add(AlertHit(alert_id=alert.id, hit_id=hit.id))
        touched[alert.id] = alert
    session.flush()
    return list(touched.values())


def _window_title(hit: Hit) -> str:
    ev = hit.evidence or {}
    if "actors" in ev:
        return f"{len(ev['actors'])} actors on '{ev.get('topic')}': {', '.join(ev['actors'])}"
    if "ratio" in ev:
        return f"{ev.get('recent')} in {ev.get('recent_window')} vs {ev.get('baseline')} in {ev.get('baseline_window')}"
    if "last_hit" in ev:
        return f"no {', '.join(ev.get('of', []))} since {ev['last_hit'][:10]} after {ev.get('prior')} before"
    if "indicators" in ev:
        return f"{len(ev['indicators'])} indicators together: {', '.join(ev['indicators'])}"
    return hit.indicator_id
