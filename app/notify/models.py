"""Delivery state as rows: subscriptions, endpoints, the outbox, deliveries and the digest ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


def _where(condition: str) -> dict:
    """A partial-index predicate both backends understand (kept small so the hot queries stay cheap)."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class NotifyCursor(Base):
    """How far the collector has read a source table, and the lower ids it still waits for (open transactions)."""

    __tablename__ = "notify_cursors"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookEndpoint(Base):
    """A URL of another service that receives signed events; the previous secret still signs during a rotation."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(Text, default="")
    event_types: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Subscription(Base):
    """Who is told what, and when: an email address or an endpoint, filters, digest or immediate."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    email: Mapped[str | None] = mapped_column(String(320))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(10))  # digest | immediate
    digest_time: Mapped[str] = mapped_column(String(5), default="07:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    send_empty: Mapped[bool] = mapped_column(default=True)
    scenarios: Mapped[list] = mapped_column(JSON, default=list)
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    min_severity: Mapped[str] = mapped_column(String(10), default="info")
    statuses: Mapped[list] = mapped_column(JSON, default=list)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_subscriptions_mode", "mode", "channel"),)

    @property
    def active(self) -> bool:
        """Receives mail or webhooks now: not unsubscribed and, for email, confirmed."""
        return self.unsubscribed_at is None and (self.channel != "email" or self.confirmed_at is not None)


class OutboxEvent(Base):
    """One event for the outside world, written once per source row; `event_id` is the webhook-id."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(60), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    indicator_id: Mapped[str | None] = mapped_column(String(100))
    scenario_ids: Mapped[list] = mapped_column(JSON, default=list)
    severity: Mapped[str | None] = mapped_column(String(10))
    silenced: Mapped[bool] = mapped_column(default=False)
    escalated: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    target_endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_outbox_events_unfanned", "id", **_where("fanned_out_at IS NULL")),
        Index("ix_outbox_events_unrouted", "id", **_where("routed_at IS NULL")),
        Index("ix_outbox_events_occurred", "occurred_at", "id"),
        Index("ix_outbox_events_alert", "alert_id", "id"),
    )


class Delivery(Base):
    """One event owed to one endpoint: pending until a 2xx, dead after the retry schedule."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | succeeded | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_deliveries_event_endpoint"),
        Index("ix_deliveries_due", "endpoint_id", "next_attempt_at", **_where("status = 'pending'")),
        Index("ix_deliveries_created", "created_at", "id"),
        Index("ix_deliveries_endpoint", "endpoint_id", "created_at", "id"),
    )


class DeliveryAttempt(Base):
    """The log of one HTTP attempt: what came back, how long it took, the start of the response."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))  # success | http_error | redirect | timeout | network | refused
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_delivery_attempts_delivery", "delivery_id", "id"),)


class DigestLedger(Base):
    """One row per subscriber per digest period, claimed before sending: the unique key is the exactly-once."""

    __tablename__ = "digest_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))  # the subscriber's local date, YYYY-MM-DD
    state: Mapped[str] = mapped_column(String(12))  # claimed | transmitting | sent | skipped | uncertain | superseded
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[str] = mapped_column(String(200))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("subscription_id", "period", name="uq_digest_ledger_subscription_period"),
        Index("ix_digest_ledger_open", "state", "lease_until"),
    )


class NotificationGroup(Base):
    """Events gathered for one immediate message, sent when its group wait is over (Alertmanager's group)."""

    __tablename__ = "notification_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | sending | sent | dropped
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_notification_groups_due", "send_after", **_where("state = 'open'")),
        Index("uq_notification_groups_open", "subscription_id", unique=True, **_where("state = 'open'")),
    )


class NotificationItem(Base):
    """An event routed to a subscription's group; the key makes routing idempotent."""

    __tablename__ = "notification_items"

    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"),
                                                 primary_key=True)
    outbox_event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"),
                                                 primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("notification_groups.id", ondelete="CASCADE"), index=True)
