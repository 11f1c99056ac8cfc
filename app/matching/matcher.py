"""One Aho-Corasick automaton over every term and alias of the library; one pass per item."""

from __future__ import annotations

from collections import defaultdict

import ahocorasick

from app.matching.normalize import has_arabic, normalize

# Arabic attaches conjunctions (و ف), prepositions (ب ل ك) and the article (ال) to the word.
_AR_PREFIXES = ("", "و", "ف", "ب", "ل", "ك", "وب", "ول", "فب", "فل")
_AR_ARTICLE_PREFIXES = ("", "و", "ف", "ب", "ك", "وب", "فب")


def term_key(term: str) -> str:
    """Canonical key of a literal term: its folded form, with a trailing * kept for prefix terms."""
    core = normalize(term.rstrip("*")).strip()
    return core + "*" if term.endswith("*") else core


def _patterns(key: str) -> list[str]:
    core = key.rstrip("*")
    if has_arabic(core):
        # Arabic terms match with attached proclitics and any suffix (no right boundary)
        if core.startswith("ال"):
            stem = core[2:]
            return sorted({f" {p}{core}" for p in _AR_ARTICLE_PREFIXES} | {f" لل{stem}", f" ولل{stem}", f" فلل{stem}"})
        forms = {f" {p}{core}" for p in _AR_PREFIXES}
        forms |= {f" {p}ال{core}" for p in _AR_ARTICLE_PREFIXES} | {f" لل{core}", f" ولل{core}", f" فلل{core}"}
        return sorted(forms)
    if key.endswith("*"):
        return [f" {core}"]
    # the apostrophe of a possessive folds away ("Sadr's" -> "sadrs"), so a name also matches with -s
    return [f" {core} ", f" {core}s "]


class Automaton:
    """Compiled patterns: literal term keys and gazetteer aliases, each pattern mapped to what it means."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
        self._auto = ahocorasick.Automaton()

    def add_term(self, term: str) -> str:
        if "*" in term.rstrip("*"):
            raise ValueError(f"term {term!r}: * is only allowed at the end of a term")
        key = term_key(term)
        if not key.rstrip("*"):
            raise ValueError(f"term {term!r} has no letters or digits")
        for p in _patterns(key):
            self._values[p][0].add(key)
        return key

    def add_alias(self, alias: str, entity_id: str) -> None:
        key = term_key(alias.rstrip("*"))
        if not key:
            raise ValueError(f"alias {alias!r} of {entity_id} has no letters or digits")
        for p in _patterns(key):
            self._values[p][1].add(entity_id)

    def build(self) -> None:
        for pattern, (keys, entities) in self._values.items():
            # a pattern without the closing space (prefix terms, Arabic) runs on to the end of its word
            open_end = not pattern.endswith(" ")
            self._auto.add_word(pattern, (len(pattern), tuple(sorted(keys)), tuple(sorted(entities)), open_end))
        if len(self._auto):
            self._auto.make_automaton()

    def __len__(self) -> int:
        return len(self._auto)

    def scan(self, text: str) -> list[tuple[int, int, tuple[str, ...], tuple[str, ...]]]:
        """(start, end, term keys, entity ids) of every pattern occurrence in folded text."""
        if not len(self._auto):
            return []
        find = text.find
        # skip the pattern's leading space; folded fields end with a space, so every word ends at one
        return [(end - length + 2, find(" ", end) if open_end else end, keys, entities)
                for end, (length, keys, entities, open_end) in self._auto.iter(text)]

