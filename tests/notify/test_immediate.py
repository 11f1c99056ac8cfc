"""Immediate notifications: a burst within the group wait is one message; silences and filters are respected."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from wf_notify import add_alert, add_change, add_level

from app.context import AppContext
from app.db import transaction, utcnow
from app.ingest.schemas import ItemIn
from app.ingest.service import store_pushed
from app.matching.jobs import match_items
from app.notify import jobs
from app.notify.immediate import send_groups
from app.notify.jobs import collect, collect_once, deliver_webhooks, send_immediate
from app.notify.models import NotificationGroup
from app.notify.payloads import Names
from app.notify.schemas import EndpointIn, SubscriptionIn
from app.notify.service import create_endpoint, create_subscription
from app.notify.webhooks import deliver_due


@pytest.fixture
def waiting_ctx(db_url, make_settings, smtp_server):
    """A context whose immediate notifications wait 30 s to gather a burst."""
    ctx = AppContext.create(make_settings(db_url, smtp_host="127.0.0.1", smtp_port=smtp_server[0].port,
                                          smtp_security="none", mail_from="wf@example.test",
                                          immediate_group_wait=30.0, webhook_allow_networks="127.0.0.0/8"))
    yield ctx
    ctx.engine.dispose()


def subscribe(ctx, *, confirmed: bool = True, **kw) -> int:
    data = {"mode": "immediate", "email": "duty@example.test", **kw}
    with transaction(ctx.sessions) as s:
        sub = create_subscription(s, SubscriptionIn(**data), settings=ctx.settings, names=Names(None))
        sub.confirmed_at = utcnow() if confirmed else None
        return sub.id


async def test_a_burst_within_the_group_wait_is_one_message(waiting_ctx, mailbox):
    ctx = waiting_ctx
    subscribe(ctx, min_severity="medium")
    t = utcnow()
    with transaction(ctx.sessions) as s:
        first = add_alert(s, at=t, title="Rockets hit Camp Taji")
        add_change(s, first, at=t, action="hit_added", frm="1", to="2")  # more hits: not a reason to interrupt
        add_alert(s, at=t, indicator="convoy-ied", title="IED strikes a supply convoy")
        add_alert(s, at=t, severity="low", title="Below the minimum severity")
        muted = add_alert(s, at=t, title="Muted by a silence")
        muted.silenced, muted.silenced_until = True, t + timedelta(days=1)
        add_level(s, at=t, level="elevated", previous="guarded")
        add_level(s, at=t, level="guarded", previous="elevated", scenario="mdcoa-freelance")  # falling: no alert
    collect_once(ctx)
    assert await send_groups(ctx, now=utcnow() + timedelta(seconds=10)) == 0  # still gathering
    with transaction(ctx.sessions) as s:
        late = add_alert(s, at=utcnow(), title="Second salvo at Ain al-Asad")
        add_change(s, late, at=utcnow(), action="status", frm="new", to="escalated")
    collect_once(ctx)
    assert await send_groups(ctx, now=utcnow() + timedelta(seconds=31)) == 1
    [msg] = mailbox.to("duty@example.test")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for title in ("Rockets hit Camp Taji", "IED strikes a supply convoy", "Second salvo at Ain al-Asad"):
        assert title in text and title in html
    assert text.count("Second salvo") == 1, "an alert appears once however many events it had"
    for absent in ("Below the minimum severity", "Muted by a silence", "freelance"):
        assert absent not in text
    assert "Warning level UP: Most likely" in text and "ELEVATED" in text
    assert msg["Subject"].strip().startswith("[Watchfloor] 3 alert(s), highest medium")
    assert msg["List-Unsubscribe"] and msg["Message-ID"].startswith("<immediate.")

    assert await send_groups(ctx, now=utcnow() + timedelta(minutes=5)) == 0  # sent once
    with transaction(ctx.sessions) as s:
        add_alert(s, at=utcnow(), title="A new burst")
    collect_once(ctx)
    assert await send_groups(ctx, now=utcnow() + timedelta(seconds=31)) == 1
    assert "A new burst" in mailbox.messages[-1][2].get_body(("plain",)).get_content()


async def test_silenced_before_sending_and_unconfirmed_get_nothing(waiting_ctx, mailbox):
    ctx = waiting_ctx
    subscribe(ctx)
    subscribe(ctx, confirmed=False, email="unconfirmed@example.test")
    with transaction(ctx.sessions) as s:
        alert = add_alert(s, at=utcnow())
    collect_once(ctx)
    with transaction(ctx.sessions) as s:  # an officer silences it during the group wait
        a = s.get(type(alert), alert.id)
        a.silenced, a.silenced_until = True, utcnow() + timedelta(hours=1)
    assert await send_groups(ctx, now=utcnow() + timedelta(seconds=31)) == 0
    assert mailbox.messages == []
    with ctx.sessions() as s:
        assert [g.state for g in s.query(NotificationGroup)] == ["dropped"]


async def test_webhook_subscription_gets_one_signed_grouped_notification(ctx, receiver):
    with transaction(ctx.sessions) as s:
        ep = create_endpoint(s, EndpointIn(url=receiver.url("/duty"), event_types=[]), settings=ctx.settings)
        ep_id, secret = ep.id, ep.secret
    subscribe(ctx, email=None, endpoint_id=ep_id)
    with transaction(ctx.sessions) as s:
        for n in range(3):
            add_alert(s, at=utcnow(), title=f"Rocket report {n}")
    collect_once(ctx)
    assert await send_groups(ctx) == 0  # webhook groups become outbox events, not emails
    collect_once(ctx)
    await deliver_due(ctx)
    [req] = receiver.requests
    body = Webhook(secret).verify(req.body, req.headers)
    assert body["type"] == "notification.immediate"
    assert [a["title"] for a in body["data"]["alerts"]] == ["Rocket report 0", "Rocket report 1", "Rocket report 2"]
    assert {a["reason"] for a in body["data"]["alerts"]} == {"created"}


async def test_pushed_item_reaches_email_and_webhook_within_seconds(ctx, receiver, mailbox):
    """The whole chain through the jobs the scheduler runs: item → match → alert → outbox → email + webhook."""
    with transaction(ctx.sessions) as s:
        secret = create_endpoint(s, EndpointIn(url=receiver.url("/all")), settings=ctx.settings).secret
    subscribe(ctx)
    for job in (collect, deliver_webhooks, collect, deliver_webhooks):  # ticks start each loop once
        await job(ctx)
    loops = [t for (name, key), t in jobs._loops.items() if key == id(ctx)]
    assert len(loops) == 2
    try:
        start = time.monotonic()
        with transaction(ctx.sessions) as s:
            store_pushed(s, ItemIn(id="w-1", source="wire", title="Three Katyusha rockets hit Camp Taji",
                                   summary="No casualties were reported.", published=utcnow().isoformat()), utcnow())
        await match_items(ctx)
        while not (receiver.requests and mailbox.messages) and time.monotonic() - start < 10:
            await send_immediate(ctx)
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - start
    finally:
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    [msg] = mailbox.to("duty@example.test")
    assert "Camp Taji" in msg.get_body(("plain",)).get_content()
    types = [Webhook(secret).verify(r.body, r.headers)["type"] for r in receiver.requests]
    assert "alert.created" in types
    assert elapsed < 3, f"took {elapsed:.1f} s"
