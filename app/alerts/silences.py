"""Silences, as in Alertmanager: mute an indicator, a term, an actor or a feed for a while, with a reason.

Nothing is dropped: hits are stored and alerts made as usual; an alert is muted (hidden from the
default inbox, shown under "show silenced") while every hit behind it is covered by a silence. The
mute carries the silence's end time, so expiry needs no job: past `ends_at` the alert is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.alerts.audit import record
from app.alerts.models import Alert, AlertHit, AlertSource, Silence
from app.alerts.triage import OPEN
from app.ingest.models import Item
from app.matching.models import Hit
from app.matching.normalize import normalize

KINDS = ("indicator", "term", "actor", "feed")
MAX_DURATION = timedelta(days=366)


class SilenceError(ValueError):
    """A silence cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class HitFacts:
    """What silences look at in a hit: its indicator, its item's source and its folded text."""

    indicator_id: str
    source: str | None
    text: str


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def facts(hit: Hit, item: Item | None) -> HitFacts:
    """An item's hit is judged on the item's text; a windowed hit on the words of its evidence."""
    if item is not None:
        return HitFacts(hit.indicator_id, item.source, normalize(f"{item.title}\n{item.summary}\n{item.content}"))
    return HitFacts(hit.indicator_id, None, normalize(" \n ".join(_strings(hit.evidence or {}))))


def covers(silence: Silence, fact: HitFacts) -> bool:
    if silence.target_kind == "indicator":
        return fact.indicator_id == silence.target
    if silence.target_kind == "feed":
        return fact.source == silence.target
    names = silence.aliases if silence.target_kind == "actor" else [normalize(silence.target).strip()]
    return any(name and f" {name} " in fact.text for name in names)


def active_silences(session: Session, now: datetime) -> list[Silence]:
    return list(session.scalars(select(Silence).where(Silence.starts_at <= now, Silence.ends_at > now)
                                .order_by(Silence.ends_at.desc())))


def covering(silences: list[Silence], fact: HitFacts) -> Silence | None:
    """The longest-running silence that covers a hit, if any."""
    return next((s for s in silences if covers(s, fact)), None)


def mute(session: Session, alert: Alert, silence: Silence, actor: str, now: datetime) -> None:
    alert.silenced, alert.silenced_until, alert.silence_id = True, silence.ends_at, silence.id
    record(session, alert, "silenced", actor, to_value=silence.ends_at.isoformat(), at=now,
           note=f"silence #{silence.id} ({silence.target_kind} {silence.target}): {silence.reason}")


def unmute(session: Session, alert: Alert, actor: str, now: datetime, why: str) -> None:
    alert.silenced_until = now
    record(session, alert, "unsilenced", actor, from_value=f"silence #{alert.silence_id}", at=now, note=why)


def create_silence(session: Session, lib, *, kind: str, target: str, reason: str, ends_at: datetime, actor: str,
                   now: datetime) -> Silence:
    """Validate and store a silence, then mute the open alerts it covers."""
    target, reason = target.strip(), reason.strip()
    if kind not in KINDS:
        raise SilenceError(f"a silence mutes one of: {', '.join(KINDS)}")
    if not target:
        raise SilenceError(f"say which {kind} to silence")
    if not reason:
        raise SilenceError("a silence needs a reason, so the next watch knows why it is quiet")
    if not now < ends_at <= now + MAX_DURATION:
        raise SilenceError("a silence ends in the future, within a year")
    aliases: list[str] = []
    if kind == "indicator" and target not in lib.library.indicators:
        raise SilenceError(f"no indicator {target!r} in the library")
    if kind == "actor":
        entity = lib.entities.get(target)
        if entity is None:
            raise SilenceError(f"no gazetteer entity {target!r}")
        aliases = sorted({normalize(a).strip() for a in (entity.name, *entity.aliases)} - {""})
    if kind == "term" and not normalize(target).strip():
        raise SilenceError("the term has no letters or digits to match")
    silence = Silence(target_kind=kind, target=target, aliases=aliases, reason=reason, created_by=actor,
                      starts_at=now, ends_at=ends_at)
    session.add(silence)
    session.flush()
    apply_to_open_alerts(session, silence, actor, now)
    return silence


def apply_to_open_alerts(session: Session, silence: Silence, actor: str, now: datetime, batch: int = 500) -> int:
    """Mute the open, unmuted alerts all of whose hits the new silence covers; returns how many."""
    q = select(Alert.id).where(Alert.status.in_(OPEN),
                               or_(Alert.silenced_until.is_(None), Alert.silenced_until <= now))
    if silence.target_kind == "indicator":
        q = q.where(Alert.indicator_id == silence.target)
    elif silence.target_kind == "feed":
        q = q.where(Alert.id.in_(select(AlertSource.alert_id).where(AlertSource.source == silence.target)))
    ids = list(session.scalars(q.order_by(Alert.id)))
    muted = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        rows = session.execute(select(AlertHit.alert_id, Hit, Item).join(Hit, Hit.id == AlertHit.hit_id)
                               .outerjoin(Item, Item.id == Hit.item_id).where(AlertHit.alert_id.in_(chunk))).all()
        covered: dict[int, bool] = {}
        for alert_id, hit, item in rows:
            covered[alert_id] = covered.get(alert_id, True) and covers(silence, facts(hit, item))
        for alert in session.scalars(select(Alert).where(Alert.id.in_([a for a, ok in covered.items() if ok]))):
            mute(session, alert, silence, actor, now)
            muted += 1
    session.flush()
    return muted


def expire_silence(session: Session, silence: Silence, actor: str, now: datetime) -> int:
    """End a silence now; the alerts it muted come back (each with an audit event). Returns how many."""
    if silence.ends_at <= now:
        raise SilenceError(f"silence #{silence.id} has already ended")
    silence.ends_at = max(now, silence.starts_at)
    silence.ended_by = actor
    alerts = session.scalars(select(Alert).where(Alert.silence_id == silence.id, Alert.silenced_until > now)).all()
    for alert in alerts:
        unmute(session, alert, actor, now, f"silence #{silence.id} ended early by {actor}")
    session.flush()
    return len(alerts)


def list_silences(session: Session, now: datetime, ended_within: timedelta = timedelta(days=7)) -> list[Silence]:
    """Active silences and those that ended recently, newest first."""
    return list(session.scalars(select(Silence).where(Silence.ends_at > now - ended_within)
                                .order_by(Silence.ends_at.desc(), Silence.id.desc())))
