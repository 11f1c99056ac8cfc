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
_MORE = {"more than": 1, "over": 1, "no fewer than": 0, "no less than": 0, "not less than": 0, "at minimum": 0,
         "upwards of": 1, "at least": 0, "as many as": 0, "some": 0, "about": 0,
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
    five") give None: they never prove a quantity is large. A range ("8 to 12") gives its lower end.
    Only the number next to the unit counts: a date or time before it ("March 14 three") does not.
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
    start, value = _number_ending_at(words, i)
    if value is None or (start == i and len(words[i]) == 4 and 1900 <= value <= 2099):
        return None  # a bare year ("In 2020, rockets ...") is a date, not a count
    # a range or alternative: "8 to 12", "between 8 and 12", "two or three", "8-12" (folded "8 12")
    if start >= 2 and words[start - 1] in _RANGE_WORDS and _as_number(words[start - 2]) is not None:
        lo_start, low = _number_ending_at(words, start - 2)
        if low is not None:
            start, value = lo_start, min(low, value)
    elif (start >= 1 and words[start - 1].isdigit() and words[start].isdigit() and len(words[start - 1]) <= 3
          and len(words[start]) <= 3 and int(words[start - 1]) < value):
        start, value = start - 1, int(words[start - 1])
    before = words[max(0, start - 4) : start]
    if before[-1:] == ["between"]:
        before = before[:-1]
    for n in (4, 3, 2, 1):
        phrase = " ".join(before[-n:]) if len(before) >= n else None
        if phrase in _LESS:
            return None
        if phrase in _MORE:
            return value + _MORE[phrase]
    return value


_RANGE_WORDS = {"to", "and", "or", "الى", "او"}


def _number_ending_at(words: list[str], end: int) -> tuple[int, int | None]:
    """(start index, value) of the number written in words[..end]: digits, a thousands group, or words."""
    if words[end].isdigit():
        start = end
        # "1,000" folds to "1 000": leading group of 1-3 digits, then groups of exactly 3
        while start - 1 >= 0 and words[start].isdigit() and len(words[start]) == 3 and words[start - 1].isdigit() \
                and len(words[start - 1]) <= 3:
            start -= 1
        if start < end and len(words[start]) <= 3:
            return start, int("".join(words[start : end + 1]))
        return end, int(words[end])
    start = end
    while start - 1 >= 0 and (
        (words[start - 1] in NUMBER_WORDS and not words[start - 1].isdigit() and words[start - 1] not in ("a", "an"))
        or (words[start - 1] == "and" and start - 2 >= 0 and words[start - 2] in ("hundred",))
    ):
        start -= 1
    if start - 1 >= 0 and words[start - 1] in ("a", "an") and words[start] in ("dozen", "hundred"):
        start -= 1
    return start, _combine([w for w in words[start : end + 1] if w != "and"])


def _combine(run: list[str]) -> int | None:
    """Value of a run of number words: "twenty four", "two dozen", "a hundred and five"."""
    total = 0
    for w in run:
        n = _as_number(w)
        if n is None:
            return None
        if w in ("hundred", "dozen") and total:
            total *= n
        else:
            total += n
    return total
