"""APScheduler wiring: collects every package's JOBS and runs them on the process's event loop."""

from __future__ import annotations

import importlib
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.context import AppContext
from app.db import utcnow
from app.jobs import Job

log = logging.getLogger(__name__)
JOB_MODULES = ("app.ingest.jobs", "app.matching.jobs", "app.notify.jobs")


def all_jobs() -> list[Job]:
    jobs: list[Job] = []
    for name in JOB_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        jobs += getattr(module, "JOBS", [])
    return jobs


def build_scheduler(ctx: AppContext) -> AsyncIOScheduler:
    """One interval trigger per job; a slow run is skipped rather than stacked (max_instances=1)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in all_jobs():
        scheduler.add_job(job.run, "interval", args=[ctx], seconds=job.seconds(ctx), id=job.id,
                          max_instances=1, coalesce=True, next_run_time=utcnow(), misfire_grace_time=30)
    return scheduler
