"""What one automaton pass found in an item, and how its folded offsets map back to the original text.

`scan_item` folds the three fields and runs the library's automaton once over them; a `Scan` keeps the
occurrences and builds, only when a rule asks, the spans per term and entity and the quotes of the original
words that evidence shows.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

from app.matching.matcher import Automaton
from app.matching.normalize import folds_wordwise, normalize, normalize_with_offsets, page_shifts

FIELDS = ("title", "summary", "content")
# an original-text token that folds to exactly one word: word characters joined by apostrophe-like marks
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019\u2018\u02bc\u02bb\u02bf\u02be`\u00b4\u2032\u0640]+[^\W_]+)*")


class Span(NamedTuple):
    """Where a term occurred: field index and character offsets in that field's folded text."""

    field: int
    start: int
    end: int


class _Shifts:
    """Code-page text (ASCII, Arabic): folded offset + the delta of its segment is the original offset."""

    def __init__(self, starts: list[int], deltas: list[int]) -> None:
        self.starts, self.deltas = starts, deltas

    def range(self, start: int, end: int) -> tuple[int, int]:
        first = self.deltas[bisect.bisect_right(self.starts, start) - 1]
        last = self.deltas[bisect.bisect_right(self.starts, end - 1) - 1]
        return start + first, end + last


class _Words:
    """Other fast-path text: each original token folds to exactly one word, so words map by their index."""

    def __init__(self, spans: list[tuple[int, int]], folded: str) -> None:
        self.spans, self.folded = spans, folded

    def range(self, start: int, end: int) -> tuple[int, int] | None:
        first = self.folded.count(" ", 0, start) - 1
        last = first + self.folded.count(" ", start, end)
        if 0 <= first <= last < len(self.spans):
            return self.spans[first][0], self.spans[last][1]
        return None


class _Chars:
    """Anything else: each folded character's source index, from the per-character folding loop (slow)."""

    def __init__(self, origin: list[int]) -> None:
        self.origin = origin

    def range(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1


_Locator = _Shifts | _Words | _Chars


def _locator(original: str, folded: str) -> _Locator | None:
    """The cheapest exact way to map this field's folded offsets back to its original text."""
    shifts = page_shifts(original, len(folded))
    if shifts is not None:
        return _Shifts(*shifts)
    if folds_wordwise(original):
        spans = [m.span() for m in _TOKEN.finditer(original)]
        if len(spans) == max(folded.count(" ") - 1, 0):
            return _Words(spans, folded)
    again, origin = normalize_with_offsets(original)
    return _Chars(origin) if again == folded else None


@dataclass
class Scan:
    """What one pass found in one item. Most items make no rule a candidate, so the spans per term and entity,
    and the quotes of the original text, are built only when a rule first asks for them."""

    originals: tuple[str, str, str]
    texts: tuple[str, str, str]
    occurrences: list[tuple[int, int, tuple[str, ...], tuple[str, ...]]]  # the automaton's, in the joined text
    groups: set[int] | None = None  # ids of the library's term groups that occurred, filled on first use
    _found: tuple[set[str], set[str]] | None = None
    _spans: tuple[dict[str, list[Span]], dict[str, list[Span]]] | None = None
    _locators: dict[int, _Locator | None] = field(default_factory=dict)
    _group_spans: dict[int, list[Span]] = field(default_factory=dict)  # by group id, shared by the rules using it
    _ranges: dict[Span, tuple[int, int] | None] = field(default_factory=dict)  # a span's offsets in the original

    @property
    def term_keys(self) -> set[str]:
        return (self._found or self._collect())[0]

    @property
    def entity_ids(self) -> set[str]:
        return (self._found or self._collect())[1]

    def _collect(self) -> tuple[set[str], set[str]]:
        self._found = (set(chain.from_iterable(o[2] for o in self.occurrences)),
                       set(chain.from_iterable(o[3] for o in self.occurrences)))
        return self._found

    @property
    def terms(self) -> dict[str, list[Span]]:
        """Term key -> spans where it occurred."""
        return (self._spans or self._build_spans())[0]

    @property
    def entities(self) -> dict[str, list[Span]]:
        """Entity id -> spans where one of its aliases occurred."""
        return (self._spans or self._build_spans())[1]

    def _build_spans(self) -> tuple[dict[str, list[Span]], dict[str, list[Span]]]:
        terms: dict[str, list[Span]] = defaultdict(list)
        entities: dict[str, list[Span]] = defaultdict(list)
        second = len(self.texts[0]) + 1
        third = second + len(self.texts[1]) + 1
        new = tuple.__new__  # Span without its Python-level __new__: one per occurrence, so it shows
        for start, end, keys, ents in self.occurrences:
            if start < second:
                span = new(Span, (0, start, end))
            elif start < third:
                span = new(Span, (1, start - second, end - second))
            else:
                span = new(Span, (2, start - third, end - third))
            for k in keys:
                terms[k].append(span)
            for e in ents:
                entities[e].append(span)
        self._spans = (terms, entities)
        return self._spans

    def group_spans(self, gid: int, keys: frozenset[str], entities: frozenset[str]) -> list[Span]:
        """Sorted spans of a term group's terms and entities (built once per item and group; not to be mutated)."""
        out = self._group_spans.get(gid)
        if out is None:
            terms, ents = self.terms, self.entities
            # intersect by iterating the item's few keys (`group & dict.keys()` would walk the whole group)
            out = [s for k in keys.intersection(terms) for s in terms[k]]
            out += [s for e in entities.intersection(ents) for s in ents[e]]
            out.sort()
            self._group_spans[gid] = out
        return out

    def word_positions(self, spans: list[Span]) -> list[tuple[int, int]]:
        """(field, word index) of each span, sorted; spaces are counted once per field, not once per span."""
        out, field_, pos, idx = [], -1, 0, 0
        for s in sorted(spans):
            if s.field != field_:
                field_, pos, idx = s.field, 0, 0
            idx += self.texts[field_].count(" ", pos, s.start)
            pos = s.start
            out.append((field_, idx))
        return out

    def source_range(self, span: Span) -> tuple[int, int] | None:
        """The span's offsets in the original (unfolded) field text, when they can be mapped."""
        if span in self._ranges:
            return self._ranges[span]
        f = span.field
        if f not in self._locators:
            self._locators[f] = _locator(self.originals[f], self.texts[f])
        loc = self._locators[f]
        rng = self._ranges[span] = loc.range(span.start, span.end) if loc is not None else None
        return rng

    def quote(self, span: Span) -> str:
        """The original words of a span (folded words when the mapping is unavailable)."""
        rng = self.source_range(span)
        if rng is None:
            return self.texts[span.field][span.start : span.end]
        return self.originals[span.field][rng[0] : rng[1]]

    def snippet(self, span: Span, width: int = 110) -> str:
        """Original text around a span, for showing a hit's evidence."""
        text = self.originals[span.field]
        rng = self.source_range(span)
        if rng is None:
            return self.texts[span.field].strip()[: 2 * width]
        lo, hi = max(0, rng[0] - width), min(len(text), rng[1] + width)
        return ("…" if lo else "") + text[lo:hi].strip() + ("…" if hi < len(text) else "")


def scan_item(automaton: Automaton, title: str, summary: str, content: str) -> Scan:
    """Fold the three fields and run the automaton once over them (joined, so one pass serves all three)."""
    originals = (title or "", summary or "", content or "")
    texts = (normalize(originals[0]), normalize(originals[1]), normalize(originals[2]))
    return Scan(originals, texts, automaton.scan("\n".join(texts)))
