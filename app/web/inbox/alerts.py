"""One alert: evidence with highlighted terms, sources, audit trail, and the triage actions on it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.accounts.deps import require_role
from app.accounts.models import User
from app.accounts.service import list_users
from app.alerts.detail import alert_detail
from app.alerts.models import Alert
from app.alerts.names import ReviewError, review_name
from app.alerts.triage import TRANSITIONS, TriageError, add_note, assign, set_severity, transition
from app.db import utcnow
from app.matching.schema import SEVERITIES
from app.web.deps import SESSION, get_or_404
from app.web.inbox.common import get_library, is_htmx, see_other
from app.web.inbox.evidence import marked, original_markup, safe_link
from app.web.inbox.templating import flash, render

router = APIRouter()


def _context(session: Session, lib, alert_id: int, user: User) -> dict:
    detail = alert_detail(session, alert_id)
    if detail is None:
        raise HTTPException(404, f"no alert #{alert_id}")
    indicator = lib.library.indicators.get(detail.alert.indicator_id)
    scenarios = [lib.library.scenarios[s] for s in (indicator.scenarios if indicator else [])
                 if s in lib.library.scenarios]
    entities = sorted(((e.id, e.name) for e in lib.entities.values() if e.type == "group"), key=lambda e: e[1])
    return {"d": detail, "a": detail.alert, "indicator": indicator, "scenarios": scenarios, "user": user,
            "now": utcnow(), "actions": TRANSITIONS, "severities": SEVERITIES, "entities": entities,
            "roles": sorted(lib.role_index), "officers": [u for u in list_users(session) if u.can("officer")],
            "marked": marked, "safe_link": safe_link, "original_markup": original_markup}


@router.get("/alerts/{alert_id}")
def show(request: Request, alert_id: int, user: User = Depends(require_role("viewer")),
         session: Session = SESSION, lib=Depends(get_library)) -> Response:
    return render(request, "alert/detail.html", _context(session, lib, alert_id, user))


def _after_change(request: Request, session: Session, lib, alert_id: int, user: User, error: str | None) -> Response:
    """htmx gets the re-rendered panel (422 with the message on error); a plain form gets a redirect."""
    if not is_htmx(request):
        if error:
            flash(request, error, "error")
        return see_other(f"/alerts/{alert_id}")
    session.flush()
    ctx = _context(session, lib, alert_id, user)
    return render(request, "alert/_panel.html", {**ctx, "error": error}, status_code=422 if error else 200)


def _alert(session: Session, alert_id: int) -> Alert:
    return get_or_404(session, Alert, alert_id, "alert")


def _change(request: Request, session: Session, lib, alert_id: int, user: User,
            apply: Callable[[Alert], object]) -> Response:
    """Apply one triage change to the alert; a refusal is shown on the alert's panel, not as an error page."""
    error = None
    try:
        apply(_alert(session, alert_id))
    except TriageError as e:
        error = str(e)
    return _after_change(request, session, lib, alert_id, user, error)


@router.post("/alerts/{alert_id}/status")
def change_status(request: Request, alert_id: int, action: str = Form(...), reason: str = Form(""),
                  user: User = Depends(require_role("officer")), session: Session = SESSION,
                  lib=Depends(get_library)) -> Response:
    return _change(request, session, lib, alert_id, user,
                   lambda alert: transition(session, alert, action, user.username, reason=reason))


@router.post("/alerts/{alert_id}/assign")
def change_assignee(request: Request, alert_id: int, assignee: str = Form(""),
                    user: User = Depends(require_role("officer")), session: Session = SESSION,
                    lib=Depends(get_library)) -> Response:
    who = user.username if assignee == "me" else assignee
    return _change(request, session, lib, alert_id, user, lambda alert: assign(session, alert, who, user.username))


@router.post("/alerts/{alert_id}/severity")
def change_severity(request: Request, alert_id: int, severity: str = Form(...),
                    user: User = Depends(require_role("officer")), session: Session = SESSION,
                    lib=Depends(get_library)) -> Response:
    return _change(request, session, lib, alert_id, user,
                   lambda alert: set_severity(session, alert, severity, user.username))


@router.post("/alerts/{alert_id}/notes")
def note(request: Request, alert_id: int, body: str = Form(""), user: User = Depends(require_role("officer")),
         session: Session = SESSION, lib=Depends(get_library)) -> Response:
    return _change(request, session, lib, alert_id, user, lambda alert: add_note(session, alert, body, user.username))


@router.post("/alerts/{alert_id}/names")
def names(request: Request, alert_id: int, name: str = Form(...), decision: str = Form(...),
          entity_id: str = Form(""), role: str = Form(""), user: User = Depends(require_role("officer")),
          session: Session = SESSION, lib=Depends(get_library)) -> Response:
    """Dismissing a name is triage (officer); adding to the gazetteer changes the library (admin)."""
    error = None
    if decision != "dismiss" and not user.can("admin"):
        error = "adding to the gazetteer changes the library: it needs the admin role"
    else:
        try:
            review_name(session, lib, _alert(session, alert_id), name, decision, user.username,
                        entity_id=entity_id or None, roles=[role] if role else None)
        except ReviewError as e:
            error = str(e)
    return _after_change(request, session, lib, alert_id, user, error)
