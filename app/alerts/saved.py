"""Saved inbox views: an officer's named filters, kept as the inbox query string they reproduce."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import SavedView

MAX_VIEWS = 50
_KEYS = {"status", "scenario", "indicator", "severity", "source", "assignee", "since", "until", "q", "silenced"}


class ViewError(ValueError):
    """A view cannot be saved as asked."""


def clean_query(query: str) -> str:
    """Only the inbox's filter parameters survive, so a saved view cannot smuggle anything else."""
    return urlencode([(k, v) for k, v in parse_qsl(query.lstrip("?")) if k in _KEYS and v])


def list_views(session: Session, owner: str) -> list[SavedView]:
    return list(session.scalars(select(SavedView).where(SavedView.owner == owner).order_by(SavedView.name)))


def save_view(session: Session, owner: str, name: str, query: str) -> SavedView:
    """Save (or overwrite, by name) one of the owner's views."""
    name = " ".join(name.split())[:100]
    if not name:
        raise ViewError("a view needs a name")
    view = session.scalar(select(SavedView).where(SavedView.owner == owner, SavedView.name == name))
    if view is None:
        if len(list_views(session, owner)) >= MAX_VIEWS:
            raise ViewError(f"at most {MAX_VIEWS} saved views; delete one first")
        view = SavedView(owner=owner, name=name)
        session.add(view)
    view.query = clean_query(query)
    session.flush()
    return view


def delete_view(session: Session, owner: str, view_id: int) -> bool:
    view = session.get(SavedView, view_id)
    if view is None or view.owner != owner:
        return False
    session.delete(view)
    session.flush()
    return True
