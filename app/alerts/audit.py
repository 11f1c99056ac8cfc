"""The audit trail: every change to an alert is an AlertEvent (who, when, what, from, to).

Actions: created, hit_added, status, assignee, severity, note, silenced, unsilenced, name_review.
Delivery reads these rows to notify, so a change that is not recorded here is never announced.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertEvent
from app.db import utcnow


def record(session: Session, alert: Alert, action: str, actor: str, *, from_value: str | None = None,
           to_value: str | None = None, note: str | None = None, at: datetime | None = None) -> AlertEvent:
    event = AlertEvent(alert_id=alert.id, at=at or utcnow(), actor=actor[:200], action=action,
                       from_value=None if from_value is None else str(from_value)[:200],
                       to_value=None if to_value is None else str(to_value)[:200], note=note)
    session.add(event)
    return event
