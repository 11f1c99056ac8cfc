"""The webhook sender: claims due deliveries, posts them signed over vetted connections, logs every attempt.

At least once: a delivery stays pending until a 2xx is recorded, so a sender killed mid-flight leaves
it leased, and after the lease another sender posts it again with the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
import ssl
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.context import AppContext
from app.db import UTCDateTime, transaction, utcnow
from app.notify.models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint
from app.notify.payloads import envelope
from app.notify.signing import signed_headers
from app.notify.ssrf import Target, UnsafeURL, resolve_url

log = logging.getLogger(__name__)

# Seconds before attempt n+1, after n attempts: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
RETRY_SCHEDULE = (0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400)
JITTER = 0.2
MAX_RETRY_AFTER = 86_400
RESPONSE_KEEP = 1_000
CLAIM_POLL = 0.2
RECORD_GATHER = 0.01
TARGET_TTL = 30.0


def retry_delay(attempts: int, rng: random.Random, schedule: Sequence[float] = RETRY_SCHEDULE) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones (±20 % jitter); None once the schedule is spent."""
    if attempts >= len(schedule):
        return None
    return schedule[attempts] * rng.uniform(1 - JITTER, 1 + JITTER)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value) if value.isdigit() else (parsedate_to_datetime(value) - now).total_seconds()
    except (TypeError, ValueError):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds the lease on, with everything needed to post it."""

    delivery_id: int
    token: str
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    msg_id: str
    body: bytes
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    outcome: str  # success | http_error | redirect | timeout | network | refused
    status_code: int | None = None
    latency_ms: int = 0
    response: str = ""
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


def lease_for(settings: Settings) -> timedelta:
    """Long enough for the request (DNS included) and for recording its result."""
    return timedelta(seconds=settings.webhook_timeout * 2 + 5)


def active_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    """The current secret, plus the previous one while the rotation overlap lasts."""
    keep_old = endpoint.previous_secret and endpoint.previous_secret_expires_at and \
        endpoint.previous_secret_expires_at > now
    return (endpoint.secret, endpoint.previous_secret) if keep_old else (endpoint.secret,)


def claim_deliveries(session: Session, *, now: datetime, limit: int, lease: timedelta, per_endpoint: int,
                     inflight: Mapping[int, int] | None = None, rng: random.Random | None = None) -> list[Claimed]:
    """Take due deliveries, at most `per_endpoint` in flight per endpoint, so one slow receiver cannot take
    every slot. Endpoints are visited in random order (fair when `limit` runs out), one index range each;
    each range is leased in one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) on PostgreSQL."""
    inflight = inflight or {}
    endpoints = {e.id: e for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)))}
    order = list(endpoints)
    (rng or random).shuffle(order)
    token = secrets.token_hex(8)
    rows = []
    for ep_id in order:
        room = min(per_endpoint - inflight.get(ep_id, 0), limit - len(rows))
        if room <= 0:
            continue
        due = (select(Delivery.id).where(
            Delivery.endpoint_id == ep_id, Delivery.status == "pending", Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
            .order_by(Delivery.next_attempt_at, Delivery.id).limit(room))
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows += session.execute(
            update(Delivery).where(Delivery.id.in_(due.scalar_subquery()))
            .values(lease_until=now + lease, claim_token=token)
            .returning(Delivery.id, Delivery.event_id, Delivery.endpoint_id, Delivery.attempts)
            .execution_options(synchronize_session=False)).all()
    if not rows:
        return []
    events = {e.id: e for e in session.execute(select(
        OutboxEvent.id, OutboxEvent.event_id, OutboxEvent.type, OutboxEvent.occurred_at, OutboxEvent.payload)
        .where(OutboxEvent.id.in_({r.event_id for r in rows})))}
    out = []
    for r in rows:
        ev, ep = events[r.event_id], endpoints[r.endpoint_id]
        out.append(Claimed(r.id, token, ep.id, ep.url, active_secrets(ep, now), ev.event_id,
                           envelope(ev.event_id, ev.type, ev.occurred_at, ev.payload), r.attempts + 1))
    return out


def record_outcomes(session: Session, results: list[tuple[Claimed, Outcome]], *, now: datetime,
                    rng: random.Random, schedule: Sequence[float] = RETRY_SCHEDULE) -> None:
    """Log each attempt; move each delivery on (done, retry later, dead) unless another worker took it over
    (the update is fenced by the claim token). Bulk statements: this runs for every batch of responses."""
    alive = set(session.scalars(select(Delivery.id).where(Delivery.id.in_([c.delivery_id for c, _ in results]))))
    results = [(c, out) for c, out in results if c.delivery_id in alive]  # deleted with their endpoint meanwhile
    if not results:
        return
    session.execute(insert(DeliveryAttempt), [
        {"delivery_id": c.delivery_id, "attempt": c.attempt, "at": now, "outcome": out.outcome,
         "status_code": out.status_code, "latency_ms": out.latency_ms, "response": out.response, "error": out.error}
        for c, out in results])
    moves = []
    for c, out in results:
        status, next_at = "succeeded", None
        if not out.ok:
            delay = retry_delay(c.attempt, rng, schedule)
            status = "dead" if delay is None else "pending"
            next_at = None if delay is None else now + timedelta(seconds=max(delay, out.retry_after or 0.0))
        moves.append({"b_id": c.delivery_id, "b_token": c.token, "b_status": status, "b_attempts": c.attempt,
                      "b_code": out.status_code, "b_error": out.error, "b_next": next_at,
                      "b_delivered": now if out.ok else None})
    table = Delivery.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("b_id"), table.c.claim_token == bindparam("b_token"))
        .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"), last_status_code=bindparam("b_code"),
                last_error=bindparam("b_error"), delivered_at=bindparam("b_delivered"), lease_until=None,
                claim_token=None, next_attempt_at=func.coalesce(bindparam("b_next", type_=UTCDateTime()),
                                                                table.c.next_attempt_at)), moves)
    gone = {c.endpoint_id for c, out in results if out.status_code == 410}
    if gone:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(gone)).values(
            enabled=False, disabled_reason=f"disabled automatically: the endpoint answered 410 Gone at {now:%c}")
            .execution_options(synchronize_session=False))


async def _head(response: httpx.Response) -> str:
    """The first RESPONSE_KEEP bytes of the body, for the delivery log."""
    buf = bytearray()
    async for chunk in response.aiter_bytes():
        buf += chunk
        if len(buf) >= RESPONSE_KEEP:
            break
    return bytes(buf[:RESPONSE_KEEP]).decode("utf-8", "replace")


def classify(status: int, headers: httpx.Headers, body: str, ms: int, now: datetime) -> Outcome:
    """2xx success; 3xx failure (redirects are not followed); Retry-After kept on 429/503."""
    if 200 <= status < 300:
        return Outcome("success", status, ms, body)
    if 300 <= status < 400:
        return Outcome("redirect", status, ms, body, f"redirect to {headers.get('location', '?')} not followed")
    retry_after = parse_retry_after(headers.get("retry-after"), now) if status in (429, 503) else None
    return Outcome("http_error", status, ms, body, f"HTTP {status}", retry_after)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one loads the CA bundle (tens of milliseconds)."""
    return httpx.create_ssl_context()


