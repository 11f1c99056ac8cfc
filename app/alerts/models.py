"""Stories (clusters of items about one event), alerts (one per indicator per story), their audit trail,
silences and the officers' saved inbox views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Story(Base):
    """Items from different feeds about the same event, so corroboration is counted, not repeated."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    signature: Mapped[list] = mapped_column(JSON, default=list)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_stories_last_seen", "last_seen_at"),)


class StoryItem(Base):
    """Membership of an item in a story."""

    __tablename__ = "story_items"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_story_items_item", "item_id"),)


class Alert(Base):
    """What a watch officer triages: an indicator firing on a story (or a windowed firing)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(100))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    group_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="new")
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hit_count: Mapped[int] = mapped_column(Integer, default=1)
    silenced: Mapped[bool] = mapped_column(default=False)  # a silence matched; muted only until silenced_until
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    silence_id: Mapped[int | None] = mapped_column(ForeignKey("silences.id", ondelete="SET NULL"))
    assignee: Mapped[str | None] = mapped_column(String(200))
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    library_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("group_key", name="uq_alerts_group_key"),
        Index("ix_alerts_inbox", "status", "last_seen_at", "id"),
        Index("ix_alerts_last_seen_id", "last_seen_at", "id"),
        Index("ix_alerts_indicator", "indicator_id", "last_seen_at"),
        Index("ix_alerts_assignee", "assignee", "last_seen_at"),
        Index("ix_alerts_story", "story_id"),
    )

    def muted(self, now: datetime) -> bool:
        """Hidden from the default inbox: a silence matched it and has not ended (expiry needs no job)."""
        return self.silenced and self.silenced_until is not None and self.silenced_until > now


class AlertSource(Base):
    """The feeds (or push sources) behind an alert's hits, so the inbox filters by source without joins."""

    __tablename__ = "alert_sources"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)


class AlertHit(Base):
    """The hits behind an alert."""

    __tablename__ = "alert_hits"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id", ondelete="CASCADE"), primary_key=True)


class AlertEvent(Base):
    """Audit trail of an alert: who changed what, when, from and to."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_alert_events_alert", "alert_id", "at"),)


class Silence(Base):
    """A mute on an indicator, a term, an actor or a feed for a period, with a reason (Alertmanager style).

    Hits are still stored and alerts still made; alerts the silence matches are hidden from the default
    inbox until `ends_at`. `aliases` keeps the folded names of an actor as they were when it was created.
    """

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(20))  # indicator | term | actor | feed
    target: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class SavedView(Base):
    """A named inbox filter (its query string) that an officer returns to."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_views_owner_name"),)
