"""`match`: boolean clauses over term groups (any / all / none, proximity, fields)."""

from __future__ import annotations

from app.matching.rules.base import Firing, ItemView, TermRule, register


@register
class MatchRule(TermRule):
    kind = "match"

    def evaluate(self, item: ItemView, store) -> Firing | None:
        ok, spans = self.conditions(item.scan)
        if not ok:
            return None
        return self.firing(item.published, [item.id], self.evidence(item.scan, spans))
