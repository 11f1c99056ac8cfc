"""`absence`: activity that was there stops (a lull) — on the clock, once per episode, not on a feed outage.

Semantics: with `last` the latest hit of the watched indicator, the rule fires at exactly last + quiet when
at least `min_prior` hits fell in (last - lookback, last] and at least `min_items` items arrived in
(last, last + quiet] (otherwise the silence is the feed's, not the militias').
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from wf_matching import DAY, ROCKET, Feed, indicator, only

START = datetime(2021, 6, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def lib(make_lib):
    lull = indicator("lull", "absence", of=["rocket-attack"], quiet="14d", lookback="28d", min_prior=4,
                     min_items=1, severity="medium")
    return make_lib(ROCKET, lull)


def attacks(feed: Feed, *times) -> None:
    for at in times:
        assert feed.fired(at, "Rockets hit Ain al-Asad") == ["rocket-attack"]


def news(feed: Feed, *times) -> None:
    for at in times:
        assert feed.fired(at, "Parliament debates the budget") == []


def lulls(firings) -> list:
    return only(firings, "lull")


def active(feed: Feed) -> datetime:
    """Four attacks in ten days; returns the last one's time."""
    hits = [START + k * 3 * DAY for k in range(4)]
    attacks(feed, *hits)
    return hits[-1]


def test_fires_once_at_exactly_last_hit_plus_quiet(lib):
    feed = Feed(lib)
    last = active(feed)
    news(feed, last + 5 * DAY)
    assert feed.tick(last + 14 * DAY - SECOND) == []
    (firing,) = lulls(feed.tick(last + 14 * DAY))
    assert firing.at == last + 14 * DAY
    assert firing.evidence["last_hit"] == last.isoformat() and firing.evidence["prior"] == 4
    assert len(firing.item_ids) == 4
    assert feed.tick(last + 15 * DAY) == [] and feed.tick(last + 40 * DAY) == []


def test_a_late_tick_still_dates_the_firing_at_the_due_time(lib):
    feed = Feed(lib)
    last = active(feed)
    news(feed, last + DAY)
    (firing,) = lulls(feed.tick(last + 20 * DAY))
    assert firing.at == last + 14 * DAY


def test_is_evaluated_by_the_clock_not_by_unrelated_items(lib):
    feed = Feed(lib)
    last = active(feed)
    news(feed, last + DAY, last + 15 * DAY)  # an item after the due time does not evaluate the absence
    assert [f.at for f in lulls(feed.tick(last + 15 * DAY))] == [last + 14 * DAY]


def test_needs_min_prior_hits_in_the_lookback(lib):
    feed = Feed(lib)
    attacks(feed, START, START + 3 * DAY, START + 6 * DAY)
    news(feed, START + 10 * DAY)
    assert feed.tick(START + 30 * DAY) == []


def test_hits_older_than_the_lookback_do_not_count(lib):
    feed = Feed(lib)
    last = START + 28 * DAY
    attacks(feed, START, START + 20 * DAY, START + 24 * DAY, last)  # the first is exactly 28 days before
    news(feed, last + DAY)
    assert feed.tick(last + 14 * DAY) == []


def test_a_feed_outage_is_not_a_lull(lib):
    feed = Feed(lib)
    last = active(feed)
    # nothing at all arrives while quiet: the sources went silent, not the militias
    assert feed.tick(last + 14 * DAY) == []
    assert feed.tick(last + 30 * DAY) == []


@pytest.mark.parametrize("offset, fires", [(timedelta(0), True), (SECOND, False)])
def test_items_count_up_to_and_including_the_due_time(lib, offset, fires):
    feed = Feed(lib)
    last = active(feed)
    news(feed, last + 14 * DAY + offset)
    assert bool(lulls(feed.tick(last + 14 * DAY + offset))) is fires


def test_re_arms_after_a_new_hit(lib):
    feed = Feed(lib)
    last = active(feed)
    news(feed, last + DAY)
    assert len(lulls(feed.tick(last + 14 * DAY))) == 1
    # attacks resume, then stop again: a new episode (the lookback still holds enough hits)
    resumed = last + 20 * DAY
    attacks(feed, resumed, resumed + DAY, resumed + 2 * DAY, resumed + 3 * DAY)
    news(feed, resumed + 10 * DAY)
    assert feed.tick(resumed + 16 * DAY) == []
    (again,) = lulls(feed.tick(resumed + 17 * DAY))
    assert again.at == resumed + 17 * DAY
    assert again.evidence["last_hit"] == (resumed + 3 * DAY).isoformat()


def test_default_library_attack_lull_after_ghaanis_order(default_lib):
    """Seed 004: attacks in June and July 2021, then Ghaani's July 27 order to de-escalate; the quiet is a lull."""
    feed = Feed(default_lib)
    hits = [
        (datetime(2021, 6, 26, 21, tzinfo=UTC), "Three rockets hit Ain al-Asad air base, which hosts U.S. troops"),
        (datetime(2021, 7, 5, 2, tzinfo=UTC), "Katyusha rockets landed near Baghdad airport's U.S. military side"),
        (datetime(2021, 7, 7, 10, tzinfo=UTC), "Fourteen rockets struck Ain al-Asad base, wounding two U.S. troops"),
        (datetime(2021, 7, 13, 18, tzinfo=UTC), "Two rockets fell inside Baghdad's Green Zone near the U.S. Embassy"),
    ]
    for at, title in hits:
        assert "indirect-fire-attack" in feed.fired(at, title)
    order = feed.fired(datetime(2021, 7, 27, 12, tzinfo=UTC), "Quds Force commander Esmail Ghaani ordered Iraqi "
                       "militia leaders to temporarily halt attacks on U.S. forces until the end of the year")
    assert "deescalation-order" in order
    feed.fired(datetime(2021, 7, 29, 9, tzinfo=UTC), "Iraqi parliament sets the date of the October elections")
    due = hits[-1][0] + timedelta(days=14)
    assert only(feed.tick(due - SECOND), "attack-lull") == []
    (lull,) = only(feed.tick(due), "attack-lull")
    assert lull.at == due
