"""The item format shared by the push API and backtest files."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ItemIn(BaseModel):
    """One item as other services push it and backtests read it; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=500, description="the sender's id for the item (idempotency key)")
    title: str = Field("", max_length=2000)
    summary: str = Field("", max_length=100_000)
    content: str = Field("", max_length=1_000_000)
    published: AwareDatetime = Field(description="event time, ISO 8601 with a time zone")
    source: str = Field("api", min_length=1, max_length=200)
    url: str | None = Field(None, max_length=2000)
    lang: str | None = Field(None, max_length=20)

    def published_utc(self) -> datetime:
        from datetime import UTC

        return self.published.astimezone(UTC)
