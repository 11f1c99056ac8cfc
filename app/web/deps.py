"""Request-scoped dependencies: the session (committed at the end of the request) and the context."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from app.context import AppContext


def get_context(request: Request) -> AppContext:
    return request.app.state.ctx


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; the request boundary commits, an error rolls back."""
    session = request.app.state.ctx.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SESSION = Depends(get_session, scope="function")
"""The request's session as a dependency, committed before the response is sent (so a client that
reads right after a write sees it)."""


def get_or_404(session: Session, model, row_id: int, what: str):
    """The row with this primary key, or a 404 that names what is missing (API and pages alike)."""
    row = session.get(model, row_id)
    if row is None:
        raise HTTPException(404, f"no {what} #{row_id}")
    return row
