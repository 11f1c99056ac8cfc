"""Kill the sender while requests are in flight and start it again: every event arrives, duplicates only as the
same webhook-id with the same body (at-least-once, with the idempotency key the receiver needs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from wf_notify import add_alert

from app.db import transaction, utcnow
from app.notify.jobs import collect_once
from app.notify.models import Delivery, OutboxEvent
from app.notify.schemas import EndpointIn
from app.notify.service import create_endpoint

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 24


def start_sender(settings) -> subprocess.Popen:
    env = {**os.environ, "WATCHFLOOR_DATABASE_URL": settings.database_url,
           "WATCHFLOOR_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8", "WATCHFLOOR_WEBHOOK_TIMEOUT": "0.5",
           "WATCHFLOOR_WEBHOOK_CONCURRENCY": "8", "WATCHFLOOR_SECRET_KEY": settings.secret(),
           "WATCHFLOOR_VAR_PATH": str(settings.var_path), "WATCHFLOOR_INDICATORS_PATH": str(settings.indicators_path)}
    return subprocess.Popen([sys.executable, str(Path(__file__).with_name("sender_proc.py")), "0,0.2,0.2,0.2"],
                            cwd=ROOT, env=env)


def wait_for(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_killed_sender_loses_nothing_and_duplicates_only_by_webhook_id(ctx, settings, receiver):
    receiver.delay = 0.25
    with transaction(ctx.sessions) as s:
        secret = create_endpoint(s, EndpointIn(url=receiver.url("/hook")), settings=settings).secret
        for n in range(EVENTS):
            add_alert(s, at=utcnow(), title=f"rocket attack report {n}")
    collect_once(ctx)
    with ctx.sessions() as s:
        expected = {e.event_id for e in s.query(OutboxEvent)}
    assert len(expected) == EVENTS

    proc = start_sender(settings)
    try:
        wait_for(lambda: len(receiver.requests) >= EVENTS // 3 and receiver.inflight > 0, 30, "requests in flight")
        proc.kill()
        proc.wait(10)
        with ctx.sessions() as s:
            pending = s.query(Delivery).filter_by(status="pending").count()
        assert 0 < pending < EVENTS, "the kill should land mid-run"

        proc = start_sender(settings)

        def all_delivered() -> bool:
            with ctx.sessions() as s:
                return s.query(Delivery).filter(Delivery.status != "succeeded").count() == 0
        wait_for(all_delivered, 40, "every delivery to succeed after the restart")
    finally:
        proc.kill()
        proc.wait(10)

    by_id: dict[str, set[bytes]] = {}
    for r in receiver.requests:
        Webhook(secret).verify(r.body, r.headers)
        by_id.setdefault(r.headers["webhook-id"], set()).add(r.body)
    assert set(by_id) == expected, "an event was lost"
    assert all(len(bodies) == 1 for bodies in by_id.values()), "a webhook-id was reused for another payload"
    assert len(receiver.requests) > EVENTS, "the requests in flight at the kill were sent again"
