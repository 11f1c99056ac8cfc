"""fetch_feed against a real HTTP server on 127.0.0.1 and real files; HostLimiter and next_check_at."""

from __future__ import annotations

import asyncio
import gzip
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from app.ingest.fetch import FetchError, FetchResult, HostLimiter, build_client, fetch_feed, next_check_at

# --- the feed server ---------------------------------------------------------------------------

FEED_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Live</title>
<item><title>First</title><link>https://example.org/1</link><guid>1</guid></item>
</channel></rss>"""
FEED_ETAG = '"v1"'
FEED_LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
# Retry-After HTTP-dates, each meaning 2037-10-21 07:28 UTC
RETRY_AFTER_DATES = {
    "/unavailable": "Wed, 21 Oct 2037 07:28:00 GMT",
    "/unavailable-offset": "Wed, 21 Oct 2037 09:28:00 +0200",
    "/unavailable-unknown-zone": "Wed, 21 Oct 2037 07:28:00 -0000",
}
EXACT_SIZE = 4096
BOMB_SIZE = 4_000_000


@dataclass
class LiveServer:
    """Base URL of the running server, and the request headers it saw, per path."""

    base_url: str
    seen: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        self.server.live.seen.setdefault(path, []).append({k.lower(): v for k, v in self.headers.items()})
        validators = {"ETag": FEED_ETAG, "Last-Modified": FEED_LAST_MODIFIED}
        if path == "/feed":
            if self.headers.get("If-None-Match") == FEED_ETAG or (
                self.headers.get("If-Modified-Since") == FEED_LAST_MODIFIED
            ):
                self._send(304, headers=validators)
            else:
                self._send(200, FEED_BODY, {"Content-Type": "application/rss+xml", **validators})
        elif path.startswith("/redirect/"):
            hops = int(path.rsplit("/", 1)[1])
            # relative Locations: a bare segment, then an absolute path for the last hop
            self._send(302, headers={"Location": str(hops - 1) if hops > 1 else "/feed"})
        elif path == "/absolute-redirect":
            host, port = self.server.server_address[:2]
            self._send(301, headers={"Location": f"http://{host}:{port}/feed"})
        elif path == "/loop":
            self._send(308, headers={"Location": "/loop"})
        elif path == "/to-file":
            self._send(302, headers={"Location": "file:///etc/passwd"})
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()
            chunk = b"<!-- padding -->" * 4096
            try:
                while True:
                    self.wfile.write(chunk)
            except OSError:  # the client hung up, as it should once over its cap
                pass
        elif path == "/exact":
            self._send(200, b"x" * EXACT_SIZE)
        elif path == "/gzip-bomb":
            self._send(200, gzip.compress(b"\0" * BOMB_SIZE), {"Content-Encoding": "gzip"})
        elif path == "/rate-limited":
            self._send(429, b"slow down", {"Retry-After": "120"})
        elif path in RETRY_AFTER_DATES:
            self._send(503, b"maintenance", {"Retry-After": RETRY_AFTER_DATES[path]})
        elif path == "/unavailable-garbage":
            self._send(503, b"", {"Retry-After": "soon-ish"})
        elif path == "/moved-away":
            self._send(302, headers={"Location": "/missing"})
        elif path == "/gone":
            self._send(410)
        elif path == "/broken":
            self._send(500)
        elif path == "/slow":
            time.sleep(3)
            self._send(200, FEED_BODY)
        else:
            self._send(404, b"no such feed")


class _Server(ThreadingHTTPServer):
    live: LiveServer


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """Serves _Handler's endpoints from a background thread for this module."""
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.live = LiveServer(base_url=f"http://{host}:{port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.live
    server.shutdown()
    server.server_close()


# --- helpers -----------------------------------------------------------------------------------

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
UA = "Watchfloor-test/1.0"


async def fetch(url: str, *, timeout: float = 5.0, **overrides) -> FetchResult:
    options = dict(
        etag=None, last_modified=None, max_bytes=1_000_000, max_redirects=3, base_dir=Path.cwd(), now=NOW
    )
    options.update(overrides)
    async with build_client(user_agent=UA, timeout=timeout) as client:
        return await fetch_feed(client, url, **options)


def test_build_client_leaves_redirects_to_fetch_feed():
    client = build_client(user_agent=UA, timeout=7.5)
    assert client.follow_redirects is False
    assert client.timeout.read == 7.5
    assert client.headers["user-agent"] == UA


# --- HTTP ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_first_fetch_returns_body_and_validators(live_server: LiveServer):
    result = await fetch(live_server.url("/feed"))
    assert result.status == 200
    assert not result.not_modified
    assert result.body == FEED_BODY
    assert result.etag == FEED_ETAG
    assert result.last_modified == FEED_LAST_MODIFIED
    assert result.content_type == "application/rss+xml"
    assert result.final_url == live_server.url("/feed")
    sent = live_server.seen["/feed"][-1]
    assert sent["user-agent"] == UA
    assert "if-none-match" not in sent and "if-modified-since" not in sent


@pytest.mark.asyncio
async def test_etag_gives_not_modified(live_server: LiveServer):
    result = await fetch(live_server.url("/feed"), etag=FEED_ETAG)
    assert result.status == 304
    assert result.not_modified
    assert result.body is None
    assert result.etag == FEED_ETAG
    assert live_server.seen["/feed"][-1]["if-none-match"] == FEED_ETAG


@pytest.mark.asyncio
async def test_last_modified_gives_not_modified(live_server: LiveServer):
    result = await fetch(live_server.url("/feed"), last_modified=FEED_LAST_MODIFIED)
    assert result.not_modified
    assert result.last_modified == FEED_LAST_MODIFIED
    assert live_server.seen["/feed"][-1]["if-modified-since"] == FEED_LAST_MODIFIED


@pytest.mark.asyncio
async def test_stale_validators_fetch_the_body_again(live_server: LiveServer):
    result = await fetch(live_server.url("/feed"), etag='"v0"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert result.status == 200
    assert result.body == FEED_BODY


@pytest.mark.asyncio
async def test_relative_redirects_are_followed_up_to_the_cap(live_server: LiveServer):
    # /redirect/3 -> 2 -> 1 -> /feed: three redirects, exactly the cap
    result = await fetch(live_server.url("/redirect/3"), max_redirects=3)
    assert result.status == 200
    assert result.body == FEED_BODY
    assert result.final_url == live_server.url("/feed")


@pytest.mark.asyncio
async def test_conditional_headers_survive_redirects(live_server: LiveServer):
    result = await fetch(live_server.url("/redirect/1"), etag=FEED_ETAG)
    assert result.not_modified
    assert result.final_url == live_server.url("/feed")


@pytest.mark.asyncio
async def test_absolute_redirect(live_server: LiveServer):
    result = await fetch(live_server.url("/absolute-redirect"), max_redirects=1)
    assert result.body == FEED_BODY


@pytest.mark.asyncio
async def test_redirect_chain_longer_than_cap_fails(live_server: LiveServer):
    url = live_server.url("/redirect/4")
    with pytest.raises(FetchError) as info:
        await fetch(url, max_redirects=3)
    assert "more than 3 redirects" in str(info.value)
    assert url in str(info.value)
    assert info.value.permanent


@pytest.mark.asyncio
async def test_zero_redirects_means_none_are_followed(live_server: LiveServer):
    with pytest.raises(FetchError, match="more than 0 redirects"):
        await fetch(live_server.url("/redirect/1"), max_redirects=0)


@pytest.mark.asyncio
async def test_redirect_loop_stops(live_server: LiveServer):
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await fetch(live_server.url("/loop"), max_redirects=5)


@pytest.mark.asyncio
async def test_redirect_to_file_url_is_refused(live_server: LiveServer):
    with pytest.raises(FetchError, match="redirect to a 'file' URL refused") as info:
        await fetch(live_server.url("/to-file"))
    assert info.value.permanent


@pytest.mark.asyncio
async def test_endless_body_is_cut_off_while_streaming(live_server: LiveServer):
    url = live_server.url("/endless")
    # Reading the whole body before checking its size would never finish.
    with pytest.raises(FetchError, match="larger than 100000 bytes") as info:
        await asyncio.wait_for(fetch(url, max_bytes=100_000), timeout=10)
    assert url in str(info.value)
    assert not info.value.permanent


@pytest.mark.asyncio
async def test_body_of_exactly_the_cap_is_accepted(live_server: LiveServer):
    result = await fetch(live_server.url("/exact"), max_bytes=EXACT_SIZE)
    assert result.body == b"x" * EXACT_SIZE
    with pytest.raises(FetchError, match="larger than"):
        await fetch(live_server.url("/exact"), max_bytes=EXACT_SIZE - 1)


@pytest.mark.asyncio
async def test_cap_applies_to_decompressed_size(live_server: LiveServer):
    with pytest.raises(FetchError, match="larger than"):
        await fetch(live_server.url("/gzip-bomb"), max_bytes=BOMB_SIZE // 4)


@pytest.mark.asyncio
async def test_429_retry_after_seconds(live_server: LiveServer):
    url = live_server.url("/rate-limited")
    with pytest.raises(FetchError) as info:
        await fetch(url)
    error = info.value
    assert error.status == 429
    assert error.retry_after == NOW + timedelta(seconds=120)
    assert not error.permanent
    assert url in str(error) and "429" in str(error)


@pytest.mark.asyncio
@pytest.mark.parametrize("path", sorted(RETRY_AFTER_DATES))
async def test_503_retry_after_http_date_in_utc(live_server: LiveServer, path: str):
    with pytest.raises(FetchError) as info:
        await fetch(live_server.url(path))
    assert info.value.status == 503
    assert info.value.retry_after == datetime(2037, 10, 21, 7, 28, tzinfo=UTC)
    assert info.value.retry_after.utcoffset() == timedelta(0)
    assert not info.value.permanent


@pytest.mark.asyncio
async def test_unreadable_retry_after_is_ignored(live_server: LiveServer):
    with pytest.raises(FetchError) as info:
        await fetch(live_server.url("/unavailable-garbage"))
    assert info.value.status == 503
    assert info.value.retry_after is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "status", "permanent"), [("/missing", 404, True), ("/gone", 410, True), ("/broken", 500, False)]
)
async def test_error_statuses(live_server: LiveServer, path: str, status: int, permanent: bool):
    url = live_server.url(path)
    with pytest.raises(FetchError) as info:
        await fetch(url)
    assert info.value.status == status
    assert info.value.permanent is permanent
    assert info.value.retry_after is None
    assert str(info.value).startswith(f"{url}: HTTP {status}")


@pytest.mark.asyncio
async def test_error_after_redirect_names_both_urls(live_server: LiveServer):
    with pytest.raises(FetchError) as info:
        await fetch(live_server.url("/moved-away"))
    assert info.value.status == 404
    assert str(info.value).startswith(
        f"{live_server.url('/moved-away')} (redirected to {live_server.url('/missing')}): HTTP 404"
    )


@pytest.mark.asyncio
async def test_slow_server_times_out(live_server: LiveServer):
    url = live_server.url("/slow")
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as info:
        await fetch(url, timeout=0.3)
    assert time.monotonic() - started < 2
    assert url in str(info.value)
    assert info.value.status is None
    assert not info.value.permanent
    assert isinstance(info.value.__cause__, httpx.TimeoutException)


@pytest.mark.asyncio
async def test_connection_refused_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    with pytest.raises(FetchError) as info:
        await fetch(url)
    assert url in str(info.value)
    assert info.value.status is None
    assert not info.value.permanent


@pytest.mark.asyncio
@pytest.mark.parametrize("url", ["ftp://example.org/feed.xml", "javascript:alert(1)", "feeds/x.xml"])
async def test_other_schemes_are_refused(url: str):
    with pytest.raises(FetchError, match="unsupported URL scheme") as info:
        await fetch(url)
    assert info.value.permanent


# --- file: URLs --------------------------------------------------------------------------------


@pytest.fixture
def feeds_dir(tmp_path):
    (tmp_path / "feeds" / "samples").mkdir(parents=True)
    (tmp_path / "feeds" / "samples" / "x.xml").write_bytes(FEED_BODY)
    (tmp_path / "secret.xml").write_bytes(b"outside")
    return tmp_path / "feeds"


@pytest.mark.asyncio
async def test_relative_file_url(feeds_dir):
    result = await fetch("file:samples/x.xml", base_dir=feeds_dir)
    assert result.status == 200
    assert result.body == FEED_BODY
    assert result.etag is None
    assert result.content_type is None
    assert result.final_url == "file:samples/x.xml"
    mtime = int((feeds_dir / "samples" / "x.xml").stat().st_mtime)
    assert result.last_modified == formatdate(mtime, usegmt=True)


@pytest.mark.asyncio
async def test_absolute_file_url(feeds_dir, tmp_path):
    path = feeds_dir / "samples" / "x.xml"
    result = await fetch(path.as_uri(), base_dir=tmp_path / "elsewhere")
    assert result.body == FEED_BODY
    assert path.as_uri().startswith("file:///")


@pytest.mark.asyncio
async def test_file_url_with_percent_escapes(feeds_dir):
    (feeds_dir / "samples" / "my feed.xml").write_bytes(b"<rss/>")
    result = await fetch("file:samples/my%20feed.xml", base_dir=feeds_dir)
    assert result.body == b"<rss/>"


@pytest.mark.asyncio
async def test_unchanged_file_is_not_modified(feeds_dir):
    path = feeds_dir / "samples" / "x.xml"
    os.utime(path, (1_700_000_000, 1_700_000_000))
    first = await fetch("file:samples/x.xml", base_dir=feeds_dir)
    assert first.last_modified == "Tue, 14 Nov 2023 22:13:20 GMT"
    again = await fetch("file:samples/x.xml", base_dir=feeds_dir, last_modified=first.last_modified)
    assert again.not_modified
    assert again.body is None
    os.utime(path, (1_700_000_100, 1_700_000_100))
    touched = await fetch("file:samples/x.xml", base_dir=feeds_dir, last_modified=first.last_modified)
    assert not touched.not_modified
    assert touched.body == FEED_BODY


@pytest.mark.asyncio
@pytest.mark.parametrize("url", ["file:../secret.xml", "file:samples/../../secret.xml"])
async def test_relative_file_url_may_not_leave_base_dir(feeds_dir, url: str):
    with pytest.raises(FetchError, match="leaves the feeds folder") as info:
        await fetch(url, base_dir=feeds_dir)
    assert info.value.permanent


@pytest.mark.asyncio
async def test_symlink_out_of_base_dir_is_refused(feeds_dir):
    (feeds_dir / "link.xml").symlink_to(feeds_dir.parent / "secret.xml")
    with pytest.raises(FetchError, match="leaves the feeds folder"):
        await fetch("file:link.xml", base_dir=feeds_dir)


@pytest.mark.asyncio
async def test_file_size_cap(feeds_dir):
    size = len(FEED_BODY)
    assert (await fetch("file:samples/x.xml", base_dir=feeds_dir, max_bytes=size)).body == FEED_BODY
    with pytest.raises(FetchError, match=f"larger than {size - 1} bytes"):
        await fetch("file:samples/x.xml", base_dir=feeds_dir, max_bytes=size - 1)


@pytest.mark.asyncio
async def test_missing_file_is_permanent(feeds_dir):
    with pytest.raises(FetchError, match="file:samples/nope.xml: cannot read") as info:
        await fetch("file:samples/nope.xml", base_dir=feeds_dir)
    assert info.value.permanent
    assert info.value.status is None


@pytest.mark.asyncio
async def test_file_url_on_remote_host_is_refused(feeds_dir):
    with pytest.raises(FetchError, match="another host"):
        await fetch("file://fileserver/share/x.xml", base_dir=feeds_dir)


# --- HostLimiter ---------------------------------------------------------------------------------


async def _peak_concurrency(limiter: HostLimiter, urls: list[str]) -> dict[str, int]:
    """Runs one task per url that holds its slot briefly; returns the peak holders per host."""
    active: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def hold(url: str) -> None:
        host = httpx.URL(url).host
        async with limiter.slot(url):
            active[host] = active.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), active[host])
            await asyncio.sleep(0.01)
            active[host] -= 1

    await asyncio.gather(*(hold(u) for u in urls))
    return peak


