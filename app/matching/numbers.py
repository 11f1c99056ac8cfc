"""Reads quantities written in digits or words ("over 30", "a dozen", "two", "ثلاثة") from folded text."""

from __future__ import annotations

from app.matching.normalize import normalize

_EN_UNITS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "pair": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12, "dozens": 24,
    "scores": 40, "hundreds": 200, "several": 3, "multiple": 2, "numerous": 5, "tens": 20,
}
_AR_WORDS = {
    "واحد": 1, "اثنان": 2, "اثنين": 2, "اثنتين": 2, "ثلاث": 3, "ثلاثه": 3, "اربع": 4, "اربعه": 4,
    "خمس": 5, "خمسه": 5, "ست": 6, "سته": 6, "سبع": 7, "سبعه": 7, "ثماني": 8, "ثمانيه": 8, "تسع": 9,
    "تسعه": 9, "عشر": 10, "عشره": 10, "عشرين": 20, "عشرون": 20, "ثلاثين": 30, "ثلاثون": 30,
    "عشرات": 20, "مئات": 200, "عده": 3,
}
NUMBER_WORDS = {normalize(k).strip(): v for k, v in {**_EN_UNITS, **_AR_WORDS}.items()}
# words before a number that turn it into a bound: (delta applied to get a lower bound, or None = upper bound)
_MORE = {"more than": 1, "over": 1, "upwards of": 1, "at least": 0, "as many as": 0, "some": 0, "about": 0,
         "around": 0, "nearly": 0, "almost": 0, "roughly": 0, "approximately": 0, "أكثر من": 1, "اكثر من": 1,
         "ما لا يقل عن": 0, "نحو": 0, "حوالي": 0}
_LESS = {"fewer than", "less than", "under", "up to", "no more than", "at most", "أقل من", "اقل من"}
_MORE = {normalize(k).strip(): v for k, v in _MORE.items()}
_LESS = {normalize(k).strip() for k in _LESS}
_LINKERS = {"of", "and", "من"}


def _as_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def quantity_before(words: list[str], max_gap: int) -> int | None:
    """Lower bound of the quantity ending just before a unit word, given the words that precede it.

    `words` are folded words, nearest last. Up to `max_gap` non-number words (adjectives such as
    "katyusha" or "ballistic") may stand between the number and the unit. Upper bounds ("fewer than
    five") give None: they never prove a quantity is large.
    """
    i = len(words) - 1
    gap = 0
    while i >= 0 and _as_number(words[i]) is None:
        if words[i] not in _LINKERS:
            gap += 1
        if gap > max_gap:
            return None
        i -= 1
    if i < 0:
        return None
    # gather a run of number words: "twenty four", "two dozen", "1 000" (a folded thousands separator)
    end = i
    while i - 1 >= 0 and _as_number(words[i - 1]) is not None and words[i - 1] not in ("a", "an"):
        i -= 1
    if i - 1 >= 0 and words[i - 1] in ("a", "an") and words[i] in ("dozen", "hundred"):
        i -= 1
    run = words[i : end + 1]
    value = _combine(run)
    if value is None:
        return None
    before = words[max(0, i - 4) : i]
    for n in (4, 3, 2, 1):
        phrase = " ".join(before[-n:]) if len(before) >= n else None
        if phrase in _LESS:
            return None
        if phrase in _MORE:
            return value + _MORE[phrase]
    return value


def _combine(run: list[str]) -> int | None:
    if all(w.isdigit() for w in run):
        if len(run) > 1 and all(len(w) == 3 for w in run[1:]):
            return int("".join(run))
        return int(run[-1])
    total, current = 0, 0
    for w in run:
        n = _as_number(w)
        if n is None:
            return None
        if w in ("hundred", "dozen") and current:
            current *= n
        elif n >= 1000:
            total += (current or 1) * n
            current = 0
        else:
            current += n
    return total + current