class Sender:
    """Posts signed requests; one HTTP client per endpoint, connecting only to the address the SSRF guard vetted."""

    def __init__(self, settings: Settings, per_endpoint: int) -> None:
        self.settings = settings
        self.per_endpoint = per_endpoint
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._targets: dict[str, tuple[Target, float]] = {}

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients.values()))

    async def _target(self, url: str) -> Target:
        """The vetted address, looked up again after TARGET_TTL (the guard runs at send time, not once)."""
        found = self._targets.get(url)
        if found is None or time.monotonic() - found[1] > TARGET_TTL:
            found = self._targets[url] = (await resolve_url(url, self.settings.webhook_allow_networks),
                                          time.monotonic())
        return found[0]

    def _client(self, endpoint_id: int) -> httpx.AsyncClient:
        """Per endpoint: its pool matches its share of the slots, and a pinned address never serves another host."""
        if endpoint_id not in self._clients:
            self._clients[endpoint_id] = httpx.AsyncClient(
                timeout=self.settings.webhook_timeout, follow_redirects=False, trust_env=False, verify=_tls(),
                limits=httpx.Limits(max_connections=self.per_endpoint, max_keepalive_connections=self.per_endpoint))
        return self._clients[endpoint_id]

    async def post(self, c: Claimed) -> Outcome:
        start = time.perf_counter()

        def ms() -> int:
            return int((time.perf_counter() - start) * 1000)

        try:
            async with asyncio.timeout(self.settings.webhook_timeout):
                target = await self._target(c.url)
                headers = {**signed_headers(c.secrets, c.msg_id, int(time.time()), c.body),
                           "content-type": "application/json", "user-agent": self.settings.user_agent,
                           "host": target.host_header()}
                ext = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
                async with self._client(c.endpoint_id).stream("POST", target.pinned_url(), content=c.body,
                                                            headers=headers, extensions=ext) as r:
                    body = await _head(r)
                    return classify(r.status_code, r.headers, body, ms(), utcnow())
        except UnsafeURL as e:
            return Outcome("refused", None, ms(), "", str(e))
        except (TimeoutError, httpx.TimeoutException):
            return Outcome("timeout", None, ms(), "", f"no answer within {self.settings.webhook_timeout:g} s")
        except httpx.HTTPError as e:
            return Outcome("network", None, ms(), "", f"{type(e).__name__}: {e}"[:500])


