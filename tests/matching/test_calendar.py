"""`calendar`: hits within ±days of a symbolic date get their severity raised (one step, capped at critical).

Seed 000: "March 11, the day this round of attacks began, was Soleimani's birthday"; Jan 3 is the
anniversary of the strike that killed Soleimani and Muhandis; Dec 31 that of the 2019 embassy siege.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from wf_matching import DAY, ROCKET, Feed, indicator, only

SYMBOLIC = indicator("symbolic", "calendar", severity="info", raise_by=1, dates=[
    {"date": "01-03", "name": "Soleimani and Muhandis killed", "days": 2},
    {"date": "03-11", "name": "Soleimani's birthday", "days": 2},
    {"date": "12-31", "name": "embassy siege", "days": 2},
])


def at(y, m, d, h=12, mi=0, s=0):
    return datetime(y, m, d, h, mi, s, tzinfo=UTC)


@pytest.fixture
def lib(make_lib):
    return make_lib(ROCKET, SYMBOLIC)


def severity(lib, when: datetime) -> str:
    (firing,) = only(Feed(lib).item(when, "Rockets hit Camp Taji"), "rocket-attack")
    return firing.severity


@pytest.mark.parametrize("when, raised", [
    (at(2020, 3, 11, 21), True),  # the first Camp Taji barrage, on the birthday itself
    (at(2020, 3, 9, 0, 0, 0), True),  # two days before (dates compare by day)
    (at(2020, 3, 8, 23, 59, 59), False),
    (at(2020, 3, 13, 23, 59, 59), True),
    (at(2020, 3, 14, 11), False),  # the second barrage, three days after
    (at(2021, 1, 3), True),
    (at(2021, 1, 5), True),
    (at(2021, 1, 6), False),
    (at(2019, 12, 29), True),
    (at(2019, 12, 28), False),
    (at(2020, 1, 1), True),  # within 2 days of the previous year's Dec 31, across the year boundary
    (at(2020, 1, 2), True),  # within 1 day of Jan 3 (and 2 of Dec 31)
    (at(2020, 6, 15), False),
])
def test_severity_is_raised_one_step_around_symbolic_dates(lib, when, raised):
    assert severity(lib, when) == ("high" if raised else "medium")


def test_the_modifier_is_recorded_as_evidence_with_the_anchor_of_the_right_year(make_lib):
    lib = make_lib(ROCKET, {**SYMBOLIC, "dates": [{"date": "12-31", "name": "embassy siege", "days": 2}]})
    (firing,) = only(Feed(lib).item(at(2020, 1, 1), "Rockets hit Camp Taji"), "rocket-attack")
    (mod,) = firing.evidence["modifiers"]
    assert mod == {"indicator": "symbolic", "date": "2019-12-31", "name": "embassy siege"}
    assert firing.severity == "high"


def test_overlapping_dates_raise_once(lib):
    # Jan 1 is near both Dec 31 and Jan 3
    (firing,) = only(Feed(lib).item(at(2020, 1, 1), "Rockets hit Camp Taji"), "rocket-attack")
    assert firing.severity == "high" and len(firing.evidence["modifiers"]) == 1


@pytest.mark.parametrize("base, raise_by, expected", [
    ("high", 1, "critical"), ("critical", 1, "critical"), ("medium", 4, "critical"), ("info", 2, "medium"),
])
def test_raising_is_capped_at_critical(make_lib, base, raise_by, expected):
    rocket = {**ROCKET, "severity": base}
    lib = make_lib(rocket, {**SYMBOLIC, "raise_by": raise_by})
    assert severity(lib, at(2020, 3, 11)) == expected


def test_applies_to_only_the_listed_indicators(make_lib):
    drone = indicator("drone-attack", "match", severity="medium", terms={"w": ["drone*"]}, when=[{"all": ["w"]}])
    lib = make_lib(ROCKET, drone, {**SYMBOLIC, "applies_to": ["drone-attack"]})
    firings = Feed(lib).item(at(2020, 3, 11), "Rockets and drones hit Camp Taji")
    assert {f.indicator_id: f.severity for f in firings} == {"rocket-attack": "medium", "drone-attack": "high"}


def test_windowed_firings_are_raised_too(make_lib):
    tempo = indicator("tempo", "rate", of=["rocket-attack"], recent="14d", baseline="28d", factor=2, min_count=1,
                      severity="high")
    lib = make_lib(ROCKET, tempo, SYMBOLIC)
    feed = Feed(lib)
    feed.item(at(2020, 1, 20), "Parliament debates the budget")
    firings = feed.item(at(2020, 3, 11, 21), "Rockets hit Camp Taji")
    assert {f.indicator_id: f.severity for f in firings} == {"rocket-attack": "high", "tempo": "critical"}


def test_the_calendar_itself_never_fires(lib):
    feed = Feed(lib)
    assert only(feed.item(at(2020, 3, 11), "Rockets hit Camp Taji"), "symbolic") == []
    assert feed.tick(at(2020, 3, 11) + DAY) == []


def test_default_library_symbolic_date_on_the_first_camp_taji_barrage(default_lib):
    feed = Feed(default_lib)
    on_birthday = feed.item(at(2020, 3, 11, 21), "Rockets hit Camp Taji, which hosts coalition trainers")
    (hit,) = only(on_birthday, "indirect-fire-attack")
    assert hit.severity == "high" and hit.evidence["modifiers"][0]["date"] == "2020-03-11"
    later = feed.item(at(2020, 3, 14, 11), "Rockets hit Camp Taji again, wounding coalition troops")
    assert only(later, "indirect-fire-attack")[0].severity == "medium"
