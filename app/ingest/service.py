"""Storing items (with dedup) and polling due feeds; functions take a session and never commit."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import transaction, utcnow
from app.ingest.dedup import content_fingerprint, normalize_url
from app.ingest.fetch import FetchError, HostLimiter, build_client, fetch_feed, next_check_at
from app.ingest.models import Feed, Item
from app.ingest.parse import ParsedEntry, ParsedFeed, parse_feed
from app.ingest.schemas import ItemIn
from app.ingest.text import html_to_text

log = logging.getLogger(__name__)


def _first_copy(session: Session, url_norm: str | None, fingerprint: str) -> Item | None:
    """An earlier item with the same normalized URL or content fingerprint (same feed or another source)."""
    conds = [Item.fingerprint == fingerprint]
    if url_norm:
        conds.append(Item.url_norm == url_norm)
    q = select(Item).where(or_(*conds), Item.duplicate_of_id.is_(None)).order_by(Item.id).limit(1)
    return session.scalar(q)


def _fit(value: str | None, limit: int) -> str | None:
    """Feed fields longer than their column: an over-long link or id is useless, a long name is cut."""
    return value if value is None or len(value) <= limit else value[:limit]


def store_entry(session: Session, feed: Feed, entry: ParsedEntry, now: datetime) -> Item | None:
    """Store one parsed entry; None when the feed already had it (same guid). A re-issued link or
    reworded copy is stored as a duplicate pointing at the first copy, never dropped."""
    guid = entry.guid or entry.url or content_fingerprint(entry.title, entry.summary_text)
    if len(guid) > 1000:  # the column holds 1000; a longer id is still an id, so keep it unique by hashing
        guid = "sha1:" + hashlib.sha1(guid.encode()).hexdigest()
    if session.scalar(select(Item.id).where(Item.feed_id == feed.id, Item.guid == guid)) is not None:
        return None
    url = entry.url if entry.url and len(entry.url) <= 2000 else None
    url_norm = normalize_url(url) if url else None
    if url_norm and len(url_norm) > 2000:
        url_norm = None
    body = entry.content_text or entry.summary_text
    fp = content_fingerprint(entry.title, body) if (entry.title or body) else content_fingerprint(guid, "")
    first = _first_copy(session, url_norm, fp)
    item = Item(
        feed_id=feed.id, source=feed.key, guid=guid, url=url, url_norm=url_norm, fingerprint=fp,
        title=entry.title, summary=entry.summary_text, content=entry.content_text,
        summary_html=entry.summary_html, content_html=entry.content_html, author=_fit(entry.author, 300),
        lang=_fit(entry.lang, 20), published_at=entry.published or now, fetched_at=now,
        duplicate_of_id=first.id if first else None,
    )
    session.add(item)
    session.flush()
    return item


def store_pushed(session: Session, data: ItemIn, now: datetime) -> tuple[Item, bool]:
    """Store an item pushed over the API; the sender's (source, id) is the idempotency key."""
    existing = session.scalar(select(Item).where(Item.source == data.source, Item.external_id == data.id))
    if existing is not None:
        return existing, False
    summary = html_to_text(data.summary) if "<" in data.summary else data.summary
    content = html_to_text(data.content) if "<" in data.content else data.content
    url_norm = normalize_url(data.url) if data.url else None
    fp = content_fingerprint(data.title, content or summary) if (data.title or content or summary) \
        else content_fingerprint(f"{data.source}:{data.id}", "")
    first = _first_copy(session, url_norm, fp)
    item = Item(
        source=data.source, external_id=data.id, guid=None, url=data.url, url_norm=url_norm, fingerprint=fp,
        title=data.title, summary=summary, content=content, summary_html=data.summary, content_html=data.content,
        lang=data.lang, published_at=data.published_utc(), fetched_at=now,
        duplicate_of_id=first.id if first else None,
    )
    try:
        with session.begin_nested():
            session.add(item)
        return item, True
    except IntegrityError:  # a concurrent push of the same key won
        return session.scalar(select(Item).where(Item.source == data.source, Item.external_id == data.id)), False


@dataclass
class PollReport:
    polled: int = 0
    new_items: int = 0
    failed: list[str] = field(default_factory=list)


