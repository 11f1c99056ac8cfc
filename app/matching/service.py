"""Live matching: items not yet matched go through the engine; clock ticks evaluate windowed rules."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.models import Item
from app.matching.compiler import AliasAddition, CompiledLibrary
from app.matching.engine import Engine, ItemInput, Outcome
from app.matching.loader import load_library
from app.matching.models import GazetteerAddition
from app.matching.sqlstore import SqlStore

log = logging.getLogger(__name__)
_MATCH_LOCK_KEY = 0x57_46_4D  # "WFM": one matcher at a time across workers (windowed state is shared)


class LibraryHolder:
    """The compiled library, rebuilt when the files or the officers' gazetteer additions change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._lib: CompiledLibrary | None = None

    def get(self, session: Session) -> CompiledLibrary:
        files = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in self.root.rglob("*.yaml")))
        additions_key = session.scalar(select(func.count(GazetteerAddition.id))) or 0
        key = (files, additions_key)
        with self._lock:
            if self._key != key or self._lib is None:
                additions = [AliasAddition(a.entity_id, a.name, a.alias, tuple(a.roles or ()))
                             for a in session.scalars(select(GazetteerAddition).order_by(GazetteerAddition.id))]
                self._lib = CompiledLibrary(load_library(self.root), additions)
                self._key = key
                log.info("indicator library %s loaded (%d indicators)", self._lib.version, len(self._lib.rules))
            return self._lib


@dataclass
class MatchReport:
    items: int = 0
    duplicates: int = 0
    hit_ids: list[int] = field(default_factory=list)
    level_changes: int = 0


def _serialize(session: Session) -> None:
    """Windowed rules read and write shared state: on PostgreSQL, matching is one worker at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MATCH_LOCK_KEY})


def match_pending(session: Session, lib: CompiledLibrary, *, limit: int, now: datetime | None = None) -> MatchReport:
    """Match up to `limit` unmatched items in event-time order; duplicates are marked, not matched."""
    _serialize(session)
    now = now or utcnow()
    store = SqlStore(session, lib.version)
    engine = Engine(lib, store)
    report = MatchReport()
    items = session.scalars(select(Item).where(Item.matched_at.is_(None)).order_by(Item.published_at, Item.id)
                            .limit(limit)).all()
    for item in items:
        if item.duplicate_of_id is None:
            out = engine.process(ItemInput(item.id, item.published_at, item.title, item.summary, item.content))
            _collect(out, report)
            report.items += 1
        else:
            report.duplicates += 1
        item.matched_at = now
        item.library_version = lib.version
    session.flush()
    return report


def clock_tick(session: Session, lib: CompiledLibrary, now: datetime | None = None) -> MatchReport:
    """Evaluate clock-driven rules (absence, episode ends, level decay) at wall-clock time."""
    _serialize(session)
    report = MatchReport()
    _collect(Engine(lib, SqlStore(session, lib.version)).tick(now or utcnow()), report)
    return report


def _collect(out: Outcome, report: MatchReport) -> None:
    report.hit_ids += [hit_id for _, hit_id in out.firings]
    report.level_changes += len(out.levels)
