"""Request and response models of the alerts API (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.web.api.schemas import HitOut


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SourceOut(BaseModel):
    key: str
    title: str
    reliability: str
    items: list[int]


class AlertOut(Orm):
    id: int
    indicator_id: str
    story_id: int | None
    status: str
    severity: str
    title: str
    first_seen_at: datetime
    last_seen_at: datetime
    hit_count: int
    assignee: str | None
    dismiss_reason: str | None
    silenced: bool
    silenced_until: datetime | None
    muted: bool = Field(description="hidden from the default inbox by a silence right now")
    library_version: str
    sources: list[SourceOut] = Field(description="independent sources corroborating the story, best grade first")


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class EventOut(Orm):
    id: int
    at: datetime
    actor: str
    action: str
    from_value: str | None
    to_value: str | None
    note: str | None


class HitEvidenceOut(HitOut, Orm):
    """A hit behind an alert: the API's hit shape, readable from the ORM row."""


class NameOut(BaseModel):
    name: str
    found_by: str
    status: str
    entity_id: str | None


class AlertDetailOut(BaseModel):
    alert: AlertOut
    scenarios: list[str]
    hits: list[HitEvidenceOut]
    events: list[EventOut]
    names: list[NameOut]


class StatusIn(BaseModel):
    action: Literal["acknowledge", "escalate", "dismiss", "resolve", "reopen"]
    reason: str | None = Field(None, description="required to dismiss: why it is a false positive")


class AssignIn(BaseModel):
    assignee: str | None = Field(description="an officer's username, or null to unassign")


class SeverityIn(BaseModel):
    severity: Literal["info", "low", "medium", "high", "critical"]


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)


class NameReviewIn(BaseModel):
    name: str
    decision: Literal["entity", "alias", "dismiss"]
    entity_id: str | None = Field(None, description="for `alias`: the gazetteer entity the name belongs to")
    roles: list[str] | None = Field(None, description="for `entity`: gazetteer roles (default proxy-group)")


class BulkIn(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=1000)
    action: Literal["acknowledge", "escalate", "dismiss", "resolve", "reopen", "assign"]
    reason: str | None = None
    assignee: str | None = None


class BulkOut(BaseModel):
    done: list[int]
    skipped: dict[int, str]


class SilenceIn(BaseModel):
    kind: Literal["indicator", "term", "actor", "feed"]
    target: str = Field(description="indicator id, term, gazetteer entity id or feed key")
    reason: str
    ends_at: datetime | None = Field(None, description="when it ends; or give duration_minutes")
    duration_minutes: int | None = Field(None, ge=1, le=527_040)


class SilenceOut(Orm):
    id: int
    target_kind: str
    target: str
    reason: str
    created_by: str
    starts_at: datetime
    ends_at: datetime
    ended_by: str | None
    active: bool


class ViewIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    query: str = Field("", description="inbox query string, e.g. status=new&severity=high")


class ViewOut(Orm):
    id: int
    name: str
    query: str


class IndicatorStateOut(BaseModel):
    id: str
    name: str
    kind: str
    severity: str
    state: Literal["quiet", "watch", "tripped"]
    trend: list[int] = Field(description="hits per UTC day, oldest first, ending on the as-of day")
    last_hit_at: datetime | None
    last_alert_id: int | None


class LevelPointOut(BaseModel):
    at: datetime
    level: str


class ScenarioStateOut(BaseModel):
    id: str
    name: str
    level: str
    score: float
    thresholds: dict[str, float]
    history: list[LevelPointOut]
    indicators: list[IndicatorStateOut]


class BoardOut(BaseModel):
    as_of: datetime
    latest_event_at: datetime | None
    scenarios: list[ScenarioStateOut]


class FeedHealthOut(BaseModel):
    key: str
    title: str
    reliability: str
    state: str
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_check_at: datetime
    backing_off: bool
    items_total: int
    items_per_day: list[int]
