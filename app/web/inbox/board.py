"""The I&W board (the wall screen) and the feed health page."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.accounts.deps import require_role
from app.accounts.models import User
from app.alerts.board import TREND_DAYS, board, latest_event_at
from app.alerts.feedhealth import HEALTH_DAYS, feed_health
from app.db import utcnow
from app.web.deps import SESSION
from app.web.inbox.charts import daily_bars, level_steps, trend_bars
from app.web.inbox.common import get_library, is_htmx, parse_moment
from app.web.inbox.templating import render

router = APIRouter()
BOARD_REFRESH_SECONDS = 60


@router.get("/board")
def show_board(request: Request, as_of: str | None = None, user: User = Depends(require_role("viewer")),
               session: Session = SESSION, lib=Depends(get_library)) -> Response:
    """Levels and indicator states as of `as_of` (a date means the end of that day; default now)."""
    error = None
    try:
        moment = parse_moment(as_of, end=True)
    except ValueError:
        moment, error = None, f"{as_of!r} is not a date; showing now"
    now = utcnow()
    at = min(moment - timedelta(microseconds=1), now) if moment else now  # the last instant of that day
    ctx = {"user": user, "scenarios": board(session, lib, at), "as_of": at, "live": moment is None,
           "latest": latest_event_at(session), "trend_days": TREND_DAYS, "refresh": BOARD_REFRESH_SECONDS,
           "trend_bars": trend_bars, "level_steps": level_steps, "error": error, "as_of_param": as_of or ""}
    template = "board/_board.html" if is_htmx(request) else "board/index.html"
    return render(request, template, ctx)


@router.get("/feeds")
def feeds_page(request: Request, user: User = Depends(require_role("viewer")),
               session: Session = SESSION) -> Response:
    """Each feed's last success and error, back-off state and items per day."""
    now = utcnow()
    return render(request, "feeds.html", {"user": user, "feeds": feed_health(session, now), "days": HEALTH_DAYS,
                                          "now": now, "daily_bars": daily_bars})
