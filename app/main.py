"""FastAPI application factory; the lifespan connects, checks the schema and starts the scheduler."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from app import __version__
from app.accounts.sessions import session_options
from app.config import Settings, get_settings
from app.context import AppContext
from app.web.inbox.templating import STATIC_DIR


def create_app(settings: Settings | None = None, *, with_scheduler: bool = False) -> FastAPI:
    """Build the app; `with_scheduler` runs the jobs in this process (`watchfloor run`)."""
    settings = settings or get_settings()
    ctx = AppContext.create(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        scheduler = None
        if with_scheduler:
            from app.scheduler import build_scheduler

            scheduler = build_scheduler(ctx)
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            ctx.engine.dispose()

    app = FastAPI(title="Watchfloor", version=__version__, lifespan=lifespan,
                  description="Indicators-and-warnings alerting over news and RSS feeds.")
    app.state.ctx = ctx
    app.add_middleware(SessionMiddleware, **session_options(settings))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    from app.web import routers

    for router in routers.all_routers():
        app.include_router(router)
    return app
