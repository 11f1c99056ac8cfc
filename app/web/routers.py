"""Every router the app serves; new web modules register here."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from app.web.api import health, v1

    return [health.router, v1.router]
