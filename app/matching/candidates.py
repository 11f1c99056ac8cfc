"""Which rules an item can make fire, decided from the term groups present, without a loop over rules.

Every rule states its *gates*: alternatives (one per `when` clause), each a list of requirements (sets of
group ids, of which at least one must be present) and a set of excluded group ids (none may be present).
Gates are indexed by the position of each requirement: `met[k]` is the set of gates whose k-th requirement
the item's groups meet, found by set unions over the groups present. A gate with n requirements is open when
it is in met[0] .. met[n-1]: a few set intersections, all in C, so the cost follows the groups present
rather than the size of the library. A gate is a necessary condition: the rule still decides.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import chain, repeat

Requirement = frozenset[int]  # group ids, at least one of which must be present


class Gates:
    """The gates of every rule of a library, indexed by the groups that meet each of their requirements."""

    def __init__(self) -> None:
        self._by_position: list[dict[int, list[int]]] = []  # k -> group id -> gates whose k-th requirement it meets
        self._with_need: list[set[int]] = []  # n - 1 -> gates with n requirements
        self._gate_rule: list[int] = []  # gate -> rule rank
        self._excluded: list[frozenset[int]] = []  # gate -> group ids that close it

    def add(self, rank: int, requirements: list[Requirement], excluded: frozenset[int] = frozenset()) -> None:
        """One alternative under which the rule of this rank can fire; without requirements it never can."""
        reqs = sorted(set(requirements), key=sorted)  # duplicates count once; a fixed order, whatever the set's
        if not reqs or not all(reqs):
            return  # nothing (or an empty group) to wait for: no item can meet it
        gate = len(self._gate_rule)
        self._gate_rule.append(rank)
        self._excluded.append(excluded)
        while len(self._by_position) < len(reqs):
            self._by_position.append(defaultdict(list))
            self._with_need.append(set())
        self._with_need[len(reqs) - 1].add(gate)
        for k, req in enumerate(reqs):
            for gid in req:
                self._by_position[k][gid].append(gate)

    def _met(self, k: int, groups: set[int]) -> set[int]:
        """Gates whose k-th requirement the groups present meet."""
        return set(chain.from_iterable(map(self._by_position[k].get, groups, repeat(()))))

    def open(self, groups: set[int]) -> list[int]:
        """Ranks of the rules with a gate that every requirement meets and no excluded group closes, sorted."""
        if not self._by_position:
            return []
        every = self._met(0, groups)  # gates whose first k + 1 requirements are met
        opened = every & self._with_need[0]
        for k in range(1, len(self._by_position)):
            every &= self._met(k, groups)
            if not every:
                break
            opened |= every & self._with_need[k]
        return sorted({self._gate_rule[g] for g in opened if self._excluded[g].isdisjoint(groups)})

    def touched(self, groups: set[int]) -> int:
        """How many rules have at least one requirement met (for reports: what the gates saved)."""
        gates = set().union(*(self._met(k, groups) for k in range(len(self._by_position))))
        return len({self._gate_rule[g] for g in gates})
