"""What matching writes: hits with evidence, rule state, name sightings and scenario levels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Hit(Base):
    """One firing of one indicator: on an item (per-item kinds) or over a window (windowed kinds)."""

    __tablename__ = "hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    item_ids: Mapped[list] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    severity: Mapped[str] = mapped_column(String(10))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    library_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_hits_indicator_at", "indicator_id", "at"),
        Index("ix_hits_at_id", "at", "id"),
        Index("ix_hits_item", "item_id"),
    )


class Observation(Base):
    """A keyed sighting inside a windowed rule (e.g. an actor tied to a topic), counted distinct later."""

    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_observations_lookup", "indicator_id", "topic", "at"),)


class RuleState(Base):
    """Persisted state of a windowed rule (open episode, last fire) so restarts neither forget nor re-flood."""

    __tablename__ = "rule_state"

    indicator_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Sighting(Base):
    """A candidate militia name first seen by new_entity; reviewed by officers into the gazetteer."""

    __tablename__ = "sightings"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    norm: Mapped[str] = mapped_column(String(300))
    first_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="new")  # new | confirmed | alias | dismissed
    entity_id: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("indicator_id", "norm", name="uq_sightings_indicator_norm"),)


class GazetteerAddition(Base):
    """An entity or alias an officer added at run time; merged into the library without a restart."""

    __tablename__ = "gazetteer_additions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    alias: Mapped[str] = mapped_column(String(300))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScenarioLevelEvent(Base):
    """A change of a scenario's warning level, with the indicators behind it."""

    __tablename__ = "scenario_level_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[str] = mapped_column(String(20))
    previous: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(default=0.0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    library_version: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_level_events_scenario_at", "scenario_id", "at"),)
