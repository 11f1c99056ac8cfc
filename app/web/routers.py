"""Every router the app serves; new web modules register here."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from app.accounts import views as accounts_views
    from app.alerts import api as alerts_api
    from app.notify import api as notify_api
    from app.notify import views as notify_views
    from app.web import inbox
    from app.web.api import health, v1

    return [health.router, v1.router, notify_api.router, alerts_api.router, accounts_views.router, inbox.router,
            notify_views.router]
