"""Scenario warning levels: weighted distinct indicators fired within the look-back; changes are recorded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from wf_matching import DAY, ROCKET, Feed, indicator

from app.matching.scenarios import assess, members

T = datetime(2020, 3, 11, 21, tzinfo=UTC)
DRONE = indicator("drone-attack", "match", severity="high", terms={"w": ["drone*"]}, when=[{"all": ["w"]}])
IED = indicator("convoy-ied", "match", severity="low", weight=0.5, scenarios=["pressure", "escalation"],
                terms={"w": ["ied*"]}, when=[{"all": ["w"]}])
CAL = indicator("symbolic", "calendar", scenarios=["pressure"], dates=[{"date": "03-11", "name": "birthday"}])


@pytest.fixture
def lib(make_lib):
    return make_lib(ROCKET, DRONE, IED, CAL)


def levels(feed: Feed, at, text=None) -> list[tuple]:
    """(scenario, previous, level) changes after an item (or, without text, a clock tick) at `at`."""
    out = feed.process(at, text) if text else feed.engine.tick(at)
    return [(c.scenario_id, c.previous, c.level) for c in out.levels]


def test_members_and_weights(lib):
    assert members(lib, "pressure") == {"rocket-attack": 2.0, "drone-attack": 3.0, "convoy-ied": 0.5}
    assert members(lib, "escalation") == {"convoy-ied": 0.5}  # the calendar never counts


def test_levels_rise_with_distinct_indicators_not_with_repeats(lib):
    feed = Feed(lib)
    assert levels(feed, T, "Rockets hit Camp Taji") == [("pressure", "low", "guarded")]  # 2 >= guarded 2
    assert levels(feed, T + DAY, "Rockets hit Camp Taji again") == []  # the same indicator: still 2
    assert levels(feed, T + 2 * DAY, "Drones hit Erbil") == [("pressure", "guarded", "elevated")]  # 5
    (change,) = feed.store.levels[-1:]
    assert change.score == 5.0 and [r["indicator"] for r in change.reasons] == ["drone-attack", "rocket-attack"]
    assert change.reasons[1]["hits"] == 2


def test_the_level_decays_on_the_clock_after_the_look_back(lib):
    feed = Feed(lib)
    levels(feed, T, "Rockets hit Camp Taji")
    assert levels(feed, T + 30 * DAY - timedelta(seconds=1)) == []
    assert levels(feed, T + 30 * DAY) == [("pressure", "guarded", "low")]  # the hit left (at - 30d, at]
    assert levels(feed, T + 31 * DAY) == []


def test_an_indicator_counts_towards_each_of_its_scenarios(lib):
    feed = Feed(lib)
    assert levels(feed, T, "An IED hit a convoy") == []  # 0.5 is below both guarded thresholds
    assert levels(feed, T + DAY, "Rockets and an IED hit the base") == [("pressure", "low", "guarded")]


def test_level_state_is_per_store(lib):
    first, second = Feed(lib), Feed(lib)
    levels(first, T, "Rockets hit Camp Taji")
    assert levels(second, T, "Rockets hit Camp Taji") == [("pressure", "low", "guarded")]


def test_the_score_counts_only_hits_inside_the_look_back_when_hits_arrive_out_of_order(lib):
    feed = Feed(lib)
    feed.process(T + 40 * DAY, "Rockets hit Camp Taji")  # 2.0 at T+40d
    out = feed.process(T + 1 * DAY, "Drones hit Erbil")  # at T+1d the rocket hit is ahead: 3.0, not 5.0
    assert out.levels == []  # guarded (3.0) as before; counting the later hit would make it elevated (5.0)
    level, score, reasons = assess(lib, feed.store, "pressure", T + DAY)
    assert (level, score, [r["indicator"] for r in reasons]) == ("guarded", 3.0, ["drone-attack"])
    assert assess(lib, feed.store, "pressure", T + 40 * DAY)[:2] == ("guarded", 2.0)  # the drone hit has left