async def deliver_due(ctx: AppContext, *, schedule: Sequence[float] = RETRY_SCHEDULE,
                      rng: random.Random | None = None, clock: Callable[[], datetime] = utcnow,
                      until: float | None = None) -> int:
    """Send due deliveries; returns the number of attempts made. Without `until`, return as soon as none is due
    or in flight; with it (a time.monotonic() deadline), keep looking for new ones every CLAIM_POLL until then.

    Requests are pipelined: new deliveries are claimed as slots free up, one endpoint holds at most a
    quarter of the slots (so a slow one cannot starve the rest), and results are recorded in small batches.
    """
    s, rng = ctx.settings, rng or random.Random()
    per_endpoint = max(1, s.webhook_concurrency // 4)
    lease = lease_for(s)
    inflight: dict[int, Claimed] = {}
    tasks: set[asyncio.Task] = set()
    finished: asyncio.Queue[tuple[Claimed, Outcome]] = asyncio.Queue()
    attempts, next_claim = 0, 0.0

    def claim(limit: int, counts: Counter) -> list[Claimed]:
        with transaction(ctx.sessions) as session:
            return claim_deliveries(session, now=clock(), limit=limit, lease=lease, per_endpoint=per_endpoint,
                                    inflight=counts, rng=rng)

    def record(results: list[tuple[Claimed, Outcome]]) -> None:
        with transaction(ctx.sessions) as session:
            record_outcomes(session, results, now=clock(), rng=rng, schedule=schedule)

    async def attempt(sender: Sender, c: Claimed) -> None:
        try:
            out = await sender.post(c)
        except Exception as e:  # a bug must not strand the delivery in this loop; it is logged and retried
            log.exception("webhook delivery %s failed unexpectedly", c.delivery_id)
            out = Outcome("network", error=f"internal error: {e!r}"[:500])
        finished.put_nowait((c, out))

    async with Sender(s, per_endpoint) as sender:
        while True:
            now = time.monotonic()
            claiming = until is None or now < until
            room = min(s.webhook_batch, s.webhook_concurrency - len(inflight))
            if claiming and room > 0 and now >= next_claim:
                claimed = await asyncio.to_thread(claim, room, Counter(c.endpoint_id for c in inflight.values()))
                for c in claimed:
                    inflight[c.delivery_id] = c
                    task = asyncio.create_task(attempt(sender, c))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if not claimed:  # nothing due: look again after a pause, or as soon as a slot frees
                    next_claim = time.monotonic() + CLAIM_POLL
            if not inflight:
                if until is None or not claiming:
                    return attempts
                await asyncio.sleep(max(0.0, min(next_claim, until) - time.monotonic()))
                continue
            try:
                batch = [await asyncio.wait_for(finished.get(), CLAIM_POLL)]
            except TimeoutError:
                continue
            await asyncio.sleep(RECORD_GATHER)  # let a few more answers arrive: one transaction records them all
            while not finished.empty():
                batch.append(finished.get_nowait())
            for c, _ in batch:
                del inflight[c.delivery_id]
            await asyncio.to_thread(record, batch)
            attempts += len(batch)
            next_claim = 0.0


def redeliver(session: Session, delivery: Delivery, now: datetime) -> Delivery:
    """Manual redelivery (dead letters, or a succeeded one on request): pending again, schedule from the start."""
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, now
    delivery.lease_until = delivery.claim_token = None
    session.flush()
    return delivery
