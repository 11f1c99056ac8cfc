"""Feed health as officers see it: last success and error, back-off state, items per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ingest.models import Feed, Item

HEALTH_DAYS = 14


@dataclass
class FeedHealth:
    feed: Feed
    items_total: int
    items_per_day: list[int]  # fetched per UTC day, oldest first, ending today
    state: str  # ok | failing | never polled | disabled
    backing_off: bool  # failing, and the next poll was pushed back


def _state(feed: Feed) -> str:
    if not feed.enabled:
        return "disabled"
    if feed.consecutive_failures:
        return "failing"
    return "ok" if feed.last_success_at else "never polled"


def feed_health(session: Session, now: datetime, days: int = HEALTH_DAYS) -> list[FeedHealth]:
    first = (now - timedelta(days=days - 1)).date()
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    per_day: dict[int, list[int]] = {}
    for feed_id, fetched in session.execute(select(Item.feed_id, Item.fetched_at).where(
            Item.fetched_at >= start, Item.feed_id.is_not(None))):
        offset = (fetched.date() - first).days
        if 0 <= offset < days:
            per_day.setdefault(feed_id, [0] * days)[offset] += 1
    totals = dict(session.execute(select(Item.feed_id, func.count()).group_by(Item.feed_id)).all())
    return [FeedHealth(f, totals.get(f.id, 0), per_day.get(f.id, [0] * days), _state(f),
                       bool(f.consecutive_failures) and f.next_check_at > now)
            for f in session.scalars(select(Feed).order_by(Feed.title))]
