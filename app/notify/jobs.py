"""Scheduled entry points of delivery; each claims its work from the database, so any number of workers may run.

The collector and the webhook sender are long-running loops (polling every CLAIM_POLL seconds when idle),
so an event waits a fraction of a second rather than a tick, and a sender keeps its connections. The
scheduler's tick only makes sure each loop is running in this process, and restarts one that died.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.context import AppContext
from app.db import transaction, utcnow
from app.jobs import Job
from app.notify import outbox
from app.notify.confirmations import send_confirmations
from app.notify.digest import send_due_digests
from app.notify.immediate import route, send_groups
from app.notify.payloads import names_for
from app.notify.webhooks import CLAIM_POLL, deliver_due

log = logging.getLogger(__name__)
_loops: dict[tuple[str, int], asyncio.Task] = {}


def collect_once(ctx: AppContext) -> int:
    """One transaction: audit rows → outbox events → deliveries and immediate groups (under the cursor lock)."""
    s = ctx.settings
    with ctx.sessions() as peek:
        if not outbox.has_work(peek):
            return 0
    with transaction(ctx.sessions) as session:
        now = utcnow()
        names = names_for(ctx, session)
        made = outbox.collect_alert_events(session, names=names, secret=s.secret(), base_url=s.base_url, now=now)
        made += outbox.collect_level_events(session, names=names, secret=s.secret(), now=now)
        moved = outbox.fan_out(session, now=now)
        moved += route(session, now=now, group_wait=s.immediate_group_wait)
    return made + moved


async def collect_forever(ctx: AppContext) -> None:
    while True:
        if not await asyncio.to_thread(collect_once, ctx):
            await asyncio.sleep(CLAIM_POLL)


async def deliver_forever(ctx: AppContext) -> None:
    await deliver_due(ctx, until=float("inf"))


def _supervise(name: str, ctx: AppContext, loop: Callable[[AppContext], Awaitable[None]]) -> None:
    """Start this process's `name` loop unless it is running; one that died is logged and started again."""
    task = _loops.get((name, id(ctx)))
    if task is not None and not task.done():
        return
    if task is not None and not task.cancelled() and task.exception() is not None:
        log.error("%s stopped (%r); starting it again", name, task.exception())
    _loops[(name, id(ctx))] = asyncio.get_running_loop().create_task(loop(ctx), name=name)


async def collect(ctx: AppContext) -> None:
    _supervise("notify.collect", ctx, collect_forever)


async def deliver_webhooks(ctx: AppContext) -> None:
    _supervise("notify.webhooks", ctx, deliver_forever)


async def send_immediate(ctx: AppContext) -> None:
    n = await send_groups(ctx)
    if n:
        log.info("immediate notifications: %d emails", n)


async def send_digests(ctx: AppContext) -> None:
    report = await send_due_digests(ctx)
    if report:
        log.info("digests: %s", report)


JOBS = [
    Job("notify.collect", collect, lambda ctx: ctx.settings.notify_tick),
    Job("notify.webhooks", deliver_webhooks, lambda ctx: ctx.settings.notify_tick),
    Job("notify.immediate", send_immediate, lambda ctx: ctx.settings.notify_tick),
    Job("notify.digests", send_digests, lambda ctx: 30),
    Job("notify.confirmations", send_confirmations, lambda ctx: 15),
]
