"""`rate`: another indicator's hits in a recent window against a baseline window (a spike)."""

from __future__ import annotations

import math
from datetime import datetime

from app.matching.rules.base import WindowRule, register


@register
class RateRule(WindowRule):
    kind = "rate"

    def depends_on(self, lib) -> set[str]:
        return set(self.spec.of)

    def evaluate(self, at: datetime, store):
        spec = self.spec
        observed = store.observed_since()
        # like ElastAlert's spike rule: no verdict until the baseline window has been observed in full
        if observed is None or at - spec.recent - spec.baseline < observed:
            return []
        recent = store.hits(set(spec.of), at - spec.recent, at)
        base_count = store.count_hits(set(spec.of), at - spec.recent - spec.baseline, at - spec.recent)
        recent_rate = len(recent) / spec.recent.total_seconds()
        base_rate = base_count / spec.baseline.total_seconds()
        ratio = recent_rate / base_rate if base_rate else math.inf
        holds = len(recent) >= spec.min_count and ratio >= spec.factor
        episode = self._episode(store)
        if holds and not episode["open"]:
            self._set_episode(store, {"open": True, "since": at.isoformat()})
            items = [i for _, ids in recent for i in ids]
            return [self.firing(at, items, {
                "recent": len(recent), "baseline": base_count, "ratio": None if math.isinf(ratio) else round(ratio, 2),
                "recent_window": str(spec.recent), "baseline_window": str(spec.baseline), "of": spec.of,
                "episode": at.isoformat(),
            })]
        if not holds and episode["open"]:
            self._set_episode(store, {"open": False, "closed": at.isoformat()})
        return []