def claim_due_feeds(session: Session, now: datetime, limit: int, lease: timedelta) -> list[Feed]:
    """Take due feeds for this worker: a lease on the row keeps other workers off it."""
    q = (select(Feed).where(Feed.enabled.is_(True), Feed.next_check_at <= now,
                            or_(Feed.lease_until.is_(None), Feed.lease_until < now))
         .order_by(Feed.next_check_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    feeds = list(session.scalars(q))
    for f in feeds:
        f.lease_until = now + lease
    session.flush()
    return feeds


def record_success(session: Session, feed: Feed, parsed: ParsedFeed | None, result, now: datetime,
                   rng: random.Random) -> int:
    """Store the entries of a successful poll and move the feed's schedule on."""
    new = 0
    if parsed is not None:
        for entry in parsed.entries:
            if store_entry(session, feed, entry, now) is not None:
                new += 1
        feed.parse_warning = parsed.bozo_reason if parsed.bozo else None
    feed.etag, feed.last_modified = result.etag, result.last_modified
    feed.last_status, feed.last_checked_at, feed.last_success_at = result.status, now, now
    feed.consecutive_failures = 0
    feed.next_check_at = next_check_at(now=now, interval=timedelta(seconds=feed.poll_interval), failures=0,
                                       retry_after=None, rng=rng)
    feed.lease_until = None
    return new


MAX_RETRY_AFTER = timedelta(days=7)


def record_failure(feed: Feed, error: FetchError | Exception, now: datetime, rng: random.Random) -> None:
    """Keep the error visible on the feed and back off exponentially (capped at a day).

    A server's Retry-After is honoured, up to a week, so a hostile header cannot park a feed for years.
    """
    feed.consecutive_failures += 1
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        retry_after = min(retry_after, now + MAX_RETRY_AFTER)
    feed.last_error, feed.last_error_at, feed.last_checked_at = str(error), now, now
    feed.last_status = getattr(error, "status", None)
    feed.next_check_at = next_check_at(
        now=now, interval=timedelta(seconds=feed.poll_interval), failures=feed.consecutive_failures,
        retry_after=retry_after, rng=rng)
    feed.lease_until = None


async def poll_due(factory: sessionmaker[Session], settings: Settings, now: datetime | None = None,
                   rng: random.Random | None = None) -> PollReport:
    """Poll every due feed concurrently (per-host limits); one failing feed never stops the others."""
    now = now or utcnow()
    rng = rng or random.Random()
    with transaction(factory) as s:
        feeds = [(f.id, f.url, f.etag, f.last_modified) for f in
                 claim_due_feeds(s, now, settings.poll_batch, timedelta(seconds=settings.lease_seconds))]
    report = PollReport()
    if not feeds:
        return report
    limiter = HostLimiter(settings.poll_per_host)
    async with build_client(user_agent=settings.user_agent, timeout=settings.poll_timeout) as client:

        async def one(feed_id, url, etag, last_modified):
            async with limiter.slot(url):
                try:
                    # httpx's timeout is per read; a trickling server must not hold a poll open forever
                    async with asyncio.timeout(settings.poll_timeout * 3):
                        result = await fetch_feed(client, url, etag=etag, last_modified=last_modified,
                                                  max_bytes=settings.poll_max_bytes,
                                                  max_redirects=settings.poll_max_redirects,
                                                  base_dir=settings.feeds_path, now=now)
                    parsed = None if result.not_modified else await asyncio.to_thread(
                        parse_feed, result.body, content_type=result.content_type, base_url=result.final_url)
                    return feed_id, result, parsed, None
                except TimeoutError:
                    return feed_id, None, None, FetchError(f"{url}: no complete response within "
                                                           f"{settings.poll_timeout * 3:.0f}s")
                except Exception as e:  # noqa: BLE001 - any failure is recorded on the feed
                    return feed_id, None, None, e

        outcomes = await asyncio.gather(*(one(*f) for f in feeds))
    for feed_id, result, parsed, error in outcomes:
        report.polled += 1
        if error is None:
            try:  # one feed's bad entry must not lose the other feeds' outcomes
                with transaction(factory) as s:
                    report.new_items += record_success(s, s.get(Feed, feed_id), parsed, result, now, rng)
                continue
            except Exception as e:  # noqa: BLE001 - stored as the feed's error, polling goes on
                error = RuntimeError(f"storing the feed's items failed: {type(e).__name__}: {e}")
        with transaction(factory) as s:
            feed = s.get(Feed, feed_id)
            log.warning("feed %s (%s) failed: %s", feed.key, feed.url, error)
            record_failure(feed, error, now, rng)
            report.failed.append(feed.key)
    return report
