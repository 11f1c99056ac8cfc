"""Everything an officer reads on one alert: its hits with their items, sources, trail and new names."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertEvent, AlertHit
from app.alerts.names import NameUnderReview, names_of
from app.alerts.stories import Source, story_sources
from app.ingest.models import Item
from app.matching.models import Hit

MAX_HITS = 50
MAX_WINDOW_ITEMS = 20


@dataclass
class Evidence:
    """One hit and what it fired on: its item, or for a windowed hit the items in its window."""

    hit: Hit
    item: Item | None
    window_items: list[Item] = field(default_factory=list)


@dataclass
class AlertDetail:
    alert: Alert
    evidence: list[Evidence]
    sources: list[Source]
    events: list[AlertEvent]
    names: list[NameUnderReview]


def alert_detail(session: Session, alert_id: int) -> AlertDetail | None:
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    hits = session.scalars(select(Hit).join(AlertHit, AlertHit.hit_id == Hit.id).where(AlertHit.alert_id == alert.id)
                           .order_by(Hit.at.desc(), Hit.id.desc()).limit(MAX_HITS)).all()
    wanted = {h.item_id for h in hits if h.item_id} | {
        i for h in hits if h.item_id is None for i in (h.item_ids or [])[:MAX_WINDOW_ITEMS]}
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(wanted)))} if wanted else {}
    evidence = [Evidence(h, items.get(h.item_id),
                         [items[i] for i in (h.item_ids or [])[:MAX_WINDOW_ITEMS] if i in items and not h.item_id])
                for h in hits]
    sources = story_sources(session, [alert.story_id]).get(alert.story_id, []) if alert.story_id else []
    events = list(session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id)
                                  .order_by(AlertEvent.at, AlertEvent.id)))
    names = names_of(session, alert) if any(h.kind == "new_entity" for h in hits) else []
    return AlertDetail(alert, evidence, sources, events, names)
