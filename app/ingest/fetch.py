"""Polling one feed: conditional GET with capped redirects and body size, plus local file: feeds.

Also the two politeness rules of the poller: a per-host concurrency cap and the back-off
schedule that decides when a feed is next checked.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

MAX_BACKOFF = timedelta(days=1)
JITTER = 0.1
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_LASTING_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"


@dataclass(frozen=True)
class FetchResult:
    """What one poll brought back; body is None when the feed has not changed since last time."""

    status: int  # HTTP status of the final response (200, 304); 200 or 304 for file: URLs
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    final_url: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A poll that failed; the message names the URL. permanent marks failures a person should look at.

    Permanent failures (404, 410, a refused URL, a redirect loop...) are still retried with back-off,
    since feeds do come back, but they are flagged so the catalog can be fixed.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: datetime | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.permanent = permanent


def build_client(*, user_agent: str, timeout: float) -> httpx.AsyncClient:
    """The shared HTTP client; redirects are left to fetch_feed so it can cap and vet them."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent, "Accept": _ACCEPT},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
    )


def _http_date(value: str | None) -> datetime | None:
    """An HTTP-date as aware UTC, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as a moment: delta-seconds from now, or an HTTP-date."""
    seconds = (value or "").strip()
    if seconds.isascii() and seconds.isdigit():
        try:
            return now + timedelta(seconds=int(seconds))
        except (OverflowError, ValueError):  # beyond datetime's range, or too many digits for int()
            return None
    return _http_date(value)


def _is_permanent(status: int) -> bool:
    """Client errors other than rate limits and timeouts will not fix themselves."""
    return 400 <= status < 500 and status not in (408, 425, 429)


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    max_redirects: int,
    base_dir: Path,
    now: datetime,
) -> FetchResult:
    """Fetch url, conditionally on the validators of the last success; raises FetchError on failure.

    file: URLs are read from disk, relative ones from base_dir (which they may not leave).
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return await asyncio.to_thread(_read_file, url, last_modified, max_bytes, base_dir)
    if scheme not in ("http", "https"):
        raise FetchError(f"{url}: unsupported URL scheme {scheme or '(none)'!r}", permanent=True)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    try:
        for _ in range(max_redirects + 1):
            async with client.stream("GET", current, headers=headers) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = _redirect_target(response, url)
                    continue
                return await _result(response, url, etag, last_modified, max_bytes, now)
    except httpx.TimeoutException as e:
        raise FetchError(f"{current}: timed out ({type(e).__name__})") from e
    except httpx.RequestError as e:
        raise FetchError(f"{current}: {type(e).__name__}: {e}") from e
    except httpx.InvalidURL as e:
        raise FetchError(f"{current}: invalid URL: {e}", permanent=True) from e
    raise FetchError(f"{url}: more than {max_redirects} redirects (last to {current})", permanent=True)


def _redirect_target(response: httpx.Response, url: str) -> str:
    """The Location of a redirect, resolved against the request; only to http(s)."""
    target = response.url.join(response.headers["location"])
    if target.scheme not in ("http", "https"):
        raise FetchError(f"{url}: redirect to a {target.scheme!r} URL refused ({target})", permanent=True)
    return str(target)


async def _result(
    response: httpx.Response,
    url: str,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    now: datetime,
) -> FetchResult:
    """Turns the final response into a result, or into the FetchError it stands for."""
    status = response.status_code
    final_url = str(response.url)
    if status == 304:
        return FetchResult(
            status=304,
            body=None,
            etag=response.headers.get("etag", etag),
            last_modified=response.headers.get("last-modified", last_modified),
            content_type=response.headers.get("content-type"),
            final_url=final_url,
        )
    if not 200 <= status < 300:
        where = url if final_url == url else f"{url} (redirected to {final_url})"
        retry_after = _retry_after(response.headers.get("retry-after"), now) if status in (429, 503) else None
        raise FetchError(
            f"{where}: HTTP {status} {response.reason_phrase}".rstrip(),
            status=status,
            retry_after=retry_after,
            permanent=_is_permanent(status),
        )
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"{final_url}: body larger than {max_bytes} bytes", status=status)
    return FetchResult(
        status=status,
        body=bytes(body),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        content_type=response.headers.get("content-type"),
        final_url=final_url,
    )


def _file_path(url: str, base_dir: Path) -> Path:
    """The path a file: URL names; relative paths are resolved inside base_dir and must stay there."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchError(f"{url}: file: URLs on another host are not supported", permanent=True)
    path = Path(unquote(parts.path))
    if path.is_absolute():
        return path
    root = base_dir.resolve()
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root):
        raise FetchError(f"{url}: path leaves the feeds folder {root}", permanent=True)
    return resolved


def _read_file(url: str, last_modified: str | None, max_bytes: int, base_dir: Path) -> FetchResult:
    """A file: feed, answered like HTTP: mtime stands in for Last-Modified, unchanged means 304."""
    path = _file_path(url, base_dir)
    try:
        with path.open("rb") as f:
            mtime = int(os.fstat(f.fileno()).st_mtime)
            stamp = formatdate(mtime, usegmt=True)
            if (seen := _http_date(last_modified)) is not None and int(seen.timestamp()) == mtime:
                return FetchResult(
                    status=304, body=None, etag=None, last_modified=stamp, content_type=None, final_url=url
                )
            body = f.read(max_bytes + 1)
    except OSError as e:
        permanent = isinstance(e, _LASTING_OS_ERRORS)
        raise FetchError(f"{url}: cannot read {path}: {e.strerror or e}", permanent=permanent) from e
    if len(body) > max_bytes:
        raise FetchError(f"{url}: file larger than {max_bytes} bytes")
    # No content type: parse_feed then sniffs the encoding as XML does, rather than trusting a guess.
    return FetchResult(
        status=200, body=body, etag=None, last_modified=stamp, content_type=None, final_url=url
    )


class HostLimiter:
    """Caps concurrent requests per host, so a catalog heavy on one site never floods it.

    Semaphores are made on first use of a host and belong to the event loop that first waits on
    them: use one limiter per loop.
    """

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        semaphore = self._slots.get(host)
        if semaphore is None:
            semaphore = self._slots[host] = asyncio.Semaphore(self._per_host)
        async with semaphore:
            yield


def next_check_at(
    *,
    now: datetime,
    interval: timedelta,
    failures: int,
    retry_after: datetime | None,
    rng: random.Random,
) -> datetime:
    """When to poll a feed next: its interval after a success, exponential back-off after failures.

    Back-off doubles the interval per consecutive failure, capped at MAX_BACKOFF. Both are spread
    by ±10% jitter (after the cap) so feeds added together do not stay in lock-step. A server's
    Retry-After is a floor: it is honoured even when later than the cap.
    """
    if failures == 0:
        delay = interval
    else:  # in float seconds, so a long failure streak cannot overflow timedelta
        backoff = interval.total_seconds() * 2.0 ** min(failures, 64)
        delay = timedelta(seconds=min(backoff, MAX_BACKOFF.total_seconds()))
    at = now + delay * rng.uniform(1 - JITTER, 1 + JITTER)
    return max(at, retry_after) if retry_after is not None else at
