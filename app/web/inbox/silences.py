"""Silences page: who muted what, until when and why; admins create and end them."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.accounts.deps import require_role
from app.accounts.models import User
from app.alerts.models import Silence
from app.alerts.silences import KINDS, SilenceError, create_silence, expire_silence, list_silences
from app.db import utcnow
from app.ingest.models import Feed
from app.web.deps import SESSION, get_or_404
from app.web.inbox.common import get_library, parse_moment, see_other
from app.web.inbox.templating import flash, render

router = APIRouter()
DURATIONS = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "12h": timedelta(hours=12),
             "1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@router.get("/silences")
def silences(request: Request, kind: str = "indicator", target: str = "", user: User = Depends(require_role("viewer")),
             session: Session = SESSION, lib=Depends(get_library)) -> Response:
    now = utcnow()
    return render(request, "silences.html", {
        "user": user, "now": now, "silences": list_silences(session, now), "kinds": KINDS, "durations": DURATIONS,
        "kind": kind if kind in KINDS else "indicator", "target": target,
        "indicators": sorted(lib.library.indicators.values(), key=lambda i: i.name),
        "entities": sorted(lib.entities.values(), key=lambda e: e.name),
        "feeds": session.scalars(select(Feed).order_by(Feed.title)).all()})


@router.post("/silences")
def create(request: Request, kind: str = Form(...), target: str = Form(""), reason: str = Form(""),
           duration: str = Form("1d"), until: str = Form(""), user: User = Depends(require_role("admin")),
           session: Session = SESSION, lib=Depends(get_library)) -> Response:
    now = utcnow()
    try:
        ends_at = parse_moment(until, end=True) if until else now + DURATIONS.get(duration, DURATIONS["1d"])
        silence = create_silence(session, lib, kind=kind, target=target, reason=reason, ends_at=ends_at,
                                 actor=user.username, now=now)
        flash(request, f"silenced {kind} {silence.target} until {silence.ends_at:%Y-%m-%d %H:%M} UTC")
    except (SilenceError, ValueError) as e:
        flash(request, str(e), "error")
        return see_other(f"/silences?kind={kind}")
    return see_other("/silences")


@router.post("/silences/{silence_id}/expire")
def expire(request: Request, silence_id: int, user: User = Depends(require_role("admin")),
           session: Session = SESSION) -> Response:
    silence = get_or_404(session, Silence, silence_id, "silence")
    try:
        back = expire_silence(session, silence, user.username, utcnow())
        flash(request, f"silence #{silence_id} ended; {back} alert(s) back in the inbox")
    except SilenceError as e:
        flash(request, str(e), "error")
    return see_other("/silences")
