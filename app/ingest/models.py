"""Feeds (with their polling state) and the items they yield."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Feed(Base):
    """A polled source; its polling state lives on the row (Miniflux style)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(2000))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_interval: Mapped[int] = mapped_column(Integer, default=900)
    reliability: Mapped[str] = mapped_column(String(1), default="F")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    in_catalog: Mapped[bool] = mapped_column(Boolean, default=True)

    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    parse_warning: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_feeds_due", "enabled", "next_check_at"),)


class Item(Base):
    """One news item, from a feed or pushed over the API; duplicates point at their first copy."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(500))
    guid: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(2000))
    url_norm: Mapped[str | None] = mapped_column(String(2000))
    fingerprint: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(300))
    lang: Mapped[str | None] = mapped_column(String(20))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    library_version: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        UniqueConstraint("feed_id", "guid", name="uq_items_feed_guid"),
        UniqueConstraint("source", "external_id", name="uq_items_source_external_id"),
        Index("ix_items_url_norm", "url_norm"),
        Index("ix_items_duplicate_of", "duplicate_of_id"),
        Index("ix_items_fingerprint", "fingerprint"),
        Index("ix_items_pending", "matched_at", "published_at"),
        Index("ix_items_published", "published_at"),
    )
