"""The inbox as a watch officer uses it: a real headless Chromium against a real uvicorn server.

The database is a migrated SQLite file filled by the real pipeline: the bundled sample feeds are
polled (file: URLs), matched and turned into alerts; a hostile item is pushed through the JSON API.
One server and one browser serve the whole module; each test signs in with a fresh browser context.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select

from app.accounts import service as accounts
from app.alerts.models import Alert, Silence, StoryItem
from app.alerts.service import alerts_for_hits
from app.config import load_settings
from app.context import AppContext
from app.db import transaction, upgrade
from app.ingest.catalog import load_catalog, sync_catalog
from app.ingest.models import Item
from app.ingest.service import poll_due
from app.main import create_app
from app.matching.models import GazetteerAddition, Sighting
from app.matching.service import match_pending
from app.notify.models import Subscription
from app.web.auth import create_api_key

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WATCHFLOOR_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "browser test password"
HOSTILE = {"id": "hostile-1", "source": "pastebin-wire", "published": "2021-08-06T09:00:00Z",
           "title": "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\"> Rockets hit Ain al-Asad",
           "summary": "<p>Two rockets land inside Ain al-Asad air base."
                      "<script>window.__pwned = 1; document.title = 'pwned'; alert('xss')</script>"
                      "<img src=x onerror=\"window.__pwned=2\"><a href=\"javascript:window.__pwned=3\">details</a></p>",
           "url": "javascript:window.__pwned=4"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served Watchfloor over the sample feeds: (base URL, app context for checking the database, API key)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (set WATCHFLOOR_CHROMIUM or run make test)")
    base = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "feeds", base / "feeds")
    url = f"sqlite:///{base}/watchfloor.db"
    upgrade(url)
    settings = load_settings(database_url=url, var_path=base / "var", indicators_path=ROOT / "indicators",
                             feeds_path=base / "feeds", secret_key="browser-secret-" + "x" * 32)
    ctx = AppContext.create(settings)
    with transaction(ctx.sessions) as s:
        sync_catalog(s, load_catalog(settings.feeds_path), settings.poll_interval)
    asyncio.run(poll_due(ctx.sessions, settings))
    run_matching(ctx)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # the hash carries its parameters
    with pytest.MonkeyPatch.context() as mp, transaction(ctx.sessions) as s:
        mp.setattr(accounts, "_hasher", cheap)
        for role in ("officer", "admin"):
            accounts.create_user(s, role, PASSWORD, role)
        _, api_key = create_api_key(s, "browser tests")
    app = create_app(settings)
    app.state.inbox_poll_seconds = 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ctx, api_key
    server.should_exit = True
    thread.join(10)
    ctx.engine.dispose()


def run_matching(ctx) -> list[int]:
    """What the matching job does on its tick: match pending items, turn hits into alerts."""
    with transaction(ctx.sessions) as s:
        report = match_pending(s, ctx.library.get(s), limit=1000)
        return [a.id for a in alerts_for_hits(s, report.hit_ids)]


def match_pushed(ctx) -> list[int]:
    """Matching ticks until the pushed item is seen: the API commits as its response goes out, not before."""
    deadline = time.monotonic() + 10
    while not (touched := run_matching(ctx)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return touched


@pytest.fixture(scope="module")
def browser(site):
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(base_url=site[0], viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def sign_in(page, user: str = "officer", password: str = PASSWORD) -> None:
    page.goto("/inbox")
    page.wait_for_url("**/login?next=%2Finbox")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox")


def alert_of(ctx, indicator: str, title_part: str = "") -> int:
    with ctx.sessions() as s:
        return s.scalar(select(Alert.id).where(Alert.indicator_id == indicator, Alert.title.contains(title_part))
                        .order_by(Alert.id).limit(1))


def status_of(ctx, alert_id: int) -> str:
    with ctx.sessions() as s:
        return s.get(Alert, alert_id).status


def test_sign_in_then_the_inbox_lists_open_alerts(page, site):
    page.goto("/login")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.inner_text(".flash-error")
    sign_in(page)
    assert page.title() == "Inbox · Watchfloor"
    assert page.locator("tr.alert-row").count() == 50  # the first keyset page
    page.click("tr.more a")
    with site[1].sessions() as s:
        total = s.scalar(select(func.count()).select_from(Alert))
    assert 50 < total <= 100
    expect(page.locator("tr.alert-row")).to_have_count(total)
    assert page.locator("tr.more").count() == 0
    assert "new" in page.inner_text(".counts")


def test_filter_by_indicator_and_search(page, site):
    with site[1].sessions() as s:
        expulsion = s.scalars(select(Alert).where(Alert.indicator_id == "expulsion-politics")).all()
        zurfi = {a.id for a in expulsion if s.scalar(
            select(func.count()).select_from(StoryItem).join(Item, Item.id == StoryItem.item_id)
            .where(StoryItem.story_id == a.story_id, (Item.title + Item.summary).contains("Zurfi")))}
    assert len(expulsion) > len(zurfi) > 0
    sign_in(page)
    page.select_option("select[name=indicator]", "expulsion-politics")
    page.wait_for_url("**indicator=expulsion-politics**")
    expect(page.locator("tr.alert-row")).to_have_count(len(expulsion))
    assert set(page.locator("tr.alert-row .ind-label").all_inner_texts()) == {
        "Political moves to expel U.S. forces (parliament, government formation)"}
    page.keyboard.press("/")
    page.keyboard.type("Zurfi")
    page.keyboard.press("Enter")
    expect(page.locator("tr.alert-row")).to_have_count(len(zurfi))
    assert {int(i) for i in page.locator("tr.alert-row").evaluate_all("rows => rows.map(r => r.dataset.id)")} == zurfi


def test_acknowledge_from_the_keyboard_and_dismiss_with_a_reason(page, site):
    ctx = site[1]
    sign_in(page)
    page.goto("/inbox?indicator=convoy-ied")
    first = page.locator("tr.alert-row").first
    alert_id = int(first.get_attribute("data-id"))
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator(f"#alert-{alert_id} .status")).to_have_text("acknowledged")
    assert status_of(ctx, alert_id) == "acknowledged"
    page.keyboard.press("d")
    dialog = page.locator("#dismiss-dialog")
    assert dialog.is_visible()
    dialog.locator("textarea").fill("Logistics convoy of an Iraqi contractor, not the Coalition")
    dialog.locator("button[value=dismiss]").click()
    page.wait_for_selector(f"#alert-{alert_id}", state="detached")
    assert "dismiss: 1 alert(s) changed" in page.inner_text("#results .flash")
    with ctx.sessions() as s:
        alert = s.get(Alert, alert_id)
        assert (alert.status, alert.dismiss_reason) == (
            "dismissed", "Logistics convoy of an Iraqi contractor, not the Coalition")
    page.goto(f"/alerts/{alert_id}")
    trail = page.inner_text(".events")
    assert "officer" in trail and "acknowledged" in trail and "dismissed" in trail


def test_dismiss_on_the_alert_page_insists_on_a_reason(page, site):
    ctx = site[1]
    alert_id = alert_of(ctx, "pmf-relocation")
    sign_in(page)
    page.goto(f"/alerts/{alert_id}")
    page.click(".dismiss button")
    assert status_of(ctx, alert_id) == "new"  # the browser refused the empty required field
    page.fill(".dismiss textarea", "Routine rotation announced by the PMF commission")
    page.click(".dismiss button")
    page.wait_for_selector("#panel .status-dismissed")
    assert "Dismissed because: Routine rotation" in page.inner_text("#panel")
    assert status_of(ctx, alert_id) == "dismissed"


def test_add_a_note_without_leaving_the_alert(page, site):
    ctx = site[1]
    alert_id = alert_of(ctx, "us-strike")
    sign_in(page)
    page.goto(f"/alerts/{alert_id}")
    page.evaluate("window.__stayed = true")
    page.fill("form.note textarea", "Asked J2 for the strike assessment.")
    page.click("form.note button")
    page.wait_for_selector(".events blockquote")
    assert page.inner_text(".events blockquote") == "Asked J2 for the strike assessment."
    assert page.evaluate("window.__stayed") is True  # htmx swapped the panel, no reload


def test_silence_an_indicator_and_find_its_alerts_under_show_silenced(page, site):
    ctx = site[1]
    alert_id = alert_of(ctx, "anti-us-mobilization")
    sign_in(page, "admin")
    page.goto(f"/alerts/{alert_id}")
    page.click("text=Silence this indicator…")
    page.wait_for_url("**/silences?kind=indicator&target=anti-us-mobilization")
    assert page.input_value("input[name=target]") == "anti-us-mobilization"
    page.select_option("select[name=duration]", "12h")
    page.fill("input[name=reason]", "March coverage is saturating the inbox; tracked by the politics desk")
    page.click(".silence-form button[type=submit]")
    assert "silenced indicator anti-us-mobilization" in page.inner_text(".flash")
    page.goto("/inbox?indicator=anti-us-mobilization")
    assert page.locator("tr.alert-row").count() == 0
    page.check("input[name=silenced]")
    with ctx.sessions() as s:
        muted = s.scalar(select(func.count()).select_from(Alert).where(Alert.indicator_id == "anti-us-mobilization"))
    expect(page.locator("tr.alert-row")).to_have_count(muted)
    assert page.locator("tr.alert-row .badge").all_inner_texts() == ["silenced"] * muted
    with ctx.sessions() as s:
        assert s.scalar(select(Silence.reason)).startswith("March coverage")


def test_review_a_new_name_into_the_gazetteer(page, site):
    ctx = site[1]
    alert_id = alert_of(ctx, "new-militia-name", "League of Revolutionaries")
    sign_in(page, "admin")
    page.goto(f"/alerts/{alert_id}")
    review = page.locator(".name-review", has_text="Usbat al-Thairen")
    assert "new" in review.inner_text()
    review.locator("select[name=entity_id]").select_option("kataib-hezbollah")
    review.locator("button", has_text="Add as alias").click()
    page.wait_for_selector(".name-review:has-text('Usbat al-Thairen') code")
    assert "kataib-hezbollah" in page.locator(".name-review", has_text="Usbat al-Thairen").inner_text()
    with ctx.sessions() as s:
        assert s.scalar(select(Sighting.status).where(Sighting.name == "Usbat al-Thairen")) == "alias"
        assert s.scalar(select(GazetteerAddition.alias)) == "Usbat al-Thairen"
        lib = ctx.library.get(s)
    assert "kataib-hezbollah" in lib.scan("Usbat al-Thairen fighters", "", "").entities


def test_the_board_shows_levels_as_of_the_latest_event(page):
    sign_in(page)
    page.click("nav >> text=Board")
    page.click("#latest-link")
    page.wait_for_url("**/board?as_of=2021-08-0*")
    assert page.locator(".scenario").count() == 3
    levels = page.locator(".level-badge").all_inner_texts()
    assert any(level.lower() != "low" for level in levels)
    assert page.locator(".scenario .level-chart svg").count() == 3
    assert page.locator(".indicator.state-tripped").count() >= 1
    assert page.locator(".indicator svg.trend").count() == page.locator(".indicator").count()


def test_feed_health_shows_the_malformed_feed(page):
    sign_in(page)
    page.goto("/feeds")
    row = page.locator("#feed-malformed")
    assert "parse warning" in row.inner_text()
    assert page.locator("tr.feed").count() == 5


def test_a_script_in_a_feed_item_does_not_run(page, site):
    base, ctx, api_key = site
    pushed = httpx.post(f"{base}/api/v1/items", json=HOSTILE, headers={"Authorization": f"Bearer {api_key}"})
    assert pushed.status_code == 201
    [alert_id, *_] = match_pushed(ctx)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page)
    page.goto(f"/alerts/{alert_id}")
    page.click("text=Original formatting (sanitized)")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.title() == f"#{alert_id} {HOSTILE['title']} · Watchfloor"  # the markup, as text
    assert dialogs == []
    assert "<img src=x" in page.inner_text("h1")  # shown as text
    assert page.locator(".original script, .original img, a[href^='javascript:']").count() == 0
    page.goto("/inbox")
    assert page.evaluate("window.__pwned") is None


def test_sanitizing_alone_stops_the_script_even_without_the_content_security_policy(browser, site):
    """The CSP is a second wall: with it bypassed, escaping and nh3 still keep the hostile item inert."""
    base, ctx, _ = site
    with ctx.sessions() as s:
        alert_id = s.scalar(select(Alert.id).where(Alert.title == HOSTILE["title"]))
    if alert_id is None:
        pytest.skip("runs after test_a_script_in_a_feed_item_does_not_run, which pushes the hostile item")
    context = browser.new_context(base_url=base, bypass_csp=True)
    try:
        tab = context.new_page()
        dialogs = []
        tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(tab)
        tab.goto(f"/alerts/{alert_id}")
        tab.click("text=Original formatting (sanitized)")
        tab.wait_for_timeout(300)
        assert tab.evaluate("window.__pwned") is None and dialogs == []
    finally:
        context.close()


def test_new_alerts_appear_without_a_reload(page, site):
    base, ctx, api_key = site
    sign_in(page)
    page.evaluate("window.__stayed = true")
    item = {"id": "late-1", "source": "wire-late", "published": "2021-08-07T10:00:00Z",
            "title": "Katyusha rockets land inside Victory base near Baghdad airport"}
    assert httpx.post(f"{base}/api/v1/items", json=item,
                      headers={"Authorization": f"Bearer {api_key}"}).status_code == 201
    assert match_pushed(ctx)
    page.wait_for_selector("tbody.arrived tr.alert-row >> text=Victory base")
    assert page.evaluate("window.__stayed") is True


def test_subscribe_to_the_daily_digest_from_the_navigation(page, site):
    _, ctx, _ = site
    sign_in(page)
    page.get_by_role("navigation", name="main").get_by_role("link", name="Notifications").click()
    page.wait_for_url("**/notify")
    form = page.locator("form", has=page.get_by_role("heading", name="New subscription"))
    form.get_by_label("Email", exact=True).fill("duty.officer@example.org")
    form.get_by_label("Time zone").fill("Europe/Berlin")
    form.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_contain_text("a confirmation link is on its way to duty.officer@example.org")
    row = page.locator("table.notify-subs tr", has_text="duty.officer@example.org")
    expect(row).to_contain_text("digest at 07:00")
    expect(row).to_contain_text("Europe/Berlin")
    expect(row).to_contain_text("awaiting confirmation")
    with ctx.sessions() as s:
        sub = s.scalar(select(Subscription).where(Subscription.email == "duty.officer@example.org"))
        assert (sub.mode, sub.timezone, sub.confirmed_at) == ("digest", "Europe/Berlin", None)
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text(f"subscription #{sub.id} deleted")
    expect(page.locator("table.notify-subs")).not_to_contain_text("duty.officer@example.org")


def test_register_a_webhook_endpoint_and_rotate_its_secret(page, site):
    sign_in(page, "admin")
    page.goto("/notify")
    form = page.locator("form", has=page.get_by_role("heading", name="New webhook endpoint"))
    form.get_by_label("URL").fill("http://127.0.0.1:9/hooks")  # loopback: refused, and the page says why
    form.get_by_role("button", name="Register").click()
    expect(page.locator(".flash-error")).to_contain_text("127.0.0.1")
    form.get_by_label("URL").fill("https://93.184.215.14/hooks/watchfloor")  # a public address literal
    form.get_by_label("Description").fill("situation room")
    form.get_by_role("button", name="Register").click()
    page.wait_for_url("**/notify/endpoints/*")
    secret = page.get_by_label("Signing secret (Standard Webhooks)")
    first = secret.input_value()
    assert first.startswith("whsec_")
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text("The previous secret also signs every request until")).to_be_visible()
    assert secret.input_value().startswith("whsec_") and secret.input_value() != first
