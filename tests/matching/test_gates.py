"""The gate index opens exactly the rules a brute-force reading of their gates opens."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching.candidates import Gates

GIDS = st.integers(min_value=0, max_value=12)
REQUIREMENT = st.frozensets(GIDS, min_size=1, max_size=3)
GATE = st.tuples(st.lists(REQUIREMENT, min_size=1, max_size=3), st.frozensets(GIDS, max_size=2))
RULES = st.lists(st.lists(GATE, min_size=1, max_size=3), min_size=1, max_size=8)


def _brute(rules, groups) -> list[int]:
    return [rank for rank, gates in enumerate(rules)
            if any(all(req & groups for req in reqs) and not (excl & groups) for reqs, excl in gates)]


@settings(max_examples=300, deadline=None)
@given(RULES, st.sets(GIDS, max_size=10))
def test_open_matches_brute_force(rules, groups):
    index = Gates()
    for rank, gates in enumerate(rules):
        for reqs, excl in gates:
            index.add(rank, reqs, excl)
    assert index.open(groups) == _brute(rules, groups)


def test_a_requirement_met_twice_counts_once():
    index = Gates()
    index.add(0, [frozenset({1, 2}), frozenset({3})])
    assert index.open({1, 2}) == []  # the any-of {1, 2} is met twice, {3} not at all
    assert index.open({1, 2, 3}) == [0]


def test_a_gate_without_requirements_or_with_an_empty_group_never_opens():
    index = Gates()
    index.add(0, [])
    index.add(1, [frozenset(), frozenset({1})])
    assert index.open({1, 2, 3}) == []


def test_touched_counts_rules_with_some_requirement_met():
    index = Gates()
    index.add(0, [frozenset({1}), frozenset({2})])
    index.add(1, [frozenset({5})])
    index.add(1, [frozenset({1})], excluded=frozenset({1}))
    assert index.touched({1}) == 2 and index.open({1}) == []
