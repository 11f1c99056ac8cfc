"""Turns a validated Library into rule objects sharing one automaton."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from app.matching.candidates import Gates
from app.matching.loader import Library, LibraryError, LibraryProblem
from app.matching.matcher import Automaton
from app.matching.rules import REGISTRY, Rule, WindowRule
from app.matching.rules.base import GroupSpec
from app.matching.scan import Scan, scan_item
from app.matching.scenarios import members
from app.matching.schema import ITEM_KINDS, Entity


@dataclass(frozen=True)
class AliasAddition:
    """An alias or entity added by an officer at run time (stored in the database)."""

    entity_id: str
    name: str
    alias: str
    roles: tuple[str, ...] = ()


class CompiledLibrary:
    """Everything matching needs, built once per library version."""

    def __init__(self, library: Library, additions: list[AliasAddition] = ()) -> None:
        self.library = library
        self.entities: dict[str, Entity] = dict(library.entities)
        self.alias_owner: dict[str, str] = {}
        self.automaton = Automaton()
        self._key_groups: dict[str, list[int]] = defaultdict(list)
        self._entity_groups: dict[str, list[int]] = defaultdict(list)
        self._group_ids: dict[tuple[frozenset[str], frozenset[str]], int] = {}
        for add in additions:
            if add.entity_id not in self.entities:
                self.entities[add.entity_id] = Entity(
                    id=add.entity_id, name=add.name, type="group", roles=list(add.roles) or ["proxy-group"],
                    source="added by an officer", aliases=[add.alias])
            else:
                ent = self.entities[add.entity_id]
                self.entities[add.entity_id] = ent.model_copy(update={"aliases": [*ent.aliases, add.alias]})
        self.role_index: dict[str, set[str]] = defaultdict(set)
        for ent in self.entities.values():
            for r in ent.roles:
                self.role_index[r].add(ent.id)
            for alias in {ent.name, *ent.aliases}:
                self.alias_owner.setdefault(alias, ent.id)
                self.automaton.add_alias(alias, ent.id)
        self.version = library.version + (f"+{len(additions)}" if additions else "")
        self.rules: dict[str, Rule] = {}
        problems = []
        for ind in library.indicators.values():
            if ind.enabled:
                rule = REGISTRY[ind.kind](ind)
                self.rules[ind.id] = rule
                try:
                    rule.compile(self)
                except ValueError as e:
                    problems.append(LibraryProblem(library.files.get(ind.id, ind.id), None, "terms", str(e)))
        if problems:
            raise LibraryError(problems)
        self.automaton.build()
        self.item_rules = [r for r in self.rules.values() if r.kind in ITEM_KINDS]
        self._ranked = list(self.rules.values())
        self.gates = Gates()
        for rank, rule in enumerate(self._ranked):
            for requirements, excluded in rule.gates():
                self.gates.add(rank, requirements, excluded)
        self.calendar_rules = [r for r in self.rules.values() if r.kind == "calendar"]
        self.window_rules = _topological([r for r in self.rules.values() if r.windowed], self)
        self.window_deps = {r.id: frozenset(r.depends_on(self)) for r in self.window_rules}
        self.scenario_members = {sid: members(self, sid) for sid in library.scenarios}
        self.scenario_ids = {sid: frozenset(m) for sid, m in self.scenario_members.items()}  # one object per scenario
        self._scenarios_of: dict[str, set[str]] = defaultdict(set)
        self._scores: dict[tuple[str, frozenset[str]], float] = {}
        for sid, weights in self.scenario_members.items():
            for ind in weights:
                self._scenarios_of[ind].add(sid)

    def scenario_score(self, scenario_id: str, fired: frozenset[str]) -> float:
        """Summed weights of the scenario's members that fired, exactly rounded (`fsum`: the same whatever the set
        order). Kept per answer: a store hands back the same frozenset while its answer stands, so the item after
        item that asks again costs one lookup."""
        key = (scenario_id, fired)
        score = self._scores.get(key)
        if score is None:
            if len(self._scores) >= 4096:  # answers change as hits come and go: keep the memo bounded
                self._scores.clear()
            weights = self.scenario_members[scenario_id]
            score = self._scores[key] = math.fsum(map(weights.__getitem__, fired))
        return score

    def scenarios_of(self, indicator_ids) -> list[str]:
        """The scenarios these indicators count towards (only their levels can have moved)."""
        return sorted({s for i in indicator_ids for s in self._scenarios_of.get(i, ())})

    def entities_with_roles(self, roles: set[str]) -> frozenset[str]:
        return frozenset(e for r in roles for e in self.role_index.get(r, ()))

    def compile_group(self, terms: list[str]) -> GroupSpec:
        """Register a group's terms; `@role:X`, `@entity:Y` and `@terms:Z` expand from the library. Groups are the
        library's, by content: rules naming the same terms share one."""
        keys, ents = set(), set()
        for t in terms:
            if t.startswith("@terms:"):
                sub = self.compile_group(self.library.vocabulary[t[7:]])
                keys |= sub.keys
                ents |= sub.entities
            elif t.startswith("@role:"):
                ents |= self.role_index.get(t[6:], set())
            elif t.startswith("@entity:"):
                ents.add(t[8:])
            else:
                keys.add(self.automaton.add_term(t))
        content = (frozenset(keys), frozenset(ents))
        if content not in self._group_ids:  # rules that share a group (say `@role:x`) share its id and spans
            gid = self._group_ids[content] = len(self._group_ids)
            for k in keys:
                self._key_groups[k].append(gid)
            for e in ents:
                self._entity_groups[e].append(gid)
        return GroupSpec(*content, self._group_ids[content])

    def present_groups(self, scan: Scan) -> set[int]:
        """Ids of every compiled group with at least one term or entity in the scan (computed once per item)."""
        if scan.groups is None:
            out: set[int] = set()
            for k in scan.term_keys:
                out.update(self._key_groups.get(k, ()))
            for e in scan.entity_ids:
                out.update(self._entity_groups.get(e, ()))
            scan.groups = out
        return scan.groups

    def scan(self, title: str, summary: str, content: str) -> Scan:
        return scan_item(self.automaton, title, summary, content)

    def candidates(self, scan: Scan) -> list[Rule]:
        """The rules whose gates the groups present in the item open, in library order: the only ones worth
        evaluating."""
        if not (scan.term_keys or scan.entity_ids):
            return []
        return [self._ranked[r] for r in self.gates.open(self.present_groups(scan))]


def _topological(rules: list[WindowRule], lib: CompiledLibrary) -> list[WindowRule]:
    """Windowed rules ordered so a rule is evaluated after the windowed rules it depends on."""
    deps = {r.id: r.depends_on(lib) for r in rules}
    ordered: list[WindowRule] = []
    done: set[str] = set()
    pending = list(rules)
    while pending:
        ready = [r for r in pending if not (deps[r.id] & {p.id for p in pending if p is not r})]
        if not ready:  # a cycle: keep file order rather than loop
            ready = pending[:1]
        for r in ready:
            ordered.append(r)
            done.add(r.id)
            pending.remove(r)
    return ordered
