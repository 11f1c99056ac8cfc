"""The interface every rule kind implements, the registry that maps `kind` to a class, and Firing."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from app.matching.candidates import Requirement
from app.matching.scan import FIELDS, Scan, Span
from app.matching.schema import SEVERITIES, Clause

if TYPE_CHECKING:
    from app.matching.compiler import CompiledLibrary
    from app.matching.store import Store

REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule kind available to indicator files by its `kind` name."""
    REGISTRY[cls.kind] = cls
    return cls


@dataclass
class Firing:
    """One firing of an indicator, before it is stored as a Hit."""

    indicator_id: str
    kind: str
    at: datetime
    severity: str
    item_ids: list = field(default_factory=list)
    evidence: dict = field(default_factory=dict)

    def raise_severity(self, steps: int, reason: dict) -> None:
        i = min(SEVERITIES.index(self.severity) + steps, len(SEVERITIES) - 1)
        self.severity = SEVERITIES[i]
        self.evidence.setdefault("modifiers", []).append(reason)


@dataclass(frozen=True)
class ItemView:
    """What rules see of an item: its id, event time and the automaton's scan."""

    id: object
    published: datetime
    scan: Scan


class Rule:
    """Base of all kinds: holds the validated spec; compile() registers its terms with the library."""

    kind: ClassVar[str]
    windowed: ClassVar[bool] = False

    def __init__(self, spec) -> None:
        self.spec = spec
        self.id: str = spec.id

    def compile(self, lib: CompiledLibrary) -> None:
        """Register terms with the shared automaton (kinds without terms have nothing to do)."""

    def gates(self) -> list[tuple[list[Requirement], frozenset[int]]]:
        """The alternatives under which an item can make this rule fire, on the term groups present: each a list
        of requirements (group ids, one of which must occur) and the group ids that must not occur. No gates:
        no item makes the rule a candidate (windowed kinds without terms are evaluated through their inputs)."""
        return []

    def firing(self, at: datetime, item_ids: list, evidence: dict) -> Firing:
        return Firing(self.id, self.kind, at, self.spec.severity, list(item_ids), evidence)


class ItemRule(Rule):
    """A per-item kind: decides from one item's scan alone, never touches stored hits."""

    def evaluate(self, item: ItemView, store: Store) -> Firing | None:
        raise NotImplementedError


class WindowRule(Rule):
    """A windowed kind: decides over stored hits in event-time windows, with persisted episode state."""

    windowed = True

    def depends_on(self, lib: CompiledLibrary) -> set[str]:
        """Indicator ids whose new hits make this rule worth re-evaluating."""
        return set()

    def on_item(self, item: ItemView, store: Store) -> bool:
        """Record what this item contributes (e.g. observations); True when evaluation is due."""
        return False

    def evaluate(self, at: datetime, store: Store) -> list[Firing]:
        """Firings due at event time `at` (usually none; one per episode that opens or escalates)."""
        raise NotImplementedError

    # episode bookkeeping shared by windowed kinds ("fires once per episode")
    def _episode(self, store: Store, key: str = "episode") -> dict:
        return store.get_state(self.id, key) or {"open": False}

    def _set_episode(self, store: Store, value: dict, key: str = "episode") -> None:
        store.set_state(self.id, key, value)


@dataclass(frozen=True)
class GroupSpec:
    """A named term group compiled: literal term keys and gazetteer entity ids."""

    keys: frozenset[str]
    entities: frozenset[str]
    gid: int = -1  # index in the library's group registry (presence per scan is computed once for all)


