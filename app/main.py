"""FastAPI application factory; the lifespan connects, checks the schema and starts the scheduler."""

from __future__ import annotations

from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from app import __version__
from app.accounts.sessions import session_options
from app.config import Settings, get_settings
from app.context import AppContext
from app.web.inbox.templating import STATIC_DIR, render


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
    app.add_exception_handler(StarletteHTTPException, _error_page)
    return app


async def _error_page(request: Request, exc: StarletteHTTPException) -> Response:
    """Browsers navigating to a page get an HTML error page; the API and htmx requests keep JSON details."""
    wants_page = ("text/html" in request.headers.get("accept", "") and not request.headers.get("hx-request")
                  and not request.url.path.startswith("/api/"))
    if not wants_page or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    return render(request, "error.html", {"status": exc.status_code, "phrase": phrase, "detail": exc.detail},
                  status_code=exc.status_code, headers=exc.headers)
