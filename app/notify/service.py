"""Managing subscriptions and endpoints (shared by the API and the pages); takes a session, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.notify import links
from app.notify.models import Delivery, Subscription, WebhookEndpoint
from app.notify.payloads import Names
from app.notify.schemas import EndpointIn, EndpointPatch, SubscriptionIn, SubscriptionPatch
from app.notify.signing import new_secret
from app.notify.ssrf import UnsafeURL, check_url
from app.notify.webhooks import redeliver


class NotifyError(ValueError):
    """A request that cannot be honoured; the message says why, for the person who made it."""


def _known(names: Names, scenarios: list[str] | None, indicators: list[str] | None) -> None:
    """Unknown ids would silently match nothing, so they are refused (when the library is loaded)."""
    if names.scenarios and scenarios:
        unknown = sorted(set(scenarios) - set(names.scenarios))
        if unknown:
            raise NotifyError(f"unknown scenario(s): {', '.join(unknown)}")
    if names.indicators and indicators:
        unknown = sorted(set(indicators) - set(names.indicators))
        if unknown:
            raise NotifyError(f"unknown indicator(s): {', '.join(unknown)}")


def create_subscription(session: Session, data: SubscriptionIn, *, settings: Settings, names: Names) -> Subscription:
    """A new subscription; an email one waits for its confirmation link to be used."""
    _known(names, data.scenarios, data.indicators)
    if data.endpoint_id is not None and session.get(WebhookEndpoint, data.endpoint_id) is None:
        raise NotifyError(f"no webhook endpoint {data.endpoint_id}")
    sub = Subscription(
        name=data.name, channel="email" if data.email else "webhook", email=data.email, endpoint_id=data.endpoint_id,
        mode=data.mode, digest_time=data.digest_time or settings.digest_time,
        timezone=data.timezone or settings.digest_timezone,
        send_empty=settings.digest_send_empty if data.send_empty is None else data.send_empty,
        scenarios=data.scenarios, indicators=data.indicators, min_severity=data.min_severity, statuses=data.statuses)
    session.add(sub)
    session.flush()
    return sub


def update_subscription(session: Session, sub: Subscription, patch: SubscriptionPatch, *, names: Names) -> Subscription:
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    _known(names, changes.get("scenarios"), changes.get("indicators"))
    if sub.channel == "webhook" and changes.get("mode") == "digest":
        raise NotifyError("digests are emails; a webhook endpoint subscribes in immediate mode")
    if "email" in changes and sub.channel != "email":
        raise NotifyError("this subscription delivers to a webhook endpoint, not an email address")
    if changes.get("email", sub.email) != sub.email:
        sub.confirmed_at = sub.confirm_sent_at = sub.confirm_lease_until = None
    for key, value in changes.items():
        setattr(sub, key, value)
    session.flush()
    return sub


def from_token(session: Session, settings: Settings, purpose: str, token: str) -> Subscription | None:
    """The subscription a signed link names, if the address it was sent to is still the subscription's."""
    found = links.read_token(settings, purpose, token)
    if found is None:
        return None
    sub = session.get(Subscription, found[0])
    return sub if sub is not None and (sub.email or "") == found[1] else None


def confirm(sub: Subscription, now: datetime) -> None:
    if sub.confirmed_at is None:
        sub.confirmed_at = now


def unsubscribe(sub: Subscription, now: datetime) -> None:
    if sub.unsubscribed_at is None:
        sub.unsubscribed_at = now


def resend_confirmation(sub: Subscription) -> None:
    if sub.channel != "email" or sub.confirmed_at is not None:
        raise NotifyError("only an unconfirmed email subscription has a confirmation to resend")
    sub.confirm_sent_at = sub.confirm_lease_until = None
    sub.unsubscribed_at = None


def _checked_url(url: str, settings: Settings) -> str:
    try:
        check_url(url, settings.webhook_allow_networks)
    except UnsafeURL as e:
        raise NotifyError(str(e)) from None
    return url.strip()


def create_endpoint(session: Session, data: EndpointIn, *, settings: Settings) -> WebhookEndpoint:
    """A new endpoint with its own `whsec_` secret, refused if its URL points somewhere it must not."""
    ep = WebhookEndpoint(url=_checked_url(data.url, settings), description=data.description,
                         event_types=list(data.event_types), enabled=data.enabled, secret=new_secret())
    session.add(ep)
    session.flush()
    return ep


def update_endpoint(session: Session, ep: WebhookEndpoint, patch: EndpointPatch, *, settings: Settings) -> None:
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        changes["url"] = _checked_url(changes["url"], settings)
    if changes.get("enabled") and not ep.enabled:
        ep.disabled_reason = None
    elif changes.get("enabled") is False and ep.enabled:
        ep.disabled_reason = "disabled by an administrator"
    for key, value in changes.items():
        setattr(ep, key, value)
    session.flush()


def rotate_secret(session: Session, ep: WebhookEndpoint, *, settings: Settings, now: datetime) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (both signatures sent) for the overlap window."""
    ep.previous_secret, ep.secret = ep.secret, new_secret()
    ep.previous_secret_expires_at = now + timedelta(hours=settings.webhook_rotation_hours)
    session.flush()
    return ep


def redeliver_dead(session: Session, endpoint_id: int, now: datetime) -> int:
    """Put every dead delivery of an endpoint back in the queue (after the receiver is fixed)."""
    dead = session.scalars(select(Delivery).where(Delivery.endpoint_id == endpoint_id, Delivery.status == "dead"))
    n = 0
    for d in dead:
        redeliver(session, d, now)
        n += 1
    return n

