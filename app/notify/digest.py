"""Daily digests: once per subscriber per local date, claimed in a ledger before the email leaves.

The guarantee, precisely. A period is the subscriber's local date; the ledger's unique
(subscription, period) key means only one worker ever owns it. The owner moves the row
claimed → transmitting (a committed, fenced update made after the server accepted sender and
recipient, right before the message content is sent) → sent. A worker that dies while the row is
`claimed` has sent nothing, so the row is taken over after its lease and sent. A worker that dies
while it is `transmitting` may or may not have handed the message over; that period is marked
`uncertain` and is not sent again, so no second copy reaches the server. Its content is not lost:
the next digest's window starts where the last *sent* digest ended. Both copies would carry the same
Message-ID (derived from the ledger key) had a resend happened, so a duplicate could still be
recognised downstream.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiosmtplib
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.alerts.models import Alert
from app.context import AppContext
from app.db import transaction, utcnow
from app.matching.models import ScenarioLevelEvent
from app.notify import email, links
from app.notify import payloads as p
from app.notify.filters import alert_matches, level_matches
from app.notify.models import DigestLedger, OutboxEvent, Subscription

log = logging.getLogger(__name__)

SETTLE = timedelta(seconds=60)  # a digest waits this long past its time, so changes stamped before it are collected
TREND_DAYS = 7
RETRY_BACKOFF = timedelta(minutes=5)


def due_instant(period: date, at: str, tz: ZoneInfo) -> datetime:
    """The UTC instant of local time `at` on `period`: a time inside a spring-forward gap moves on by the
    gap (02:30 → 03:30), a time repeated at fall-back counts at its first occurrence."""
    hh, mm = (int(x) for x in at.split(":"))
    return datetime.combine(period, time(hh, mm), tzinfo=tz).replace(fold=0).astimezone(UTC)


def due_period(sub: Subscription, now: datetime) -> tuple[date, datetime] | None:
    """The latest local date whose digest time (plus SETTLE) has passed, if it is after the confirmation.

    Only the latest: after downtime the missed digest is sent once, covering everything since the last one.
    """
    tz = ZoneInfo(sub.timezone)
    today = now.astimezone(tz).date()
    period = today if due_instant(today, sub.digest_time, tz) + SETTLE <= now else today - timedelta(days=1)
    due = due_instant(period, sub.digest_time, tz)
    if sub.confirmed_at is None or due < sub.confirmed_at:
        return None
    return period, due


@dataclass
class Claim:
    ledger_id: int
    token: str


def _window_start(session: Session, sub: Subscription) -> datetime:
    last = session.scalar(select(func.max(DigestLedger.window_end)).where(
        DigestLedger.subscription_id == sub.id, DigestLedger.state.in_(("sent", "skipped"))))
    return last or sub.confirmed_at


def _insert_claim(session: Session, settings, sub: Subscription, period: date, due: datetime, now: datetime,
                  lease: timedelta) -> DigestLedger | None:
    row = DigestLedger(subscription_id=sub.id, period=period.isoformat(), state="claimed",
                       window_start=_window_start(session, sub), window_end=due,
                       message_id=links.message_id(settings, f"digest.{sub.id}.{period.isoformat()}"),
                       claim_token=secrets.token_hex(8), lease_until=now + lease, attempts=1, claimed_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker claimed this period first
        return None
    for stale, settled in (("claimed", "superseded"), ("transmitting", "uncertain")):  # older periods left behind
        session.execute(update(DigestLedger).where(
            DigestLedger.subscription_id == sub.id, DigestLedger.state == stale, DigestLedger.id != row.id)
            .values(state=settled, claim_token=None, lease_until=None))
    return row


def _take_over(session: Session, row: DigestLedger, now: datetime, lease: timedelta) -> DigestLedger | None:
    """A dead owner's row: resend if nothing was transmitted, otherwise mark it uncertain."""
    new_state, token = ("claimed", secrets.token_hex(8)) if row.state == "claimed" else ("uncertain", None)
    taken = session.execute(update(DigestLedger).where(
        DigestLedger.id == row.id, DigestLedger.claim_token == row.claim_token, DigestLedger.state == row.state)
        .values(state=new_state, claim_token=token, lease_until=now + lease if token else None,
                attempts=DigestLedger.attempts + (1 if token else 0)))
    if taken.rowcount == 0 or token is None:
        if token is None and taken.rowcount:
            log.warning("digest %s for subscription %s: worker died while transmitting; marked uncertain, "
                        "not resent", row.period, row.subscription_id)
        return None
    session.refresh(row)
    return row


