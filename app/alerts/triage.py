"""The triage workflow: new → acknowledged → escalated / dismissed (with a reason) / resolved.

Closed alerts (dismissed, resolved) can be reopened, which puts them back to acknowledged: someone
has looked at them already. Every change (status, assignee, severity, note) is an AlertEvent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.alerts.audit import record
from app.alerts.models import Alert, AlertEvent
from app.matching.schema import SEVERITIES

STATUSES = ("new", "acknowledged", "escalated", "dismissed", "resolved")
OPEN = ("new", "acknowledged", "escalated")
# action -> (statuses it applies to, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("new",), "acknowledged"),
    "escalate": (("new", "acknowledged"), "escalated"),
    "dismiss": (OPEN, "dismissed"),
    "resolve": (OPEN, "resolved"),
    "reopen": (("dismissed", "resolved"), "acknowledged"),
}
MAX_NOTE = 10_000


class TriageError(ValueError):
    """The change is not allowed or is incomplete; the message says why, for the officer."""


def _set(session: Session, alert: Alert, field: str, value: str | None, actor: str, now: datetime | None,
         note: str | None = None) -> None:
    """Record the change of one field in the audit trail, then make it."""
    record(session, alert, field, actor, from_value=getattr(alert, field), to_value=value, note=note, at=now)
    setattr(alert, field, value)
    session.flush()


def transition(session: Session, alert: Alert, action: str, actor: str, *, reason: str | None = None,
               now: datetime | None = None) -> None:
    """Apply a workflow action; dismissing needs a reason (why it is a false positive)."""
    if action not in TRANSITIONS:
        raise TriageError(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}")
    allowed, target = TRANSITIONS[action]
    if alert.status not in allowed:
        raise TriageError(f"alert #{alert.id} is {alert.status}; only {' or '.join(allowed)} alerts can {action}")
    reason = (reason or "").strip() or None
    if action == "dismiss":
        if reason is None:
            raise TriageError("dismissing needs a reason: why is this a false positive?")
        alert.dismiss_reason = reason
    elif action == "reopen":
        alert.dismiss_reason = None
    _set(session, alert, "status", target, actor, now, note=reason)


def assign(session: Session, alert: Alert, assignee: str | None, actor: str, now: datetime | None = None) -> None:
    """Give the alert to an officer (by username), or to nobody."""
    assignee = (assignee or "").strip().lower() or None
    if assignee is not None:
        user = session.scalar(select(User).where(User.username == assignee))
        if user is None or not user.can("officer"):
            raise TriageError(f"{assignee!r} is not an officer who can take alerts")
    if assignee != alert.assignee:
        _set(session, alert, "assignee", assignee, actor, now)


def set_severity(session: Session, alert: Alert, severity: str, actor: str, now: datetime | None = None) -> None:
    if severity not in SEVERITIES:
        raise TriageError(f"severity is one of {', '.join(SEVERITIES)}")
    if severity != alert.severity:
        _set(session, alert, "severity", severity, actor, now)


def add_note(session: Session, alert: Alert, body: str, actor: str, now: datetime | None = None) -> AlertEvent:
    """Notes live in the audit trail, so they are in order with the changes they explain."""
    body = body.strip()
    if not body:
        raise TriageError("a note needs some text")
    if len(body) > MAX_NOTE:
        raise TriageError(f"a note is at most {MAX_NOTE} characters")
    event = record(session, alert, "note", actor, note=body, at=now)
    session.flush()
    return event


@dataclass
class BulkResult:
    """Which alerts a bulk action changed, and why the others were left alone."""

    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def bulk(session: Session, alert_ids: list[int], action: str, actor: str, *, reason: str | None = None,
         assignee: str | None = None, now: datetime | None = None) -> BulkResult:
    """One action over many alerts; an alert the action does not apply to is skipped, not an error."""
    if action != "assign" and action not in TRANSITIONS:
        raise TriageError(f"unknown action {action!r}; one of assign, {', '.join(TRANSITIONS)}")
    if action == "dismiss" and not (reason or "").strip():
        raise TriageError("dismissing needs a reason: why are these false positives?")
    result = BulkResult()
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))}
    for alert_id in dict.fromkeys(alert_ids):
        alert = alerts.get(alert_id)
        if alert is None:
            result.skipped[alert_id] = "no such alert"
            continue
        try:
            if action == "assign":
                assign(session, alert, assignee, actor, now)
            else:
                transition(session, alert, action, actor, reason=reason, now=now)
            result.done.append(alert_id)
        except TriageError as e:
            result.skipped[alert_id] = str(e)
    return result
