"""Every event the service emits validates against its published JSON Schema in docs/schemas/."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from wf_notify import add_alert, add_change, add_evidence, add_level

from app.db import transaction, utcnow
from app.notify.immediate import send_groups
from app.notify.jobs import collect_once
from app.notify.models import OutboxEvent, Subscription
from app.notify.payloads import envelope
from app.notify.schemas import EndpointIn
from app.notify.service import create_endpoint

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def validator(event_type: str) -> Draft202012Validator:
    registry = Registry().with_resource("common.json", Resource.from_contents(
        json.loads((SCHEMAS / "common.json").read_text())))
    return Draft202012Validator(json.loads((SCHEMAS / f"{event_type}.json").read_text()), registry=registry)


async def test_every_event_type_matches_its_schema(ctx, receiver):
    t = utcnow()
    with transaction(ctx.sessions) as s:
        ep = create_endpoint(s, EndpointIn(url=receiver.url("/x"), event_types=[]), settings=ctx.settings)
        s.add(Subscription(channel="webhook", endpoint_id=ep.id, mode="immediate", name="ops"))
        alert = add_alert(s, at=t)
        add_evidence(s, alert, snippet="Rockets struck the base", url="https://news.example/a", at=t)
        add_change(s, alert, at=t, action="status", frm="new", to="escalated")
        add_change(s, alert, at=t, action="assignee", frm=None, to="olga")
        add_alert(s, at=t, indicator="ultimatum")  # no evidence: item is null
        add_level(s, at=t)
        add_level(s, at=t + timedelta(hours=1), level="guarded", previous="elevated")
    collect_once(ctx)
    await send_groups(ctx)
    with ctx.sessions() as s:
        events = s.query(OutboxEvent).order_by(OutboxEvent.id).all()
    seen = set()
    for ev in events:
        doc = json.loads(envelope(ev.event_id, ev.type, ev.occurred_at, ev.payload))
        validator(ev.type).validate(doc)
        seen.add(ev.type)
    assert seen == {"alert.created", "alert.updated", "scenario.level_changed", "notification.immediate"}

    created = json.loads(envelope(events[0].event_id, events[0].type, events[0].occurred_at, events[0].payload))
    for path, value in [(("data", "alert", "severity"), "urgent"), (("type",), "alert.deleted"),
                        (("version",), 2), (("id",), "evt-1")]:
        broken = copy.deepcopy(created)
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ValidationError):
            validator("alert.created").validate(broken)
