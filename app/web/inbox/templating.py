"""The Jinja2 environment of the HTML pages: autoescaping everywhere, and strict security headers.

Pages may only load scripts, styles and images from this service (Content-Security-Policy), so even
markup that slipped past sanitizing could not run a script. Templates live in the top-level
`templates/` folder; `base.html` defines the `title` and `content` blocks every page fills.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from app import __version__
from app.accounts.sessions import CSRF_FIELD, csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time as officers read it on a watch floor."""
    return value.astimezone(UTC).strftime(fmt) + (" UTC" if "%H" in fmt else "") if value else "—"


def static_url(path: str) -> str:
    return f"/static/{path}?v={__version__}"


def query(params, **changes) -> str:
    """A query string from (key, value) pairs, with some keys replaced or dropped (value None)."""
    kept = [(k, v) for k, v in params if k not in changes]
    kept += [(k, v) for k, vs in changes.items() if vs is not None for v in (vs if isinstance(vs, list) else [vs])]
    return urlencode(kept)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = when
    env.globals.update(static=static_url, csrf_field=CSRF_FIELD, query=query, version=__version__)
    return env


templates = Jinja2Templates(env=_environment())
templates.env.globals["csrf_token"] = jinja2.pass_context(lambda ctx: csrf_token(ctx["request"]))


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    """A page or partial, with the security headers; `flash` messages queued in the session are shown once."""
    context = dict(context or {})
    context.setdefault("user", None)
    context.setdefault("flash", request.session.pop("flash", []) if "flash" in request.session else [])
    return templates.TemplateResponse(request, name, context, status_code=status_code,
                                      headers={**SECURITY_HEADERS, **(headers or {})})


def flash(request: Request, message: str, kind: str = "info") -> None:
    """Queue a message for the next page this session renders (after a redirect)."""
    request.session["flash"] = [*request.session.get("flash", []), {"kind": kind, "text": message}]
