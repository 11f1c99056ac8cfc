"""The alerts JSON API: every inbox action over HTTP with an API key, against a real database."""

from __future__ import annotations

import pytest

from app.accounts.service import create_user
from app.db import transaction

ROCKETS = "Two rockets land inside Ain al-Asad air base"
NEW_GROUP = "A previously unknown group calling itself Saraya Awliya al-Dam claimed the rocket attack on Erbil"


@pytest.fixture
def alerts(pipeline, item) -> list[int]:
    return pipeline(item("r1", ROCKETS, published="2020-06-01T08:00:00Z"),
                    item("r2", "Two rockets hit Besmaya base", published="2020-06-02T08:00:00Z"),
                    item("n1", NEW_GROUP, published="2020-06-03T08:00:00Z"))


def test_the_alerts_api_needs_a_key(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        assert c.get("/api/v1/alerts").status_code == 401
        assert c.post("/api/v1/silences", json={}).status_code == 401


def test_list_filter_and_page_with_a_cursor(client, alerts):
    first = client.get("/api/v1/alerts", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get("/api/v1/alerts", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    ids = [a["id"] for a in first["items"] + rest["items"]]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == len(alerts)
    only = client.get("/api/v1/alerts", params={"indicator": "indirect-fire-attack", "q": "Besmaya"}).json()
    assert [a["title"] for a in only["items"]] == ["Two rockets hit Besmaya base"]
    assert only["items"][0]["sources"] == [{"key": "wire-a", "title": "wire-a", "reliability": "F",
                                            "items": [2]}]
    assert client.get("/api/v1/alerts", params={"scenario": "nope"}).status_code == 422
    assert client.get("/api/v1/alerts", params={"since": "2020-06-02T00:00:00"}).status_code == 200


def test_triage_over_the_api_is_audited_with_the_key_name(ctx, client, alerts):
    with transaction(ctx.sessions) as s:
        create_user(s, "olga", "a long enough password", "officer")
    a = alerts[0]
    assert client.post(f"/api/v1/alerts/{a}/status", json={"action": "acknowledge"}).json()["status"] == "acknowledged"
    assert client.post(f"/api/v1/alerts/{a}/status", json={"action": "acknowledge"}).status_code == 409
    assert client.post(f"/api/v1/alerts/{a}/status", json={"action": "dismiss"}).status_code == 409
    body = client.post(f"/api/v1/alerts/{a}/status", json={"action": "dismiss", "reason": "drill"}).json()
    assert (body["status"], body["dismiss_reason"]) == ("dismissed", "drill")
    assert client.post(f"/api/v1/alerts/{a}/assign", json={"assignee": "olga"}).json()["assignee"] == "olga"
    assert client.post(f"/api/v1/alerts/{a}/assign", json={"assignee": "ghost"}).status_code == 422
    assert client.post(f"/api/v1/alerts/{a}/severity", json={"severity": "low"}).json()["severity"] == "low"
    note = client.post(f"/api/v1/alerts/{a}/notes", json={"body": "called the base"})
    assert note.status_code == 201 and note.json()["actor"] == "api:tests"
    detail = client.get(f"/api/v1/alerts/{a}").json()
    assert [(e["action"], e["actor"]) for e in detail["events"]] == [
        ("created", "system"), ("status", "api:tests"), ("status", "api:tests"), ("assignee", "api:tests"),
        ("severity", "api:tests"), ("note", "api:tests")]
    assert detail["scenarios"] == ["mlcoa-pressure"] and detail["hits"][0]["evidence"]["terms"]
    missing = client.get("/api/v1/alerts/999999")
    assert missing.status_code == 404 and missing.json() == {"detail": "no alert #999999"}
    assert client.post("/api/v1/alerts/999999/notes", json={"body": "x"}).json() == {"detail": "no alert #999999"}


def test_bulk_reports_what_it_skipped(client, alerts):
    body = client.post("/api/v1/alerts/bulk", json={"ids": [*alerts, 424242], "action": "resolve"}).json()
    assert body["done"] == alerts and list(body["skipped"]) == ["424242"]
    again = client.post("/api/v1/alerts/bulk", json={"ids": alerts, "action": "resolve"}).json()
    assert again["done"] == [] and len(again["skipped"]) == len(alerts)


def test_silence_lifecycle_over_the_api(client, alerts):
    made = client.post("/api/v1/silences", json={"kind": "indicator", "target": "indirect-fire-attack",
                                                  "reason": "range day", "duration_minutes": 60})
    assert made.status_code == 201 and made.json()["active"]
    shown = {a["id"] for a in client.get("/api/v1/alerts").json()["items"]}
    assert not shown & set(alerts[:2])
    muted = client.get("/api/v1/alerts", params={"silenced": True}).json()["items"]
    assert {a["id"] for a in muted if a["muted"]} == set(alerts[:2])
    assert client.post("/api/v1/silences", json={"kind": "feed", "target": "x", "reason": "r"}).status_code == 422
    assert client.post("/api/v1/silences", json={"kind": "indicator", "target": "nope", "reason": "r",
                                                  "duration_minutes": 5}).status_code == 422
    sid = made.json()["id"]
    assert client.post(f"/api/v1/silences/{sid}/expire").json()["active"] is False
    assert client.post(f"/api/v1/silences/{sid}/expire").status_code == 409
    assert [s["id"] for s in client.get("/api/v1/silences").json()] == [sid]


def test_name_review_over_the_api(client, alerts):
    a = next(x for x in client.get("/api/v1/alerts", params={"indicator": "new-militia-name"}).json()["items"])
    [name] = client.get(f"/api/v1/alerts/{a['id']}").json()["names"]
    assert name["status"] == "new"
    body = client.post(f"/api/v1/alerts/{a['id']}/names",
                       json={"name": name["name"], "decision": "alias", "entity_id": "kataib-hezbollah"})
    assert body.json() == {"name": name["name"], "found_by": "", "status": "alias", "entity_id": "kataib-hezbollah"}
    again = client.post(f"/api/v1/alerts/{a['id']}/names", json={"name": name["name"], "decision": "dismiss"})
    assert again.status_code == 409


def test_saved_views_belong_to_the_key(client):
    made = client.post("/api/v1/views", json={"name": "high new", "query": "status=new&severity=high&evil=1"})
    assert made.status_code == 201 and made.json()["query"] == "status=new&severity=high"
    assert [v["name"] for v in client.get("/api/v1/views").json()] == ["high new"]
    assert client.delete(f"/api/v1/views/{made.json()['id']}").status_code == 204
    assert client.delete(f"/api/v1/views/{made.json()['id']}").status_code == 404


def test_board_and_feed_health(client, alerts, graded_feeds):
    board = client.get("/api/v1/board", params={"as_of": "2020-06-05T00:00:00Z"}).json()
    mlcoa = next(s for s in board["scenarios"] if s["id"] == "mlcoa-pressure")
    ifa = next(i for i in mlcoa["indicators"] if i["id"] == "indirect-fire-attack")
    assert ifa["state"] == "tripped" and sum(ifa["trend"]) == 2 and board["latest_event_at"].startswith("2020-06-03")
    health = client.get("/api/v1/feeds/health").json()
    assert [(f["key"], f["reliability"], f["state"], len(f["items_per_day"])) for f in health] == [
        ("wire-a", "B", "never polled", 14), ("wire-b", "C", "never polled", 14), ("wire-c", "D", "never polled", 14)]
