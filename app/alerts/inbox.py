"""The inbox query: filtered alerts, newest event first, keyset-paginated (never OFFSET).

Pages are ordered by (last_seen_at, id) descending and continue strictly after the last row of the
previous page, so a page costs the same at the top and deep down, and new alerts arriving while an
officer pages never shift rows between pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertSource, StoryItem
from app.alerts.search import matching_items
from app.alerts.triage import OPEN, STATUSES
from app.matching.schema import SEVERITIES

PAGE_SIZE = 50
MAX_PAGE = 200
COUNT_CAP = 1000


@dataclass
class InboxFilter:
    """What an officer narrows the inbox to; the empty filter is the open, unmuted alerts."""

    status: list[str] = field(default_factory=lambda: ["open"])  # statuses, "open" or "all"
    scenario: str | None = None
    indicator: str | None = None
    severity: str | None = None  # at least this severity
    source: str | None = None  # feed key or push source
    assignee: str | None = None  # username, or "none" for unassigned
    since: datetime | None = None  # last seen at or after
    until: datetime | None = None  # last seen before
    q: str | None = None  # full-text search over the items of the alert's story
    silenced: bool = False  # include muted alerts

    def statuses(self) -> list[str] | None:
        """The statuses to show, or None for all of them."""
        wanted: set[str] = set()
        for s in self.status or ["open"]:
            if s == "all":
                return None
            wanted |= set(OPEN) if s == "open" else {s} & set(STATUSES)
        return [s for s in STATUSES if s in wanted] or list(OPEN)

    def is_default(self) -> bool:
        return self == InboxFilter()

    def as_params(self) -> list[tuple[str, str]]:
        """The filter as query parameters (for links, saved views and the next page)."""
        out: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "status":
                out += [("status", s) for s in value if value != ["open"]]
            elif isinstance(value, bool):
                out += [(f.name, "1")] if value else []
            elif isinstance(value, datetime):
                out.append((f.name, value.isoformat()))
            elif value:
                out.append((f.name, str(value)))
        return out


class FilterError(ValueError):
    """A filter names something that does not exist."""


def _filtered(session: Session, f: InboxFilter, lib, now: datetime) -> Select:
    q = select(Alert)
    statuses = f.statuses()
    if statuses is not None:
        q = q.where(Alert.status.in_(statuses)) if len(statuses) > 1 else q.where(Alert.status == statuses[0])
    if not f.silenced:
        q = q.where(_unmuted(now))
    if f.scenario:
        if f.scenario not in lib.library.scenarios:
            raise FilterError(f"no scenario {f.scenario!r}")
        members = [i.id for i in lib.library.indicators.values() if f.scenario in i.scenarios or "*" in i.scenarios]
        q = q.where(Alert.indicator_id.in_(members))
    if f.indicator:
        q = q.where(Alert.indicator_id == f.indicator)
    if f.severity:
        if f.severity not in SEVERITIES:
            raise FilterError(f"severity is one of {', '.join(SEVERITIES)}")
        q = q.where(Alert.severity.in_(SEVERITIES[SEVERITIES.index(f.severity):]))
    if f.source:
        q = q.where(Alert.id.in_(select(AlertSource.alert_id).where(AlertSource.source == f.source)))
    if f.assignee == "none":
        q = q.where(Alert.assignee.is_(None))
    elif f.assignee:
        q = q.where(Alert.assignee == f.assignee)
    if f.since:
        q = q.where(Alert.last_seen_at >= f.since)
    if f.until:
        q = q.where(Alert.last_seen_at < f.until)
    if f.q:
        items = matching_items(session, f.q)
        if items is not None:
            q = q.where(Alert.story_id.in_(select(StoryItem.story_id).where(StoryItem.item_id.in_(items))))
    return q


def inbox_page(session: Session, f: InboxFilter, lib, now: datetime, *, after: tuple[datetime, int] | None = None,
               limit: int = PAGE_SIZE) -> tuple[list[Alert], tuple[datetime, int] | None]:
    """One page of alerts and the key to continue after it (None on the last page)."""
    limit = max(1, min(limit, MAX_PAGE))
    q = _filtered(session, f, lib, now)
    if after is not None:
        q = q.where(tuple_(Alert.last_seen_at, Alert.id) < tuple_(*after))
    rows = list(session.scalars(q.order_by(Alert.last_seen_at.desc(), Alert.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return page, ((page[-1].last_seen_at, page[-1].id) if len(rows) > limit else None)


def arrived_since(session: Session, f: InboxFilter, lib, now: datetime, after_id: int,
                  limit: int = PAGE_SIZE) -> list[Alert]:
    """Alerts created after the one with id `after_id` that the filter shows, newest first (for polling)."""
    q = _filtered(session, f, lib, now).where(Alert.id > after_id)
    return list(session.scalars(q.order_by(Alert.id.desc()).limit(limit)))


def newest_id(session: Session) -> int:
    return session.scalar(select(Alert.id).order_by(Alert.id.desc()).limit(1)) or 0


def open_counts(session: Session, now: datetime, cap: int = COUNT_CAP) -> dict[str, int]:
    """Open, unmuted alerts per status for the inbox heading, counted up to `cap` (then shown as "cap+")."""
    counts = []
    for status in OPEN:
        capped = (select(Alert.id).where(Alert.status == status, _unmuted(now))  # ordered: walks ix_alerts_inbox
                  .order_by(Alert.last_seen_at.desc()).limit(cap)).subquery()
        counts.append(select(func.count()).select_from(capped).scalar_subquery().label(status))
    return dict(session.execute(select(*counts)).one()._mapping)


def _unmuted(now: datetime):
    return or_(Alert.silenced_until.is_(None), Alert.silenced_until <= now)

