"""The inbox page: filters, saved views, the alert list (keyset pages), polling for new alerts, bulk actions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.responses import Response

from app.accounts.deps import require_role
from app.accounts.models import User
from app.accounts.service import list_users
from app.alerts.inbox import COUNT_CAP, FilterError, InboxFilter, arrived_since, inbox_page, newest_id, open_counts
from app.alerts.saved import ViewError, delete_view, list_views, save_view
from app.alerts.stories import story_sources
from app.alerts.triage import STATUSES, TriageError, bulk
from app.db import utcnow
from app.ingest.models import Feed
from app.matching.schema import SEVERITIES
from app.web.deps import SESSION
from app.web.inbox.common import filter_from, get_library, is_htmx, see_other
from app.web.inbox.templating import flash, render
from app.web.pagination import decode_cursor, encode_cursor

router = APIRouter()
POLL_SECONDS = 10  # how often an open inbox asks for new alerts; app.state.inbox_poll_seconds overrides


def _rows_context(session: Session, lib, alerts, now) -> dict:
    stories = [a.story_id for a in alerts if a.story_id]
    return {"alerts": alerts, "sources": story_sources(session, stories), "indicators": lib.library.indicators,
            "now": now}


def _results_context(request: Request, session: Session, lib, user: User, params: QueryParams, now) -> dict:
    """The first page for the filter in `params`; a filter that names nothing known falls back to the default."""
    try:
        f, error = filter_from(params, user), None
        alerts, nxt = inbox_page(session, f, lib, now)
    except ValueError as e:  # a bad date, or FilterError: an unknown scenario or severity
        f, error = InboxFilter(), f"filter ignored: {e}"
        alerts, nxt = inbox_page(session, f, lib, now)
    return {
        **_rows_context(session, lib, alerts, now),
        "user": user, "filter": f, "params": f.as_params(), "next_cursor": encode_cursor(*nxt) if nxt else None,
        "newest_id": newest_id(session), "counts": open_counts(session, now), "count_cap": COUNT_CAP,
        "poll_seconds": getattr(request.app.state, "inbox_poll_seconds", POLL_SECONDS), "error": error,
    }


def _filter(params: QueryParams, user: User) -> InboxFilter:
    try:
        return filter_from(params, user)
    except ValueError as e:
        raise HTTPException(422, f"bad filter: {e}") from None


@router.get("/")
def home() -> Response:
    return see_other("/inbox")


@router.get("/inbox")
def inbox(request: Request, user: User = Depends(require_role("viewer")), session: Session = SESSION,
          lib=Depends(get_library)) -> Response:
    """The whole page, or only the results when htmx asks after a filter change."""
    ctx = _results_context(request, session, lib, user, request.query_params, utcnow())
    if is_htmx(request) and request.headers.get("hx-target") == "results":
        return render(request, "inbox/_results.html", ctx)
    feeds = session.scalars(select(Feed).order_by(Feed.title)).all()
    return render(request, "inbox/index.html", {
        **ctx, "form": request.query_params, "scenarios": lib.library.scenarios, "feeds": feeds,
        "officers": [u for u in list_users(session) if u.can("officer")],
        "severities": SEVERITIES, "statuses": STATUSES, "views": list_views(session, user.username)})


@router.get("/inbox/more")
def more(request: Request, cursor: str, user: User = Depends(require_role("viewer")),
         session: Session = SESSION, lib=Depends(get_library)) -> Response:
    """The next page of rows, after the last row shown (keyset)."""
    now = utcnow()
    f = _filter(request.query_params, user)
    try:
        alerts, nxt = inbox_page(session, f, lib, now, after=decode_cursor(cursor))
    except FilterError as e:
        raise HTTPException(422, str(e)) from None
    return render(request, "inbox/_rows.html", {
        **_rows_context(session, lib, alerts, now), "user": user, "params": f.as_params(),
        "next_cursor": encode_cursor(*nxt) if nxt else None})


@router.get("/inbox/fresh")
def fresh(request: Request, after: int, user: User = Depends(require_role("viewer")),
          session: Session = SESSION, lib=Depends(get_library)) -> Response:
    """Polled by an open inbox: alerts created since it loaded, or 204 when there are none."""
    now = utcnow()
    f = _filter(request.query_params, user)
    try:
        alerts = arrived_since(session, f, lib, now, after)
    except FilterError as e:
        raise HTTPException(422, str(e)) from None
    if not alerts:
        return Response(status_code=204)
    return render(request, "inbox/_fresh.html", {
        **_rows_context(session, lib, alerts, now), "user": user, "params": f.as_params(),
        "newest_id": max(a.id for a in alerts),
        "poll_seconds": getattr(request.app.state, "inbox_poll_seconds", POLL_SECONDS)})


@router.post("/inbox/bulk")
def bulk_action(request: Request, action: str = Form(...), ids: list[int] = Form([]), reason: str = Form(""),
                view: str = Form(""), user: User = Depends(require_role("officer")),
                session: Session = SESSION, lib=Depends(get_library)) -> Response:
    """Acknowledge, escalate, dismiss, resolve, reopen or take the selected alerts; re-renders the list."""
    message, kind = "", "info"
    if not ids:
        message, kind = "select alerts first (x, or the checkboxes)", "error"
    else:
        try:
            if action == "take":
                result = bulk(session, ids, "assign", user.username, assignee=user.username)
            else:
                result = bulk(session, ids, action, user.username, reason=reason)
            message = f"{action}: {len(result.done)} alert(s) changed"
            if result.skipped:
                message += f", {len(result.skipped)} left alone ({next(iter(result.skipped.values()))})"
        except TriageError as e:
            message, kind = str(e), "error"
    if not is_htmx(request):
        flash(request, message, kind)
        return see_other(f"/inbox?{view}")
    ctx = _results_context(request, session, lib, user, QueryParams(view), utcnow())
    return render(request, "inbox/_results.html", {**ctx, "flash": [{"kind": kind, "text": message}]})


@router.post("/inbox/views")
def save_current_view(request: Request, name: str = Form(""), view: str = Form(""),
                      user: User = Depends(require_role("viewer")),
                      session: Session = SESSION) -> Response:
    try:
        save_view(session, user.username, name, view)
        flash(request, f"view “{name.strip()}” saved")
    except ViewError as e:
        flash(request, str(e), "error")
    return see_other(f"/inbox?{view}")


@router.post("/inbox/views/{view_id}/delete")
def remove_view(request: Request, view_id: int, user: User = Depends(require_role("viewer")),
                session: Session = SESSION) -> Response:
    if delete_view(session, user.username, view_id):
        flash(request, "view deleted")
    return see_other("/inbox")
