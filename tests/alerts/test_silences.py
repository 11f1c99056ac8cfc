"""Silences mute without dropping: hits and alerts are stored, muted alerts show on demand, expiry needs no job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.alerts.inbox import InboxFilter, inbox_page
from app.alerts.models import Alert, AlertEvent, Silence
from app.alerts.silences import SilenceError, create_silence, expire_silence
from app.alerts.triage import transition
from app.db import transaction
from app.matching.models import Hit

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # the clock the pipeline fixture runs at (PIPELINE_NOW)

ROCKETS = "Two rockets land inside Ain al-Asad air base"
BESMAYA = "Two rockets hit Besmaya base south of Baghdad, which hosts Coalition trainers"


def _silence(ctx, lib, kind, target, *, now=NOW, hours=24, reason="known exercise"):
    with transaction(ctx.sessions) as s:
        return create_silence(s, lib, kind=kind, target=target, reason=reason, ends_at=now + timedelta(hours=hours),
                              actor="admin", now=now).id


def _shown(ctx, lib, now, **filters) -> set[int]:
    with ctx.sessions() as s:
        return {a.id for a in inbox_page(s, InboxFilter(**filters), lib, now)[0]}


def _actions(ctx, alert_id) -> list[str]:
    with ctx.sessions() as s:
        return list(s.scalars(select(AlertEvent.action).where(AlertEvent.alert_id == alert_id)
                              .order_by(AlertEvent.at, AlertEvent.id)))


def test_a_silenced_indicator_still_makes_alerts_muted_until_the_silence_ends(ctx, lib, pipeline, item):
    _silence(ctx, lib, "indicator", "indirect-fire-attack")
    [alert_id] = pipeline(item("r1", ROCKETS))
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Hit)) == 1
        assert s.get(Alert, alert_id).muted(NOW)
    assert _actions(ctx, alert_id) == ["created", "silenced"]
    assert alert_id not in _shown(ctx, lib, NOW)
    assert alert_id in _shown(ctx, lib, NOW, silenced=True)
    assert alert_id in _shown(ctx, lib, NOW + timedelta(hours=25))  # ended on its own


def test_a_new_silence_mutes_open_alerts_and_ending_it_early_brings_them_back(ctx, lib, pipeline, item):
    open_id, closed_id = pipeline(item("r1", ROCKETS), item("r2", BESMAYA, published="2020-06-01T10:00:00Z"))
    with transaction(ctx.sessions) as s:
        transition(s, s.get(Alert, closed_id), "resolve", "ana")
    silence_id = _silence(ctx, lib, "indicator", "indirect-fire-attack")
    assert open_id not in _shown(ctx, lib, NOW)
    assert _actions(ctx, closed_id)[-1] == "status"  # closed alerts are left alone
    later = NOW + timedelta(hours=1)
    with transaction(ctx.sessions) as s:
        assert expire_silence(s, s.get(Silence, silence_id), "admin", later) == 1
    assert open_id in _shown(ctx, lib, later)
    assert _actions(ctx, open_id) == ["created", "silenced", "unsilenced"]


def test_a_term_silence_mutes_alerts_whose_items_contain_the_word(ctx, lib, pipeline, item):
    _silence(ctx, lib, "term", "Besmaya")
    ids = pipeline(item("r1", ROCKETS), item("r2", BESMAYA, published="2020-06-01T10:00:00Z"))
    with ctx.sessions() as s:
        muted = {a.id: a.muted(NOW) for a in s.scalars(select(Alert).where(Alert.id.in_(ids)))}
    assert sorted(muted.values()) == [False, True]


def test_an_actor_silence_covers_every_spelling_in_the_gazetteer(ctx, lib, pipeline, item):
    _silence(ctx, lib, "actor", "kataib-hezbollah")
    [alert_id] = pipeline(item("r1", f"{ROCKETS}; Kataib Hizballah suspected"))
    [other] = pipeline(item("r2", BESMAYA, published="2020-06-01T10:00:00Z"))
    with ctx.sessions() as s:
        assert s.get(Alert, alert_id).muted(NOW) and not s.get(Alert, other).muted(NOW)


def test_a_report_from_a_feed_no_silence_covers_brings_the_alert_back(ctx, lib, pipeline, item):
    _silence(ctx, lib, "feed", "wire-a")
    [alert_id] = pipeline(item("a1", ROCKETS, source="wire-a", published="2020-06-01T08:00:00Z"))
    assert alert_id not in _shown(ctx, lib, NOW)
    [again] = pipeline(item("b1", "Two rockets landed inside Ain al-Asad air base, officials said", source="wire-b",
                            published="2020-06-01T09:00:00Z"))
    assert again == alert_id and alert_id in _shown(ctx, lib, NOW)
    assert _actions(ctx, alert_id) == ["created", "silenced", "hit_added", "unsilenced"]


def test_a_silence_must_say_what_why_and_until_when(ctx, lib):
    for kind, target, reason, hours, message in [
        ("indicator", "no-such-indicator", "r", 1, "no indicator"),
        ("actor", "no-such-group", "r", 1, "no gazetteer entity"),
        ("feed", "wire-a", "  ", 1, "reason"),
        ("term", "!!", "r", 1, "no letters"),
        ("indicator", "indirect-fire-attack", "r", -1, "future"),
        ("everything", "x", "r", 1, "one of"),
    ]:
        with pytest.raises(SilenceError, match=message):
            _silence(ctx, lib, kind, target, reason=reason, hours=hours)
