"""Signed session cookies (Starlette's SessionMiddleware) and the CSRF token kept in them.

The cookie carries the user id, the user's session epoch and a CSRF token; it is signed with the
service secret, HttpOnly, SameSite=Lax, Secure whenever the service is served over https, and ends
after one watch (SESSION_MAX_AGE). Every unsafe request must echo the token in the `csrf_token`
form field or the `X-CSRF-Token` header (htmx requests send the header).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request, status

from app.accounts.models import User
from app.config import Settings

SESSION_COOKIE = "watchfloor_session"
SESSION_MAX_AGE = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def session_options(settings: Settings) -> dict:
    """Keyword arguments for SessionMiddleware."""
    return {"secret_key": settings.secret(), "session_cookie": SESSION_COOKIE, "max_age": SESSION_MAX_AGE,
            "same_site": "lax", "https_only": settings.base_url.startswith("https://")}


def start_session(request: Request, user: User) -> None:
    """A fresh session for `user` (a new CSRF token too, so a token seen before login is worthless)."""
    request.session.clear()
    request.session.update({"uid": user.id, "epoch": user.session_epoch, "csrf": secrets.token_urlsafe(32)})


def end_session(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    """This session's token, created on first use (the login form needs one before anyone signs in)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Router dependency: unsafe methods must carry the session's CSRF token."""
    if request.method in _SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or stale form token: reload the page and try again")
