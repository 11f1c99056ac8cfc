"""Fixtures for the alert tests: items go in as the push API stores them and are matched by the real library."""

from __future__ import annotations

import pytest

from app.db import transaction
from app.ingest.models import Feed


def _item(ident: str, title: str, summary: str = "", *, source: str = "wire-a",
          published: str = "2020-05-20T19:30:00Z", **extra) -> dict:
    return {"id": ident, "title": title, "summary": summary, "source": source, "published": published, **extra}


@pytest.fixture
def item():
    """item(id, title, summary, source=..., published=...) -> a push API body."""
    return _item


@pytest.fixture
def graded_feeds(ctx):
    """Feeds whose keys the pushed items use as their source, so sources carry reliability grades."""
    with transaction(ctx.sessions) as s:
        for key, grade in (("wire-a", "B"), ("wire-b", "C"), ("wire-c", "D")):
            s.add(Feed(key=key, title=f"Wire {key[-1].upper()}", url=f"https://{key}.example/rss", reliability=grade))
    return ["wire-a", "wire-b", "wire-c"]


@pytest.fixture
def lib(ctx):
    with ctx.sessions() as s:
        return ctx.library.get(s)


@pytest.fixture(autouse=True)
def _library_once(library_parsed_once):
    """These tests never edit the library: parse its YAML once per run (tests/conftest.py)."""