class TermRule(ItemRule):
    """Shared by kinds with term groups: compiles groups and evaluates when/unless clauses."""

    def compile(self, lib: CompiledLibrary) -> None:
        self.groups: dict[str, GroupSpec] = {
            name: lib.compile_group(terms) for name, terms in self.spec.terms.items()
        }
        self.field_idx = frozenset(FIELDS.index(f) for f in self.spec.fields)
        self.all_fields = len(self.field_idx) == len(FIELDS)
        self._lib = lib
        # a group's presence is exact for none/unless only when the rule reads every field (else some of its
        # mentions may sit in fields the rule ignores); for all/any, presence is a necessary condition anyway
        def gids(names, exact: bool = True) -> frozenset[int]:
            return frozenset(self.groups[n].gid for n in names) if exact else frozenset()

        self._gates = [(gids(c.all), gids(c.any), gids(c.none, self.all_fields)) for c in self.spec.when]
        self._vetoes = gids(self.spec.unless, self.all_fields)
        # where presence is exact and no proximity is asked, an open gate *is* the clause holding
        self._exact = [self.all_fields and not c.near for c in self.spec.when]

    def required(self) -> list[Requirement]:
        """Requirements the kind adds to every clause (say, a unit for `quantity`); `match` adds none."""
        return []

    def gates(self) -> list[tuple[list[Requirement], frozenset[int]]]:
        """One gate per clause: each `all` group, one of the `any` groups, and the kind's own requirements; the
        clause's `none` groups and the vetoes close it where presence is exact."""
        extra = self.required()
        if not self.spec.when:
            return [(extra, self._vetoes)]
        return [([*(frozenset({g}) for g in all_), *([any_] if any_ else []), *extra], none | self._vetoes)
                for all_, any_, none in self._gates]

    def spans(self, scan: Scan, group: str) -> list[Span]:
        """Sorted spans of the group in the fields the rule reads (the item's shared list: not to be mutated)."""
        g = self.groups[group]
        out = scan.group_spans(g.gid, g.keys, g.entities)
        if not self.all_fields:
            out = [s for s in out if s.field in self.field_idx]
        return out

    def present(self, scan: Scan, group: str) -> bool:
        """Whether any term of the group occurred (one set lookup; spans are built only when needed)."""
        if self.groups[group].gid not in self._lib.present_groups(scan):
            return False
        return self.all_fields or bool(self.spans(scan, group))

    def _near(self, scan: Scan, a: list[Span], b: list[Span], within: int) -> bool:
        if not a or not b:
            return False
        wb = scan.word_positions(b)
        for f, i in scan.word_positions(a):  # the nearest b at or after i - within, in the same field
            k = bisect.bisect_left(wb, (f, i - within))
            if k < len(wb) and wb[k][0] == f and wb[k][1] <= i + within:
                return True
        return False

    def clause_holds(self, scan: Scan, clause: Clause) -> bool:
        for g in clause.all:
            if not self.present(scan, g):
                return False
        if clause.any and not any(self.present(scan, g) for g in clause.any):
            return False
        for g in clause.none:
            if self.present(scan, g):
                return False
        return all(self._near(scan, self.spans(scan, n.groups[0]), self.spans(scan, n.groups[1]), n.within)
                   for n in clause.near)

    def conditions(self, scan: Scan) -> tuple[bool, dict[str, list[Span]]]:
        """Whether the indicator's clauses hold, and (when they do) the spans of the positive groups."""
        groups = self._lib.present_groups(scan)
        if not self._vetoes.isdisjoint(groups):
            return False, {}
        if not self.all_fields and any(self.present(scan, g) for g in self.spec.unless):
            return False, {}
        if not self.spec.when:
            return True, {}
        for clause, gate, exact in zip(self.spec.when, self._gates, self._exact, strict=True):
            if _open(gate, groups) and (exact or self.clause_holds(scan, clause)):
                return True, {g: self.spans(scan, g) for g in sorted({*clause.all, *clause.any})}
        return False, {}

    def evidence(self, scan: Scan, spans: dict[str, list[Span]]) -> dict:
        """Matched terms per group, their offsets in the original text, and a snippet."""
        found = {g: s for g, s in spans.items() if s and g not in self.spec.unless}
        terms = {g: sorted({scan.quote(x) for x in s}) for g, s in found.items()}
        offsets = []
        for g, ss in found.items():
            for s in ss[:5]:
                rng = scan.source_range(s)
                if rng:
                    offsets.append({"group": g, "field": FIELDS[s.field], "start": rng[0], "end": rng[1]})
        first = min((s for ss in found.values() for s in ss), default=None)
        return {"terms": terms, "offsets": offsets, "snippet": scan.snippet(first) if first else ""}


def _open(gate: tuple[frozenset[int], frozenset[int], frozenset[int]], groups: set[int]) -> bool:
    """Whether a clause's gate lets it hold, given the ids of the groups present: all, any of, none of."""
    all_, any_, none = gate
    return all_ <= groups and (not any_ or not any_.isdisjoint(groups)) and none.isdisjoint(groups)
