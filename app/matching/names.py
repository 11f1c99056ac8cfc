"""Militia-name candidates from running text, and their resolution across transliterations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from app.matching.normalize import normalize

# a token of a name: a word possibly carrying apostrophes/ayn marks and hyphenated particles
_TOKEN = re.compile(r"[^\W\d_][\w'’ʿʾ`‘\-]*", re.UNICODE)
_PARTICLES = {"al", "el", "ul", "ibn", "bin", "bint", "abu", "abi", "ahl", "wa", "li", "lil", "fi", "min", "ad",
              "ash", "as", "at", "az", "an", "ar", "adh", "ath", "of", "the", "de", "bani", "bayt", "umm"}
_STOP_TITLES = {"the", "a", "an", "and", "in", "on", "at", "for", "to", "from", "by", "with", "called", "named",
                "dubbed"}
# capitalised words of a Title Case headline that end a name ("Saraya X Claims Rocket Attack On Erbil")
_HEADLINE_WORDS = {
    "claims", "claim", "claimed", "says", "said", "announces", "announced", "threatens", "threatened", "vows",
    "warns", "releases", "released", "targets", "targeted", "hits", "hit", "strikes", "struck", "kills",
    "killed", "attacks", "attack", "attacked", "rocket", "rockets", "drone", "drones", "video", "statement",
    "on", "in", "at", "for", "to", "from", "by", "with", "after", "against", "near", "over", "amid", "as",
    "and", "or", "new", "base", "bases", "forces", "troops", "convoy", "embassy", "is", "was", "are", "were",
    "behind", "responsibility", "denies", "denied", "joins", "emerges", "appears", "iraq", "syria",
}
# Arabic function words and common verbs/nouns that end a name written in Arabic script
_AR_STOP = {normalize(w).strip() for w in (
    "في", "على", "من", "إلى", "الى", "عن", "مع", "ضد", "التي", "الذي", "الذين", "بعد", "قبل", "حتى", "أو",
    "إن", "أن", "كما", "عبر", "خلال", "منذ", "بين", "لدى", "عند", "وإلا", "مسؤوليتها", "مسؤولية", "هجوم",
    "الهجوم", "استهداف", "بيان", "في بيان", "اليوم", "أمس")}
_ARTICLE = re.compile(r"^(?:the |al |el )")


def fold_name(name: str) -> str:
    """The folded form a name is compared in: normalize(), minus a leading English article."""
    return re.sub(r"^the ", "", normalize(name).strip())


def skeleton(name: str) -> str:
    """Consonant skeleton that transliterations share: Hezbollah, Hizballah and Hizbollah meet."""
    words = [w for w in fold_name(name).split() if w not in ("al", "el", "ul", "the", "of")]
    out = []
    for w in words:
        w = w.replace("q", "k").replace("dh", "z").replace("th", "t").replace("ph", "f").replace("ou", "u")
        w = w.replace("ee", "i").replace("oo", "u")
        w = re.sub(r"^(?:al|el)(?=[a-z]{3})", "", w) if w.startswith(("al", "el")) and len(w) > 5 else w
        w = re.sub(r"[aeiouyw'h]", "", w)
        w = re.sub(r"(.)\1+", r"\1", w)
        if w:
            out.append(w)
    return " ".join(out)


@dataclass(frozen=True)
class Candidate:
    """A name found in text, with how it was found and where (character range in the field)."""

    name: str
    how: str
    field: int
    start: int
    end: int


def _is_name_token(tok: str) -> bool:
    base = tok.split("-")[-1] if tok.lower().startswith(("al-", "el-", "ul-", "as-", "ad-", "ash-", "at-")) else tok
    if not base:
        return False
    return base[0].isupper() or not base[0].isascii() and base[0].isalpha() and not _is_arabic(base)


def _is_arabic(tok: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in tok)


def name_after(text: str, pos: int, max_tokens: int = 7) -> tuple[str, int, int] | None:
    """The proper name starting at or after `pos` (skipping a little glue), or None."""
    tokens = []
    for m in _TOKEN.finditer(text, pos):
        gap = text[pos if not tokens else tokens[-1].end() : m.start()]
        if any(c in gap for c in ",.;:()[]\"“”!?") or len(gap) > 3:
            break
        tok = m.group(0)
        low = normalize(tok).strip()
        if not tokens and low in _STOP_TITLES and not _is_arabic(tok):
            pos = m.end()
            continue
        if _is_arabic(tok):
            # an Arabic name is a construct chain: after two words it goes on only through definite nouns
            if low in _AR_STOP or (len(tokens) >= 2 and not low.startswith("ال")) or len(tokens) >= 4:
                break
            tokens.append(m)
        elif tokens and low in _HEADLINE_WORDS and low not in _PARTICLES:
            break
        elif _is_name_token(tok) or (tokens and low in _PARTICLES):
            tokens.append(m)
        else:
            break
        if len(tokens) >= max_tokens:
            break
    while tokens and normalize(tokens[-1].group(0)).strip() in _PARTICLES:
        tokens.pop()
    if not tokens:
        return None
    start, end = tokens[0].start(), tokens[-1].end()
    return text[start:end], start, end


def name_before(text: str, pos: int, max_tokens: int = 7) -> tuple[str, int, int] | None:
    """The proper name ending just before `pos` (e.g. "X, a little-known faction"), or None."""
    tokens = list(_TOKEN.finditer(text[:pos]))
    picked: list[re.Match] = []
    for m in reversed(tokens):
        gap = text[m.end() : picked[0].start() if picked else pos]
        if picked and (any(c in gap for c in ",.;:()[]\"“”!?") or len(gap) > 3):
            break
        if not picked and len(gap.strip(" ,")) > 0:
            break
        tok = m.group(0)
        low = normalize(tok).strip()
        if _is_name_token(tok) or _is_arabic(tok) or (picked and low in _PARTICLES):
            picked.insert(0, m)
        else:
            break
        if len(picked) >= max_tokens:
            break
    while picked and normalize(picked[0].group(0)).strip() in _PARTICLES | _STOP_TITLES:
        picked.pop(0)
    if not picked:
        return None
    start = picked[0].start()
    # "X, the League of Revolutionaries, claimed": the name is X, the rest is its translation
    appositive = _APPOSITIVE.search(text[:start])
    if appositive and appositive.start() > 0 and text[picked[-1].end() :].lstrip().startswith(","):
        head = name_before(text, appositive.start(), max_tokens)
        if head:
            return head
    return text[start : picked[-1].end()], start, picked[-1].end()


_APPOSITIVE = re.compile(r",\s*the\s+$", re.IGNORECASE)
# words that describe militias in general; a "name" made only of them is a description, not a name
GENERIC_WORDS = {normalize(w).strip() for w in (
    "shia", "shi'a", "shiite", "sunni", "militia", "militias", "group", "groups", "faction", "factions",
    "iraqi", "iranian", "armed", "resistance", "new", "unknown", "forces", "force", "fighters", "proxy",
    "proxies", "islamic", "popular", "mobilization", "units", "special", "the", "of", "al")}


def is_generic(name: str) -> bool:
    """True when every word of the name is a generic descriptor (e.g. "Shi'a Militia Groups")."""
    return all(w in GENERIC_WORDS for w in fold_name(name).split())


class Resolver:
    """Decides whether a name is already known: exactly, by skeleton, or fuzzily."""

    def __init__(self, names: dict[str, str], threshold: float) -> None:
        self.threshold = threshold
        self.by_fold: dict[str, str] = {}
        self.by_skeleton: dict[str, str] = {}
        self.by_prefix: dict[str, str] = {}
        for name, owner in names.items():
            self.add(name, owner)

    def add(self, name: str, owner: str) -> None:
        f = fold_name(name)
        if f:
            self.by_fold.setdefault(f, owner)
            words = f.split()
            for n in range(2, len(words)):
                self.by_prefix.setdefault(" ".join(words[:n]), owner)
            sk = skeleton(name)
            if len(sk.replace(" ", "")) >= 3:
                self.by_skeleton.setdefault(sk, owner)

    def resolve(self, name: str) -> tuple[str, str] | None:
        """(owner, how) when the name is known, else None."""
        f = fold_name(name)
        if f in self.by_fold:
            return self.by_fold[f], "exact"
        sk = skeleton(name)
        if sk in self.by_skeleton:
            return self.by_skeleton[sk], "skeleton"
        if f in self.by_prefix:  # a known name cut short: "Harakat Hezbollah" of "Harakat Hezbollah al-Nujaba"
            return self.by_prefix[f], "truncated"
        words = f.split()
        for n in range(len(words) - 1, 1, -1):  # a known name followed by a descriptor: "Kataib Hezbollah Brigade"
            head = " ".join(words[:n])
            if head in self.by_fold:
                return self.by_fold[head], "prefix"
        if self.by_fold:
            hit = process.extractOne(f, self.by_fold.keys(), scorer=fuzz.ratio, score_cutoff=self.threshold)
            if hit:
                return self.by_fold[hit[0]], f"fuzzy {hit[1]:.0f}"
        if self.by_skeleton and len(sk) >= 5:
            hit = process.extractOne(sk, self.by_skeleton.keys(), scorer=fuzz.ratio, score_cutoff=self.threshold)
            if hit:
                return self.by_skeleton[hit[0]], f"fuzzy-skeleton {hit[1]:.0f}"
        return None
