"""The alerts JSON API: everything the inbox does, for other services (API key; actor `api:<key name>`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy.orm import Session

from app.alerts import triage
from app.alerts.board import board, latest_event_at
from app.alerts.detail import alert_detail
from app.alerts.feedhealth import feed_health
from app.alerts.inbox import FilterError, InboxFilter, inbox_page
from app.alerts.models import Alert, Silence
from app.alerts.names import ReviewError, review_name
from app.alerts.saved import ViewError, delete_view, list_views, save_view
from app.alerts.schemas import (
    AlertDetailOut,
    AlertOut,
    AlertPage,
    AssignIn,
    BoardOut,
    BulkIn,
    BulkOut,
    EventOut,
    FeedHealthOut,
    NameOut,
    NameReviewIn,
    NoteIn,
    SeverityIn,
    SilenceIn,
    SilenceOut,
    SourceOut,
    StatusIn,
    ViewIn,
    ViewOut,
)
from app.alerts.silences import SilenceError, create_silence, expire_silence, list_silences
from app.alerts.stories import Source, story_sources
from app.db import utcnow
from app.web.auth import require_api_key
from app.web.deps import SESSION, get_or_404
from app.web.inbox.common import get_library
from app.web.models import ApiKey
from app.web.pagination import decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["alerts"], dependencies=[Depends(require_api_key)])


def _actor(key: ApiKey = Depends(require_api_key)) -> str:
    return f"api:{key.name}"


def _out(alert: Alert, sources: list[Source], now: datetime) -> AlertOut:
    return AlertOut.model_validate({
        **{k: getattr(alert, k) for k in AlertOut.model_fields if hasattr(alert, k) and k not in ("muted",)},
        "muted": alert.muted(now),
        "sources": [SourceOut(key=s.key, title=s.title, reliability=s.reliability, items=list(s.items))
                    for s in sources]})


def _utc(moment: datetime | None) -> datetime | None:
    """Query times without a zone are taken as UTC, the zone every stored time is in."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _alert(session: Session, alert_id: int) -> Alert:
    return get_or_404(session, Alert, alert_id, "alert")


def _conflict(e: Exception) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(e))


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    status_: list[str] = Query(["open"], alias="status", description="statuses, `open` (default) or `all`"),
    scenario: str | None = None, indicator: str | None = None,
    severity: str | None = Query(None, description="at least this severity"),
    source: str | None = Query(None, description="feed key or push source"),
    assignee: str | None = Query(None, description="username, or `none` for unassigned"),
    since: datetime | None = Query(None, description="last seen at or after"),
    until: datetime | None = Query(None, description="last seen before"),
    q: str | None = Query(None, description="full-text search over the items of the alert's story"),
    silenced: bool = Query(False, description="include alerts a silence mutes"),
    limit: int = Query(50, ge=1, le=200), cursor: str | None = None,
    session: Session = SESSION, lib=Depends(get_library),
) -> AlertPage:
    """The inbox: filtered alerts, newest event first, keyset-paginated (pass back `next_cursor`)."""
    now = utcnow()
    f = InboxFilter(status=status_, scenario=scenario, indicator=indicator, severity=severity, source=source,
                    assignee=assignee, since=_utc(since), until=_utc(until), q=q, silenced=silenced)
    try:
        alerts, nxt = inbox_page(session, f, lib, now, after=decode_cursor(cursor) if cursor else None, limit=limit)
    except FilterError as e:
        raise HTTPException(422, str(e)) from None
    sources = story_sources(session, [a.story_id for a in alerts if a.story_id])
    return AlertPage(items=[_out(a, sources.get(a.story_id, []), now) for a in alerts],
                     next_cursor=encode_cursor(*nxt) if nxt else None)


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut)
def get_alert(alert_id: int, session: Session = SESSION, lib=Depends(get_library)) -> AlertDetailOut:
    """One alert with its hits (evidence), audit trail and any new names awaiting review."""
    d = alert_detail(session, alert_id)
    if d is None:
        raise HTTPException(404, f"no alert #{alert_id}")
    indicator = lib.library.indicators.get(d.alert.indicator_id)
    return AlertDetailOut(
        alert=_out(d.alert, d.sources, utcnow()), scenarios=list(indicator.scenarios) if indicator else [],
        hits=[e.hit for e in d.evidence], events=d.events,
        names=[NameOut(name=n.name, found_by=n.found_by, status=n.status,
                       entity_id=n.sighting.entity_id if n.sighting else None) for n in d.names])


@router.post("/alerts/{alert_id}/status", response_model=AlertOut)
def change_status(alert_id: int, body: StatusIn, actor: str = Depends(_actor),
                  session: Session = SESSION) -> AlertOut:
    """acknowledge, escalate, dismiss (reason required), resolve or reopen; 409 when not allowed."""
    alert = _alert(session, alert_id)
    try:
        triage.transition(session, alert, body.action, actor, reason=body.reason)
    except triage.TriageError as e:
        raise _conflict(e) from None
    return _out(alert, [], utcnow())


@router.post("/alerts/{alert_id}/assign", response_model=AlertOut)
def change_assignee(alert_id: int, body: AssignIn, actor: str = Depends(_actor),
                    session: Session = SESSION) -> AlertOut:
    alert = _alert(session, alert_id)
    try:
        triage.assign(session, alert, body.assignee, actor)
    except triage.TriageError as e:
        raise HTTPException(422, str(e)) from None
    return _out(alert, [], utcnow())


@router.post("/alerts/{alert_id}/severity", response_model=AlertOut)
def change_severity(alert_id: int, body: SeverityIn, actor: str = Depends(_actor),
                    session: Session = SESSION) -> AlertOut:
    alert = _alert(session, alert_id)
    triage.set_severity(session, alert, body.severity, actor)
    return _out(alert, [], utcnow())