def claim_due(session: Session, settings, *, now: datetime, lease: timedelta) -> list[Claim]:
    """Claim this worker's due digests: new periods, and periods whose owner died before transmitting."""
    subs = session.scalars(select(Subscription).where(
        Subscription.mode == "digest", Subscription.channel == "email", Subscription.unsubscribed_at.is_(None),
        Subscription.confirmed_at.is_not(None))).all()
    due = {s.id: d for s in subs if (d := due_period(s, now)) is not None}
    if not due:
        return []
    existing = {(r.subscription_id, r.period): r for r in session.scalars(select(DigestLedger).where(
        DigestLedger.subscription_id.in_(list(due)),
        DigestLedger.period.in_({d[0].isoformat() for d in due.values()})))}
    claims = []
    for sub in subs:
        if sub.id not in due:
            continue
        period, at = due[sub.id]
        row = existing.get((sub.id, period.isoformat()))
        if row is None:
            row = _insert_claim(session, settings, sub, period, at, now, lease)
        elif row.state in ("claimed", "transmitting") and row.lease_until is not None and row.lease_until <= now:
            row = _take_over(session, row, now, lease)
        else:
            row = None
        if row is not None:
            claims.append(Claim(row.id, row.claim_token))
    session.flush()
    return claims


@dataclass
class AlertLine:
    alert: Alert
    reason: str  # new | escalated
    url: str
    evidence: dict


@dataclass
class Digest:
    """Everything the templates show, computed for one subscriber and window."""

    sub: Subscription
    period: str
    window_start: datetime
    window_end: datetime
    levels: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    trend: list[dict] = field(default_factory=list)

    @property
    def nothing_new(self) -> bool:
        return not self.counts.get("alerts") and not self.counts.get("level_changes")


def _level_at(session: Session, scenario_id: str, at: datetime) -> str:
    return session.scalar(select(ScenarioLevelEvent.level).where(
        ScenarioLevelEvent.scenario_id == scenario_id, ScenarioLevelEvent.at <= at)
        .order_by(ScenarioLevelEvent.at.desc(), ScenarioLevelEvent.id.desc()).limit(1)) or "low"


def _levels(session: Session, sub: Subscription, names: p.Names, start: datetime, end: datetime) -> list[dict]:
    out = []
    for sid in sub.scenarios or sorted(names.scenarios):
        now_level, before = _level_at(session, sid, end), _level_at(session, sid, start)
        change = p.level_rank(now_level) - p.level_rank(before)
        out.append({"id": sid, "name": names.scenario_name(sid), "level": now_level, "previous": before,
                    "change": "up" if change > 0 else "down" if change < 0 else "same"})
    return out


