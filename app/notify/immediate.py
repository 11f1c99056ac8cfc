"""Immediate notifications, grouped as Alertmanager groups: a burst within the group wait is one message.

Routing puts each triggering event (alert created, alert escalated, scenario level up; silenced alerts
never) into the open group of every immediate subscription that wants it. When a group's wait is over
it is closed and sent: by email, or as a `notification.immediate` outbox event for the subscription's
endpoint, which the webhook sender then delivers at least once. An email interrupted by a crash is sent
again with the same Message-ID (at least once: for an immediate warning a duplicate beats a loss).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.alerts.models import Alert
from app.context import AppContext
from app.db import transaction, utcnow
from app.notify import email, links
from app.notify import payloads as p
from app.notify.filters import event_matches
from app.notify.models import NotificationGroup, NotificationItem, OutboxEvent, Subscription
from app.notify.outbox import claim_batch

log = logging.getLogger(__name__)
RETRY_BACKOFF = timedelta(seconds=60)


def triggers(ev: OutboxEvent) -> bool:
    """Created, escalated, or a level rising: the changes worth interrupting someone for."""
    return ev.type == p.ALERT_CREATED or (ev.type in (p.ALERT_UPDATED, p.LEVEL_CHANGED) and ev.escalated)


def route(session: Session, *, now: datetime, group_wait: float, limit: int = 500) -> int:
    """Put unrouted events into immediate subscriptions' open groups; run under the collector's lock."""
    events = list(session.scalars(select(OutboxEvent).where(OutboxEvent.routed_at.is_(None))
                                  .order_by(OutboxEvent.id).limit(limit)))
    if not events:
        return 0
    subs = [s for s in session.scalars(select(Subscription).where(Subscription.mode == "immediate")) if s.active]
    groups: dict[int, NotificationGroup] = {}
    routed = 0
    for ev in events:
        ev.routed_at = now
        if not subs or not triggers(ev):
            continue
        alert = session.get(Alert, ev.alert_id) if ev.alert_id else None
        if alert is not None and alert.muted(now):
            continue
        for sub in subs:
            if not event_matches(sub, ev, alert):
                continue
            group = groups.get(sub.id) or _open_group(session, sub.id, now, group_wait)
            groups[sub.id] = group
            session.add(NotificationItem(subscription_id=sub.id, outbox_event_id=ev.id, group_id=group.id))
            routed += 1
    session.flush()
    return routed


def _open_group(session: Session, sub_id: int, now: datetime, group_wait: float) -> NotificationGroup:
    group = session.scalar(select(NotificationGroup).where(
        NotificationGroup.subscription_id == sub_id, NotificationGroup.state == "open"))
    if group is None:
        group = NotificationGroup(subscription_id=sub_id, state="open", opened_at=now,
                                  send_after=now + timedelta(seconds=group_wait))
        session.add(group)
        session.flush()
    return group


def claim_groups(session: Session, *, now: datetime, lease: timedelta, limit: int = 50) -> list[tuple[int, str]]:
    """Close due groups to new events and lease them to this worker (a dead worker's lease runs out)."""
    rows = claim_batch(session, select(NotificationGroup).where(
        NotificationGroup.send_after <= now,
        or_(NotificationGroup.state == "open",
            (NotificationGroup.state == "sending") & (NotificationGroup.lease_until <= now)))
        .order_by(NotificationGroup.send_after).limit(limit))
    out = []
    for g in rows:
        token = secrets.token_hex(8)
        g.state, g.lease_until, g.claim_token, g.attempts = "sending", now + lease, token, g.attempts + 1
        out.append((g.id, token))
    session.flush()
    return out


def _contents(session: Session, group: NotificationGroup, names: p.Names, base_url: str,
              now: datetime) -> tuple[list, list]:
    """The group's alerts (current state, silenced ones dropped, each once) and level changes."""
    events = session.scalars(select(OutboxEvent)
                             .join(NotificationItem, NotificationItem.outbox_event_id == OutboxEvent.id)
                             .where(NotificationItem.group_id == group.id).order_by(OutboxEvent.id)).all()
    alerts: dict[int, dict] = {}
    levels = []
    for ev in events:
        if ev.type == p.LEVEL_CHANGED:
            levels.append(ev.payload)
            continue
        alert = session.get(Alert, ev.alert_id)
        if alert is None or alert.muted(now) or alert.id in alerts:
            continue
        alerts[alert.id] = {**p.alert_data(session, alert, names, base_url, now),
                            "reason": "created" if ev.type == p.ALERT_CREATED else "escalated"}
    return list(alerts.values()), levels


def _subject(alerts: list, levels: list) -> str:
    parts = []
    if alerts:
        top = max(alerts, key=lambda a: p.severity_rank(a["severity"]))
        parts.append(f"{len(alerts)} alert(s), highest {top['severity']}: {top['title'][:80]}")
    parts += [f"{lv['scenario']['name'][:60]} up to {lv['level']}" for lv in levels]
    return "[Watchfloor] " + " / ".join(parts)


def _prepare(ctx: AppContext, group_id: int, token: str, now: datetime):
    """The email to send, or None after settling the group here (webhook event written, or nothing left)."""
    s = ctx.settings
    with transaction(ctx.sessions) as session:
        group = session.get(NotificationGroup, group_id)
        if group is None or group.state != "sending" or group.claim_token != token:
            return None
        sub = session.get(Subscription, group.subscription_id)
        alerts, levels = _contents(session, group, p.names_for(ctx, session), s.base_url, now)
        if sub is None or not sub.active or not (alerts or levels):
            group.state, group.claim_token = "dropped", None
            return None
        if sub.channel == "webhook":
            source = f"notification_groups:{group.id}"
            data = {"subscription": {"id": sub.id, "name": sub.name}, "group": {"id": group.id,
                    "opened_at": p.iso(group.opened_at)}, "alerts": alerts, "levels": levels}
            session.add(OutboxEvent(event_id=p.event_id(s.secret(), source), type=p.NOTIFICATION, source=source,
                                    occurred_at=group.opened_at, created_at=now, target_endpoint_id=sub.endpoint_id,
                                    payload=data, routed_at=now))
            group.state, group.sent_at, group.claim_token = "sent", now, None
            return None
        unsubscribe = links.link(s, "unsubscribe", sub)
        text, html = email.render("immediate", alerts=alerts, levels=levels, unsubscribe_url=unsubscribe)
        return email.build_message(s, to=sub.email, subject=_subject(alerts, levels), text=text, html=html,
                                   message_id=links.message_id(s, f"immediate.{group.id}"),
                                   unsubscribe_url=unsubscribe)


def _finish(ctx: AppContext, group_id: int, token: str, now: datetime, error: str | None) -> None:
    with transaction(ctx.sessions) as session:
        group = session.get(NotificationGroup, group_id)
        if group is None or group.claim_token != token:
            return
        if error is None:
            group.state, group.sent_at, group.error = "sent", now, None
            group.lease_until = group.claim_token = None
        else:  # stays `sending`; another attempt once the lease (pushed out here) runs out
            group.lease_until, group.error = now + RETRY_BACKOFF, error[:2000]


async def send_groups(ctx: AppContext, *, now: datetime | None = None) -> int:
    """Send every group whose wait is over; returns how many emails went out."""
    now = now or utcnow()
    lease = timedelta(seconds=ctx.settings.lease_seconds)

    def claim():
        with transaction(ctx.sessions) as session:
            return claim_groups(session, now=now, lease=lease)

    sent = 0
    for group_id, token in await asyncio.to_thread(claim):
        msg = await asyncio.to_thread(_prepare, ctx, group_id, token, now)
        if msg is None:
            continue
        try:
            await email.send(ctx.settings, msg)
        except (aiosmtplib.SMTPException, OSError) as e:
            log.warning("immediate notification %s not sent: %s", group_id, e)
            await asyncio.to_thread(_finish, ctx, group_id, token, now, str(e))
            continue
        await asyncio.to_thread(_finish, ctx, group_id, token, now, None)
        sent += 1
    return sent
