"""The inbox query: keyset pages that never skip or repeat, every filter, and full-text search on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.accounts.service import create_user
from app.alerts.inbox import FilterError, InboxFilter, arrived_since, inbox_page
from app.alerts.models import Alert
from app.alerts.triage import assign, transition
from app.db import transaction

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
SITES = ["Camp Taji", "Ain al-Asad air base", "Balad air base", "Besmaya base", "Erbil airport", "Harir base",
         "Victory base", "the Green Zone near the U.S. Embassy", "Baghdad airport", "K1 base near Kirkuk"]


@pytest.fixture
def attacks(pipeline, item) -> list[int]:
    """Ten rocket attacks on ten sites; pairs share an event time so the id breaks ties."""
    bodies = [item(f"r{i}", f"Two rockets land inside {site}", published=f"2020-06-{10 + i // 2:02d}T08:00:00Z")
              for i, site in enumerate(SITES)]
    return pipeline(*bodies)


def _page_ids(session, lib, f, **kw):
    alerts, nxt = inbox_page(session, f, lib, NOW, **kw)
    return [a.id for a in alerts], nxt


def test_keyset_pages_cover_every_alert_once_in_order(ctx, lib, attacks):
    assert len(attacks) == 10
    with ctx.sessions() as s:
        seen, after = [], None
        while True:
            ids, after = _page_ids(s, lib, InboxFilter(), after=after, limit=3)
            seen += ids
            if after is None:
                break
        ordered = s.execute(select(Alert.id).order_by(Alert.last_seen_at.desc(), Alert.id.desc())).scalars().all()
    assert seen == list(ordered) and len(set(seen)) == 10


def test_filters_narrow_the_inbox(ctx, lib, attacks, pipeline, item):
    salvo = pipeline(item("big", "More than 30 rockets slammed into Camp Taji on Friday evening",
                          published="2020-07-01T08:00:00Z"))
    with transaction(ctx.sessions) as s:
        create_user(s, "olga", "a long enough password", "officer")
        transition(s, s.get(Alert, attacks[0]), "acknowledge", "olga")
        transition(s, s.get(Alert, attacks[1]), "dismiss", "olga", reason="drill")
        assign(s, s.get(Alert, attacks[2]), "olga", "olga")
    with ctx.sessions() as s:
        def ids(**kw):
            return set(_page_ids(s, lib, InboxFilter(**kw), limit=200)[0])

        everything = ids(status=["all"])
        assert attacks[1] not in ids() and attacks[1] in everything
        assert ids(status=["acknowledged"]) == {attacks[0]}
        assert ids(status=["dismissed", "acknowledged"]) == {attacks[0], attacks[1]}
        large = {a.id for a in s.scalars(select(Alert).where(Alert.indicator_id == "large-salvo"))}
        assert ids(indicator="large-salvo") == large and large < set(salvo)
        assert ids(scenario="mdcoa-coordinated") >= large and not ids(scenario="mdcoa-coordinated") & set(attacks)
        assert ids(severity="high") == {a.id for a in s.scalars(select(Alert).where(
            Alert.severity.in_(["high", "critical"]), Alert.status != "dismissed"))}
        assert ids(assignee="olga") == {attacks[2]}
        assert attacks[2] not in ids(assignee="none")
        assert ids(source="wire-a", status=["all"]) == everything and ids(source="elsewhere") == set()
        june_12 = ids(since=datetime(2020, 6, 12, tzinfo=UTC), until=datetime(2020, 6, 13, tzinfo=UTC))
        assert june_12 == set(attacks[4:6])
        with pytest.raises(FilterError):
            ids(scenario="no-such-scenario")


def test_full_text_search_finds_items_in_english_and_arabic(ctx, lib, attacks, pipeline, item):
    [arabic] = pipeline(item("ar", "سقوط صاروخين على قاعدة عين الأسد", published="2020-08-01T08:00:00Z"))
    with ctx.sessions() as s:
        def found(q):
            return set(_page_ids(s, lib, InboxFilter(q=q, status=["all"]), limit=200)[0])

        assert found("Besmaya") == {attacks[3]}
        assert found("besmaya BASE") == {attacks[3]}
        assert found("Kirkuk Besmaya") == set()
        assert found("الأسد") == {arabic}
        assert found("!!") == found("") == set(attacks) | {arabic}


def test_alerts_arriving_after_a_page_loaded_are_found_by_id(ctx, lib, attacks, pipeline, item):
    newest = max(attacks)
    [late] = pipeline(item("late", "Three rockets land inside Camp Taji again", published="2020-01-01T08:00:00Z"))
    with ctx.sessions() as s:
        assert [a.id for a in arrived_since(s, InboxFilter(), lib, NOW, newest)] == [late]
        assert arrived_since(s, InboxFilter(indicator="large-salvo"), lib, NOW, newest) == []
