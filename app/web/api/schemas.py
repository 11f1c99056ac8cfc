"""Response models of the JSON API (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class HitOut(BaseModel):
    id: int
    indicator_id: str
    kind: str
    at: datetime
    severity: str
    item_id: int | None
    item_ids: list
    evidence: dict
    library_version: str


class HitPage(BaseModel):
    items: list[HitOut]
    next_cursor: str | None


class ItemOut(BaseModel):
    id: int
    source: str
    external_id: str | None
    url: str | None
    title: str
    summary: str
    content: str
    published_at: datetime
    fetched_at: datetime
    lang: str | None
    duplicate_of_id: int | None
    matched_at: datetime | None


class ItemCreated(BaseModel):
    id: int
    created: bool
    duplicate_of_id: int | None


class FeedOut(BaseModel):
    key: str
    title: str
    url: str
    enabled: bool
    reliability: str
    poll_interval: int
    next_check_at: datetime
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_status: int | None
    last_error: str | None
    consecutive_failures: int
    parse_warning: str | None
    items: int
    healthy: bool


class IndicatorOut(BaseModel):
    id: str
    name: str
    kind: str
    scenarios: list[str]
    severity: str
    source: str
    hits: int
    last_hit_at: datetime | None


class LevelEventOut(BaseModel):
    at: datetime
    level: str
    previous: str | None
    score: float
    reasons: list


class ScenarioOut(BaseModel):
    id: str
    name: str
    level: str
    score: float
    as_of: datetime
    indicators: list[dict]
    history: list[LevelEventOut]
