"""Text folding shared by terms and items, so spelling variants meet in one form before matching.

The folded form is lowercase words separated by single spaces (padded with one space at each
end), with Latin and Arabic diacritics, apostrophes, tatweel and letter variants folded away.
Word boundaries are then just spaces, so a multi-pattern automaton needs no boundary checks.
"""

from __future__ import annotations

import re
import sys
import unicodedata

_APOSTROPHES = "'\u2019\u2018\u02bc\u02bb\u02bf\u02be`\u00b4\u2032"
_LETTERS = {
    "\u0649": "\u064a",  # alef maqsura -> ya
    "\u0629": "\u0647",  # ta marbuta -> ha
    "\u0671": "\u0627",  # alef wasla -> alef
    "\u06a9": "\u0643",  # persian kaf
    "\u06cc": "\u064a",  # farsi ya
    "\u0640": None,  # tatweel
    "\u00df": "ss",
    "\u0131": "i",  # dotless i
    "\u00f8": "o",
    "\u0111": "d",
    "\u0142": "l",
    "\u00e6": "ae",
    "\u0153": "oe",
}


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(c): None for c in _APOSTROPHES}
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) in ("Mn", "Me"):
            table[cp] = None
    table.update({ord(k): v for k, v in _LETTERS.items()})
    return table


_TABLE = _build_table()
_NON_WORD = re.compile(r"[\W_]+")


def fold_char_run(text: str) -> str:
    """Case, compatibility forms, diacritics, apostrophes and letter variants folded; spacing kept."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return unicodedata.normalize("NFD", text).translate(_TABLE)


def _normalize_slow(text: str) -> str:
    words = _NON_WORD.sub(" ", fold_char_run(text)).strip()
    return f" {words} " if words else " "


_ASCII_FOLD = bytes(c if chr(c).isalnum() else 0x20 for c in range(256)).lower()
_ASCII_DROP = "".join(c for c in _APOSTROPHES if c.isascii()).encode()


def _normalize_fast(text: str) -> str:
    if not text.isascii():
        text = _FAST_SPACE.sub(" ", text)
        raw = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    else:
        raw = text.encode("ascii")
    words = raw.translate(_ASCII_FOLD, _ASCII_DROP).decode("ascii").split()
    return f" {' '.join(words)} " if words else " "


def _fast_path_chars() -> tuple[re.Pattern, re.Pattern]:
    """Non-ASCII characters the byte-level fast path folds exactly like the full Unicode path."""
    space, safe = [], []
    for cp in [*range(0x80, 0x250), *range(0x2000, 0x2070)]:
        ch = chr(cp)
        want = _normalize_slow(f"a{ch}b")
        if want == " a b ":
            space.append(ch)
        got = unicodedata.normalize("NFKD", f"a{ch}b").encode("ascii", "ignore").decode().lower()
        if ch in space or want == _normalize_slow(got):
            safe.append(ch)
    cls = lambda chars: "".join(re.escape(c) for c in chars)  # noqa: E731
    return re.compile(f"[{cls(space)}]"), re.compile(f"[^\\x00-\\x7f{cls(safe)}]")


_FAST_SPACE, _NEEDS_SLOW = _fast_path_chars()


def folds_wordwise(text: str) -> bool:
    """True when each word of the text folds to exactly one word by itself (the byte-level fast path)."""
    return text.isascii() or _NEEDS_SLOW.search(text) is None


def normalize(text: str) -> str:
    """The folded, space-padded form that terms and items are matched in."""
    if folds_wordwise(text):
        return _normalize_fast(text)
    return _normalize_slow(text)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Like normalize, plus for each folded character the index of the source character it came from.

    Slower (a Python loop), so only used to quote evidence for items that hit.
    """
    out: list[str] = [" "]
    origin: list[int] = [0]
    for i, ch in enumerate(text):
        for f in _fold_one(ch):
            if f == " ":
                if out[-1] != " ":
                    out.append(" ")
                    origin.append(i)
            else:
                out.append(f)
                origin.append(i)
    if out[-1] != " ":
        out.append(" ")
        origin.append(len(text))
    return "".join(out), origin


_CHAR_FOLD: dict[str, str] = {}


def _fold_one(ch: str) -> str:
    """One character folded, with separators as a single space (memoized: text reuses few characters)."""
    got = _CHAR_FOLD.get(ch)
    if got is None:
        got = "".join(" " if _NON_WORD.match(f) else f for f in fold_char_run(ch))
        if len(_CHAR_FOLD) < 100_000:
            _CHAR_FOLD[ch] = got
    return got


def has_arabic(text: str) -> bool:
    """True when the text contains Arabic script (terms in it get proclitic-tolerant matching)."""
    return any("\u0600" <= c <= "\u06ff" for c in text)
