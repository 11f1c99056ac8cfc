"""Helpers shared by the HTML views: the library, request kind, redirects and reading filter parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.responses import RedirectResponse

from app.accounts.models import User
from app.alerts.inbox import InboxFilter
from app.context import AppContext
from app.web.deps import SESSION, get_context


def get_library(session: Session = SESSION, ctx: AppContext = Depends(get_context)):
    """The compiled library as of now (reloaded when files or gazetteer additions change)."""
    return ctx.library.get(session)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_path(target: str | None, default: str) -> str:
    """A redirect target inside this site only (no open redirects through `next=`)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def parse_moment(value: str | None, *, end: bool = False) -> datetime | None:
    """A date or date-time from a form, as UTC; a bare date as `until` means the end of that day."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) == 10:
        day = date.fromisoformat(value)
        return datetime.combine(day + timedelta(days=1 if end else 0), datetime.min.time(), tzinfo=UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def filter_from(params: QueryParams, user: User | None) -> InboxFilter:
    """The inbox filter in the query string; `assignee=me` is the signed-in officer. Raises ValueError."""
    assignee = params.get("assignee") or None
    if assignee == "me":
        assignee = user.username if user else None
    return InboxFilter(
        status=params.getlist("status") or ["open"],
        scenario=params.get("scenario") or None,
        indicator=params.get("indicator") or None,
        severity=params.get("severity") or None,
        source=params.get("source") or None,
        assignee=assignee,
        since=parse_moment(params.get("since")),
        until=parse_moment(params.get("until"), end=True),
        q=(params.get("q") or "").strip()[:200] or None,
        silenced=params.get("silenced") in ("1", "true", "on"),
    )