@router.post("/alerts/{alert_id}/notes", response_model=EventOut, status_code=201)
def add_note(alert_id: int, body: NoteIn, actor: str = Depends(_actor), session: Session = SESSION):
    """A note, kept in the alert's audit trail."""
    try:
        return triage.add_note(session, _alert(session, alert_id), body.body, actor)
    except triage.TriageError as e:
        raise HTTPException(422, str(e)) from None


@router.post("/alerts/{alert_id}/names", response_model=NameOut)
def review(alert_id: int, body: NameReviewIn, actor: str = Depends(_actor), session: Session = SESSION,
           lib=Depends(get_library)) -> NameOut:
    """Decide on a new name: a new gazetteer entity, an alias of an existing one, or dismissed."""
    try:
        sighting = review_name(session, lib, _alert(session, alert_id), body.name, body.decision, actor,
                               entity_id=body.entity_id, roles=body.roles)
    except ReviewError as e:
        raise _conflict(e) from None
    return NameOut(name=sighting.name, found_by="", status=sighting.status, entity_id=sighting.entity_id)


@router.post("/alerts/bulk", response_model=BulkOut)
def bulk(body: BulkIn, actor: str = Depends(_actor), session: Session = SESSION) -> BulkOut:
    """One action over many alerts; alerts it does not apply to are listed in `skipped` with the reason."""
    try:
        result = triage.bulk(session, body.ids, body.action, actor, reason=body.reason, assignee=body.assignee)
    except triage.TriageError as e:
        raise HTTPException(422, str(e)) from None
    return BulkOut(done=result.done, skipped=result.skipped)


def _silence_out(s: Silence, now: datetime) -> SilenceOut:
    return SilenceOut.model_validate({**{k: getattr(s, k) for k in SilenceOut.model_fields if k != "active"},
                                      "active": s.active(now)})


@router.get("/silences", response_model=list[SilenceOut])
def silences(session: Session = SESSION) -> list[SilenceOut]:
    """Active silences and those that ended within the last week."""
    now = utcnow()
    return [_silence_out(s, now) for s in list_silences(session, now)]


@router.post("/silences", response_model=SilenceOut, status_code=201)
def add_silence(body: SilenceIn, actor: str = Depends(_actor), session: Session = SESSION,
                lib=Depends(get_library)) -> SilenceOut:
    """Mute an indicator, a term, an actor (gazetteer entity id) or a feed until `ends_at`."""
    now = utcnow()
    if (body.ends_at is None) == (body.duration_minutes is None):
        raise HTTPException(422, "give exactly one of ends_at and duration_minutes")
    ends_at = _utc(body.ends_at) or now + timedelta(minutes=body.duration_minutes)
    try:
        silence = create_silence(session, lib, kind=body.kind, target=body.target, reason=body.reason,
                                 ends_at=ends_at, actor=actor, now=now)
    except SilenceError as e:
        raise HTTPException(422, str(e)) from None
    return _silence_out(silence, now)


@router.post("/silences/{silence_id}/expire", response_model=SilenceOut)
def end_silence(silence_id: int, actor: str = Depends(_actor), session: Session = SESSION) -> SilenceOut:
    silence = session.get(Silence, silence_id)
    if silence is None:
        raise HTTPException(404, f"no silence {silence_id}")
    now = utcnow()
    try:
        expire_silence(session, silence, actor, now)
    except SilenceError as e:
        raise _conflict(e) from None
    return _silence_out(silence, now)


@router.get("/views", response_model=list[ViewOut])
def views(actor: str = Depends(_actor), session: Session = SESSION) -> list:
    """This API key's saved inbox views."""
    return list_views(session, actor)


@router.post("/views", response_model=ViewOut, status_code=201)
def add_view(body: ViewIn, actor: str = Depends(_actor), session: Session = SESSION):
    try:
        return save_view(session, actor, body.name, body.query)
    except ViewError as e:
        raise HTTPException(422, str(e)) from None


@router.delete("/views/{view_id}", status_code=204)
def remove_view(view_id: int, actor: str = Depends(_actor), session: Session = SESSION) -> None:
    if not delete_view(session, actor, view_id):
        raise HTTPException(404, f"no view {view_id}")


@router.get("/board", response_model=BoardOut)
def get_board(as_of: datetime | None = Query(None, description="event time to assess at (default now)"),
              session: Session = SESSION, lib=Depends(get_library)) -> BoardOut:
    """Per scenario: level, level history, and each indicator's state, 30-day trend and last hit."""
    at = min(_utc(as_of), utcnow()) if as_of else utcnow()
    scenarios = board(session, lib, at)
    return BoardOut(as_of=at, latest_event_at=latest_event_at(session), scenarios=[
        {"id": s.id, "name": s.name, "level": s.level, "score": s.score, "thresholds": s.thresholds,
         "history": [{"at": t, "level": lv} for t, lv in s.history],
         "indicators": [vars(i) for i in s.indicators]} for s in scenarios])


@router.get("/feeds/health", response_model=list[FeedHealthOut])
def feeds_health(session: Session = SESSION) -> list[FeedHealthOut]:
    """Each feed's last success and error, back-off state and items fetched per day (14 days)."""
    return [FeedHealthOut(key=h.feed.key, title=h.feed.title, reliability=h.feed.reliability, state=h.state,
                          last_success_at=h.feed.last_success_at, last_error=h.feed.last_error,
                          last_error_at=h.feed.last_error_at, consecutive_failures=h.feed.consecutive_failures,
                          next_check_at=h.feed.next_check_at, backing_off=h.backing_off, items_total=h.items_total,
                          items_per_day=h.items_per_day)
            for h in feed_health(session, utcnow())]
