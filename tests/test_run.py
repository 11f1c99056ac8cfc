"""`watchfloor run` for real: uvicorn + scheduler on a free port; the bundled feeds become hits over HTTP."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from app.bootstrap import ensure_demo_credentials
from app.context import AppContext
from app.db import transaction
from app.ingest.catalog import load_catalog, sync_catalog
from app.main import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running(sqlite_url, make_settings):
    port = _free_port()
    settings = make_settings(sqlite_url, tick_seconds=1, port=port, base_url=f"http://127.0.0.1:{port}")
    ctx = AppContext.create(settings)
    with transaction(ctx.sessions) as s:
        sync_catalog(s, load_catalog(settings.feeds_path), settings.poll_interval)
    lines = ensure_demo_credentials(ctx)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, with_scheduler=True), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield settings, lines
    server.should_exit = True
    thread.join(timeout=10)
    ctx.engine.dispose()


def test_bundled_feeds_become_hits_within_seconds(running):
    settings, lines = running
    key = next(line.split()[2] for line in lines if "API key" in line)
    base = settings.base_url
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=5) as http:
        assert http.get("/readyz").json()["status"] == "ready"
        hits, deadline = [], time.monotonic() + 45
        while time.monotonic() < deadline:
            hits = http.get("/api/v1/hits", params={"limit": 500}).json()["items"]
            if len({h["indicator_id"] for h in hits}) >= 5:
                break
            time.sleep(0.5)
        indicators = {h["indicator_id"] for h in hits}
        assert {"indirect-fire-attack", "new-militia-name"} <= indicators, indicators
        feeds = {f["key"]: f for f in http.get("/api/v1/feeds").json()}
        assert feeds["malformed"]["parse_warning"] and feeds["malformed"]["items"] == 2
        assert all(f["last_success_at"] for f in feeds.values())
