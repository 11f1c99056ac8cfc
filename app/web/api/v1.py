"""The JSON API, version 1: items in, hits, feeds, indicators and scenarios out. API key required."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import AwareDatetime
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.context import AppContext
from app.db import utcnow
from app.ingest.models import Feed, Item
from app.ingest.schemas import ItemIn
from app.ingest.service import store_pushed
from app.matching.models import Hit, ScenarioLevelEvent
from app.matching.scenarios import assess
from app.matching.sqlstore import SqlStore
from app.web.api.schemas import FeedOut, HitOut, HitPage, IndicatorOut, ItemCreated, ItemOut, ScenarioOut
from app.web.auth import require_api_key
from app.web.deps import SESSION, get_context, get_or_404
from app.web.pagination import decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(require_api_key)])


@router.post("/items", response_model=ItemCreated, status_code=201)
def push_item(data: ItemIn, response: Response, session: Session = SESSION) -> ItemCreated:
    """Push an item from another service. `(source, id)` is the idempotency key: a retry returns 200
    with the stored item instead of creating a second one. The item is matched on the next tick."""
    item, created = store_pushed(session, data, utcnow())
    if not created:
        response.status_code = status.HTTP_200_OK
    return ItemCreated(id=item.id, created=created, duplicate_of_id=item.duplicate_of_id)


@router.get("/items/{item_id}", response_model=ItemOut)
def get_item(item_id: int, session: Session = SESSION) -> Item:
    item = get_or_404(session, Item, item_id, "item")
    return item


@router.get("/hits", response_model=HitPage)
def list_hits(
    indicator: list[str] = Query(None, description="indicator id (repeatable)"),
    since: AwareDatetime | None = Query(None, description="event time, inclusive (ISO 8601 with a zone)"),
    until: AwareDatetime | None = Query(None, description="event time, exclusive (ISO 8601 with a zone)"),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, description="next_cursor from the previous page"),
    session: Session = SESSION,
) -> HitPage:
    """Hits, newest event time first, keyset-paginated."""
    q = select(Hit).order_by(Hit.at.desc(), Hit.id.desc()).limit(limit + 1)
    if indicator:
        q = q.where(Hit.indicator_id.in_(indicator))
    if since:
        q = q.where(Hit.at >= since)
    if until:
        q = q.where(Hit.at < until)
    if cursor:
        at, hid = decode_cursor(cursor)
        q = q.where(or_(Hit.at < at, and_(Hit.at == at, Hit.id < hid)))
    rows = session.scalars(q).all()
    page = rows[:limit]
    nxt = encode_cursor(page[-1].at, page[-1].id) if len(rows) > limit else None
    return HitPage(items=[HitOut.model_validate(h, from_attributes=True) for h in page], next_cursor=nxt)


@router.get("/feeds", response_model=list[FeedOut])
def list_feeds(session: Session = SESSION) -> list[FeedOut]:
    """Every feed with its polling health."""
    counts = dict(session.execute(select(Item.feed_id, func.count()).group_by(Item.feed_id)).all())
    out = []
    for f in session.scalars(select(Feed).order_by(Feed.key)):
        data = {k: getattr(f, k) for k in FeedOut.model_fields if hasattr(f, k)}
        out.append(FeedOut(**data, items=counts.get(f.id, 0),
                           healthy=f.consecutive_failures == 0 and f.last_success_at is not None))
    return out


@router.get("/indicators", response_model=list[IndicatorOut])
def list_indicators(session: Session = SESSION, ctx: AppContext = Depends(get_context)):
    """The loaded library's indicators with their hit counts."""
    lib = ctx.library.get(session)
    stats = {i: (n, last) for i, n, last in session.execute(
        select(Hit.indicator_id, func.count(), func.max(Hit.at)).group_by(Hit.indicator_id))}
    return [IndicatorOut(id=i.id, name=i.name, kind=i.kind, scenarios=i.scenarios, severity=i.severity,
                         source=i.source.strip(), hits=stats.get(i.id, (0, None))[0],
                         last_hit_at=stats.get(i.id, (0, None))[1])
            for i in lib.library.indicators.values()]


@router.get("/scenarios", response_model=list[ScenarioOut])
def list_scenarios(
    at: AwareDatetime | None = Query(None, description="assess as of this event time, with a zone (default: now)"),
    session: Session = SESSION, ctx: AppContext = Depends(get_context),
):
    """Each scenario's warning level with the indicators behind it, and its level history."""
    lib = ctx.library.get(session)
    when = at or utcnow()
    store = SqlStore(session, lib.version)
    out = []
    for sid, sc in lib.library.scenarios.items():
        level, score, reasons = assess(lib, store, sid, when)
        history = session.scalars(select(ScenarioLevelEvent).where(ScenarioLevelEvent.scenario_id == sid)
                                  .order_by(ScenarioLevelEvent.at.desc()).limit(50)).all()
        out.append(ScenarioOut(id=sid, name=sc.name, level=level, score=score, as_of=when, indicators=reasons,
                               history=[{"at": h.at, "level": h.level, "previous": h.previous, "score": h.score,
                                         "reasons": h.reasons} for h in history]))
    return out
