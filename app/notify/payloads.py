"""The versioned JSON every webhook carries (documented in docs/delivery.md, schemas in docs/schemas/)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertEvent, AlertHit
from app.ingest.models import Item
from app.matching.loader import LibraryError
from app.matching.models import Hit, ScenarioLevelEvent
from app.matching.scenarios import LEVELS
from app.matching.schema import SEVERITIES

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
ALERT_CREATED, ALERT_UPDATED, LEVEL_CHANGED = "alert.created", "alert.updated", "scenario.level_changed"
NOTIFICATION = "notification.immediate"
EVENT_TYPES = (ALERT_CREATED, ALERT_UPDATED, LEVEL_CHANGED)
ESCALATED_STATUS = "escalated"


def event_id(secret: str, source: str) -> str:
    """A stable webhook-id for a source row: the same on every retry, different on every installation."""
    mac = hmac.new(secret.encode(), source.encode(), hashlib.sha256).digest()
    return "msg_" + base64.b32encode(mac).decode().rstrip("=").lower()[:26]


def envelope(event_id_: str, type_: str, occurred_at: datetime, data: dict) -> bytes:
    """The request body: Standard Webhooks' `type`/`timestamp`/`data` plus our id and payload version."""
    doc = {"id": event_id_, "type": type_, "version": PAYLOAD_VERSION, "timestamp": iso(occurred_at), "data": data}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def iso(at: datetime | None) -> str | None:
    """UTC times end in Z in every payload."""
    return at.isoformat().replace("+00:00", "Z") if at else None


class Names:
    """Indicator and scenario names and memberships from the loaded library (ids alone when it is broken)."""

    def __init__(self, lib) -> None:
        self.indicators = lib.library.indicators if lib else {}
        self.scenarios = lib.library.scenarios if lib else {}

    def indicator_name(self, indicator_id: str) -> str:
        ind = self.indicators.get(indicator_id)
        return ind.name if ind else indicator_id

    def scenarios_of(self, indicator_id: str) -> list[str]:
        ind = self.indicators.get(indicator_id)
        if ind is None:
            return []
        return sorted(self.scenarios) if "*" in ind.scenarios else list(ind.scenarios)

    def scenario_name(self, scenario_id: str) -> str:
        sc = self.scenarios.get(scenario_id)
        return sc.name if sc else scenario_id


def names_for(ctx, session: Session) -> Names:
    """Names from the context's library; a broken library must not stop delivery, so ids stand in."""
    try:
        return Names(ctx.library.get(session))
    except LibraryError as e:
        log.warning("indicator library unavailable, events carry ids only: %s", e)
        return Names(None)


def alert_url(base_url: str, alert_id: int) -> str:
    return f"{base_url.rstrip('/')}/alerts/{alert_id}"


def evidence(session: Session, alert_id: int) -> dict:
    """The latest hit's snippet and terms, with the item it came from (if any)."""
    hit = session.scalar(select(Hit).join(AlertHit, AlertHit.hit_id == Hit.id).where(AlertHit.alert_id == alert_id)
                         .order_by(Hit.at.desc(), Hit.id.desc()).limit(1))
    if hit is None:
        return {"snippet": "", "terms": {}, "item": None}
    ev = hit.evidence or {}
    item = session.get(Item, hit.item_id) if hit.item_id else None
    return {
        "snippet": ev.get("snippet", ""),
        "terms": ev.get("terms", {}),
        "hit_at": iso(hit.at),
        "item": {"id": item.id, "title": item.title, "url": item.url, "source": item.source,
                 "published_at": iso(item.published_at)} if item else None,
    }


def alert_data(session: Session, alert: Alert, names: Names, base_url: str, now: datetime) -> dict:
    """The alert as it stands when the event is collected; `silenced` means a silence mutes it right now."""
    return {
        "id": alert.id,
        "url": alert_url(base_url, alert.id),
        "title": alert.title,
        "indicator": {"id": alert.indicator_id, "name": names.indicator_name(alert.indicator_id)},
        "scenarios": names.scenarios_of(alert.indicator_id),
        "severity": alert.severity,
        "status": alert.status,
        "silenced": alert.muted(now),
        "assignee": alert.assignee,
        "hit_count": alert.hit_count,
        "story_id": alert.story_id,
        "first_seen_at": iso(alert.first_seen_at),
        "last_seen_at": iso(alert.last_seen_at),
        "library_version": alert.library_version,
        "evidence": evidence(session, alert.id),
    }


def change_data(ev: AlertEvent) -> dict:
    return {"action": ev.action, "from": ev.from_value, "to": ev.to_value, "actor": ev.actor, "note": ev.note,
            "at": iso(ev.at)}


def escalates(ev: AlertEvent) -> bool:
    """Status moved to escalated, or severity went up (by a new hit or an officer)."""
    if ev.action == "status":
        return ev.to_value == ESCALATED_STATUS
    return ev.action == "severity" and severity_rank(ev.to_value) > severity_rank(ev.from_value)


def severity_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def level_rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def level_data(ev: ScenarioLevelEvent, names: Names) -> dict:
    up = level_rank(ev.level) > level_rank(ev.previous)
    return {
        "scenario": {"id": ev.scenario_id, "name": names.scenario_name(ev.scenario_id)},
        "level": ev.level,
        "previous": ev.previous,
        "direction": "up" if up else "down",
        "score": ev.score,
        "reasons": ev.reasons or [],
        "at": iso(ev.at),
        "library_version": ev.library_version,
        "note": ev.note,
    }
