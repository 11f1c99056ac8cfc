"""The triage workflow and its audit trail, over a real database with alerts made by the real pipeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.service import create_user
from app.alerts.models import Alert, AlertEvent
from app.alerts.triage import TriageError, add_note, assign, bulk, set_severity, transition
from app.db import transaction

ROCKETS = "Two rockets land inside Ain al-Asad air base"


def _trail(session, alert_id: int) -> list[tuple]:
    return [(e.actor, e.action, e.from_value, e.to_value, e.note) for e in session.scalars(
        select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.at, AlertEvent.id))]


@pytest.fixture
def alert_id(pipeline, item) -> int:
    [made] = pipeline(item("r1", ROCKETS))
    return made


def test_new_alert_is_recorded_with_a_created_event(ctx, alert_id):
    with ctx.sessions() as s:
        assert s.get(Alert, alert_id).status == "new"
        assert _trail(s, alert_id) == [("system", "created", None, "new", None)]


def test_walk_through_the_workflow_and_every_step_is_in_the_trail(ctx, alert_id):
    with transaction(ctx.sessions) as s:
        alert = s.get(Alert, alert_id)
        for action, who in (("acknowledge", "ana"), ("escalate", "ben"), ("resolve", "ana"), ("reopen", "ben")):
            transition(s, alert, action, who)
        assert alert.status == "acknowledged"
    with ctx.sessions() as s:
        assert _trail(s, alert_id)[1:] == [
            ("ana", "status", "new", "acknowledged", None), ("ben", "status", "acknowledged", "escalated", None),
            ("ana", "status", "escalated", "resolved", None), ("ben", "status", "resolved", "acknowledged", None)]


def test_a_step_the_workflow_does_not_allow_is_refused(ctx, alert_id):
    with transaction(ctx.sessions) as s:
        alert = s.get(Alert, alert_id)
        transition(s, alert, "resolve", "ana")
        with pytest.raises(TriageError, match="resolved"):
            transition(s, alert, "acknowledge", "ana")
        with pytest.raises(TriageError, match="unknown action"):
            transition(s, alert, "snooze", "ana")


def test_dismissing_needs_a_reason_and_keeps_it(ctx, alert_id):
    with transaction(ctx.sessions) as s:
        alert = s.get(Alert, alert_id)
        with pytest.raises(TriageError, match="reason"):
            transition(s, alert, "dismiss", "ana", reason="   ")
        transition(s, alert, "dismiss", "ana", reason="exercise announced in advance")
    with ctx.sessions() as s:
        alert = s.get(Alert, alert_id)
        assert (alert.status, alert.dismiss_reason) == ("dismissed", "exercise announced in advance")
        assert _trail(s, alert_id)[-1] == ("ana", "status", "new", "dismissed", "exercise announced in advance")


def test_assignee_must_be_an_officer_and_changes_are_recorded(ctx, alert_id):
    with transaction(ctx.sessions) as s:
        create_user(s, "olga", "a long enough password", "officer")
        create_user(s, "vic", "a long enough password", "viewer")
    with transaction(ctx.sessions) as s:
        alert = s.get(Alert, alert_id)
        with pytest.raises(TriageError, match="not an officer"):
            assign(s, alert, "vic", "ana")
        with pytest.raises(TriageError, match="not an officer"):
            assign(s, alert, "nobody-here", "ana")
        assign(s, alert, "Olga", "ana")
        assign(s, alert, "olga", "ana")  # no change, no event
        assign(s, alert, None, "olga")
    with ctx.sessions() as s:
        assert _trail(s, alert_id)[1:] == [("ana", "assignee", None, "olga", None),
                                           ("olga", "assignee", "olga", None, None)]


def test_severity_and_notes_are_in_the_trail(ctx, alert_id):
    with transaction(ctx.sessions) as s:
        alert = s.get(Alert, alert_id)
        set_severity(s, alert, "critical", "ana")
        with pytest.raises(TriageError):
            set_severity(s, alert, "apocalyptic", "ana")
        add_note(s, alert, "Spoke to the base: two impacts, no casualties.", "ana")
        with pytest.raises(TriageError):
            add_note(s, alert, "  ", "ana")
    with ctx.sessions() as s:
        assert _trail(s, alert_id)[1:] == [
            ("ana", "severity", "medium", "critical", None),
            ("ana", "note", None, None, "Spoke to the base: two impacts, no casualties.")]


def test_bulk_changes_what_it_can_and_says_why_it_left_the_rest(ctx, pipeline, item):
    ids = pipeline(item("r1", ROCKETS), item("r2", "Mortar rounds slam into Camp Taji, home to Coalition trainers",
                                             published="2020-05-01T10:00:00Z"))
    with transaction(ctx.sessions) as s:
        transition(s, s.get(Alert, ids[0]), "resolve", "ana")
        result = bulk(s, [*ids, 999_999], "acknowledge", "ben")
        with pytest.raises(TriageError, match="reason"):
            bulk(s, ids, "dismiss", "ben")
    assert result.done == [ids[1]]
    assert set(result.skipped) == {ids[0], 999_999}
    assert "resolved" in result.skipped[ids[0]] and result.skipped[999_999] == "no such alert"


def test_a_corroborating_hit_joins_the_alert_and_a_raised_severity_is_recorded(ctx, pipeline, item):
    """The second report falls within two days of Soleimani's birthday (Mar 11): the calendar rule raises it."""
    [first] = pipeline(item("t1", ROCKETS, published="2020-03-07T22:00:00Z"))
    [again] = pipeline(item("t2", "Two rockets landed inside Ain al-Asad air base, officials said", source="wire-b",
                            published="2020-03-09T06:00:00Z"))
    with ctx.sessions() as s:
        alert = s.get(Alert, first)
        trail = _trail(s, first)
    assert again == first and alert.hit_count == 2 and alert.severity == "high"
    assert [t[1:4] for t in trail] == [("created", None, "new"), ("hit_added", "1", "2"),
                                       ("severity", "medium", "high")]
