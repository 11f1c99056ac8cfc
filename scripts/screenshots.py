"""Screenshots of the inbox, an alert and the board for docs/screenshots/, from the bundled sample feeds.

Builds a throwaway SQLite database, runs the real pipeline over feeds/ (poll, match, alerts), serves
the app with uvicorn on a free local port and drives Debian's Chromium with Playwright:

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from app.accounts.service import create_user  # noqa: E402
from app.alerts.service import alerts_for_hits  # noqa: E402
from app.config import load_settings  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.db import transaction, upgrade  # noqa: E402
from app.ingest.catalog import load_catalog, sync_catalog  # noqa: E402
from app.ingest.service import poll_due  # noqa: E402
from app.main import create_app  # noqa: E402
from app.matching.service import match_pending  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USER, PASSWORD = "duty-officer", "screenshots-only-password"


def demo_database(folder: Path) -> object:
    """Settings for a fresh database holding the bundled feeds after one poll and one matching pass."""
    url = f"sqlite:///{folder}/demo.db"
    upgrade(url)
    settings = load_settings(database_url=url, var_path=folder / "var", indicators_path=ROOT / "indicators",
                             feeds_path=ROOT / "feeds")
    ctx = AppContext.create(settings)
    with transaction(ctx.sessions) as s:
        sync_catalog(s, load_catalog(settings.feeds_path), settings.poll_interval)
    asyncio.run(poll_due(ctx.sessions, settings))
    with transaction(ctx.sessions) as s:
        report = match_pending(s, ctx.library.get(s), limit=10_000)
        alerts_for_hits(s, report.hit_ids)
        create_user(s, USER, PASSWORD, "admin")
    ctx.engine.dispose()
    return settings


def serve(settings) -> tuple[uvicorn.Server, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server, base = serve(demo_database(Path(tmp)))
        try:
            with sync_playwright() as p:
                chromium = os.environ.get("WATCHFLOOR_CHROMIUM") or "/usr/bin/chromium"
                browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
                page.goto(f"{base}/login")
                page.fill("input[name=username]", USER)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/inbox")
                page.keyboard.press("j")
                page.keyboard.press("j")
                page.screenshot(path=str(args.out / "inbox.png"))
                page.goto(f"{base}/inbox?status=all&indicator=coalition-casualties&q=Taji")
                page.click("tr.alert-row td.title a >> text=kills two Americans")
                page.wait_for_selector("#panel")
                page.screenshot(path=str(args.out / "alert.png"), full_page=False)
                page.goto(f"{base}/board")
                page.click("#latest-link")
                page.wait_for_selector(".scenario")
                page.set_viewport_size({"width": 1600, "height": 1000})
                page.screenshot(path=str(args.out / "board.png"), full_page=False)
                browser.close()
        finally:
            server.should_exit = True
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
