"""The same items through MemoryStore (backtests) and SqlStore (live, SQLite and PostgreSQL) fire the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from wf_matching import ROCKET, add_item, indicator

from app.matching.engine import Engine, ItemInput
from app.matching.rules.base import Firing
from app.matching.sqlstore import SqlStore
from app.matching.store import MemoryStore


def t(month, day, hour=12, year=2020):
    return datetime(year, month, day, hour, tzinfo=UTC)


# The seeds' early-2020 timeline, in our own words: the march endorsements, the March barrages, a new name,
# then a quiet spell with ordinary news; ticks let clock rules (absence, episode ends, levels) run.
SEED_TIMELINE = [
    ("item", t(1, 5), "Iraqi parliament votes to expel foreign forces after the strike on Soleimani"),
    ("item", t(1, 14, 9), "Sadr calls for a million-man march against the U.S. military presence"),
    ("item", t(1, 14, 13), "Hadi al-Ameri announces his support for the million-man march"),
    ("item", t(1, 14, 15), "Qais al-Khazali urges Iraqis to join the march against U.S. troops"),
    ("item", t(1, 14, 18), "Harakat al-Nujaba says it will take part in the million-man march"),
    ("item", t(1, 15, 8), "Kata'ib Hezbollah endorses the march against U.S. forces"),
    ("tick", t(2, 1, 0)),
    ("item", t(2, 20, 7), "Two Katyusha rockets hit near the U.S. Embassy in Baghdad"),
    ("item", t(3, 11, 21), "Over 30 rockets hit Camp Taji, killing two U.S. troops and a British soldier"),
    ("item", t(3, 14, 11), "A barrage of 25 rockets struck Camp Taji, wounding coalition troops"),
    ("item", t(3, 15, 6), "A new militia group calling itself Usbat al-Thairen claimed responsibility for the "
                          "rocket attacks on Camp Taji"),
    ("item", t(3, 16, 17), "Two rockets landed inside Besmaya base, home to coalition trainers"),
    ("item", t(3, 17, 9), "Usbat al-Tha'irin threatened more rocket attacks on U.S. forces"),
    ("item", t(3, 20, 8), "Oil prices fall as the virus spreads"),
    ("item", t(3, 26, 8), "Iraq's PM-designate meets bloc leaders"),
    ("tick", t(3, 31, 0)),
    ("tick", t(5, 1, 0)),
]

SMALL = [
    ROCKET,
    indicator("tempo", "rate", of=["rocket-attack"], recent="14d", baseline="28d", factor=2, min_count=2),
    indicator("lull", "absence", of=["rocket-attack"], quiet="14d", lookback="28d", min_prior=3),
    indicator("coord", "coordination", roles=["proxy-group", "proxy-leader"], window="7d", min_actors=3,
              topics={"march": ["march*"]}, terms={"backing": ["endors*"]}, when=[{"all": ["backing"]}]),
    indicator("together", "composite", of=["rocket-attack", "tempo", "coord"], min_distinct=2, window="30d",
              severity="critical"),
    indicator("symbolic", "calendar", dates=[{"date": "03-11", "name": "Soleimani's birthday", "days": 2}]),
]
SMALL_TIMELINE = [
    ("item", t(1, 1), "The stream starts"),
    ("item", t(2, 13), "Badr endorses the march"),
    ("item", t(2, 14), "Hadi al-Ameri endorses the march"),  # the same actor as Badr
    ("item", t(2, 15), "Asa'ib Ahl al-Haq endorses the march"),
    ("item", t(2, 16), "Nujaba endorses the march"),
    ("item", t(3, 10), "Rockets hit Camp Taji"),
    ("item", t(3, 11, 21), "Rockets hit Camp Taji again"),
    ("item", t(3, 14), "Rockets hit Besmaya"),
    ("item", t(3, 20), "Nothing much happened"),
    ("tick", t(3, 29, 0)),
    ("tick", t(4, 1, 0)),
    ("item", t(5, 20), "Rockets hit Camp Taji after a long pause"),
    ("item", t(5, 21), "Rockets hit Camp Taji once more"),
    ("tick", t(6, 30, 0)),
]


def run_memory(lib, timeline):
    store = MemoryStore()
    engine = Engine(lib, store)
    firings, levels = [], []
    for n, (kind, at, *text) in enumerate(timeline):
        if kind == "item":
            store.record_item(at)
            out = engine.process(ItemInput(f"n{n}", at, text[0]))
        else:
            out = engine.tick(at)
        firings += [(f.indicator_id, f.at, f.severity, sorted(f.item_ids)) for f, _ in out.firings]
        levels += [(c.scenario_id, c.at, c.level) for c in out.levels]
    return firings, levels


def run_sql(sessions, lib, timeline):
    """One transaction per step, a new Store and Engine each time (as the live service does)."""
    firings, levels, names = [], [], {}
    for n, (kind, at, *text) in enumerate(timeline):
        with sessions() as s:
            engine = Engine(lib, SqlStore(s, lib.version))
            if kind == "item":
                item = add_item(s, at, text[0])
                names[item.id] = f"n{n}"
                out = engine.process(ItemInput(item.id, item.published_at, text[0]))
            else:
                out = engine.tick(at)
            s.commit()
        firings += [(f.indicator_id, f.at, f.severity, sorted(names[i] for i in f.item_ids)) for f, _ in out.firings]
        levels += [(c.scenario_id, c.at, c.level) for c in out.levels]
    return firings, levels


def test_small_library_same_firings_in_memory_and_in_the_database(sessions, make_lib):
    lib = make_lib(*SMALL)
    memory = run_memory(lib, SMALL_TIMELINE)
    fired = {f[0] for f in memory[0]}
    assert fired == {"rocket-attack", "tempo", "lull", "coord", "together"}, fired  # the sequence covers every kind
    assert run_sql(sessions, lib, SMALL_TIMELINE) == memory


def test_default_library_same_firings_in_memory_and_in_the_database(sessions, default_lib):
    memory = run_memory(default_lib, SEED_TIMELINE)
    fired = {f[0] for f in memory[0]}
    assert {"leader-coordination", "indirect-fire-attack", "large-salvo", "new-militia-name", "indirect-fire-tempo",
            "attack-lull", "coordinated-escalation"} <= fired, fired
    assert [f[0] for f in memory[0]].count("new-militia-name") == 1
    firings, levels = run_sql(sessions, default_lib, SEED_TIMELINE)
    assert firings == memory[0]
    assert levels == memory[1]


@pytest.mark.parametrize("boundary", ["since", "until"])
def test_sql_windows_are_half_open_like_memory(sessions, boundary):
    since, until = t(3, 1), t(3, 15)
    at = since if boundary == "since" else until
    with sessions() as s:
        sql = SqlStore(s, "test")
        mem = MemoryStore()
        for store in (sql, mem):
            store.add_hit(Firing("rocket-attack", "match", at, "medium", []))
            store.add_observation("coord", "march", "badr", None, at)
        for store in (sql, mem):
            inside = boundary == "until"
            assert store.count_hits({"rocket-attack"}, since, until) == int(inside)
            assert len(store.hits({"rocket-attack"}, since, until)) == int(inside)
            assert bool(store.distinct_indicators({"rocket-attack"}, since, until)) is inside
            assert store.indicators_with_hits({"rocket-attack", "other"}, since, until) == (
                {"rocket-attack"} if inside else set())
            assert bool(store.observation_keys("coord", "march", since, until)) is inside
            assert store.last_hit_at({"rocket-attack"}, at) == at
