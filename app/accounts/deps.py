"""FastAPI dependencies for the HTML pages: the signed-in user, and `require_role(...)` guards."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from app.accounts.models import ROLES, User
from app.web.deps import SESSION


def current_user(request: Request, session: Session = SESSION) -> User | None:
    """The user this session belongs to; None (and the session cleared) when it is stale or absent."""
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = session.get(User, uid)
    if user is None or user.disabled or user.session_epoch != request.session.get("epoch"):
        request.session.clear()
        return None
    return user


def _login_required(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target, safe='')}"
    if request.headers.get("hx-request"):  # htmx follows this header with a full-page navigation
        return HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in", headers={"HX-Redirect": location})
    return HTTPException(status.HTTP_303_SEE_OTHER, "sign in", headers={"Location": location})


def require_role(role: str):
    """Dependency returning the signed-in user when they hold `role` (or a stronger one)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def guard(request: Request, user: User | None = Depends(current_user)) -> User:
        if user is None:
            raise _login_required(request)
        if not user.can(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role} role; you are {user.role}")
        return user

    return guard
