"""`composite`: several distinct indicators fired within a window; growth re-fires; the episode closes below N."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from wf_matching import DAY, Feed, indicator, only

T = datetime(2020, 3, 11, 21, tzinfo=UTC)
WORDS = {"a": "alpha", "b": "bravo", "c": "charlie", "d": "delta"}


def members(scenario="escalation"):
    return [indicator(k, "match", scenarios=[scenario], terms={"w": [w]}, when=[{"all": ["w"]}])
            for k, w in WORDS.items()]


def composite(**kw):
    spec = {"of": list(WORDS), "min_distinct": 3, "window": "30d", "severity": "critical",
            "scenarios": ["escalation"]}
    return indicator("together", "composite", **{**spec, **kw})


@pytest.fixture
def feed(make_lib):
    return Feed(make_lib(*members(), composite()))


def fire(feed: Feed, at: datetime, *keys: str) -> list:
    return only(feed.item(at, " ".join(WORDS[k] for k in keys)), "together")


def test_n_distinct_indicators_in_the_window_fire(feed):
    assert fire(feed, T, "a") == []
    assert fire(feed, T + DAY, "a") == []  # the same indicator again is still one
    assert fire(feed, T + 2 * DAY, "b") == []
    (firing,) = fire(feed, T + 3 * DAY, "c")
    assert firing.at == T + 3 * DAY and firing.severity == "critical"
    assert firing.evidence["indicators"] == ["a", "b", "c"] and firing.evidence["new"] == ["a", "b", "c"]
    assert sorted(firing.item_ids) == ["item-1", "item-2", "item-3", "item-4"]


def test_one_item_firing_three_members_is_enough(feed):
    (firing,) = fire(feed, T, "a", "b", "c")
    assert firing.evidence["indicators"] == ["a", "b", "c"]


def test_growth_re_fires_and_repeats_do_not(feed):
    fire(feed, T, "a", "b")
    assert len(fire(feed, T + DAY, "c")) == 1
    assert fire(feed, T + 2 * DAY, "a") == [] and fire(feed, T + 3 * DAY, "b", "c") == []
    (grown,) = fire(feed, T + 4 * DAY, "d")
    assert grown.evidence["new"] == ["d"] and grown.evidence["indicators"] == ["a", "b", "c", "d"]
    assert grown.evidence["episode"] == (T + DAY).isoformat()  # the same episode, escalated
    assert fire(feed, T + 5 * DAY, "d") == []


def test_the_episode_closes_when_fewer_remain_and_a_new_one_fires_later(feed):
    fire(feed, T, "a", "b", "c")
    assert feed.tick(T + 29 * DAY) == []  # still three in the window
    assert feed.tick(T + 30 * DAY) == []  # all three left the window (since is excluded): closes
    assert feed.store.get_state("together", "episode")["open"] is False
    assert fire(feed, T + 31 * DAY, "a", "b") == []
    (again,) = fire(feed, T + 32 * DAY, "d")
    assert again.evidence["new"] == ["a", "b", "d"]


@pytest.mark.parametrize("gap, fires", [(timedelta(days=30), False), (timedelta(days=30) - timedelta(seconds=1), True)])
def test_window_edge(feed, gap, fires):
    fire(feed, T, "a")
    fire(feed, T + DAY, "b")
    assert bool(fire(feed, T + gap, "c")) is fires


def test_of_scenario_counts_every_indicator_of_the_scenario_including_windowed_ones(make_lib):
    tempo = indicator("tempo", "rate", scenarios=["escalation"], of=["a"], recent="14d", baseline="28d", factor=2,
                      min_count=1)
    outsider = indicator("outsider", "match", scenarios=["pressure"], terms={"w": ["echo"]}, when=[{"all": ["w"]}])
    lib = make_lib(*members()[:2], tempo, outsider, composite(of=[], of_scenario="escalation"))
    feed = Feed(lib)
    feed.item(T - 60 * DAY, "nothing to see")
    assert only(feed.item(T, "echo bravo"), "together") == []  # outsider is not of the scenario
    firings = feed.item(T + DAY, "alpha")  # a and the rate rule over a fire together
    (firing,) = only(firings, "together")
    assert firing.evidence["indicators"] == ["a", "b", "tempo"]


def test_default_library_coordinated_escalation_in_march_2020(default_lib):
    """Seed 000: the Camp Taji barrages (over 30 rockets, U.S. and coalition dead) and Usbat al-Thairen."""
    feed = Feed(default_lib)
    firings = feed.item(datetime(2020, 3, 11, 21, tzinfo=UTC),
                        "Over 30 Katyusha rockets hit Camp Taji, killing two U.S. troops and a British medic")
    firings += feed.item(datetime(2020, 3, 15, 9, tzinfo=UTC),
                         "A new militia group calling itself Usbat al-Thairen claimed responsibility for the rocket "
                         "attacks on Camp Taji")
    assert {"large-salvo", "coalition-casualties", "new-militia-name"} <= {f.indicator_id for f in firings}
    escalations = only(firings, "coordinated-escalation")
    assert escalations and escalations[0].severity == "critical"
    assert {"large-salvo", "coalition-casualties"} <= set(escalations[0].evidence["indicators"])
