"""New-name review: a name first seen by a `new_entity` indicator becomes an entity, an alias, or is dismissed.

The choice is stored on the name's Sighting, and additions to the gazetteer are GazetteerAddition rows,
which the matching library holder notices on its next use (no restart): the name then resolves like
any other alias, in `@role:` groups and in new-name resolution alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.audit import record
from app.alerts.models import Alert, AlertHit
from app.matching.models import GazetteerAddition, Hit, Sighting
from app.matching.names import fold_name

DECISIONS = ("entity", "alias", "dismiss")
DEFAULT_ROLES = ("proxy-group",)


class ReviewError(ValueError):
    """The review cannot be applied as asked; the message says why."""


@dataclass(frozen=True)
class NameUnderReview:
    """A name an alert's hits introduced, with its sighting (status new | confirmed | alias | dismissed)."""

    name: str
    found_by: str
    sighting: Sighting | None

    @property
    def status(self) -> str:
        return self.sighting.status if self.sighting is not None else "new"


def names_of(session: Session, alert: Alert) -> list[NameUnderReview]:
    """The candidate names behind a new_entity alert, in the order they were found."""
    hits = session.scalars(select(Hit).join(AlertHit, AlertHit.hit_id == Hit.id)
                           .where(AlertHit.alert_id == alert.id, Hit.kind == "new_entity").order_by(Hit.at)).all()
    out: dict[str, NameUnderReview] = {}
    for hit in hits:
        for n in (hit.evidence or {}).get("names", []):
            norm = fold_name(n["name"])
            if norm not in out:
                sighting = session.scalar(select(Sighting).where(Sighting.indicator_id == hit.indicator_id,
                                                                 Sighting.norm == norm))
                out[norm] = NameUnderReview(n["name"], n.get("found_by", ""), sighting)
    return list(out.values())


def entity_slug(name: str) -> str:
    """An entity id from a name: ASCII letters and digits joined by hyphens (may be empty for Arabic)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower().replace("'", "")).strip("-")[:80]


def _free_id(session: Session, lib, wanted: str, fallback: str) -> str:
    base = wanted or fallback
    taken = set(lib.entities) | set(session.scalars(select(GazetteerAddition.entity_id)))
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def review_name(session: Session, lib, alert: Alert, name: str, decision: str, actor: str, *,
                entity_id: str | None = None, roles: list[str] | None = None) -> Sighting:
    """Apply an officer's decision on one name of a new_entity alert; returns the updated sighting."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision is one of {', '.join(DECISIONS)}")
    under = {fold_name(n.name): n for n in names_of(session, alert)}.get(fold_name(name))
    if under is None or under.sighting is None:
        raise ReviewError(f"{name!r} is not a new name of alert #{alert.id}")
    sighting = under.sighting
    if sighting.status != "new":
        raise ReviewError(f"{sighting.name!r} was already reviewed ({sighting.status})")
    if decision == "entity":
        roles = [r for r in (roles or DEFAULT_ROLES) if r]
        unknown = set(roles) - set(lib.role_index)
        if unknown:
            raise ReviewError(f"unknown role(s): {', '.join(sorted(unknown))}")
        new_id = _free_id(session, lib, entity_slug(sighting.name), f"entity-{sighting.id}")
        session.add(GazetteerAddition(entity_id=new_id, name=sighting.name, alias=sighting.name, roles=roles,
                                      created_by=actor))
        sighting.status, sighting.entity_id = "confirmed", new_id
    elif decision == "alias":
        entity = lib.entities.get(entity_id or "")
        if entity is None:
            raise ReviewError(f"no gazetteer entity {entity_id!r} to add the alias to")
        session.add(GazetteerAddition(entity_id=entity.id, name=entity.name, alias=sighting.name,
                                      roles=list(entity.roles), created_by=actor))
        sighting.status, sighting.entity_id = "alias", entity.id
    else:
        sighting.status = "dismissed"
    record(session, alert, "name_review", actor, from_value=sighting.name, to_value=_outcome(sighting))
    session.flush()
    return sighting


def _outcome(sighting: Sighting) -> str:
    if sighting.status == "confirmed":
        return f"new entity {sighting.entity_id}"
    if sighting.status == "alias":
        return f"alias of {sighting.entity_id}"
    return "dismissed"
