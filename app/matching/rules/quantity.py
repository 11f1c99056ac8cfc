"""`quantity`: a number in digits or words tied to a unit (rockets, drones, killed) reaching a threshold."""

from __future__ import annotations

from app.matching.numbers import quantity_before
from app.matching.rules.base import Firing, ItemView, TermRule, register


@register
class QuantityRule(TermRule):
    kind = "quantity"

    def compile(self, lib) -> None:
        super().compile(lib)
        self.units = lib.compile_group(self.spec.units)

    def required(self) -> list[frozenset[int]]:
        return [frozenset({self.units.gid})]

    def evaluate(self, item: ItemView, store) -> Firing | None:
        scan = item.scan
        # in text order, so of equal quantities the first mention is the evidence (whatever the set order)
        unit_spans = sorted(s for k in self.units.keys for s in scan.terms.get(k, ()) if s.field in self.field_idx)
        if not unit_spans:
            return None
        best, where = None, None
        for span in unit_spans:
            words = scan.texts[span.field][: span.start].split()[-(self.spec.max_gap + 6) :]
            n = quantity_before(words, self.spec.max_gap)
            if n is not None and (best is None or n > best):
                best, where = n, span
        if best is None or best < self.spec.threshold:
            return None
        ok, spans = self.conditions(scan)
        if not ok:
            return None
        evidence = self.evidence(scan, {**spans, "unit": [where]})
        evidence["quantity"] = best
        evidence["snippet"] = scan.snippet(where)
        return self.firing(item.published, [item.id], evidence)
