"""`new_entity` (default `new-militia-name`): a militia name nobody has seen fires once, across spellings.

Seed 000: on March 15, 2020 "a new Shi'a militia group calling itself Usbat al-Thairen" claimed the rocket
attacks on Camp Taji and Besmaya; seed 002: "a new group calling itself Saraya Imam al-Husayn
al-Istishhadiya" threatened U.S. soldiers on January 5. Known proxies under any spelling are not new.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from wf_matching import DAY, Feed, only

from app.matching.compiler import AliasAddition, CompiledLibrary
from app.matching.engine import Engine, ItemInput
from app.matching.models import Sighting
from app.matching.sqlstore import SqlStore

USBAT_DAY = datetime(2020, 3, 15, 9, 0, tzinfo=UTC)
USBAT = ("A new Shi'a militia group calling itself Usbat al-Thairen claimed responsibility for the rocket "
         "attacks on Camp Taji and Besmaya")


def new_names(firings) -> list[str]:
    return [n["name"] for f in only(firings, "new-militia-name") for n in f.evidence["names"]]


@pytest.fixture
def feed(default_lib):
    return Feed(default_lib)


def test_a_new_name_fires_once_with_the_name_as_evidence(feed):
    (firing,) = only(feed.item(USBAT_DAY, USBAT), "new-militia-name")
    assert firing.severity == "high" and firing.item_ids == ["item-1"]
    (name,) = firing.evidence["names"]
    assert name["name"] == "Usbat al-Thairen" and name["field"] == "title"
    assert USBAT[name["start"]:name["end"]] == "Usbat al-Thairen"
    assert name["found_by"].startswith("cue: ")
    assert "Usbat al-Thairen" in firing.evidence["snippet"]


def test_the_same_name_again_does_not_fire(feed):
    assert new_names(feed.item(USBAT_DAY, USBAT)) == ["Usbat al-Thairen"]
    assert new_names(feed.item(USBAT_DAY + 2 * DAY, "Usbat al-Thairen claimed responsibility for a third rocket "
                                                     "attack, on Besmaya")) == []
    assert feed.store.sightings("new-militia-name")[0]["times_seen"] == 2


@pytest.mark.parametrize("variant", [
    "A group calling itself Usbat al-Tha'irin claimed the rocket attack on Camp Taji",
    "Osbat al-Thaereen claimed responsibility for rockets fired at Besmaya",
    "Usbat al Thairin claimed responsibility for a rocket attack on U.S. forces",
    "The previously unknown Usbat al-Tha’ireen threatened U.S. troops with more rocket attacks",
    "Esbat al-Thaerin claimed responsibility for the rocket attack",
])
def test_a_transliteration_variant_of_a_sighted_name_does_not_fire(default_lib, variant):
    # on its own the variant is a new name (so the test below is about resolution, not extraction) ...
    assert new_names(Feed(default_lib).item(USBAT_DAY, variant)) != []
    # ... but once Usbat al-Thairen has been sighted it is the same group
    feed = Feed(default_lib)
    assert new_names(feed.item(USBAT_DAY, USBAT)) == ["Usbat al-Thairen"]
    assert new_names(feed.item(USBAT_DAY + DAY, variant)) == []
    assert feed.store.sightings("new-militia-name")[0]["times_seen"] == 2


def test_two_spellings_in_one_item_are_one_sighting(feed):
    names = new_names(feed.item(USBAT_DAY, "A new group calling itself Usbat al-Thairen claimed the rocket attack. "
                                           "Usbat al-Tha'irin said more attacks would follow"))
    assert len(names) == 1
    assert len(feed.store.sightings("new-militia-name")) == 1


def test_an_arabic_name_fires_once_across_sentences(feed):
    assert new_names(feed.item(USBAT_DAY, "عصبة الثائرين تبنت الهجوم الصاروخي على معسكر التاجي")) == ["عصبة الثائرين"]
    assert new_names(feed.item(USBAT_DAY + DAY, "عصبة الثائرين تتبنى الهجوم على قاعدة بسماية بالصواريخ")) == []
    assert new_names(feed.item(USBAT_DAY + DAY, "أعلنت عصبة الثائرين، مسؤوليتها عن الهجوم")) == []


@pytest.mark.parametrize("text", [
    "Kataib Hizballah claimed responsibility for the rocket attack on Camp Taji",
    "Kata'ib Hezbollah claimed responsibility for the rocket attack",
    "Kata’ib Hizbullah fighters vowed revenge for the U.S. strikes",
    "Hezbollah Brigades claimed responsibility for the rocket attack",
    "Asaib Ahl al-Haq fighters vowed revenge for the attack",
    "Asa'ib Ahl al-Haqq threatened U.S. forces",
    "Harakat Hezbollah al-Nujaba threatened U.S. forces with rocket attacks",
    "Harakat Hizballah al-Nujabaa claimed the drone attack",
    "Kataib Sayyed al-Shuhada vowed to attack U.S. troops",
    "Saraya al-Khurasani fighters claimed the attack",
    "Kataib Hezbollah Brigade spokesman threatened U.S. forces",  # a known name plus a descriptor
    "كتائب حزب الله تتبنى الهجوم على القوات الأمريكية",
])
def test_known_groups_under_other_spellings_never_fire(feed, text):
    assert new_names(feed.item(USBAT_DAY, text)) == []


@pytest.mark.parametrize("text, name", [
    ("A new group calling itself Saraya Imam al-Husayn al-Istishhadiya released a video threatening to kill "
     "U.S. soldiers in Iraq to avenge Soleimani", "Saraya Imam al-Husayn al-Istishhadiya"),
    ("Ashab al-Kahf, a little-known faction, claimed responsibility for a roadside bomb on a coalition convoy",
     "Ashab al-Kahf"),
    ("Rockets fired by Saraya Awliya al-Dam hit Erbil airport, a statement said", "Saraya Awliya al-Dam"),
])
def test_cues_and_militia_head_nouns_find_new_names(feed, text, name):
    assert new_names(feed.item(USBAT_DAY, text)) == [name]


@pytest.mark.parametrize("text", [
    "A new football club calling itself Baghdad Stars vowed revenge after the attack on its bus",
    "A new team calling itself Al-Zawraa Stars vowed revenge on its rivals",
    "The Iraqi Army named Brigadier General Ali Hassan as the new commander of its 8th Brigade after the rocket "
    "attack on Camp Taji",
    "The army named a new brigade commander in Anbar after the attack",
    "Kataib Hizballah fighters paraded in Baghdad",  # militia context, but a known group
])
def test_non_militias_and_army_commanders_do_not_fire(feed, text):
    assert new_names(feed.item(USBAT_DAY, text)) == []


def test_a_name_needs_militia_context(feed):
    assert new_names(feed.item(USBAT_DAY, "A new bakery calling itself Saraya Bread opened in Karrada")) == []


def test_an_officer_addition_makes_a_name_known(default_lib):
    confirmed = CompiledLibrary(default_lib.library, additions=[
        AliasAddition("usbat-al-thairen", "Usbat al-Thairen", "Usbat al-Thairen", ("proxy-group",))])
    assert "usbat-al-thairen" in confirmed.entities
    feed = Feed(confirmed)
    assert new_names(feed.item(USBAT_DAY, USBAT)) == []
    assert new_names(feed.item(USBAT_DAY, "Osbat al-Thaereen claimed responsibility for the rocket attack")) == []
    # and the confirmed group is an actor other rules see (e.g. coordination over proxy-group)
    assert "usbat-al-thairen" in confirmed.entities_with_roles({"proxy-group"})


def test_an_officer_alias_for_an_existing_entity(default_lib):
    lib = CompiledLibrary(default_lib.library, additions=[
        AliasAddition("kataib-hezbollah", "Kata'ib Hezbollah", "Usbat al-Thairen")])
    assert new_names(Feed(lib).item(USBAT_DAY, USBAT)) == []
    assert "Usbat al-Thairen" in lib.entities["kataib-hezbollah"].aliases


def test_sightings_survive_a_restart(sessions, default_lib):
    """A new Store and Engine on the same database, after commit, remember the sighting."""
    lib = default_lib
    with sessions() as s:
        out = Engine(lib, SqlStore(s, lib.version)).process(ItemInput("wire-1", USBAT_DAY, USBAT))
        assert [f.indicator_id for f, _ in out.firings] == ["new-militia-name"]
        s.commit()
    with sessions() as s:  # the service restarted
        engine = Engine(lib, SqlStore(s, lib.version))
        again = engine.process(ItemInput("wire-2", USBAT_DAY + DAY, "Usbat al-Thairen claimed another rocket attack"))
        variant = engine.process(ItemInput("wire-3", USBAT_DAY + 2 * DAY,
                                           "Osbat al-Thaereen claimed responsibility for the rocket attack"))
        assert again.firings == [] and variant.firings == []
        s.commit()
    with sessions() as s:
        (row,) = s.scalars(select(Sighting)).all()
        assert (row.name, row.indicator_id, row.times_seen) == ("Usbat al-Thairen", "new-militia-name", 3)
        assert row.first_seen_at == USBAT_DAY and row.last_seen_at == USBAT_DAY + 2 * DAY


def test_an_uncommitted_sighting_is_forgotten_with_its_transaction(sessions, default_lib):
    lib = default_lib
    with sessions() as s:
        Engine(lib, SqlStore(s, lib.version)).process(ItemInput("wire-1", USBAT_DAY, USBAT))
        s.rollback()
    with sessions() as s:
        out = Engine(lib, SqlStore(s, lib.version)).process(ItemInput("wire-1", USBAT_DAY, USBAT))
        assert [f.indicator_id for f, _ in out.firings] == ["new-militia-name"]


# ---------------------------------------------------------------------------------------------- known bugs


def test_a_group_first_named_in_a_title_case_headline_does_not_fire_again(feed):
    assert new_names(feed.item(USBAT_DAY, "New Group Saraya Awliya al-Dam Claims Rocket Attack On Erbil"))
    assert new_names(feed.item(USBAT_DAY + DAY, "Saraya Awliya al-Dam claimed another rocket attack on Erbil")) == []


def test_a_title_case_headline_does_not_swallow_the_sentence(feed):
    assert new_names(feed.item(USBAT_DAY, "New Group Saraya Awliya al-Dam Claims Rocket Attack On Erbil")) == [
        "Saraya Awliya al-Dam"]


def test_a_name_before_a_little_known_faction(feed):
    assert new_names(feed.item(USBAT_DAY, "Rab Allah, a little-known faction, claimed responsibility for the "
                                          "rocket attack on Camp Taji")) == ["Rab Allah"]


@pytest.mark.parametrize("text", [
    "A newly formed Iraqi Army brigade was deployed to Jurf al-Sakhar after the attack",
    "Brigadier Ali Hassan, known as Abu Zahra, took command of the army brigade after the attack",
    "Fans of Al-Shorta, known as the Police Club, attacked the referee",
])
def test_state_forces_and_nicknames_are_not_new_militias(feed, text):
    assert new_names(feed.item(USBAT_DAY, text)) == []
