"""New-name review: the decision is stored on the sighting and reaches matching without a restart."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.alerts.names import ReviewError, entity_slug, names_of, review_name
from app.db import transaction
from app.matching.models import GazetteerAddition, Sighting

NEW_GROUP = "A previously unknown group calling itself Saraya Awliya al-Dam claimed the rocket attack on Erbil"
NAME = "Saraya Awliya al-Dam"


@pytest.fixture
def alert_id(ctx, pipeline, item) -> int:
    ids = pipeline(item("n1", NEW_GROUP))
    with ctx.sessions() as s:
        return s.scalar(select(Alert.id).where(Alert.id.in_(ids), Alert.indicator_id == "new-militia-name"))


def _review(ctx, alert_id, decision, **kw):
    with transaction(ctx.sessions) as s:
        lib = ctx.library.get(s)
        return review_name(s, lib, s.get(Alert, alert_id), NAME, decision, "admin", **kw).status


def test_the_alert_lists_its_new_name_awaiting_review(ctx, alert_id):
    with ctx.sessions() as s:
        [name] = names_of(s, s.get(Alert, alert_id))
    assert (name.name, name.status) == (NAME, "new") and name.found_by.startswith("cue")


def test_an_alias_is_matched_as_the_entity_at_once(ctx, alert_id):
    with ctx.sessions() as s:
        before = ctx.library.get(s)
    assert "kataib-hezbollah" not in before.scan(f"{NAME} fighters", "", "").entities
    assert _review(ctx, alert_id, "alias", entity_id="kataib-hezbollah") == "alias"
    with ctx.sessions() as s:
        after = ctx.library.get(s)  # the same holder the running service uses: no restart
        sighting = s.scalar(select(Sighting).where(Sighting.name == NAME))
        addition = s.scalar(select(GazetteerAddition))
    assert after is not before and after.version != before.version
    assert "kataib-hezbollah" in after.scan(f"{NAME} fighters", "", "").entities
    assert (sighting.status, sighting.entity_id) == ("alias", "kataib-hezbollah")
    assert (addition.entity_id, addition.alias, addition.created_by) == ("kataib-hezbollah", NAME, "admin")


def test_a_new_entity_joins_the_gazetteer_with_its_role(ctx, alert_id):
    assert _review(ctx, alert_id, "entity", roles=["proxy-group"]) == "confirmed"
    with ctx.sessions() as s:
        lib = ctx.library.get(s)
    assert lib.entities["saraya-awliya-al-dam"].name == NAME
    assert "saraya-awliya-al-dam" in lib.role_index["proxy-group"]
    assert "saraya-awliya-al-dam" in lib.scan(f"{NAME} claimed it", "", "").entities


def test_dismissing_stores_the_choice_and_adds_nothing(ctx, alert_id):
    assert _review(ctx, alert_id, "dismiss") == "dismissed"
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(GazetteerAddition)) == 0
    with pytest.raises(ReviewError, match="already reviewed"):
        _review(ctx, alert_id, "entity")


def test_bad_decisions_are_refused(ctx, alert_id):
    with pytest.raises(ReviewError, match="no gazetteer entity"):
        _review(ctx, alert_id, "alias", entity_id="no-such-group")
    with pytest.raises(ReviewError, match="unknown role"):
        _review(ctx, alert_id, "entity", roles=["fan-club"])
    with pytest.raises(ReviewError, match="decision"):
        _review(ctx, alert_id, "promote")
    with transaction(ctx.sessions) as s, pytest.raises(ReviewError, match="not a new name"):
        review_name(s, ctx.library.get(s), s.get(Alert, alert_id), "Someone Else", "dismiss", "admin")


def test_entity_ids_are_slugs_of_the_name():
    assert entity_slug("Kata'ib Sayyid al-Shuhada’") == "kataib-sayyid-al-shuhada"
    assert entity_slug("عصبة الثائرين") == ""
