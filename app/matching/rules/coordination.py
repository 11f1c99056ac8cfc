"""`coordination`: N distinct actors of the network tied to one topic within a window."""

from __future__ import annotations

from datetime import datetime

from app.matching.rules.base import ItemView, TermRule, WindowRule, register


@register
class CoordinationRule(TermRule, WindowRule):
    kind = "coordination"
    windowed = True

    def compile(self, lib) -> None:
        super().compile(lib)
        self.lib = lib
        self.topics = {name: lib.compile_group(terms) for name, terms in self.spec.topics.items()}
        self.actors = lib.entities_with_roles(set(self.spec.roles))
        self.actor_group = lib.compile_group([f"@entity:{e}" for e in sorted(self.actors)])

    def required(self) -> list[frozenset[int]]:
        return [frozenset({self.actor_group.gid})]

    def actor_key(self, entity_id: str) -> str:
        """Actors resolve to their organisation, so a leader and his group count once."""
        ent = self.lib.entities.get(entity_id)
        return ent.affiliation if ent is not None and ent.affiliation else entity_id

    def on_item(self, item: ItemView, store) -> bool:
        scan = item.scan
        present = {self.actor_key(e) for e in self.actors & scan.entity_ids if any(
            s.field in self.field_idx for s in scan.entities[e])}
        if not present:
            return False
        ok, _ = self.conditions(scan)
        if not ok:
            return False
        recorded = False
        for topic, group in self.topics.items():
            if any(s.field in self.field_idx for k in group.keys & scan.term_keys for s in scan.terms[k]):
                for key in sorted(present):
                    store.add_observation(self.id, topic, key, item.id, item.published)
                recorded = True
        return recorded

    def evaluate(self, at: datetime, store):
        fired = []
        for topic in self.topics:
            seen = store.observation_keys(self.id, topic, at - self.spec.window, at)
            episode = self._episode(store, f"episode:{topic}")
            holds = len(seen) >= self.spec.min_actors
            if holds and not episode["open"]:
                self._set_episode(store, {"open": True, "since": at.isoformat()}, f"episode:{topic}")
                items = sorted({i for ids in seen.values() for i in ids}, key=str)
                names = {k: self.lib.entities[k].name if k in self.lib.entities else k for k in seen}
                fired.append(self.firing(at, items, {
                    "topic": topic, "actors": sorted(names.values()), "window": str(self.spec.window),
                    "episode": f"{topic}:{at.isoformat()}"}))
            elif not holds and episode["open"]:
                self._set_episode(store, {"open": False, "closed": at.isoformat()}, f"episode:{topic}")
        return fired
