"""The delivery API and pages: subscribing, confirming and unsubscribing by signed link, managing endpoints."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.accounts.service import create_user
from app.db import transaction
from app.notify.confirmations import send_confirmations


def link(text: str, purpose: str) -> str:
    return re.search(rf"https://wf\.example\.test(/notify/{purpose}/[^\s>]+)", text).group(1)


@pytest.fixture
def browser(app):
    """A logged-out browser on the https site (session cookies are Secure when base_url is https)."""
    with TestClient(app, base_url="https://wf.example.test") as c:
        yield c


def sign_in(browser, ctx, username: str, role: str) -> None:
    with transaction(ctx.sessions) as s:
        create_user(s, username, "a long enough password", role)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    r = browser.post("/login", data={"username": username, "password": "a long enough password",
                                     "csrf_token": token, "next": "/notify"}, follow_redirects=False)
    assert r.status_code == 303


def csrf(browser, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get(path).text).group(1)


async def test_subscribe_confirm_by_link_and_one_click_unsubscribe(client, browser, ctx, mailbox):
    r = client.post("/api/v1/subscriptions", json={"email": "ana@example.test", "mode": "digest",
                                                   "scenarios": ["mlcoa-pressure"], "timezone": "Asia/Baghdad"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert (sub["active"], sub["confirmed_at"], sub["digest_time"], sub["send_empty"]) == (False, None, "07:00", True)
    for bad, why in [({"scenarios": ["nope"]}, "unknown scenario"), ({"timezone": "Mars/Olympus"}, "time zone"),
                     ({"endpoint_id": 1}, "exactly one recipient"), ({"email": "not-an-address"}, "email")]:
        r = client.post("/api/v1/subscriptions", json={"email": "x@example.test", "mode": "digest", **bad})
        assert r.status_code == 422 and why in r.text, (bad, r.text)

    assert await send_confirmations(ctx) == 1
    assert await send_confirmations(ctx) == 0
    [msg] = mailbox.to("ana@example.test")
    text = msg.get_body(("plain",)).get_content()
    confirm, unsubscribe = link(text, "confirm"), link(msg["List-Unsubscribe"], "unsubscribe")

    page = browser.get(confirm)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and "Confirm subscription" in page.text
    assert client.get(f"/api/v1/subscriptions/{sub['id']}").json()["active"] is False
    assert "Subscription confirmed" in browser.post(confirm).text
    assert client.get(f"/api/v1/subscriptions/{sub['id']}").json()["active"] is True

    assert browser.post(unsubscribe[:-3] + "abc").status_code == 404  # forged
    token = unsubscribe.rsplit("/", 1)[1]
    assert browser.get(f"/notify/confirm/{token}").status_code == 404  # a token is bound to its purpose
    assert browser.post(f"/notify/delete/{token}").status_code == 404  # and there are only two purposes
    # RFC 8058: the mail client POSTs this body to the List-Unsubscribe URL, with no cookie and no form token.
    r = TestClient(browser.app, base_url="https://wf.example.test").post(
        unsubscribe, content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "Unsubscribed" in r.text
    after = client.get(f"/api/v1/subscriptions/{sub['id']}").json()
    assert after["unsubscribed_at"] and after["active"] is False

    changed = client.patch(f"/api/v1/subscriptions/{sub['id']}", json={"email": "ana2@example.test"}).json()
    assert changed["confirmed_at"] is None and changed["confirm_sent_at"] is None
    assert browser.post(confirm).status_code == 404, "a link for the old address must not confirm the new one"
    assert client.get(f"/api/v1/subscriptions/{sub['id']}/digests").json() == []
    assert client.delete(f"/api/v1/subscriptions/{sub['id']}").status_code == 204


def test_endpoint_api_refuses_internal_urls_without_the_allow_list(ctx, make_settings, db_url, api_key):
    from app.main import create_app

    with TestClient(create_app(make_settings(db_url)), headers={"Authorization": f"Bearer {api_key}"}) as c:
        r = c.post("/api/v1/webhook-endpoints", json={"url": "http://169.254.169.254/latest/meta-data/"})
        assert r.status_code == 422 and "refused" in r.json()["detail"]
        assert c.post("/api/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/x"}).status_code == 422
        assert c.get("/api/v1/webhook-endpoints").status_code == 200
    with TestClient(create_app(make_settings(db_url))) as anonymous:
        assert anonymous.get("/api/v1/subscriptions").status_code == 401


def test_endpoint_api_shows_the_secret_once_created_and_on_request(client, receiver):
    r = client.post("/api/v1/webhook-endpoints", json={"url": receiver.url("/x"), "event_types": ["alert.created"]})
    assert r.status_code == 201
    ep = r.json()
    assert ep["secret"].startswith("whsec_") and ep["event_types"] == ["alert.created"]
    assert "secret" not in client.get(f"/api/v1/webhook-endpoints/{ep['id']}").json()
    assert client.get(f"/api/v1/webhook-endpoints/{ep['id']}/secret").json()["secret"] == ep["secret"]
    bad = client.post("/api/v1/webhook-endpoints", json={"url": receiver.url("/y"), "event_types": ["alert.deleted"]})
    assert bad.status_code == 422


def test_pages_need_a_login_and_the_right_role(browser, ctx, receiver):
    r = browser.get("/notify", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    sign_in(browser, ctx, "vera", "viewer")
    assert "Notifications" in browser.get("/notify").text
    token = csrf(browser, "/notify")
    denied = browser.post("/notify/endpoints", data={"url": receiver.url("/x"), "csrf_token": token})
    assert denied.status_code == 403


def test_admin_manages_subscriptions_and_endpoints_in_the_browser(browser, ctx, receiver):
    sign_in(browser, ctx, "ada", "admin")
    token = csrf(browser, "/notify")
    assert browser.post("/notify/endpoints", data={"url": receiver.url("/x")}).status_code == 403  # no form token
    r = browser.post("/notify/endpoints", data={"url": receiver.url("/x"), "description": "ops bus",
                                                "event_types": ["alert.created", "scenario.level_changed"],
                                                "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = browser.get(r.headers["location"]).text
    secret = re.search(r'value="(whsec_[^"]+)"', page).group(1)
    browser.post(r.headers["location"] + "/rotate", data={"csrf_token": token})
    page = browser.get(r.headers["location"]).text
    assert secret not in page and "previous secret also signs" in page

    r = browser.post("/notify/subscriptions", data={
        "email": "desk@example.test", "mode": "digest", "digest_time": "06:30", "timezone": "Asia/Baghdad",
        "scenarios": ["mlcoa-pressure"], "min_severity": "high", "statuses": ["new", "escalated"],
        "csrf_token": token})
    listing = browser.get("/notify").text
    assert "desk@example.test" in listing and "digest at 06:30" in listing and "awaiting confirmation" in listing
    assert "confirmation link is on its way" in r.text
    bad = browser.post("/notify/subscriptions", data={"email": "desk@example.test", "mode": "digest",
                                                      "timezone": "Nowhere/Land", "csrf_token": token})
    assert "unknown IANA time zone" in bad.text
