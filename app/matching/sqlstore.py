"""The Store over the service database: windowed rules read hits, state and sightings from here."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ingest.models import Item
from app.matching.models import Hit, Observation, RuleState, ScenarioLevelEvent, Sighting
from app.matching.schema import ITEM_KINDS


class SqlStore:
    """Store backed by the session it is given; it flushes, the caller commits (one transaction per tick)."""

    def __init__(self, session: Session, library_version: str) -> None:
        self.session = session
        self.version = library_version
        self._state: dict[tuple[str, str], RuleState | None] = {}

    def add_hit(self, firing) -> int:
        item_ids = [i for i in firing.item_ids if isinstance(i, int)]
        hit = Hit(
            indicator_id=firing.indicator_id, kind=firing.kind, at=firing.at, severity=firing.severity,
            item_id=item_ids[0] if firing.kind in ITEM_KINDS and item_ids else None,
            item_ids=item_ids, evidence=firing.evidence, library_version=self.version,
        )
        self.session.add(hit)
        self.session.flush()
        return hit.id

    def hits(self, indicator_ids, since, until):
        rows = self.session.execute(
            select(Hit.at, Hit.item_ids).where(Hit.indicator_id.in_(indicator_ids), Hit.at > since, Hit.at <= until)
            .order_by(Hit.at)
        )
        return [(at, list(ids or [])) for at, ids in rows]

    def count_hits(self, indicator_ids, since, until) -> int:
        return self.session.scalar(
            select(func.count()).select_from(Hit)
            .where(Hit.indicator_id.in_(indicator_ids), Hit.at > since, Hit.at <= until)
        ) or 0

    def last_hit_at(self, indicator_ids, until):
        return self.session.scalar(
            select(func.max(Hit.at)).where(Hit.indicator_id.in_(indicator_ids), Hit.at <= until)
        )

    def distinct_indicators(self, indicator_ids, since, until):
        out: dict[str, list] = defaultdict(list)
        rows = self.session.execute(
            select(Hit.indicator_id, Hit.item_ids)
            .where(Hit.indicator_id.in_(indicator_ids), Hit.at > since, Hit.at <= until)
        )
        for ind, ids in rows:
            out[ind].extend(ids or [])
        return dict(out)

    def count_by_indicator(self, indicator_ids, since, until) -> dict[str, int]:
        rows = self.session.execute(
            select(Hit.indicator_id, func.count())
            .where(Hit.indicator_id.in_(indicator_ids), Hit.at > since, Hit.at <= until)
            .group_by(Hit.indicator_id)
        )
        return dict(rows.all())

    def indicators_with_hits(self, indicator_ids, since, until) -> frozenset[str]:
        return frozenset(self.session.scalars(
            select(Hit.indicator_id).distinct()
            .where(Hit.indicator_id.in_(indicator_ids), Hit.at > since, Hit.at <= until)
        ))

    def add_observation(self, indicator_id, topic, key, item_id, at) -> None:
        self.session.add(Observation(indicator_id=indicator_id, topic=topic, key=key,
                                     item_id=item_id if isinstance(item_id, int) else None, at=at))
        self.session.flush()

    def observation_keys(self, indicator_id, topic, since, until) -> dict:
        out: dict[str, list] = defaultdict(list)
        rows = self.session.execute(
            select(Observation.key, Observation.item_id)
            .where(Observation.indicator_id == indicator_id, Observation.topic == topic,
                   Observation.at > since, Observation.at <= until)
        )
        for key, item_id in rows:
            out[key].append(item_id)
        return dict(out)

    def _row(self, indicator_id, key) -> RuleState | None:
        k = (indicator_id, key)
        if k not in self._state:
            self._state[k] = self.session.get(RuleState, k)
        return self._state[k]

    def get_state(self, indicator_id, key):
        row = self._row(indicator_id, key)
        return dict(row.value) if row is not None else None

    def set_state(self, indicator_id, key, value) -> None:
        row = self._row(indicator_id, key)
        if row is None:
            row = RuleState(indicator_id=indicator_id, key=key, value=value)
            self.session.add(row)
            self._state[(indicator_id, key)] = row
        else:
            row.value = value
        self.session.flush()

    def sightings(self, indicator_id) -> list[dict]:
        rows = self.session.scalars(select(Sighting).where(Sighting.indicator_id == indicator_id,
                                                           Sighting.status != "alias"))
        return [{"name": s.name, "norm": s.norm, "status": s.status} for s in rows]

    def add_sighting(self, indicator_id, name, norm, item_id, at) -> None:
        self.session.add(Sighting(indicator_id=indicator_id, name=name, norm=norm,
                                  first_item_id=item_id if isinstance(item_id, int) else None,
                                  first_seen_at=at, last_seen_at=at))
        self.session.flush()

    def touch_sighting(self, indicator_id, norm, at) -> None:
        s = self.session.scalar(select(Sighting).where(Sighting.indicator_id == indicator_id, Sighting.norm == norm))
        if s is not None:
            s.times_seen += 1
            s.last_seen_at = max(s.last_seen_at, at)

    def observed_since(self) -> datetime | None:
        return self.session.scalar(select(func.min(Item.published_at)).where(Item.duplicate_of_id.is_(None)))

    def items_between(self, since, until) -> int:
        return self.session.scalar(
            select(func.count()).select_from(Item)
            .where(Item.duplicate_of_id.is_(None), Item.published_at > since, Item.published_at <= until)
        ) or 0

    def record_level(self, change) -> None:
        self.session.add(ScenarioLevelEvent(
            scenario_id=change.scenario_id, at=change.at, level=change.level, previous=change.previous,
            score=change.score, reasons=change.reasons, library_version=self.version))
        self.session.flush()