@pytest.mark.asyncio
async def test_host_limiter_caps_each_host_separately():
    limiter = HostLimiter(2)
    urls = [f"https://a.example/{i}" for i in range(6)] + [f"https://B.example:8443/{i}" for i in range(6)]
    peak = await _peak_concurrency(limiter, urls)
    assert peak == {"a.example": 2, "b.example": 2}


@pytest.mark.asyncio
async def test_host_limiter_does_not_block_other_hosts():
    limiter = HostLimiter(1)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def hog() -> None:
        async with limiter.slot("https://busy.example/feed"):
            entered.set()
            await release.wait()

    task = asyncio.create_task(hog())
    await entered.wait()
    async with asyncio.timeout(1):
        async with limiter.slot("https://other.example/feed"):
            pass
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            async with limiter.slot("https://busy.example/other"):
                pass
    release.set()
    await task


# --- next_check_at -------------------------------------------------------------------------------

HOUR = timedelta(hours=1)


def _delays(
    failures: int, *, interval: timedelta = HOUR, retry_after: datetime | None = None
) -> list[timedelta]:
    rng = random.Random(1234)
    return [
        next_check_at(now=NOW, interval=interval, failures=failures, retry_after=retry_after, rng=rng) - NOW
        for _ in range(500)
    ]


