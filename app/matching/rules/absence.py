"""`absence`: activity that was there stops (a lull) — evaluated on a clock, once per episode."""

from __future__ import annotations

from datetime import datetime

from app.matching.rules.base import WindowRule, register


@register
class AbsenceRule(WindowRule):
    kind = "absence"

    def depends_on(self, lib) -> set[str]:
        return set(self.spec.of)

    def evaluate(self, at: datetime, store):
        spec = self.spec
        last = store.last_hit_at(set(spec.of), at)
        if last is None or last + spec.quiet > at:
            return []
        episode = self._episode(store)
        if episode.get("after") == last.isoformat():
            return []  # this silence was already reported
        prior = store.hits(set(spec.of), last - spec.lookback, last)
        if len(prior) < spec.min_prior:
            return []
        due = last + spec.quiet
        # silence from the sources themselves is a feed outage, not a lull
        if store.items_between(last, due) < spec.min_items:
            return []
        self._set_episode(store, {"open": True, "after": last.isoformat(), "at": due.isoformat()})
        return [self.firing(due, [i for _, ids in prior for i in ids], {
            "last_hit": last.isoformat(), "quiet": str(spec.quiet), "prior": len(prior),
            "lookback": str(spec.lookback), "of": spec.of, "episode": last.isoformat(),
        })]
