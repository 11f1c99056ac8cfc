"""Scheduled entry points of ingestion: keep the catalog synced, poll due feeds."""

from __future__ import annotations

import asyncio
import logging

from app.context import AppContext
from app.db import transaction
from app.ingest.catalog import CatalogError, load_catalog, sync_catalog
from app.ingest.service import poll_due
from app.jobs import Job

log = logging.getLogger(__name__)


async def sync_feeds(ctx: AppContext) -> None:
    """Re-read feeds/*.yaml; a broken catalog is logged and the last good state keeps running."""
    def work():
        try:
            specs = load_catalog(ctx.settings.feeds_path)
        except CatalogError as e:
            log.error("feed catalog not synced:\n%s", e)
            return
        with transaction(ctx.sessions) as s:
            sync_catalog(s, specs, ctx.settings.poll_interval)
    await asyncio.to_thread(work)


async def poll_feeds(ctx: AppContext) -> None:
    report = await poll_due(ctx.sessions, ctx.settings)
    if report.polled:
        log.info("polled %d feeds: %d new items, failed: %s", report.polled, report.new_items,
                 ", ".join(report.failed) or "none")


JOBS = [
    Job("ingest.sync_feeds", sync_feeds, lambda ctx: 60),
    Job("ingest.poll_feeds", poll_feeds, lambda ctx: ctx.settings.tick_seconds),
]
