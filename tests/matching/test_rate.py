"""`rate`: hits of another indicator in a recent window against a baseline window (a spike).

Windows are (since, until] in event time: recent = (at - 14d, at], baseline = (at - 42d, at - 14d].
No verdict until the stream has been observed for recent + baseline (the warm-up).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from wf_matching import DAY, ROCKET, Feed, add_item, indicator, only

from app.matching.engine import Engine, ItemInput
from app.matching.rules.base import Firing
from app.matching.sqlstore import SqlStore
from app.matching.store import MemoryStore

T0 = datetime(2020, 1, 3, tzinfo=UTC)  # the stream starts; the baseline is observed in full from T0 + 42d
WARM = T0 + 42 * DAY


def tempo(**kw) -> dict:
    spec = {"of": ["rocket-attack"], "recent": "14d", "baseline": "28d", "factor": 2, "min_count": 3,
            "severity": "high"}
    return indicator("tempo", "rate", **{**spec, **kw})


@pytest.fixture
def lib(make_lib):
    return make_lib(ROCKET, tempo())


def started(lib, store=None) -> Feed:
    feed = Feed(lib, store)
    feed.item(T0, "Parliament debates the budget")  # the stream is observed from T0
    return feed


def rockets(feed: Feed, *times) -> list:
    """One rocket report at each time; returns the rate firings."""
    out = []
    for at in times:
        out += only(feed.item(at, "Rockets hit Camp Taji"), "tempo")
    return out


def episode(feed: Feed) -> dict:
    return feed.store.get_state("tempo", "episode") or {"open": False}


def test_store_windows_exclude_since_and_include_until():
    store = MemoryStore()
    for at in (WARM - DAY, WARM, WARM + DAY):
        store.add_hit(Firing("rocket-attack", "match", at, "medium", [at.day]))
    assert [at for at, _ in store.hits({"rocket-attack"}, WARM - DAY, WARM + DAY)] == [WARM, WARM + DAY]
    assert store.count_hits({"rocket-attack"}, WARM - DAY, WARM) == 1
    assert store.last_hit_at({"rocket-attack"}, WARM) == WARM


@pytest.mark.parametrize("first_offset, fires", [(timedelta(0), False), (timedelta(seconds=1), True)])
def test_a_hit_exactly_at_the_start_of_the_recent_window_is_outside_it(lib, first_offset, fires):
    at = WARM + 20 * DAY
    feed = started(lib)
    # three reports, the first exactly 14 days before the third (outside) or one second later (inside)
    got = rockets(feed, at - 14 * DAY + first_offset, at - 7 * DAY, at)
    assert bool(got) is fires
    if fires:
        assert got[0].at == at  # a hit at `until` (the evaluation time) is inside
        assert got[0].evidence["recent"] == 3 and got[0].evidence["baseline"] == 0


def test_a_zero_baseline_counts_as_a_rise(lib):
    feed = started(lib)
    (firing,) = rockets(feed, WARM + DAY, WARM + 2 * DAY, WARM + 3 * DAY)
    assert firing.at == WARM + 3 * DAY and firing.severity == "high"
    assert firing.evidence["baseline"] == 0 and firing.evidence["ratio"] is None
    assert firing.item_ids == ["item-2", "item-3", "item-4"]


def test_no_verdict_before_the_baseline_window_was_observed_then_the_clock_gives_it(lib):
    feed = started(lib)
    # a burst in the stream's first weeks: nothing is known about the baseline yet
    assert rockets(feed, WARM - 3 * DAY, WARM - 2 * DAY, WARM - DAY) == []
    assert feed.tick(WARM - timedelta(seconds=1)) == []
    # from the moment the baseline window has been observed in full, the zero baseline counts
    (firing,) = only(feed.tick(WARM), "tempo")
    assert firing.at == WARM and firing.evidence["recent"] == 3


def test_min_count(lib):
    feed = started(lib)
    assert rockets(feed, WARM + DAY, WARM + 2 * DAY) == []
    assert len(rockets(feed, WARM + 3 * DAY)) == 1


@pytest.mark.parametrize("recent, fires", [(3, False), (4, True)])
def test_factor_against_the_baseline_rate(lib, recent, fires):
    feed = started(lib)
    at = WARM + 14 * DAY
    # 4 reports in the 28-day baseline (during the warm-up, so they judge nothing themselves) = 2 per
    # 14 days; 4 in the recent 14 days is exactly 2x
    baseline = [at - 14 * DAY - k * 6 * DAY for k in range(1, 5)]
    assert rockets(feed, *sorted(baseline)) == []
    got = rockets(feed, *[at - k * DAY for k in range(recent - 1, -1, -1)])
    assert bool(got) is fires
    if fires:
        assert got[0].evidence["ratio"] == 2.0 and got[0].evidence["baseline"] == 4


def test_fires_once_per_episode_and_again_after_the_episode_ended(lib):
    feed = started(lib)
    assert len(rockets(feed, WARM + DAY, WARM + 2 * DAY, WARM + 3 * DAY)) == 1
    # the condition still holds: no second firing
    assert rockets(feed, WARM + 4 * DAY, WARM + 5 * DAY) == []
    assert feed.tick(WARM + 6 * DAY) == []
    assert episode(feed)["open"] is True
    # the clock ends the episode once the recent window has emptied
    assert feed.tick(WARM + 25 * DAY) == []
    assert episode(feed)["open"] is False
    # a new burst after the old one has left the baseline too: a new episode
    later = WARM + 60 * DAY
    (again,) = rockets(feed, later, later + DAY, later + 2 * DAY)
    assert again.at == later + 2 * DAY and again.evidence["baseline"] == 0


def test_the_episode_also_ends_on_an_item_that_finds_the_condition_gone(make_lib):
    feed = started(make_lib(ROCKET, tempo(min_count=1)))
    assert len(rockets(feed, WARM + DAY)) == 1
    assert rockets(feed, WARM + 2 * DAY) == []  # same episode
    # 40 days later the two earlier reports are in the baseline; one report is no rise
    assert rockets(feed, WARM + 40 * DAY) == []
    assert episode(feed)["open"] is False


def test_only_hits_of_the_watched_indicator_count(make_lib):
    other = indicator("drone-attack", "match", terms={"w": ["drone*"]}, when=[{"all": ["w"]}])
    feed = started(make_lib(ROCKET, other, tempo()))
    for k in range(1, 6):
        assert "tempo" not in feed.fired(WARM + k * DAY, "Drones hit Erbil")


def test_episode_state_survives_a_restart(sessions, make_lib):
    lib = make_lib(ROCKET, tempo())

    def run(session, at, title="Rockets hit Camp Taji"):
        item = add_item(session, at, title)
        out = Engine(lib, SqlStore(session, lib.version)).process(ItemInput(item.id, at, title))
        return [f.indicator_id for f, _ in out.firings]

    with sessions() as s:
        run(s, T0, "Parliament debates the budget")
        assert run(s, WARM + DAY) == ["rocket-attack"]
        assert run(s, WARM + 2 * DAY) == ["rocket-attack"]
        assert run(s, WARM + 3 * DAY) == ["rocket-attack", "tempo"]
        s.commit()
    with sessions() as s:  # a new Store and Engine: the open episode is remembered, no re-flood
        assert run(s, WARM + 4 * DAY) == ["rocket-attack"]
        s.commit()
    with sessions() as s:
        engine = Engine(lib, SqlStore(s, lib.version))
        assert engine.tick(WARM + 25 * DAY).firings == []  # ends the episode
        s.commit()
    with sessions() as s:
        later = WARM + 60 * DAY
        assert run(s, later) == ["rocket-attack"]
        assert run(s, later + DAY) == ["rocket-attack"]
        assert run(s, later + 2 * DAY) == ["rocket-attack", "tempo"]


def test_default_library_indirect_fire_tempo_on_the_march_2020_barrages(default_lib):
    """Seed 000: after a quieter winter, Camp Taji (Mar 11, Mar 14) and Besmaya (Mar 16) were hit in a week."""
    feed = Feed(default_lib)
    start = datetime(2020, 1, 20, tzinfo=UTC)
    feed.item(start, "Iraqi parliament session postponed")
    feed.item(datetime(2020, 2, 15, 8, tzinfo=UTC), "Two Katyusha rockets hit near the U.S. Embassy in Baghdad")
    firings = []
    for at, title in [
        (datetime(2020, 3, 11, 19, tzinfo=UTC), "Rockets slam into Camp Taji, killing two U.S. troops"),
        (datetime(2020, 3, 14, 11, tzinfo=UTC), "A second rocket barrage hit Camp Taji, wounding coalition troops"),
        (datetime(2020, 3, 16, 17, tzinfo=UTC), "Two rockets hit Besmaya base, home to coalition trainers"),
    ]:
        firings += feed.item(at, title)
    assert [f.at.day for f in only(firings, "indirect-fire-attack")] == [11, 14, 16]
    (firing,) = only(firings, "indirect-fire-tempo")
    assert firing.at == datetime(2020, 3, 16, 17, tzinfo=UTC)
    assert firing.evidence["recent"] == 3 and firing.evidence["baseline"] == 1
