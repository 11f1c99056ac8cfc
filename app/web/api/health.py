"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy import text

from app.context import AppContext
from app.db import NotMigratedError, require_migrated
from app.matching.loader import LibraryError
from app.web.deps import get_context

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(response: Response, ctx: AppContext = Depends(get_context)) -> dict:
    """The database answers and is migrated, and the indicator library loads."""
    checks: dict[str, str] = {}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        require_migrated(ctx.engine)
        checks["database"] = "ok"
    except NotMigratedError as e:
        checks["database"] = str(e)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"unreachable: {type(e).__name__}"
    try:
        with ctx.sessions() as s:
            checks["library"] = ctx.library.get(s).version
    except LibraryError as e:
        checks["library"] = f"invalid: {e.problems[0]}"
    except Exception as e:  # noqa: BLE001
        checks["library"] = f"unavailable: {type(e).__name__}"
    ok = checks["database"] == "ok" and not checks["library"].startswith(("invalid", "unavailable"))
    response.status_code = 200 if ok else 503
    return {"status": "ready" if ok else "not ready", "checks": checks}
