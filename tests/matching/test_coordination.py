"""`coordination`: N distinct actors (resolved entities, leaders counted as their group) on one topic in a window.

Seed 002: Sadr announced the "million strong march" on January 14, 2020, and in the following days the
leaders of Badr, Kata'ib Hezbollah, Asa'ib Ahl al-Haq and Harakat al-Nujaba endorsed it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from wf_matching import DAY, Feed, indicator, only

JAN14 = datetime(2020, 1, 14, 9, tzinfo=UTC)


def coordination(**kw) -> dict:
    spec = {"roles": ["proxy-group", "proxy-leader"], "window": "7d", "min_actors": 3, "severity": "high",
            "topics": {"march": ["march*", "protest*"], "deadline": ["deadline*", "ultimatum*"]},
            "terms": {"backing": ["endors*", "back", "backs", "join*", "support*", "call for", "calls for"]},
            "when": [{"all": ["backing"]}]}
    return indicator("coord", "coordination", **{**spec, **kw})


@pytest.fixture
def feed(make_lib):
    return Feed(make_lib(coordination()))


def say(feed: Feed, at: datetime, text: str) -> list:
    return only(feed.item(at, text), "coord")


def test_three_distinct_actors_on_one_topic_fire_once(feed):
    assert say(feed, JAN14, "Moqtada al-Sadr calls for a million-man march against the U.S. presence") == []
    assert say(feed, JAN14 + timedelta(hours=3), "Hadi al-Ameri endorses Sadr's march") == []
    assert say(feed, JAN14 + timedelta(hours=5), "Qais al-Khazali says Asa'ib Ahl al-Haq will join the march") == []
    (firing,) = say(feed, JAN14 + timedelta(hours=8), "Harakat al-Nujaba backs the million-man march")
    assert firing.at == JAN14 + timedelta(hours=8) and firing.severity == "high"
    assert firing.evidence["topic"] == "march"
    # Sadr is not of the watched roles; each leader counts as his group, named once
    assert firing.evidence["actors"] == ["Asa'ib Ahl al-Haq", "Badr Organization", "Harakat al-Nujaba"]
    assert firing.item_ids == ["item-2", "item-3", "item-4"]
    # a fourth actor the next day joins the same episode
    assert say(feed, JAN14 + DAY, "Kata'ib Hezbollah endorses the march and urges Iraqis to join") == []


@pytest.mark.parametrize("texts", [
    ["Hadi al-Ameri endorses the march", "Ameri again calls for the march", "Ameri: join the march on Friday"],
    ["Badr Organization endorses the march", "Badr backs the march", "Hadi al-Ameri endorses the march"],
])
def test_one_leader_repeating_himself_or_a_leader_and_his_group_are_one_actor(feed, texts):
    for k, text in enumerate(texts):
        assert say(feed, JAN14 + k * DAY, text) == []


def test_a_leader_and_his_own_group_count_once(feed):
    assert say(feed, JAN14, "Hadi al-Ameri endorses the march") == []
    assert say(feed, JAN14 + DAY, "The Badr Organization will join the march") == []
    assert say(feed, JAN14 + 2 * DAY, "Qais al-Khazali endorses the march") == []
    (firing,) = say(feed, JAN14 + 3 * DAY, "Akram al-Kaabi calls for the march")
    assert firing.evidence["actors"] == ["Asa'ib Ahl al-Haq", "Badr Organization", "Harakat al-Nujaba"]


def test_several_actors_in_one_item_count(feed):
    (firing,) = say(feed, JAN14, "Badr, Asa'ib Ahl al-Haq and Nujaba endorse the march")
    assert len(firing.evidence["actors"]) == 3


@pytest.mark.parametrize("gap, fires", [(timedelta(days=7), False), (timedelta(days=7) - timedelta(seconds=1), True)])
def test_window_edge(feed, gap, fires):
    assert say(feed, JAN14, "Hadi al-Ameri endorses the march") == []
    assert say(feed, JAN14 + 3 * DAY, "Qais al-Khazali endorses the march") == []
    # the window is (at - 7d, at]: an endorsement exactly 7 days earlier has left it
    assert bool(say(feed, JAN14 + gap, "Akram al-Kaabi endorses the march")) is fires


def test_topics_are_kept_separate(feed):
    assert say(feed, JAN14, "Hadi al-Ameri endorses the march") == []
    assert say(feed, JAN14 + DAY, "Qais al-Khazali backs the deadline for U.S. withdrawal") == []
    assert say(feed, JAN14 + 2 * DAY, "Akram al-Kaabi endorses the march") == []
    (firing,) = say(feed, JAN14 + 3 * DAY, "Kata'ib Hezbollah backs the march")
    assert firing.evidence["topic"] == "march"


def test_items_without_the_backing_clause_do_not_count(feed):
    assert say(feed, JAN14, "Hadi al-Ameri criticised the march") == []
    assert say(feed, JAN14, "Qais al-Khazali mocked the march") == []
    assert say(feed, JAN14, "Akram al-Kaabi endorses the march") == []


def test_a_new_episode_after_the_old_one_ended(feed):
    for k, text in enumerate(["Ameri endorses the march", "Khazali endorses the march", "Kaabi endorses the march"]):
        got = say(feed, JAN14 + k * DAY, text)
    assert len(got) == 1
    assert feed.tick(JAN14 + 20 * DAY) == []  # the window emptied: the episode ends
    later = JAN14 + 40 * DAY
    for k, text in enumerate(["Ameri backs a new protest", "Khazali backs the protest", "Kaabi backs the protest"]):
        got = say(feed, later + k * DAY, text)
    assert len(got) == 1


def test_two_topics_crossing_together_both_fire(feed):
    texts = ["Hadi al-Ameri endorses the march and the deadline", "Qais al-Khazali backs the march and the deadline",
             "Akram al-Kaabi endorses the march and the deadline"]
    firings = []
    for k, text in enumerate(texts):
        firings += say(feed, JAN14 + k * DAY, text)
    assert sorted(f.evidence["topic"] for f in firings) == ["deadline", "march"]


def test_default_library_leader_coordination_on_the_january_2020_endorsements(default_lib):
    feed = Feed(default_lib)
    firings = []
    for at, title in [
        (JAN14, "Sadr calls for a million-strong march against the U.S. military presence in Iraq"),
        (JAN14 + timedelta(hours=4), "Hadi al-Ameri announces his support for the million-man march called by Sadr"),
        (JAN14 + timedelta(hours=6), "Qais al-Khazali urges Iraqis to join the march against U.S. troops"),
        (JAN14 + timedelta(hours=9), "Harakat al-Nujaba says it will take part in the million-man march"),
        (JAN14 + DAY, "Kata'ib Hezbollah endorses the march and calls for a popular revolution against U.S. forces"),
    ]:
        firings += feed.item(at, title)
    (firing,) = only(firings, "leader-coordination")
    assert firing.at == JAN14 + timedelta(hours=9)
    assert len(firing.evidence["actors"]) == 3
