"""Daily digests over real SMTP with a fake clock: content, once per period, crashes, downtime, DST."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from wf_notify import add_alert, add_change, add_evidence, add_level

from app.context import AppContext
from app.db import transaction
from app.notify import email
from app.notify.digest import SETTLE, due_period, send_due_digests
from app.notify.jobs import collect_once
from app.notify.models import DigestLedger, Subscription
from app.notify.payloads import Names
from app.notify.schemas import SubscriptionIn
from app.notify.service import create_subscription, from_token, unsubscribe

T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
DUE1 = datetime(2024, 5, 2, 5, 0, tzinfo=UTC)  # 07:00 CEST


class Crash(BaseException):
    """Stands in for the process dying: no handler of ours catches it."""


def subscribe(ctx, *, confirmed: datetime = T0, address: str = "ana@example.test", **kw) -> int:
    data = {"mode": "digest", "email": address, "timezone": "Europe/Berlin", "digest_time": "07:00", **kw}
    with transaction(ctx.sessions) as s:
        sub = create_subscription(s, SubscriptionIn(**data), settings=ctx.settings, names=Names(None))
        sub.confirmed_at = confirmed
        return sub.id


def ledger(ctx, sub_id: int) -> list[DigestLedger]:
    with ctx.sessions() as s:
        return list(s.query(DigestLedger).filter_by(subscription_id=sub_id).order_by(DigestLedger.period))


def bodies(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


async def test_digest_content_links_and_headers(ctx, mailbox):
    sub_id = subscribe(ctx, scenarios=["mlcoa-pressure"])
    with transaction(ctx.sessions) as s:
        new = add_alert(s, at=T0 + timedelta(hours=6))
        add_evidence(s, new, snippet="Two Katyusha rockets struck Camp Taji", url="https://news.example/taji",
                     at=T0 + timedelta(hours=6))
        older = add_alert(s, at=T0 - timedelta(days=1), indicator="convoy-ied", title="IED hits a convoy near Basra")
        add_change(s, older, at=T0 + timedelta(hours=9), action="severity", frm="medium", to="high")
        muted = add_alert(s, at=T0 + timedelta(hours=7), title="Muted rocket report")
        muted.silenced, muted.silenced_until = True, DUE1 + timedelta(days=30)
        add_alert(s, at=T0 + timedelta(hours=8), indicator="ultimatum", title="Other scenario ultimatum")
        add_alert(s, at=DUE1 + timedelta(minutes=1), title="After the period")
        add_level(s, at=T0 + timedelta(hours=12), level="elevated", previous="guarded")
    collect_once(ctx)

    assert await send_due_digests(ctx, now=DUE1) == {}  # due, but waits SETTLE for late commits
    assert await send_due_digests(ctx, now=DUE1 + SETTLE) == {"sent": 1}
    assert await send_due_digests(ctx, now=DUE1 + timedelta(hours=3)) == {}
    [msg] = mailbox.to("ana@example.test")
    text, html = bodies(msg)
    # .strip(): Python folds a long Subject right after the colon and its parser keeps the fold's space
    assert msg["Subject"].strip() == "Watchfloor digest 2024-05-02: 1 new, 1 escalated, 1 warning level(s) up"
    assert re.fullmatch(rf"<digest\.{sub_id}\.2024-05-02\.[0-9a-f]{{12}}@example\.test>", msg["Message-ID"])
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = re.fullmatch(r"<https://wf\.example\.test/notify/unsubscribe/(\S+)>", msg["List-Unsubscribe"])
    assert unsub and unsub.group(0)[1:-1] in text and unsub.group(0)[1:-1] in html
    for body in (text, html):
        assert "Most likely: sustained, deniable harassment" in body
        assert "Indirect fire on a site hosting U.S. or Coalition personnel" in body
        assert "Two Katyusha rockets struck Camp Taji" in body and "https://news.example/taji" in body
        assert f"https://wf.example.test/alerts/{new.id}" in body and "IED hits a convoy near Basra" in body
        assert "ELEVATED" in body and "1 silenced" in body
        for absent in ("Muted rocket report", "Other scenario ultimatum", "After the period"):
            assert absent not in body
    assert "new" in text and "escalated" in text and "Thu 02 May 2024 07:00 CEST" in text
    trend = re.findall(r"^  (\w{3} \d\d \w{3})\s+(\d+)", text, re.M)
    assert trend[-3:] == [("Tue 30 Apr", "1"), ("Wed 01 May", "1"), ("Thu 02 May", "0")] and len(trend) == 7
    [row] = ledger(ctx, sub_id)
    assert (row.state, row.window_start, row.window_end) == ("sent", T0, DUE1)

    with transaction(ctx.sessions) as s:  # the link works without logging in: the token is the authority
        sub = from_token(s, ctx.settings, "unsubscribe", unsub.group(1))
        unsubscribe(sub, DUE1)
        assert from_token(s, ctx.settings, "unsubscribe", unsub.group(1)[:-2] + "xx") is None
    assert await send_due_digests(ctx, now=DUE1 + timedelta(days=1, minutes=5)) == {}
    assert len(mailbox.messages) == 1


async def test_nothing_new_digest_when_wanted_and_skipped_when_not(ctx, mailbox):
    wants = subscribe(ctx, address="wants@example.test", send_empty=True)
    skips = subscribe(ctx, address="skips@example.test", send_empty=False)
    assert await send_due_digests(ctx, now=DUE1 + timedelta(minutes=2)) == {"sent": 1, "settled": 1}
    [msg] = mailbox.to("wants@example.test")
    assert msg["Subject"].strip() == "Watchfloor digest 2024-05-02: nothing new"
    assert "Nothing new" in bodies(msg)[0] and "Nothing new." in bodies(msg)[1]
    assert mailbox.to("skips@example.test") == []
    assert [r.state for r in ledger(ctx, skips)] == ["skipped"]
    day2 = DUE1 + timedelta(days=1, minutes=2)
    assert await send_due_digests(ctx, now=day2) == {"sent": 1, "settled": 1}
    assert [(r.window_start, r.window_end) for r in ledger(ctx, wants)][1] == (DUE1, DUE1 + timedelta(days=1))


async def test_after_downtime_the_missed_digest_is_sent_once(ctx, mailbox):
    sub_id = subscribe(ctx)
    assert await send_due_digests(ctx, now=DUE1 + timedelta(minutes=5)) == {"sent": 1}
    with transaction(ctx.sessions) as s:
        add_alert(s, at=DUE1 + timedelta(days=1))  # happens while the worker is down
    collect_once(ctx)
    back = DUE1 + timedelta(days=3, hours=5)  # three periods later, mid-morning
    for minutes in range(0, 120, 10):  # every tick after the restart
        await send_due_digests(ctx, now=back + timedelta(minutes=minutes))
    assert len(mailbox.messages) == 2
    rows = ledger(ctx, sub_id)
    assert [(r.period, r.state) for r in rows] == [("2024-05-02", "sent"), ("2024-05-05", "sent")]
    assert rows[1].window_start == DUE1  # covers the whole outage
    assert "1 new alert(s)" in bodies(mailbox.messages[1][2])[0]


async def test_crash_before_transmitting_is_retried_and_sent_once(ctx, mailbox, monkeypatch):
    sub_id = subscribe(ctx)

    async def dies(*a, **kw):
        raise Crash

    monkeypatch.setattr(email, "send", dies)
    with pytest.raises(Crash):
        await send_due_digests(ctx, now=DUE1 + SETTLE)
    monkeypatch.undo()
    assert [r.state for r in ledger(ctx, sub_id)] == ["claimed"]
    assert await send_due_digests(ctx, now=DUE1 + SETTLE + timedelta(seconds=60)) == {}  # lease still held
    later = DUE1 + SETTLE + timedelta(seconds=ctx.settings.lease_seconds + 1)
    assert await send_due_digests(ctx, now=later) == {"sent": 1}
    assert await send_due_digests(ctx, now=later + timedelta(hours=1)) == {}
    assert len(mailbox.messages) == 1
    assert [(r.state, r.attempts) for r in ledger(ctx, sub_id)] == [("sent", 2)]


async def test_crash_after_the_server_accepted_is_not_sent_again(ctx, mailbox, monkeypatch):
    sub_id = subscribe(ctx)
    real = email.send

    async def accepted_then_dies(*a, **kw):
        await real(*a, **kw)
        raise Crash

    monkeypatch.setattr(email, "send", accepted_then_dies)
    with transaction(ctx.sessions) as s:
        add_alert(s, at=T0 + timedelta(hours=1), title="Rockets before the crash")
    collect_once(ctx)
    with pytest.raises(Crash):
        await send_due_digests(ctx, now=DUE1 + SETTLE)
    monkeypatch.undo()
    assert [r.state for r in ledger(ctx, sub_id)] == ["transmitting"]
    later = DUE1 + SETTLE + timedelta(seconds=ctx.settings.lease_seconds + 1)
    for minutes in range(0, 60, 10):
        await send_due_digests(ctx, now=later + timedelta(minutes=minutes))
    assert len(mailbox.messages) == 1, "a second copy reached the server"
    assert [r.state for r in ledger(ctx, sub_id)] == ["uncertain"]
    # Nothing is lost: the next digest starts where the last *sent* one ended, so it repeats the content.
    await send_due_digests(ctx, now=DUE1 + timedelta(days=1, minutes=5))
    assert len(mailbox.messages) == 2
    assert "Rockets before the crash" in bodies(mailbox.messages[1][2])[0]


async def test_two_workers_at_once_send_one_digest(ctx, settings, mailbox):
    subscribe(ctx)
    other = AppContext.create(settings)
    try:
        reports = await asyncio.gather(*(send_due_digests(c, now=DUE1 + SETTLE) for c in (ctx, other, ctx, other)))
    finally:
        other.engine.dispose()
    assert sum(r.get("sent", 0) for r in reports) == 1
    assert len(mailbox.messages) == 1


def sweep(zone: str, at: str, start: datetime, hours: int, step: timedelta) -> list[tuple[str, datetime]]:
    """Every (period, first tick it became due) seen by a fake clock ticking from `start`."""
    sub = Subscription(timezone=zone, digest_time=at, confirmed_at=start)
    seen: dict[str, datetime] = {}
    now = start
    while now < start + timedelta(hours=hours):
        found = due_period(sub, now)
        if found:
            seen.setdefault(found[0].isoformat(), now)
        now += step
    return sorted(seen.items())


DST = [  # zone, local time inside the skipped or repeated hour, the transition day, the UTC instant it is due
    ("Europe/Berlin", "02:30", "2024-03-31", datetime(2024, 3, 31, 1, 30, tzinfo=UTC)),  # skipped → 03:30 CEST
    ("Europe/Berlin", "02:30", "2024-10-27", datetime(2024, 10, 27, 0, 30, tzinfo=UTC)),  # repeated → first
    ("America/New_York", "02:30", "2024-03-10", datetime(2024, 3, 10, 7, 30, tzinfo=UTC)),  # skipped → 03:30 EDT
    ("America/New_York", "01:30", "2024-11-03", datetime(2024, 11, 3, 5, 30, tzinfo=UTC)),  # repeated → first
]


@pytest.mark.parametrize("zone,at,day,due", DST)
def test_dst_neither_skips_nor_doubles_a_period(zone, at, day, due):
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)) - timedelta(days=2)
    seen = sweep(zone, at, start.astimezone(UTC), 24 * 5, timedelta(minutes=5))
    dates = [p for p, _ in seen]
    assert dates == sorted(dates) and len(dates) == len(set(dates))
    first = datetime.fromisoformat(dates[0])
    assert dates == [(first + timedelta(days=n)).date().isoformat() for n in range(len(dates))], "a day was skipped"
    assert dict(seen)[day] - due < timedelta(minutes=5) + SETTLE and dict(seen)[day] >= due + SETTLE


@pytest.mark.parametrize("zone,at,day,due", DST)
async def test_dst_day_over_real_smtp_sends_exactly_one_per_day(ctx, mailbox, zone, at, day, due):
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)) - timedelta(days=1)
    sub_id = subscribe(ctx, confirmed=start.astimezone(UTC), timezone=zone, digest_time=at)
    now = start.astimezone(UTC)
    while now < start.astimezone(UTC) + timedelta(days=3):
        await send_due_digests(ctx, now=now)
        now += timedelta(minutes=20)
    rows = ledger(ctx, sub_id)
    assert [r.state for r in rows] == ["sent"] * 3 and len(mailbox.messages) == 3
    assert day in [r.period for r in rows]
    assert [r.window_end for r in rows if r.period == day] == [due]
    assert all(a.window_end == b.window_start for a, b in zip(rows, rows[1:], strict=False))