def _trend(session: Session, sub: Subscription, names: p.Names, end: datetime) -> list[dict]:
    """Alerts raised per local day over the last week, for the subscriber's filters."""
    tz = ZoneInfo(sub.timezone)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    days = [last - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    start = datetime.combine(days[0], time(0), tzinfo=tz).astimezone(UTC)
    counts: dict[date, int] = defaultdict(int)
    for a in session.scalars(select(Alert).where(Alert.created_at >= start, Alert.created_at < end)):
        if alert_matches(sub, a, names.scenarios_of(a.indicator_id)) and not a.muted(end):
            counts[a.created_at.astimezone(tz).date()] += 1
    top = max(counts.values(), default=0)
    return [{"day": d.strftime("%a %d %b"), "count": counts[d], "width": round(100 * counts[d] / top) if top else 0}
            for d in days]


def build_digest(session: Session, sub: Subscription, row: DigestLedger, names: p.Names, base_url: str) -> Digest:
    """Level per scenario with its change, new and escalated alerts by scenario and indicator, counts, trend."""
    digest = Digest(sub, row.period, row.window_start, row.window_end)
    window = (OutboxEvent.occurred_at > row.window_start, OutboxEvent.occurred_at <= row.window_end)
    reasons: dict[int, str] = {}
    for ev in session.scalars(select(OutboxEvent).where(
            *window, OutboxEvent.type.in_((p.ALERT_CREATED, p.ALERT_UPDATED))).order_by(OutboxEvent.id)):
        if ev.type == p.ALERT_CREATED:
            reasons[ev.alert_id] = "new"
        elif ev.escalated:
            reasons.setdefault(ev.alert_id, "escalated")
    levels = session.scalars(select(OutboxEvent).where(*window, OutboxEvent.type == p.LEVEL_CHANGED))
    level_events = [ev for ev in levels
                    if level_matches(sub, ev.payload["scenario"]["id"], ev.payload.get("reasons", []))]
    grouped: dict[str, dict[str, list[AlertLine]]] = defaultdict(lambda: defaultdict(list))
    silenced = 0
    by_severity: dict[str, int] = defaultdict(int)
    alerts = session.scalars(select(Alert).where(Alert.id.in_(list(reasons)))).all() if reasons else []
    for alert in sorted(alerts, key=lambda a: (-p.severity_rank(a.severity), a.id)):
        scenarios = names.scenarios_of(alert.indicator_id)
        if not alert_matches(sub, alert, scenarios):
            continue
        if alert.muted(row.window_end):
            silenced += 1
            continue
        wanted = [s for s in scenarios if not sub.scenarios or s in sub.scenarios]
        grouped[wanted[0] if wanted else ""][alert.indicator_id].append(
            AlertLine(alert, reasons[alert.id], p.alert_url(base_url, alert.id), p.evidence(session, alert.id)))
        by_severity[alert.severity] += 1
    digest.groups = [
        {"scenario": {"id": sid, "name": names.scenario_name(sid) if sid else "Other indicators"},
         "indicators": [{"id": iid, "name": names.indicator_name(iid), "alerts": lines}
                        for iid, lines in sorted(inds.items())]}
        for sid, inds in sorted(grouped.items(), key=lambda kv: (kv[0] == "", kv[0]))]
    lines = [line for g in grouped.values() for ls in g.values() for line in ls]
    digest.counts = {
        "alerts": len(lines), "new": sum(x.reason == "new" for x in lines),
        "escalated": sum(x.reason == "escalated" for x in lines), "level_changes": len(level_events),
        "silenced": silenced, "by_severity": dict(by_severity)}
    digest.levels = _levels(session, sub, names, row.window_start, row.window_end)
    digest.trend = _trend(session, sub, names, row.window_end)
    return digest


def _subject(d: Digest) -> str:
    if d.nothing_new:
        return f"Watchfloor digest {d.period}: nothing new"
    raised = [lv for lv in d.levels if lv["change"] == "up"]
    head = f"{d.counts['new']} new, {d.counts['escalated']} escalated"
    return f"Watchfloor digest {d.period}: {head}" + (f", {len(raised)} warning level(s) up" if raised else "")


def _set_state(ctx: AppContext, claim: Claim, from_state: str, **values) -> bool:
    """A fenced transition: only the claim's owner moves its row, and only from the state it expects."""
    with transaction(ctx.sessions) as s:
        moved = s.execute(update(DigestLedger).where(
            DigestLedger.id == claim.ledger_id, DigestLedger.claim_token == claim.token,
            DigestLedger.state == from_state).values(**values))
        return moved.rowcount == 1


class LostClaim(Exception):
    """Another worker took the ledger row over; this one must not transmit."""


def _prepare(ctx: AppContext, claim: Claim):
    """Build the message for a claim, or settle the row at once (skipped, unsubscribed)."""
    s = ctx.settings
    with transaction(ctx.sessions) as session:
        row = session.get(DigestLedger, claim.ledger_id)
        if row is None or row.claim_token != claim.token or row.state != "claimed":
            return None
        sub = session.get(Subscription, row.subscription_id)
        digest = build_digest(session, sub, row, p.names_for(ctx, session), s.base_url)
        if not sub.active or (digest.nothing_new and not sub.send_empty):
            row.state, row.claim_token = "skipped", None
            return None
        unsubscribe = links.link(s, "unsubscribe", sub)
        text, html = email.render("digest", d=digest, unsubscribe_url=unsubscribe, base_url=s.base_url.rstrip("/"))
        return email.build_message(s, to=sub.email, subject=_subject(digest), text=text, html=html,
                                   message_id=row.message_id, unsubscribe_url=unsubscribe)


async def send_claim(ctx: AppContext, claim: Claim, *, clock=utcnow) -> str:
    """Send one claimed digest through the fenced state machine; returns the row's new state."""
    msg = await asyncio.to_thread(_prepare, ctx, claim)
    if msg is None:
        return "settled"

    async def before_data() -> None:
        if not await asyncio.to_thread(_set_state, ctx, claim, "claimed", state="transmitting"):
            raise LostClaim

    try:
        await email.send(ctx.settings, msg, before_data=before_data)
    except LostClaim:
        return "lost"
    except aiosmtplib.SMTPResponseException as e:
        # The server answered: if it refused, it did not take the message, so a later retry is safe.
        await asyncio.to_thread(_retry_later, ctx, claim, clock(), f"{e.code} {e.message}")
        return "retry"
    except (aiosmtplib.SMTPException, OSError) as e:
        if await asyncio.to_thread(_retry_later, ctx, claim, clock(), str(e), only_from="claimed"):
            return "retry"
        await asyncio.to_thread(_set_state, ctx, claim, "transmitting", state="uncertain", claim_token=None,
                                error=f"connection lost while transmitting: {e}")
        return "uncertain"
    await asyncio.to_thread(_set_state, ctx, claim, "transmitting", state="sent", sent_at=clock(), claim_token=None,
                            lease_until=None, error=None)
    return "sent"


def _retry_later(ctx: AppContext, claim: Claim, now: datetime, error: str, only_from: str | None = None) -> bool:
    """Back to `claimed` with the lease pushed out, so the next attempt waits a while."""
    for state in (only_from,) if only_from else ("claimed", "transmitting"):
        if _set_state(ctx, claim, state, state="claimed", lease_until=now + RETRY_BACKOFF, error=error[:2000]):
            return True
    return False


async def send_due_digests(ctx: AppContext, *, now: datetime | None = None) -> dict[str, int]:
    """One tick: claim what is due, send each claim; a failing subscriber does not hold up the others."""
    now = now or utcnow()
    lease = timedelta(seconds=ctx.settings.lease_seconds)

    def claim() -> list[Claim]:
        with transaction(ctx.sessions) as session:
            return claim_due(session, ctx.settings, now=now, lease=lease)

    report: dict[str, int] = defaultdict(int)
    for c in await asyncio.to_thread(claim):
        report[await send_claim(ctx, c, clock=lambda: now)] += 1
    return dict(report)
