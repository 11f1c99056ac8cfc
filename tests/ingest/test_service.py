"""Polling and storing at the service level: poll_due against real HTTP servers on loopback addresses.

Everything runs on a real database (a SQLite file and, when configured, PostgreSQL). The servers
are http.server instances in threads; each path answers with a Reply chosen by the test.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.context import AppContext
from app.db import make_engine, make_sessionmaker, transaction
from app.ingest.catalog import FeedSpec, sync_catalog
from app.ingest.models import Feed, Item
from app.ingest.schemas import ItemIn
from app.ingest.service import claim_due_feeds, poll_due, store_pushed
from app.matching.models import Hit
from app.matching.service import match_pending

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

# --- the feed servers ----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    trickle: bool = False  # send headers, then one byte every 0.1 s until the client hangs up


Route = Callable[[dict[str, str]], Reply]


@dataclass
class InFlight:
    """Requests being answered right now, and the most seen at once (shared by servers to count overall)."""

    now: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


class FeedServer(ThreadingHTTPServer):
    """Serves routes set by the test, records every request's headers and counts concurrent requests."""

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.routes: dict[str, Route | Reply] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.in_flight = InFlight()
        self.overall = InFlight()

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"

    def serve(self, path: str, reply: Route | Reply) -> str:
        self.routes[path] = reply
        return self.url(path)

    def seen(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]

    def reset(self) -> None:
        self.routes.clear()
        self.requests.clear()
        self.in_flight = InFlight()
        self.overall = InFlight()


class _Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        headers = {k.lower(): v for k, v in self.headers.items()}
        server.requests.append((self.path, headers))
        counters = (server.in_flight, server.overall)
        for c in counters:
            c.enter()
        try:
            route = server.routes.get(self.path, Reply(404, b"no such feed"))
            reply = route(headers) if callable(route) else route
            time.sleep(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.trickle:
                self.end_headers()
                for _ in range(100):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
                return
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:  # the client gave up first (timeouts), as it should
            pass
        finally:
            for c in counters:
                c.leave()


def _start(host: str) -> FeedServer:
    server = FeedServer(host)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[FeedServer, FeedServer]]:
    servers = (_start("127.0.0.1"), _start("127.0.0.2"))
    yield servers
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def server(_servers) -> FeedServer:
    """The feed server on 127.0.0.1, with no routes and no recorded requests."""
    _servers[0].reset()
    return _servers[0]


@pytest.fixture
def other_host(_servers, server) -> FeedServer:
    """A second server on 127.0.0.2 (another host to the poller) sharing `server.overall`."""
    _servers[1].reset()
    _servers[1].overall = server.overall
    return _servers[1]


def rss(*entries: dict[str, str]) -> bytes:
    """An RSS 2.0 document; each entry may give guid, link, title, description (HTML, escaped here)."""
    items = "".join(
        "<item>"
        + (f"<guid isPermaLink=\"false\">{escape(e['guid'])}</guid>" if "guid" in e else "")
        + (f"<link>{escape(e['link'])}</link>" if "link" in e else "")
        + f"<title>{escape(e.get('title', ''))}</title>"
        + (f"<description>{escape(e['description'])}</description>" if "description" in e else "")
        + (f"<pubDate>{e['pubDate']}</pubDate>" if "pubDate" in e else "")
        + "</item>"
        for e in entries
    )
    channel = f"<channel><title>t</title>{items}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'.encode()


def ok(*entries: dict[str, str], **headers: str) -> Reply:
    return Reply(200, rss(*entries), {"Content-Type": "application/rss+xml", **headers})


STORY = {"guid": "s-1", "link": "https://news.example/2025/06/01/rockets", "title": "Two rockets hit Camp Taji",
         "description": "<p>Two <b>Katyusha</b> rockets struck Camp Taji, home to Coalition trainers.</p>"}
OTHER = {"guid": "s-2", "link": "https://news.example/2025/06/01/oil", "title": "Oil prices steady",
         "description": "Brent crude was unchanged on Monday."}


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed"


# --- database helpers ----------------------------------------------------------------------------


@pytest.fixture
def settings(db_url, make_settings):
    """Short timeouts so failing feeds fail fast; two requests per host."""
    return make_settings(db_url, poll_timeout=0.5, poll_per_host=2)


