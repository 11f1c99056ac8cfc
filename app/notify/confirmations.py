"""Double opt-in: a new email subscription gets a confirmation link, and nothing else until it is used."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import or_, select

from app.context import AppContext
from app.db import transaction, utcnow
from app.notify import email, links
from app.notify.models import Subscription
from app.notify.outbox import claim_batch

log = logging.getLogger(__name__)
RETRY_BACKOFF = timedelta(minutes=5)


def _claim(ctx: AppContext, now: datetime) -> list:
    """Unconfirmed subscriptions whose email has not gone out, leased so two workers do not both send."""
    s = ctx.settings
    with transaction(ctx.sessions) as session:
        subs = claim_batch(session, select(Subscription).where(
            Subscription.channel == "email", Subscription.confirmed_at.is_(None),
            Subscription.confirm_sent_at.is_(None), Subscription.unsubscribed_at.is_(None),
            or_(Subscription.confirm_lease_until.is_(None), Subscription.confirm_lease_until <= now)).limit(50))
        out = []
        for sub in subs:
            sub.confirm_lease_until = now + timedelta(seconds=s.lease_seconds)
            unsubscribe = links.link(s, "unsubscribe", sub)
            text, html = email.render("confirm", sub=sub, confirm_url=links.link(s, "confirm", sub),
                                      unsubscribe_url=unsubscribe)
            out.append((sub.id, email.build_message(
                s, to=sub.email, subject="Confirm your Watchfloor subscription", text=text, html=html,
                message_id=links.message_id(s, f"confirm.{sub.id}.{int(now.timestamp())}"),
                unsubscribe_url=unsubscribe)))
        return out


def _mark(ctx: AppContext, sub_id: int, now: datetime, sent: bool) -> None:
    with transaction(ctx.sessions) as session:
        sub = session.get(Subscription, sub_id)
        if sub is not None:
            if sent:
                sub.confirm_sent_at = now
            else:
                sub.confirm_lease_until = now + RETRY_BACKOFF


async def send_confirmations(ctx: AppContext, *, now: datetime | None = None) -> int:
    """Send pending confirmation emails; a failure is retried after RETRY_BACKOFF."""
    now = now or utcnow()
    sent = 0
    for sub_id, msg in await asyncio.to_thread(_claim, ctx, now):
        try:
            await email.send(ctx.settings, msg)
        except (aiosmtplib.SMTPException, OSError) as e:
            log.warning("confirmation for subscription %s not sent: %s", sub_id, e)
            await asyncio.to_thread(_mark, ctx, sub_id, now, False)
            continue
        await asyncio.to_thread(_mark, ctx, sub_id, now, True)
        sent += 1
    return sent
