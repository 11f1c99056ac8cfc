"""Which rules an item can make fire, decided from the term groups present, without a loop over rules.

Every rule states its *gates*: alternatives (one per `when` clause), each a list of requirements (sets of
group ids, of which at least one must be present) and a set of excluded group ids (none may be present).
An item's present groups light up requirement slots; counting the lit slots per gate (in C: set, Counter and
items-view intersection) finds the gates whose every requirement is met, so the cost follows the groups
present rather than the size of the library. A gate is a necessary condition: the rule still decides.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import chain, repeat

Requirement = frozenset[int]  # group ids, at least one of which must be present


class Gates:
    """The gates of every rule of a library, indexed by the groups that satisfy their requirements."""

    def __init__(self) -> None:
        self._slots_of: dict[int, list[int]] = defaultdict(list)  # group id -> requirement slots it satisfies
        self._slot_gate: list[int] = []  # slot -> gate
        self._gate_rule: list[int] = []  # gate -> rule rank
        self._excluded: list[frozenset[int]] = []  # gate -> group ids that close it
        self._needs: set[tuple[int, int]] = set()  # (gate, number of requirements): met when the count equals it

    def add(self, rank: int, requirements: list[Requirement], excluded: frozenset[int] = frozenset()) -> None:
        """One alternative under which the rule of this rank can fire; without requirements it never can."""
        reqs = set(requirements)
        if not reqs or not all(reqs):
            return  # nothing (or an empty group) to wait for: no item can meet it
        gate = len(self._gate_rule)
        self._gate_rule.append(rank)
        self._excluded.append(excluded)
        self._needs.add((gate, len(reqs)))
        for req in reqs:
            slot = len(self._slot_gate)
            self._slot_gate.append(gate)
            for gid in req:
                self._slots_of[gid].append(slot)

    def _counts(self, groups: set[int]) -> Counter[int]:
        """Per gate touched by the item, how many of its requirements the present groups meet."""
        slots = set(chain.from_iterable(map(self._slots_of.get, groups, repeat(()))))
        return Counter(map(self._slot_gate.__getitem__, slots))

    def open(self, groups: set[int]) -> list[int]:
        """Ranks of the rules with a gate that every requirement meets and no excluded group closes, sorted."""
        met = self._counts(groups).items() & self._needs
        return sorted({self._gate_rule[g] for g, _ in met if self._excluded[g].isdisjoint(groups)})

    def touched(self, groups: set[int]) -> int:
        """How many rules have at least one requirement met (for reports: what the gates saved)."""
        return len({self._gate_rule[g] for g in self._counts(groups)})
