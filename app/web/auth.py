"""API keys: created once and shown once, stored as SHA-256, checked on every API request."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.web.deps import SESSION
from app.web.models import ApiKey

KEY_PREFIX = "wf_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, name: str) -> tuple[ApiKey, str]:
    """A new key; the plain text is returned once and never stored."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=plain[:11], key_hash=_digest(plain))
    session.add(row)
    session.flush()
    return row, plain


def key_from_request(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def require_api_key(request: Request, session: Session = SESSION) -> ApiKey:
    """FastAPI dependency: a valid, unrevoked key in `Authorization: Bearer` or `X-API-Key`."""
    plain = key_from_request(request)
    if not plain:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key (Authorization: Bearer wf_…)",
                            headers={"WWW-Authenticate": "Bearer"})
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(plain), ApiKey.revoked_at.is_(None)))
    if row is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key",
                            headers={"WWW-Authenticate": "Bearer"})
    row.last_used_at = utcnow()
    return row