def test_success_waits_the_interval_with_jitter():
    delays = _delays(0)
    assert all(0.9 * HOUR <= d <= 1.1 * HOUR for d in delays)
    assert min(delays) < 0.95 * HOUR and max(delays) > 1.05 * HOUR  # jitter really spreads
    assert len(set(delays)) > 400


@pytest.mark.parametrize("failures", [1, 2, 3, 4])
def test_failures_back_off_exponentially(failures: int):
    expected = HOUR * 2**failures
    assert all(0.9 * expected <= d <= 1.1 * expected for d in _delays(failures))


def test_back_off_is_capped_at_a_day():
    day = timedelta(days=1)
    for failures in (5, 6, 20, 1000):
        assert all(0.9 * day <= d <= 1.1 * day for d in _delays(failures))
    # a long interval is capped too once the feed fails
    assert all(d <= 1.1 * day for d in _delays(1, interval=timedelta(days=7)))


def test_retry_after_is_a_floor():
    soon = NOW + timedelta(minutes=1)
    assert all(0.9 * 2 * HOUR <= d <= 1.1 * 2 * HOUR for d in _delays(1, retry_after=soon))
    later = NOW + timedelta(hours=5)
    assert set(_delays(1, retry_after=later)) == {timedelta(hours=5)}


def test_retry_after_beyond_the_cap_is_honoured():
    far = NOW + timedelta(days=3)
    assert set(_delays(10, retry_after=far)) == {timedelta(days=3)}


def test_next_check_is_deterministic_for_a_seeded_rng():
    assert _delays(2) == _delays(2)