def add_feed(ctx, key: str, url: str, *, interval: int = 600, due: datetime = NOW - timedelta(minutes=1),
             **values) -> None:
    with transaction(ctx.sessions) as s:
        s.add(Feed(key=key, title=key.title(), url=url, poll_interval=interval, next_check_at=due, **values))


def get_feed(ctx, key: str) -> Feed:
    with ctx.sessions() as s:
        return s.scalar(select(Feed).where(Feed.key == key))


def items_of(ctx, key: str) -> list[Item]:
    with ctx.sessions() as s:
        return list(s.scalars(select(Item).where(Item.source == key).order_by(Item.id)))


async def poll(ctx, now: datetime = NOW, seed: int = 7):
    return await poll_due(ctx.sessions, ctx.settings, now=now, rng=random.Random(seed))


# Tests whose subject is HTTP behaviour or scheduling arithmetic, not the database, run on SQLite only.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
postgres_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

# --- polling -------------------------------------------------------------------------------------


async def test_due_feed_is_fetched_and_its_entries_stored(ctx, server):
    add_feed(ctx, "wire", server.serve("/wire", ok(STORY, OTHER)))

    report = await poll(ctx)

    assert (report.polled, report.new_items, report.failed) == (1, 2, [])
    stored = items_of(ctx, "wire")
    assert [i.guid for i in stored] == ["s-1", "s-2"]
    assert stored[0].title == "Two rockets hit Camp Taji"
    assert stored[0].summary == "Two Katyusha rockets struck Camp Taji, home to Coalition trainers."
    assert stored[0].url == STORY["link"] and stored[0].fetched_at == NOW
    feed = get_feed(ctx, "wire")
    assert (feed.last_status, feed.last_success_at, feed.consecutive_failures, feed.lease_until) == (200, NOW, 0, None)


@sqlite_only
async def test_poll_sends_the_configured_user_agent(ctx, server):
    add_feed(ctx, "wire", server.serve("/wire", ok(STORY)))

    await poll(ctx)

    assert server.seen("/wire")[0]["user-agent"] == ctx.settings.user_agent


@sqlite_only
async def test_feed_not_yet_due_is_left_alone(ctx, server):
    add_feed(ctx, "later", server.serve("/later", ok(STORY)), due=NOW + timedelta(seconds=1))

    report = await poll(ctx)

    assert report.polled == 0 and server.seen("/later") == []


@sqlite_only
async def test_disabled_feed_is_not_polled(ctx, server):
    add_feed(ctx, "off", server.serve("/off", ok(STORY)), enabled=False)

    await poll(ctx)

    assert server.seen("/off") == []


@sqlite_only
async def test_next_check_moves_by_the_interval_with_jitter(ctx, server):
    for n in range(8):
        add_feed(ctx, f"f{n}", server.serve(f"/f{n}", ok(STORY)), interval=600)

    await poll(ctx)

    delays = [(get_feed(ctx, f"f{n}").next_check_at - NOW).total_seconds() for n in range(8)]
    assert all(540 <= d <= 660 for d in delays), delays
    assert len(set(delays)) == 8  # jittered, not in lock-step


