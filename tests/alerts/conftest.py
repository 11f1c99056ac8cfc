"""Fixtures for the alert tests: items go in as the push API stores them and are matched by the real library."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.alerts.service import alerts_for_hits
from app.db import transaction
from app.ingest.models import Feed
from app.ingest.schemas import ItemIn
from app.ingest.service import store_pushed
from app.matching.service import match_pending

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def _item(ident: str, title: str, summary: str = "", *, source: str = "wire-a",
          published: str = "2020-05-20T19:30:00Z", **extra) -> dict:
    return {"id": ident, "title": title, "summary": summary, "source": source, "published": published, **extra}


@pytest.fixture
def item():
    """item(id, title, summary, source=..., published=...) -> a push API body."""
    return _item


@pytest.fixture
def pipeline(ctx):
    """pipeline(*items, now=...) -> ids of the alerts touched: push, match (matching job), alerts_for_hits."""

    def run(*items: dict, now: datetime = NOW) -> list[int]:
        with transaction(ctx.sessions) as s:
            for body in items:
                store_pushed(s, ItemIn(**body), now)
        with transaction(ctx.sessions) as s:
            report = match_pending(s, ctx.library.get(s), limit=1000, now=now)
            return [a.id for a in alerts_for_hits(s, report.hit_ids, now=now)]

    return run


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
