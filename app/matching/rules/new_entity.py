"""`new_entity`: a militia name nobody has seen — not in the gazetteer, not sighted before."""

from __future__ import annotations

import re

from app.matching.names import Candidate, Resolver, fold_name, is_generic, name_after, name_before
from app.matching.normalize import normalize
from app.matching.rules.base import Firing, ItemView, TermRule, register
from app.matching.scan import FIELDS, Span

# cues after which the name follows; every other cue has the name before it (", a little-known group")
_ARTICLE_BEFORE = re.compile(r"(?:,\s*)?(?:\b(?:a|an|the)\s+)?$", re.IGNORECASE)
_BEFORE_WORDS = ("little known", "claimed", "claims", "claim", "تبنت", "تتبنى", "أعلنت مسؤوليتها")


@register
class NewEntityRule(TermRule):
    kind = "new_entity"

    def compile(self, lib) -> None:
        super().compile(lib)
        self.lib = lib
        self.cues = lib.compile_group(self.spec.cues)
        self.head_group = lib.compile_group(self.spec.head_nouns)
        self._words = self.cues.keys | self.head_group.keys  # one of them must occur for a name to be found
        self.not_after = {normalize(w).strip() for w in self.spec.not_after}
        self._gazetteer: Resolver | None = None
        self._sightings: Resolver | None = None
        self._sightings_key: tuple | None = None

    def required(self) -> list[frozenset[int]]:
        return [frozenset({self.cues.gid, self.head_group.gid})]  # a name is found after a cue or before a noun

    def known(self, name: str, store) -> tuple[str, str] | None:
        """Resolve against the gazetteer (built once per library), then against earlier sightings."""
        if self._gazetteer is None:
            self._gazetteer = Resolver(self.lib.alias_owner, self.spec.fuzzy_threshold)
        return self._gazetteer.resolve(name) or self._sighted(store).resolve(name)

    def _sighted(self, store) -> Resolver:
        """Sightings resolver, rebuilt only when the store's sightings changed (e.g. an officer's review)."""
        rows = store.sightings(self.id)
        key = (id(store), len(rows))
        if self._sightings_key != key:
            self._sightings = Resolver({s["name"]: f"sighting:{s['norm']}" for s in rows}, self.spec.fuzzy_threshold)
            self._sightings_key = key
        return self._sightings

    def candidates(self, item: ItemView) -> list[Candidate]:
        scan = item.scan
        found: list[Candidate] = []
        terms = scan.terms
        for k in sorted(self.cues.keys & scan.term_keys):  # sorted: the cue credited must not follow set order
            for span in terms[k]:
                if span.field not in self.field_idx or self._blocked(scan, span):
                    continue
                rng = scan.source_range(span)
                if rng is None:
                    continue
                text = scan.originals[span.field]
                before = k.rstrip("*").startswith(_BEFORE_WORDS) or k.rstrip("*") in _BEFORE_WORDS
                if before:  # "X, a little-known faction": step back over the article and the comma
                    got = name_before(text, _ARTICLE_BEFORE.search(text, 0, rng[0]).start())
                else:
                    got = name_after(text, rng[1])
                if got:
                    found.append(Candidate(got[0], f"cue: {scan.quote(span)}", span.field, got[1], got[2]))
        for k in sorted(self.head_group.keys & scan.term_keys):
            for span in terms[k]:
                rng = scan.source_range(span) if span.field in self.field_idx else None
                if rng is None:
                    continue
                text = scan.originals[span.field]
                head = text[rng[0] : rng[1]]
                if normalize(head).strip() != k or not (head[:1].isupper() or not head[:1].isascii()):
                    continue  # a name starts with the bare head noun, capitalised in Latin script
                got = name_after(text, rng[0])
                if got and len(got[0].split()) >= 2:
                    found.append(Candidate(got[0], f"head noun: {head}", span.field, got[1], got[2]))
        return _dedupe(found)

    def _blocked(self, scan, span: Span) -> bool:
        words = scan.texts[span.field][: span.start].split()[-3:]
        return any(w in self.not_after for w in words)

    def evaluate(self, item: ItemView, store) -> Firing | None:
        scan = item.scan
        if self._words.isdisjoint(scan.term_keys):
            return None
        ok, spans = self.conditions(scan)
        if not ok:
            return None
        new = []
        for c in self.candidates(item):
            if is_generic(c.name):
                continue
            known = self.known(c.name, store)
            if known:
                owner, _ = known
                if owner.startswith("sighting:"):
                    store.touch_sighting(self.id, owner[len("sighting:") :], item.published)
                continue
            store.add_sighting(self.id, c.name, fold_name(c.name), item.id, item.published)
            new.append(c)
        if not new:
            return None
        evidence = self.evidence(scan, spans)
        evidence["names"] = [{"name": c.name, "found_by": c.how, "field": FIELDS[c.field],
                              "start": c.start, "end": c.end} for c in new]
        first = new[0]
        text = scan.originals[first.field]
        lo, hi = max(0, first.start - 110), min(len(text), first.end + 110)
        evidence["snippet"] = ("…" if lo else "") + text[lo:hi].strip() + ("…" if hi < len(text) else "")
        return self.firing(item.published, [item.id], evidence)


def _dedupe(cands: list[Candidate]) -> list[Candidate]:
    """One candidate per name; a name contained in a longer candidate at the same place is dropped."""
    out: list[Candidate] = []
    for c in sorted(cands, key=lambda c: -(c.end - c.start)):
        if any(o.field == c.field and o.start <= c.start and c.end <= o.end for o in out):
            continue
        if any(fold_name(o.name) == fold_name(c.name) for o in out):
            continue
        out.append(c)
    return out