async def test_conditional_get_is_answered_304_and_stores_nothing_new(ctx, server):
    etag, modified = '"v1"', "Sun, 01 Jun 2025 11:00:00 GMT"

    def conditional(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return ok(STORY, OTHER, ETag=etag, **{"Last-Modified": modified})

    add_feed(ctx, "wire", server.serve("/wire", conditional))
    await poll(ctx)
    second_poll = get_feed(ctx, "wire").next_check_at

    report = await poll(ctx, now=second_poll)

    sent = server.seen("/wire")[1]
    assert (sent["if-none-match"], sent["if-modified-since"]) == (etag, modified)
    assert (report.polled, report.new_items) == (1, 0)
    assert len(items_of(ctx, "wire")) == 2
    feed = get_feed(ctx, "wire")
    assert (feed.last_status, feed.etag, feed.last_modified) == (304, etag, modified)
    assert feed.last_success_at == second_poll and feed.next_check_at > second_poll


async def test_failing_feed_records_its_error_and_failure_count(ctx, server):
    add_feed(ctx, "broken", server.serve("/broken", Reply(500)))

    report = await poll(ctx)

    assert report.failed == ["broken"]
    feed = get_feed(ctx, "broken")
    assert "HTTP 500" in feed.last_error and feed.url in feed.last_error
    assert (feed.last_status, feed.consecutive_failures, feed.last_error_at) == (500, 1, NOW)
    assert feed.last_success_at is None and feed.lease_until is None


@sqlite_only
async def test_back_off_doubles_with_each_consecutive_failure(ctx, server):
    add_feed(ctx, "broken", server.serve("/broken", Reply(503)), interval=300)
    now = NOW
    for failures in range(1, 5):
        await poll(ctx, now=now, seed=failures)
        feed = get_feed(ctx, "broken")
        base = 300 * 2**failures
        assert feed.consecutive_failures == failures
        assert 0.9 * base <= (feed.next_check_at - now).total_seconds() <= 1.1 * base
        now = feed.next_check_at


@sqlite_only
async def test_back_off_is_capped_at_a_day(ctx, server):
    add_feed(ctx, "broken", server.serve("/broken", Reply(500)), interval=3600, consecutive_failures=30)

    await poll(ctx)

    delay = get_feed(ctx, "broken").next_check_at - NOW
    assert 0.9 * DAY <= delay <= 1.1 * DAY


@sqlite_only
async def test_retry_after_is_honoured(ctx, server):
    add_feed(ctx, "limited", server.serve("/limited", Reply(429, b"slow down", {"Retry-After": "7200"})),
             interval=60)

    await poll(ctx)

    feed = get_feed(ctx, "limited")
    assert feed.next_check_at == NOW + timedelta(hours=2)
    assert (feed.last_status, feed.consecutive_failures) == (429, 1)


@sqlite_only
async def test_retry_after_is_capped_at_a_week(ctx, server):
    a_year = str(365 * 24 * 3600)
    add_feed(ctx, "parked", server.serve("/parked", Reply(503, headers={"Retry-After": a_year})))

    await poll(ctx)

    assert get_feed(ctx, "parked").next_check_at == NOW + timedelta(days=7)


@sqlite_only
async def test_success_after_failures_resets_the_count(ctx, server):
    add_feed(ctx, "flaky", server.serve("/flaky", ok(STORY)), interval=600, consecutive_failures=3,
             last_error="earlier outage")

    await poll(ctx)

    feed = get_feed(ctx, "flaky")
    assert feed.consecutive_failures == 0 and feed.last_success_at == NOW
    assert 540 <= (feed.next_check_at - NOW).total_seconds() <= 660


async def test_failing_feeds_never_stop_the_others(ctx, server):
    add_feed(ctx, "a-good", server.serve("/good", ok(STORY)))
    add_feed(ctx, "b-500", server.serve("/500", Reply(500)))
    add_feed(ctx, "c-missing", server.url("/missing"))
    add_feed(ctx, "d-refused", closed_port_url())
    add_feed(ctx, "e-slow", server.serve("/slow", Reply(200, rss(OTHER), delay=2)))
    add_feed(ctx, "f-no-file", "file:samples/does-not-exist.xml")
    add_feed(ctx, "g-good", server.serve("/good-too", ok(OTHER)))

    report = await poll(ctx)

    assert report.polled == 7
    assert sorted(report.failed) == ["b-500", "c-missing", "d-refused", "e-slow", "f-no-file"]
    assert len(items_of(ctx, "a-good")) == 1 and len(items_of(ctx, "g-good")) == 1
    errors = {k: get_feed(ctx, k).last_error for k in report.failed}
    assert "HTTP 500" in errors["b-500"] and "HTTP 404" in errors["c-missing"]
    assert "ConnectError" in errors["d-refused"] and "timed out" in errors["e-slow"]
    assert "cannot read" in errors["f-no-file"]


@sqlite_only
async def test_slow_feed_is_abandoned_at_the_timeout(ctx, server):
    add_feed(ctx, "slow", server.serve("/slow", Reply(200, rss(STORY), delay=3)))

    started = time.monotonic()
    await poll(ctx)

    assert time.monotonic() - started < 2
    feed = get_feed(ctx, "slow")
    assert "timed out" in feed.last_error and feed.consecutive_failures == 1


@sqlite_only
async def test_trickling_feed_is_abandoned_after_three_timeouts(ctx, server):
    """httpx's timeout is per read: a server sending a byte at a time is cut off by the overall cap."""
    add_feed(ctx, "drip", server.serve("/drip", Reply(200, trickle=True)))

    started = time.monotonic()
    await poll(ctx)

    assert time.monotonic() - started < 3 * ctx.settings.poll_timeout + 1
    assert "no complete response" in get_feed(ctx, "drip").last_error


async def test_bozo_feed_still_yields_items_and_records_why(ctx, server):
    body = (ROOT / "feeds/samples/malformed.rss.xml").read_bytes()
    add_feed(ctx, "tigris", server.serve("/tigris", Reply(200, body, {"Content-Type": "application/rss+xml"})))

    report = await poll(ctx)

    assert report.new_items == 2 and report.failed == []
    assert [i.guid for i in items_of(ctx, "tigris")] == ["tigris-brief-20200216-01", "tigris-brief-20200406-01"]
    feed = get_feed(ctx, "tigris")
    assert "not well-formed" in feed.parse_warning
    assert feed.consecutive_failures == 0 and feed.last_error is None


@sqlite_only
async def test_parse_warning_clears_once_the_feed_is_well_formed(ctx, server):
    add_feed(ctx, "wire", server.serve("/wire", Reply(200, b"<rss><channel><item><title>x & y</title>")))
    await poll(ctx)
    assert get_feed(ctx, "wire").parse_warning

    server.serve("/wire", ok(STORY))
    await poll(ctx, now=get_feed(ctx, "wire").next_check_at)

    assert get_feed(ctx, "wire").parse_warning is None


@sqlite_only
async def test_per_host_concurrency_limit_holds(ctx, server):
    for n in range(6):
        add_feed(ctx, f"f{n}", server.serve(f"/f{n}", Reply(200, rss(dict(STORY, guid=f"g{n}")), delay=0.2)))

    report = await poll(ctx)

    assert report.polled == 6 and report.failed == []
    assert server.in_flight.peak == ctx.settings.poll_per_host == 2


@sqlite_only
async def test_a_busy_host_does_not_hold_back_other_hosts(ctx, server, other_host):
    for n in range(4):
        add_feed(ctx, f"a{n}", server.serve(f"/a{n}", Reply(200, rss(STORY), delay=0.2)))
        add_feed(ctx, f"b{n}", other_host.serve(f"/b{n}", Reply(200, rss(STORY), delay=0.2)))

    await poll(ctx)

    assert server.in_flight.peak == other_host.in_flight.peak == 2
    assert server.overall.peak == 4


@sqlite_only
async def test_redirected_feed_is_followed_and_stored(ctx, server):
    server.serve("/wire", ok(STORY))
    add_feed(ctx, "wire", server.serve("/moved", Reply(301, headers={"Location": "/wire"})))

    report = await poll(ctx)

    assert report.new_items == 1 and get_feed(ctx, "wire").last_status == 200


@sqlite_only
async def test_body_over_the_size_cap_is_a_failure(ctx, server, make_settings, db_url):
    small = AppContext.create(make_settings(db_url, poll_max_bytes=1024))
    add_feed(small, "huge", server.serve("/huge", ok(*[dict(OTHER, guid=f"g{n}") for n in range(40)])))

    await poll_due(small.sessions, small.settings, now=NOW, rng=random.Random(1))

    assert "body larger than 1024 bytes" in get_feed(small, "huge").last_error
    assert items_of(small, "huge") == []
    small.engine.dispose()


@sqlite_only
async def test_feed_moved_to_a_new_url_is_fetched_afresh(ctx, server):
    def since_aware(modified: str, body: Reply) -> Route:
        def answer(headers: dict[str, str]) -> Reply:
            asked = headers.get("if-modified-since")
            if asked and parsedate_to_datetime(asked) >= parsedate_to_datetime(modified):
                return Reply(304)
            return Reply(body.status, body.body, {**body.headers, "Last-Modified": modified})
        return answer

    old = server.serve("/old", since_aware("Sun, 01 Jun 2025 11:00:00 GMT", ok(STORY)))
    new = server.serve("/new", since_aware("Sat, 01 Mar 2025 08:00:00 GMT", ok(OTHER)))
    with transaction(ctx.sessions) as s:
        sync_catalog(s, [FeedSpec(key="wire", title="Wire", url=old)], 600)
        s.scalar(select(Feed)).next_check_at = NOW - timedelta(minutes=1)
    await poll(ctx)
    with transaction(ctx.sessions) as s:
        sync_catalog(s, [FeedSpec(key="wire", title="Wire", url=new)], 600)

    await poll(ctx, now=get_feed(ctx, "wire").next_check_at)

    assert [i.guid for i in items_of(ctx, "wire")] == ["s-1", "s-2"]


# --- claiming with leases ------------------------------------------------------------------------

LEASE = timedelta(minutes=5)


def claim(ctx, now: datetime = NOW, limit: int = 10) -> list[str]:
    with transaction(ctx.sessions) as s:
        return sorted(f.key for f in claim_due_feeds(s, now, limit, LEASE))


def test_claimed_feed_is_not_claimed_again_while_its_lease_holds(ctx):
    add_feed(ctx, "a", "file:a.xml")
    add_feed(ctx, "b", "file:b.xml")

    assert claim(ctx, limit=1) == ["a"]
    assert claim(ctx) == ["b"]
    assert claim(ctx, now=NOW + LEASE - timedelta(seconds=1)) == []


@sqlite_only
def test_expired_lease_makes_the_feed_claimable_again(ctx):
    add_feed(ctx, "a", "file:a.xml")
    claim(ctx)

    assert claim(ctx, now=NOW + LEASE + timedelta(seconds=1)) == ["a"]


@sqlite_only
def test_claims_take_the_longest_overdue_feeds_first(ctx):
    for n, minutes in enumerate([5, 50, 20]):
        add_feed(ctx, f"f{n}", "file:x.xml", due=NOW - timedelta(minutes=minutes))

    with transaction(ctx.sessions) as s:
        assert [f.key for f in claim_due_feeds(s, NOW, 2, LEASE)] == ["f1", "f2"]


@postgres_only
def test_open_claim_is_skipped_not_waited_for_by_another_worker(ctx):
    for n in range(4):
        add_feed(ctx, f"f{n}", "file:x.xml", due=NOW - timedelta(minutes=10 - n))
    engine = make_engine(ctx.settings.database_url)
    other = make_sessionmaker(engine)
    try:
        with ctx.sessions() as first, other() as second:
            mine = [f.key for f in claim_due_feeds(first, NOW, 2, LEASE)]  # locked, not committed
            second.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # without SKIP LOCKED this would fail
            theirs = [f.key for f in claim_due_feeds(second, NOW, 10, LEASE)]
            second.commit()
            first.commit()
    finally:
        engine.dispose()
    assert mine == ["f0", "f1"] and theirs == ["f2", "f3"]


@postgres_only
def test_racing_workers_never_claim_the_same_feed(ctx):
    for n in range(12):
        add_feed(ctx, f"f{n:02}", "file:x.xml")
    engine = make_engine(ctx.settings.database_url)
    workers = 6
    start = threading.Barrier(workers)
    claimed: list[list[str]] = []

    def worker() -> None:
        start.wait()
        with transaction(make_sessionmaker(engine)) as s:
            keys = [f.key for f in claim_due_feeds(s, NOW, 3, LEASE)]
            time.sleep(0.05)  # keep the rows locked while the others claim
        claimed.append(keys)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    engine.dispose()
    flat = [k for keys in claimed for k in keys]
    assert len(flat) == len(set(flat)) == 12


# --- dedup ---------------------------------------------------------------------------------------


async def test_same_guid_in_one_feed_is_stored_once(ctx, server):
    add_feed(ctx, "wire", server.serve("/wire", ok(STORY, STORY)))
    first = await poll(ctx)
    server.serve("/wire", ok(dict(STORY, title="Two rockets hit Camp Taji (updated)")))

    second = await poll(ctx, now=get_feed(ctx, "wire").next_check_at)

    assert (first.new_items, second.new_items) == (1, 0)
    assert [i.title for i in items_of(ctx, "wire")] == ["Two rockets hit Camp Taji"]


async def test_same_link_in_another_feed_is_stored_as_a_duplicate_of_the_first(ctx, server):
    add_feed(ctx, "a-wire", server.serve("/a", ok(STORY)))
    add_feed(ctx, "b-wire", server.serve("/b", ok(dict(
        guid="b-77", link="https://NEWS.example/2025/06/01/rockets/?utm_source=b-wire#top",
        title="Camp Taji hit by two rockets", description="A different write-up of the attack."))))

    await poll(ctx)

    (original,), (copy,) = items_of(ctx, "a-wire"), items_of(ctx, "b-wire")
    assert copy.duplicate_of_id == original.id and original.duplicate_of_id is None
    assert copy.title == "Camp Taji hit by two rockets"  # kept as its source wrote it


@sqlite_only
async def test_reworded_markup_copy_is_linked_by_its_content_fingerprint(ctx, server):
    add_feed(ctx, "a-wire", server.serve("/a", ok(STORY)))
    add_feed(ctx, "b-wire", server.serve("/b", ok(dict(
        guid="syndicated-1", link="https://mirror.example/copy/1", title="TWO ROCKETS HIT CAMP TAJI!",
        description="<div>Two Katyusha rockets struck <i>Camp Taji</i> — home to Coalition trainers</div>"))))

    await poll(ctx)

    (original,), (copy,) = items_of(ctx, "a-wire"), items_of(ctx, "b-wire")
    assert copy.fingerprint == original.fingerprint and copy.duplicate_of_id == original.id


@sqlite_only
async def test_pushed_copy_of_a_polled_item_is_linked_to_it(ctx, server):
    add_feed(ctx, "wire", server.serve("/wire", ok(STORY)))
    await poll(ctx)

    with transaction(ctx.sessions) as s:
        pushed, created = store_pushed(s, ItemIn(id="ext-1", title="Elsewhere", source="partner",
                                                 url=STORY["link"] + "?fbclid=abc", published=NOW), NOW)

    assert created and pushed.duplicate_of_id == items_of(ctx, "wire")[0].id


async def test_duplicates_are_linked_but_not_matched(ctx, server):
    add_feed(ctx, "a-wire", server.serve("/a", ok(STORY)))
    add_feed(ctx, "b-wire", server.serve("/b", ok(dict(STORY, guid="b-1"))))
    await poll(ctx)

    with transaction(ctx.sessions) as s:
        report = match_pending(s, ctx.library.get(s), limit=10, now=NOW)

    (original,), (copy,) = items_of(ctx, "a-wire"), items_of(ctx, "b-wire")
    assert (report.items, report.duplicates) == (1, 1)
    assert copy.duplicate_of_id == original.id and copy.matched_at == NOW
    with ctx.sessions() as s:
        hit_items = set(s.scalars(select(Hit.item_id).where(Hit.item_id.is_not(None))))
    assert hit_items == {original.id}


@sqlite_only
async def test_same_link_under_a_new_guid_in_one_feed_is_not_a_second_story(ctx, server):
    add_feed(ctx, "wire", server.serve("/wire", ok(STORY)))
    await poll(ctx)
    server.serve("/wire", ok(dict(STORY, guid="s-1-rev2", title="Two rockets hit Camp Taji, no casualties")))

    await poll(ctx, now=get_feed(ctx, "wire").next_check_at)

    independent = [i for i in items_of(ctx, "wire") if i.duplicate_of_id is None]
    assert len(independent) == 1


async def test_an_over_long_entry_id_is_kept_unique_and_never_stops_other_feeds(ctx, server):
    add_feed(ctx, "a-hostile", server.serve("/hostile", ok(dict(STORY, guid="g" * 1500))),
             due=NOW - timedelta(minutes=2))
    add_feed(ctx, "b-good", server.serve("/good", ok(OTHER)))

    await poll(ctx)

    assert len(items_of(ctx, "b-good")) == 1
    (hostile,) = items_of(ctx, "a-hostile")
    assert hostile.guid.startswith("sha1:") and get_feed(ctx, "a-hostile").consecutive_failures == 0


# --- health in the API ---------------------------------------------------------------------------


@sqlite_only
async def test_feed_health_is_visible_in_the_api_after_a_failing_poll(ctx, server, client):
    add_feed(ctx, "good", server.serve("/good", ok(STORY)))
    add_feed(ctx, "broken", server.serve("/broken", Reply(500)))
    await poll(ctx)

    feeds = {f["key"]: f for f in client.get("/api/v1/feeds").json()}

    broken, good = feeds["broken"], feeds["good"]
    assert broken["healthy"] is False and broken["consecutive_failures"] == 1
    assert broken["last_status"] == 500 and "HTTP 500" in broken["last_error"]
    assert good["healthy"] is True and good["items"] == 1 and good["last_error"] is None

