"""MemoryStore answers window questions exactly, whatever order hits arrive and questions are asked in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.matching.rules.base import Firing
from app.matching.store import MemoryStore

T0 = datetime(2020, 1, 1, tzinfo=UTC)
IDS = [f"ind-{n}" for n in range(12)]
GROUPS = [frozenset(IDS[:8]), frozenset(IDS[4:]), frozenset(IDS[::3])]


def _reference(hits: list[tuple[str, datetime]], ids, since, until) -> set[str]:
    return {i for i, t in hits if i in ids and since < t <= until}


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("in_order", [True, False])
def test_indicators_with_hits_matches_a_brute_force_reference(seed, in_order):
    """Scenario scores ask this after every firing item: answers kept between questions must stay exact when
    hits arrive late, when questions go back in time, and when hits leave the look-back."""
    rng = random.Random(seed)
    store, hits, clock = MemoryStore(), [], T0
    for _ in range(300):
        clock += timedelta(hours=rng.choice([0, 1, 5, 30, 200]))
        at = clock if in_order or rng.random() < 0.7 else clock - timedelta(hours=rng.randint(1, 900))
        for _ in range(rng.choice([0, 0, 1, 2])):
            i = rng.choice(IDS)
            store.add_hit(Firing(i, "match", at, "low", []))
            hits.append((i, at))
        if rng.random() < 0.05:
            store.prune(clock)  # the default 120-day horizon is beyond every question asked here
        ids = rng.choice(GROUPS)
        lookback = timedelta(days=rng.choice([3, 30]))
        when = at if rng.random() < 0.8 else at + timedelta(hours=rng.randint(-500, 500))
        got = store.indicators_with_hits(ids, when - lookback, when)
        assert got == _reference(hits, ids, when - lookback, when), (seed, when)
