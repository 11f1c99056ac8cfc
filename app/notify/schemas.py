"""Request and response models of the delivery API (documented in the OpenAPI schema)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

from app.alerts.triage import STATUSES
from app.matching.schema import SEVERITIES
from app.notify.payloads import EVENT_TYPES

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
EventType = Literal[EVENT_TYPES]
Severity = Literal[SEVERITIES]
Status = Literal[STATUSES]


class Filters(BaseModel):
    """Empty lists mean "all"."""

    scenarios: list[str] = Field([], description="scenario ids")
    indicators: list[str] = Field([], description="indicator ids")
    min_severity: Severity = "info"
    statuses: list[Status] = Field([], description="alert statuses, e.g. new, acknowledged, escalated")


def _zone(v: str | None) -> str | None:
    if v is not None:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
    return v


def _email(v: str | None) -> str | None:
    if v is not None:
        v = v.strip()
        if not EMAIL.match(v) or len(v) > 320:
            raise ValueError("not an email address")
    return v


class SubscriptionIn(Filters):
    """An email address or a webhook endpoint; a daily digest (email only) or immediate notifications."""

    name: str = Field("", max_length=200)
    email: str | None = None
    endpoint_id: int | None = None
    mode: Literal["digest", "immediate"]
    digest_time: str | None = Field(None, pattern=HHMM, description="local time HH:MM (default from settings)")
    timezone: str | None = Field(None, description="IANA time zone, e.g. Europe/Berlin (default from settings)")
    send_empty: bool | None = Field(None, description="send a 'nothing new' digest too (default from settings)")

    _zone = field_validator("timezone")(_zone)
    _email = field_validator("email")(_email)

    @model_validator(mode="after")
    def _one_recipient(self):
        if (self.email is None) == (self.endpoint_id is None):
            raise ValueError("give exactly one recipient: email or endpoint_id")
        if self.endpoint_id is not None and self.mode == "digest":
            raise ValueError("digests are emails; a webhook endpoint subscribes in immediate mode")
        return self


class SubscriptionPatch(BaseModel):
    """Fields to change; a new email address has to be confirmed again."""

    name: str | None = Field(None, max_length=200)
    email: str | None = None
    mode: Literal["digest", "immediate"] | None = None
    digest_time: str | None = Field(None, pattern=HHMM)
    timezone: str | None = None
    send_empty: bool | None = None
    scenarios: list[str] | None = None
    indicators: list[str] | None = None
    min_severity: Severity | None = None
    statuses: list[Status] | None = None

    _zone = field_validator("timezone")(_zone)
    _email = field_validator("email")(_email)


class SubscriptionOut(BaseModel):
    id: int
    name: str
    channel: str
    email: str | None
    endpoint_id: int | None
    mode: str
    digest_time: str
    timezone: str
    send_empty: bool
    scenarios: list[str]
    indicators: list[str]
    min_severity: str
    statuses: list[str]
    active: bool
    confirmed_at: datetime | None
    confirm_sent_at: datetime | None
    unsubscribed_at: datetime | None
    created_at: datetime


class LedgerOut(BaseModel):
    period: str
    state: str
    window_start: datetime
    window_end: datetime
    message_id: str
    attempts: int
    claimed_at: datetime
    sent_at: datetime | None
    error: str | None


class EndpointIn(BaseModel):
    url: str = Field(max_length=2000)
    description: str = ""
    event_types: list[EventType] = Field(list(EVENT_TYPES), description="events it receives; [] for none "
                                         "(only the notification.immediate of subscriptions pointing at it)")
    enabled: bool = True


class EndpointPatch(BaseModel):
    url: str | None = Field(None, max_length=2000)
    description: str | None = None
    event_types: list[EventType] | None = None
    enabled: bool | None = None


class EndpointOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime


class EndpointSecret(BaseModel):
    secret: str
    previous_secret_expires_at: datetime | None


class EndpointCreated(EndpointOut):
    secret: str


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    outcome: str
    status_code: int | None
    latency_ms: int
    response: str
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    webhook_id: str
    event_type: str
    endpoint_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    payload: dict
    log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class Redelivered(BaseModel):
    redelivered: int
