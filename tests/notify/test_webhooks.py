"""Webhooks end to end over real HTTP: outbox → deliveries → a loopback receiver that fails, stalls and recovers.

Every request the receiver gets is verified with the reference `standardwebhooks` library.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from wf_notify import add_alert, add_change, add_level

from app.context import AppContext
from app.db import transaction, utcnow
from app.notify.jobs import collect_once
from app.notify.models import Delivery, DeliveryAttempt, WebhookEndpoint
from app.notify.schemas import EndpointIn
from app.notify.service import NotifyError, create_endpoint
from app.notify.webhooks import RESPONSE_KEEP, deliver_due

FAST = (0, 0.2, 0.2, 0.2, 0.2)


def endpoint(ctx, url: str, **kw) -> tuple[int, str]:
    with transaction(ctx.sessions) as s:
        ep = create_endpoint(s, EndpointIn(url=url, **kw), settings=ctx.settings)
        return ep.id, ep.secret


def verified(receiver, path: str, *secrets: str) -> list[dict]:
    """Every request on `path`, each verified with every given secret; the parsed bodies."""
    out = []
    for r in receiver.at(path):
        for secret in secrets:
            out.append(Webhook(secret).verify(r.body, r.headers))
        assert out[-1]["id"] == r.headers["webhook-id"]
    return out


async def deliver_until(ctx, done, *, timeout: float = 15.0, schedule=FAST) -> None:
    end = time.monotonic() + timeout
    rng = random.Random(7)
    while time.monotonic() < end:
        await deliver_due(ctx, schedule=schedule, rng=rng)
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries did not settle in time")


def deliveries(ctx, endpoint_id: int | None = None) -> list[Delivery]:
    with ctx.sessions() as s:
        q = s.query(Delivery).order_by(Delivery.id)
        return list(q.filter_by(endpoint_id=endpoint_id) if endpoint_id else q)


def settled(ctx) -> bool:
    return all(d.status != "pending" for d in deliveries(ctx))


async def test_events_reach_each_endpoint_that_wants_them_signed(ctx, receiver):
    all_id, all_secret = endpoint(ctx, receiver.url("/all"))
    lvl_id, lvl_secret = endpoint(ctx, receiver.url("/levels"), event_types=["scenario.level_changed"])
    t = utcnow()
    with transaction(ctx.sessions) as s:
        alert = add_alert(s, at=t, severity="medium")
        add_change(s, alert, at=t, action="severity", frm="medium", to="high")
        add_level(s, at=t)
    assert collect_once(ctx) > 0
    assert collect_once(ctx) == 0  # nothing is collected twice
    await deliver_until(ctx, lambda: settled(ctx))

    got = {b["type"]: b for b in verified(receiver, "/all", all_secret)}  # concurrent: any order
    assert sorted(got) == ["alert.created", "alert.updated", "scenario.level_changed"]
    created, updated, level = got["alert.created"], got["alert.updated"], got["scenario.level_changed"]
    assert created["version"] == 1 and created["data"]["alert"]["id"] == alert.id
    assert created["data"]["alert"]["indicator"] == {
        "id": "indirect-fire-attack", "name": "Indirect fire on a site hosting U.S. or Coalition personnel"}
    assert created["data"]["alert"]["scenarios"] == ["mlcoa-pressure"]
    assert created["data"]["alert"]["url"] == f"https://wf.example.test/alerts/{alert.id}"
    assert updated["data"]["escalated"] is True and updated["data"]["change"]["to"] == "high"
    assert level["data"]["direction"] == "up" and level["data"]["scenario"]["id"] == "mlcoa-pressure"
    assert [b["type"] for b in verified(receiver, "/levels", lvl_secret)] == ["scenario.level_changed"]
    assert {d.status for d in deliveries(ctx)} == {"succeeded"} and len(deliveries(ctx, lvl_id)) == 1
    with ctx.sessions() as s:
        log = s.query(DeliveryAttempt).all()
    assert len(log) == 4 and all(a.outcome == "success" and a.status_code == 200 and a.response == "ok" for a in log)
    assert all(r.headers["content-type"] == "application/json" for r in receiver.requests)
    assert all_id != lvl_id


async def test_failures_retry_on_schedule_with_retry_after_until_success(ctx, receiver):
    ep_id, secret = endpoint(ctx, receiver.url("/flaky"))
    receiver.plans["/flaky"] = ["500", "timeout", "429:1", "200"]
    with transaction(ctx.sessions) as s:
        add_alert(s, at=utcnow())
    collect_once(ctx)
    await deliver_until(ctx, lambda: settled(ctx))

    reqs = receiver.at("/flaky")
    assert [r.answered for r in reqs] == [500, 200, 429, 200]  # the stalled one answered after the sender gave up
    assert len({r.headers["webhook-id"] for r in reqs}) == 1
    assert len({r.body for r in reqs}) == 1
    verified(receiver, "/flaky", secret)
    assert reqs[3].at - reqs[2].at >= 0.95, "Retry-After: 1 was not honoured"
    [d] = deliveries(ctx)
    assert d.status == "succeeded" and d.attempts == 4
    with ctx.sessions() as s:
        log = s.query(DeliveryAttempt).order_by(DeliveryAttempt.id).all()
    assert [(a.attempt, a.outcome, a.status_code) for a in log] == [
        (1, "http_error", 500), (2, "timeout", None), (3, "http_error", 429), (4, "success", 200)]
    assert len(log[0].response) == RESPONSE_KEEP and log[1].latency_ms >= 900


async def test_redirects_are_failures_then_dead_letter_then_manual_redelivery(ctx, receiver, client):
    endpoint(ctx, receiver.url("/moved"))
    receiver.plans["/moved"] = ["302", "301", "307"]
    with transaction(ctx.sessions) as s:
        add_alert(s, at=utcnow())
    collect_once(ctx)
    await deliver_until(ctx, lambda: settled(ctx), schedule=(0, 0.1, 0.1))
    assert [r.answered for r in receiver.requests] == [302, 301, 307]
    assert receiver.at("/elsewhere") == []
    [d] = deliveries(ctx)
    assert d.status == "dead" and d.attempts == 3 and "not followed" in d.last_error

    dead = client.get("/api/v1/deliveries", params={"status": "dead"}).json()["items"]
    assert [x["id"] for x in dead] == [d.id]
    detail = client.get(f"/api/v1/deliveries/{d.id}").json()
    assert [a["outcome"] for a in detail["log"]] == ["redirect"] * 3 and detail["payload"]["type"] == "alert.created"
    assert client.post(f"/api/v1/deliveries/{d.id}/redeliver").json()["status"] == "pending"
    await deliver_until(ctx, lambda: settled(ctx))
    assert deliveries(ctx)[0].status == "succeeded"
    assert receiver.requests[-1].answered == 200
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


async def test_410_disables_the_endpoint_until_it_is_enabled_again(ctx, receiver, client):
    ep_id, _ = endpoint(ctx, receiver.url("/gone"))
    receiver.plans["/gone"] = ["410"]
    with transaction(ctx.sessions) as s:
        add_alert(s, at=utcnow())
    collect_once(ctx)
    await deliver_due(ctx, schedule=FAST)
    ep = client.get(f"/api/v1/webhook-endpoints/{ep_id}").json()
    assert ep["enabled"] is False and "410" in ep["disabled_reason"]
    await asyncio.sleep(0.3)
    await deliver_due(ctx, schedule=FAST)
    with transaction(ctx.sessions) as s:
        add_alert(s, at=utcnow())
    collect_once(ctx)  # a disabled endpoint gets no new deliveries
    assert len(receiver.requests) == 1 and deliveries(ctx)[0].status == "pending" and len(deliveries(ctx)) == 1

    assert client.patch(f"/api/v1/webhook-endpoints/{ep_id}", json={"enabled": True}).json()["disabled_reason"] is None
    await deliver_until(ctx, lambda: settled(ctx))
    assert [r.answered for r in receiver.requests] == [410, 200]


async def test_rotated_secret_overlap_signs_with_both(ctx, receiver, client):
    ep_id, old = endpoint(ctx, receiver.url("/rot"))
    rotated = client.post(f"/api/v1/webhook-endpoints/{ep_id}/rotate-secret").json()
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_") and rotated["previous_secret_expires_at"]
    with transaction(ctx.sessions) as s:
        add_alert(s, at=utcnow())
    collect_once(ctx)
    await deliver_until(ctx, lambda: settled(ctx))
    verified(receiver, "/rot", old, new)
    assert receiver.requests[0].headers["webhook-signature"].count("v1,") == 2

    with transaction(ctx.sessions) as s:  # after the overlap, only the new secret signs
        s.get(WebhookEndpoint, ep_id).previous_secret_expires_at = utcnow() - timedelta(seconds=1)
        add_alert(s, at=utcnow())
    collect_once(ctx)
    await deliver_until(ctx, lambda: settled(ctx))
    last = receiver.requests[-1]
    assert last.headers["webhook-signature"].count("v1,") == 1
    Webhook(new).verify(last.body, last.headers)


async def test_ssrf_guard_at_registration_and_again_at_send_time(ctx, receiver, make_settings, db_url):
    strict = make_settings(db_url)  # no allow-list
    with ctx.sessions() as s, pytest.raises(NotifyError, match="refused"):
        create_endpoint(s, EndpointIn(url=receiver.url("/x")), settings=strict)

    endpoint(ctx, receiver.url("/x"))  # registered while the allow-list permitted it
    with transaction(ctx.sessions) as s:
        add_alert(s, at=utcnow())
    collect_once(ctx)
    strict_ctx = AppContext.create(strict)
    try:
        await deliver_due(strict_ctx, schedule=FAST)
    finally:
        strict_ctx.engine.dispose()
    assert receiver.requests == []
    with ctx.sessions() as s:
        [attempt] = s.query(DeliveryAttempt).all()
    assert attempt.outcome == "refused" and "127.0.0.1" in attempt.error
