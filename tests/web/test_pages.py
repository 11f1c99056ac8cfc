"""The HTML pages over HTTP (no browser): sign-in, sessions, CSRF, roles, escaping and the htmx partials."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.models import Alert, SavedView, Silence
from app.db import transaction

from .conftest import PASSWORD, form_token, sign_in

ROCKETS = {"id": "r1", "title": "Two rockets land inside Ain al-Asad air base", "source": "wire-a",
           "published": "2020-06-01T08:00:00Z"}
HOSTILE = {"id": "evil", "source": "wire-b", "published": "2020-06-02T08:00:00Z",
           "title": "<img src=x onerror=alert(1)> Rockets hit Camp Taji",
           "summary": "<p>Three rockets land inside Camp Taji.<script>window.__pwned = 1</script>"
                      "<a href=\"javascript:alert(2)\">more</a></p>",
           "url": "javascript:alert(3)"}


@pytest.fixture
def alert_id(pipeline) -> int:
    [made] = pipeline(ROCKETS)
    return made


def test_pages_send_strangers_to_sign_in(app):
    with TestClient(app) as c:
        r = c.get("/inbox?status=new", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Finbox%3Fstatus%3Dnew"
        r = c.get("/board", headers={"HX-Request": "true"})
        assert r.status_code == 401 and r.headers["HX-Redirect"] == "/login?next=%2Fboard"
        assert c.get("/login").status_code == 200


def test_sign_in_needs_the_form_token_and_the_right_password(app, users):
    with TestClient(app) as c:
        page = c.get("/login").text
        assert c.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 403
        r = c.post("/login", data={"username": "officer", "password": "wrong password!",
                                   "csrf_token": form_token(page)})
        assert r.status_code == 401 and "Wrong username or password" in r.text
        r = sign_in(c, "officer", next_="//evil.example/x")
        assert r.status_code == 303 and r.headers["location"] == "/inbox"
        assert "officer" in c.get("/inbox").text


def test_repeated_wrong_passwords_are_refused_for_a_while(app, users):
    with TestClient(app) as c:
        for _ in range(5):
            assert sign_in(c, "officer", "wrong password!").status_code == 401
        r = sign_in(c, "officer")
        assert r.status_code == 429 and "Too many failed sign-ins" in r.text and int(r.headers["Retry-After"]) > 0


def test_the_session_cookie_is_signed_http_only_and_same_site(app, users, make_settings, db_url):
    with TestClient(app) as c:
        cookie = sign_in(c, "viewer").headers["set-cookie"]
        assert "watchfloor_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert "secure" not in cookie.lower()
        value = c.cookies["watchfloor_session"]
        c.cookies.set("watchfloor_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
        assert c.get("/inbox", follow_redirects=False).status_code == 303
    from app.main import create_app

    https = create_app(make_settings(db_url, base_url="https://watch.example"))
    with TestClient(https, base_url="https://testserver") as c:
        assert "secure" in sign_in(c, "viewer").headers["set-cookie"].lower()


def test_a_password_change_ends_open_sessions_and_sign_out_ends_this_one(app, ctx, users, browser_as):
    officer = browser_as("officer")
    from app.accounts.service import get_user, set_password

    with transaction(ctx.sessions) as s:
        set_password(s, get_user(s, "officer"), "a brand new password")
    assert officer.get("/inbox", follow_redirects=False).status_code == 303
    viewer = browser_as("viewer")
    token = form_token(viewer.get("/inbox").text)
    assert viewer.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert viewer.get("/inbox", follow_redirects=False).status_code == 303


def test_roles_decide_who_may_change_what(ctx, alert_id, browser_as):
    viewer, officer, admin = browser_as("viewer"), browser_as("officer"), browser_as("admin")
    for client in (viewer, officer, admin):
        assert client.get(f"/alerts/{alert_id}").status_code == 200
    token = form_token(viewer.get("/inbox").text)
    r = viewer.post(f"/alerts/{alert_id}/status", data={"action": "acknowledge", "csrf_token": token})
    assert r.status_code == 403 and "officer role" in r.text
    token = form_token(officer.get("/inbox").text)
    r = officer.post(f"/alerts/{alert_id}/status", data={"action": "acknowledge", "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/alerts/{alert_id}"
    silence = {"kind": "indicator", "target": "indirect-fire-attack", "reason": "drill", "duration": "1h",
               "csrf_token": token}
    assert officer.post("/silences", data=silence).status_code == 403
    assert officer.get("/admin/users").status_code == 403
    token = form_token(admin.get("/inbox").text)
    assert admin.post("/silences", data={**silence, "csrf_token": token}, follow_redirects=False).status_code == 303
    with ctx.sessions() as s:
        assert s.get(Alert, alert_id).status == "acknowledged"
        assert s.scalar(select(Silence.created_by)) == "admin"


def test_every_form_needs_the_session_token_htmx_sends_it_as_a_header(ctx, alert_id, browser_as):
    officer = browser_as("officer")
    token = form_token(officer.get("/inbox").text)
    assert officer.post(f"/alerts/{alert_id}/notes", data={"body": "x"}).status_code == 403
    assert officer.post(f"/alerts/{alert_id}/notes", data={"body": "x", "csrf_token": "forged"}).status_code == 403
    r = officer.post(f"/alerts/{alert_id}/notes", data={"body": "Called the base."},
                     headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 200 and r.text.lstrip().startswith('<aside id="panel"')
    assert "Called the base." in r.text
    r = officer.post(f"/alerts/{alert_id}/status", data={"action": "dismiss", "reason": ""},
                     headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 422 and "needs a reason" in r.text


def test_feed_markup_is_sanitized_and_escaped_and_pages_forbid_inline_script(pipeline, browser_as):
    ids = pipeline(HOSTILE)
    viewer = browser_as("viewer")
    page = viewer.get(f"/alerts/{ids[0]}")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = page.text
    assert "Camp Taji" in html
    assert "<script>window" not in html and "window.__pwned" not in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html and "javascript:alert(3)" in html  # shown as text, not a link
    assert re.search(r"<script(?![^>]*\bsrc=\"/static/)", html) is None  # only our own script files
    inbox = viewer.get("/inbox").text
    assert "&lt;img src=x" in inbox and "<img src=x" not in inbox


def test_inbox_partials_for_htmx(pipeline, browser_as):
    [first] = pipeline(ROCKETS)
    viewer = browser_as("viewer")
    page = viewer.get("/inbox").text
    newest = int(re.search(r"after=(\d+)", page).group(1))
    assert newest == first
    part = viewer.get("/inbox?status=all", headers={"HX-Request": "true", "HX-Target": "results"}).text
    assert part.lstrip().startswith('<section id="results"') and "<html" not in part
    assert viewer.get(f"/inbox/fresh?after={newest}").status_code == 204
    [late] = pipeline({**ROCKETS, "id": "r9", "title": "Two rockets land inside Balad air base"})
    fresh = viewer.get(f"/inbox/fresh?after={newest}")
    assert fresh.status_code == 200 and f'id="alert-{late}"' in fresh.text and f"after={late}" in fresh.text
    assert viewer.get(f"/inbox/fresh?after={newest}&indicator=large-salvo").status_code == 204
    assert viewer.get(f"/inbox/fresh?after={newest}&scenario=nope").status_code == 422
    assert viewer.get("/inbox/more?cursor=bogus").status_code == 400
    fallback = viewer.get("/inbox?scenario=nope&since=not-a-date").text
    assert "filter ignored" in fallback and f'id="alert-{late}"' in fallback


def test_bulk_actions_from_the_inbox(ctx, pipeline, browser_as):
    ids = pipeline(ROCKETS, {**ROCKETS, "id": "r2", "title": "Two rockets land inside Balad air base"})
    officer = browser_as("officer")
    token = form_token(officer.get("/inbox").text)
    r = officer.post("/inbox/bulk", data={"ids": ids, "action": "dismiss", "reason": "range practice",
                                          "view": "status=open", "csrf_token": token},
                     headers={"HX-Request": "true"})
    assert r.status_code == 200 and "dismiss: 2 alert(s) changed" in r.text
    r = officer.post("/inbox/bulk", data={"ids": ids, "action": "take", "view": "", "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303
    with ctx.sessions() as s:
        assert {(a.status, a.dismiss_reason, a.assignee) for a in s.scalars(select(Alert))} == {
            ("dismissed", "range practice", "officer")}


def test_saved_views_are_personal(ctx, browser_as):
    officer, viewer = browser_as("officer"), browser_as("viewer")
    token = form_token(officer.get("/inbox").text)
    officer.post("/inbox/views", data={"name": "High, new", "view": "status=new&severity=high",
                                       "csrf_token": token})
    assert "High, new" in officer.get("/inbox").text and "High, new" not in viewer.get("/inbox").text
    with ctx.sessions() as s:
        view = s.scalar(select(SavedView))
    assert (view.owner, view.query) == ("officer", "status=new&severity=high")
    token = form_token(viewer.get("/inbox").text)
    viewer.post(f"/inbox/views/{view.id}/delete", data={"csrf_token": token})
    assert "High, new" in officer.get("/inbox").text


def test_board_feeds_silences_and_users_pages(pipeline, browser_as):
    pipeline(ROCKETS)
    admin = browser_as("admin")
    board = admin.get("/board?as_of=2020-06-03").text
    assert "As of <strong>2020-06-03 23:59 UTC" in board and "tripped" in board and "<svg" in board
    assert 'href="/board?as_of=2020-06-01"' in board
    assert "not a date" in admin.get("/board?as_of=yesterday").text
    month_later = admin.get("/board?as_of=2020-06-30").text  # the hit's day is the first of the 30 shown
    assert "As of <strong>2020-06-30 23:59 UTC" in month_later and "1 in 30 days, peak 1/day" in month_later
    assert admin.get("/feeds").status_code == 200
    assert "New silence" in admin.get("/silences").text
    assert "viewer" in admin.get("/admin/users").text


def test_browsers_get_error_pages_and_scripts_get_json(browser_as):
    """A refused or missing page is a page in the browser (with the site's security headers); htmx requests
    and the API keep the JSON detail their callers parse."""
    officer = browser_as("officer")
    html = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    r = officer.get("/admin/users", headers=html)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "this needs the admin role; you are officer" in r.text and 'href="/inbox"' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    r = officer.get("/no-such-page", headers=html)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "Not Found" in r.text
    r = officer.get("/admin/users", headers={**html, "HX-Request": "true"})
    assert r.status_code == 403 and r.json() == {"detail": "this needs the admin role; you are officer"}
    r = officer.get("/api/v1/hits", headers=html)
    assert r.status_code == 401 and "API key" in r.json()["detail"]
