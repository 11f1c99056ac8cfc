"""Scheduled entry points of matching: match new items, run the clock for windowed rules."""

from __future__ import annotations

import asyncio
import logging

from app.alerts.service import alerts_for_hits
from app.context import AppContext
from app.db import transaction
from app.jobs import Job
from app.matching.loader import LibraryError
from app.matching.service import clock_tick, match_pending

log = logging.getLogger(__name__)


def _run(ctx: AppContext, step) -> None:
    try:
        with transaction(ctx.sessions) as s:
            report = step(s, ctx.library.get(s))
            alerts = alerts_for_hits(s, report.hit_ids) if report.hit_ids else []
    except LibraryError as e:
        log.error("indicator library invalid, matching paused until it is fixed:\n%s", e)
        return
    if report.items or report.hit_ids:
        log.info("matched %d items: %d hits, %d alerts touched, %d level changes",
                 report.items, len(report.hit_ids), len(alerts), report.level_changes)


async def match_items(ctx: AppContext) -> None:
    await asyncio.to_thread(_run, ctx, lambda s, lib: match_pending(s, lib, limit=ctx.settings.match_batch))


async def run_clock(ctx: AppContext) -> None:
    await asyncio.to_thread(_run, ctx, clock_tick)


JOBS = [
    Job("matching.match_items", match_items, lambda ctx: ctx.settings.tick_seconds),
    Job("matching.clock", run_clock, lambda ctx: 60),
]
