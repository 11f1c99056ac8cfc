"""`composite`: several distinct indicators (or a scenario's indicators) fired within a window."""

from __future__ import annotations

from datetime import datetime

from app.matching.rules.base import WindowRule, register


@register
class CompositeRule(WindowRule):
    kind = "composite"

    def depends_on(self, lib) -> set[str]:
        members = set(self.spec.of)
        if self.spec.of_scenario:
            members |= {i for i, ind in lib.library.indicators.items()
                        if self.spec.of_scenario in ind.scenarios and i != self.id}
        self.members = members
        return members

    def evaluate(self, at: datetime, store):
        fired = store.distinct_indicators(self.members, at - self.spec.window, at)
        episode = self._episode(store)
        if len(fired) < self.spec.min_distinct:
            if episode["open"]:
                self._set_episode(store, {"open": False, "closed": at.isoformat()})
            return []
        known = set(episode.get("members", [])) if episode["open"] else set()
        if episode["open"] and set(fired) <= known:
            return []
        # opens an episode, or escalates it: a member joined that was not part of it yet
        since = episode["since"] if episode["open"] else at.isoformat()
        self._set_episode(store, {"open": True, "members": sorted(known | set(fired)), "since": since})
        items = list(dict.fromkeys(i for ind in sorted(fired) for i in fired[ind]))
        return [self.firing(at, items, {
            "indicators": sorted(fired), "new": sorted(set(fired) - known), "window": str(self.spec.window),
            "episode": since})]
