"""The collector: every audit row becomes one outbox event, even when ids commit out of order."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from wf_notify import add_alert, add_change, outbox

from app.alerts.models import AlertEvent
from app.db import make_engine, transaction, upgrade, utcnow
from app.notify import outbox as collector
from app.notify.models import NotifyCursor
from app.notify.payloads import Names, event_id


def collect(ctx, now=None) -> int:
    with transaction(ctx.sessions) as s:
        return collector.collect_alert_events(s, names=Names(None), secret="k", base_url="https://wf",
                                              now=now or utcnow())


def test_changes_map_to_event_types_and_escalation(ctx):
    t = utcnow()
    with transaction(ctx.sessions) as s:
        a = add_alert(s, at=t)
        add_change(s, a, at=t, action="hit_added", frm="1", to="2")
        add_change(s, a, at=t, action="severity", frm="medium", to="high")
        add_change(s, a, at=t, action="severity", frm="high", to="low")
        add_change(s, a, at=t, action="status", frm="new", to="acknowledged")
        add_change(s, a, at=t, action="status", frm="acknowledged", to="escalated")
    assert collect(ctx) == 6
    assert collect(ctx) == 0
    with ctx.sessions() as s:
        rows = outbox(s)
    assert [(r.type, r.escalated) for r in rows] == [
        ("alert.created", False), ("alert.updated", False), ("alert.updated", True), ("alert.updated", False),
        ("alert.updated", False), ("alert.updated", True)]
    assert rows[0].event_id == event_id("k", rows[0].source) and rows[0].event_id.startswith("msg_")
    assert len({r.event_id for r in rows}) == 6


def test_an_id_that_commits_late_is_still_collected(ctx):
    t = utcnow()
    with transaction(ctx.sessions) as s:
        a = add_alert(s, at=t)  # alert_events id 1
        s.add(AlertEvent(id=5, alert_id=a.id, at=t, actor="x", action="note"))
    assert collect(ctx, t) == 2
    with ctx.sessions() as s:
        cursor = s.get(NotifyCursor, "alert_events")
        assert cursor.last_id == 5 and sorted(cursor.gaps) == ["2", "3", "4"]
    with transaction(ctx.sessions) as s:  # id 3 was held by a transaction that commits only now
        s.add(AlertEvent(id=3, alert_id=a.id, at=t, actor="x", action="note"))
    assert collect(ctx, t + timedelta(seconds=5)) == 1
    with ctx.sessions() as s:
        assert sorted(s.get(NotifyCursor, "alert_events").gaps) == ["2", "4"]
    collect(ctx, t + collector.GAP_TIMEOUT + timedelta(seconds=1))  # rolled back for good: forgotten
    with ctx.sessions() as s:
        assert s.get(NotifyCursor, "alert_events").gaps == {}
        assert sorted(r.source for r in outbox(s)) == ["alert_events:1", "alert_events:3", "alert_events:5"]


def test_concurrent_transactions_committing_out_of_order_lose_nothing(ctx, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time, so ids cannot commit out of order there")
    t = utcnow()
    with transaction(ctx.sessions) as s:
        a = add_alert(s, at=t)
    slow = ctx.sessions()
    slow.add(AlertEvent(alert_id=a.id, at=t, actor="slow", action="note"))
    slow.flush()  # takes the lower id and holds it, uncommitted
    with transaction(ctx.sessions) as s:
        s.add(AlertEvent(alert_id=a.id, at=t, actor="fast", action="note"))
    assert collect(ctx) == 2  # created + fast; the slow one's id is remembered as a gap
    slow.commit()
    slow.close()
    assert collect(ctx) == 1
    with ctx.sessions() as s:
        assert sorted(r.payload["change"]["actor"] for r in outbox(s) if r.type == "alert.updated") == ["fast", "slow"]


def test_migration_starts_the_cursor_at_the_existing_end(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO alerts (id, indicator_id, group_key, status, severity, title, first_seen_at, "
                             "last_seen_at, hit_count, silenced, library_version, created_at, updated_at) VALUES "
                             "(1, 'x', 'k', 'new', 'low', 't', '2024-01-01', '2024-01-01', 1, 0, 'v', '2024-01-01', "
                             "'2024-01-01')"))
        for n in range(1, 4):
            conn.execute(sa.text(f"INSERT INTO alert_events (id, alert_id, at, actor, action) VALUES "
                                 f"({n}, 1, '2024-01-01', 'system', 'created')"))
    upgrade(url)
    with engine.connect() as conn:
        cursors = dict(conn.execute(sa.text("SELECT name, last_id FROM notify_cursors")).all())
    engine.dispose()
    assert cursors == {"alert_events": 3, "scenario_level_events": 0}, "history must not be announced as new"
