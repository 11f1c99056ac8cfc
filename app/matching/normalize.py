"""Text folding shared by terms and items, so spelling variants meet in one form before matching.

The folded form is lowercase words separated by single spaces (padded with one space at each
end), with Latin and Arabic diacritics, apostrophes, tatweel and letter variants folded away.
Word boundaries are then just spaces, so a multi-pattern automaton needs no boundary checks.
"""

from __future__ import annotations

import codecs
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
    return _padded(raw.translate(_ASCII_FOLD, _ASCII_DROP)).decode("ascii")


_SPACE_RUN = re.compile(rb"  +")


def _padded(folded: bytes) -> bytes:
    """Separator runs (already single bytes of space) collapsed to one space, with one space at each end."""
    words = _SPACE_RUN.sub(b" ", folded).strip(b" ")
    return b" " + words + b" " if words else b" "


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


# Arabic news text: ASCII plus the Arabic block's letters, marks, digits and punctuation and the typography
# around them fit one private 8-bit code page, so the stdlib's C charmap codec turns a field into one byte per
# character and one bytes.translate folds it (~10x the Unicode path). Each byte's fold is derived from the
# Unicode path itself, so the two agree by construction (and tests check it); other text takes the Unicode path.
_PAGE_EXTRA = (
    "\u060c\u061b\u061f"  # Arabic comma, semicolon, question mark
    + "".join(map(chr, range(0x621, 0x63B)))  # hamza .. ghain
    + "".join(map(chr, range(0x640, 0x656)))  # tatweel, fa .. ya, tashkil, hamza and madda marks
    + "".join(map(chr, range(0x660, 0x66E)))  # Arabic-Indic digits, percent and separators
    + "\u0670\u0671\u067e\u0686\u0698\u06a9\u06af\u06cc\u06d4"  # superscript alef, wasla, Persian letters
    + "\u00a0\u00ab\u00bb\u00b0\u00b7\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u2022\u2032\u2212"  # typography
    + "\u00b4\u02bc\u02bb\u02bf\u02be\u200c\u200d\u200e\u200f"  # apostrophe-likes, joiners, direction marks
    + "\u00e9\u00e8\u00ea\u00eb\u00e0\u00e1\u00e2\u00e4\u00e7\u00f4\u00f6\u00f3\u00fc\u00fa\u00fb\u00f1\u00ed\u00ee"
    + "\u00ef\u0101\u012b\u016b\u00c9"  # the Latin accents of transliterated names
)
_PAGE_DECODE = "".join(map(chr, range(128))) + _PAGE_EXTRA + "\ufffe" * (128 - len(_PAGE_EXTRA))  # \ufffe: unused
_PAGE_ENCODE = codecs.charmap_build(_PAGE_DECODE)
_DELETED = 0x01  # in the marking table: a byte whose character folds away inside its word


def _page_tables() -> tuple[bytes, bytes, bytes]:
    """(fold, deleted bytes, marking table) from folding each code-page character alone with the Unicode path."""
    fold, mark, deleted = bytearray(range(256)), bytearray(range(256)), bytearray()
    for b, ch in enumerate(_PAGE_DECODE[: 128 + len(_PAGE_EXTRA)]):
        got = _normalize_slow(f"a{ch}a")
        if got == " a a ":
            fold[b] = mark[b] = 0x20
        elif got == " aa ":
            deleted.append(b)
            mark[b] = _DELETED
        elif len(got) == 5 and got[2] in _PAGE_DECODE:
            fold[b] = mark[b] = _PAGE_DECODE.index(got[2])
        else:  # a character folding to several would need the Unicode path; none is chosen for the page
            raise AssertionError(f"code page character U+{ord(ch):04X} folds to {got!r}")
    assert mark.count(_DELETED) == len(deleted), "the deletion mark must be a byte nothing else folds to"
    return bytes(fold), bytes(deleted), bytes(mark)


def _page_encode(text: str) -> bytes | None:
    try:
        return codecs.charmap_encode(text, "strict", _PAGE_ENCODE)[0]
    except UnicodeEncodeError:
        return None


def _normalize_page(text: str) -> str | None:
    """The folded form through the code page, or None when the text has a character outside it."""
    raw = _page_encode(text)
    if raw is None:
        return None
    return codecs.charmap_decode(_padded(raw.translate(_PAGE_FOLD, _PAGE_DELETED)), "strict", _PAGE_DECODE)[0]


# a run of original characters that folds shorter: one that starts with a deletion, or two or more separators
_SHIFT_RUN = re.compile(rb"\x01[ \x01]*| [ \x01]+")


def page_shifts(text: str, folded_len: int) -> tuple[list[int], list[int]] | None:
    """Where folded characters came from, for text in the code page: (folded starts, deltas), sorted.

    The folded character at index i is text[i + delta] for the last start <= i. Words map one character to
    one, so only runs that fold shorter (deletions, separator runs) move the delta: a few per paragraph,
    found by one C regex pass instead of a token list. None when the text is outside the page, or when the
    result would not account for `folded_len` characters (the caller then maps another way).
    """
    raw = _page_encode(text)
    if raw is None:
        return None
    marked = raw.translate(_PAGE_MARK)
    lead = len(marked) - len(marked.lstrip(b" \x01"))
    end = len(marked.rstrip(b" \x01"))
    delta = lead - 1  # folded index 0 is the padding space
    starts, deltas = [0], [delta]
    for m in _SHIFT_RUN.finditer(marked, lead, end):
        a, b = m.span()
        kept = 1 if marked.find(b" ", a, b) != -1 else 0  # a separator between two words folds to one space
        starts.append(a - delta + kept)
        delta += b - a - kept
        deltas.append(delta)
    expected = end - delta + 1 if end > lead else 1  # the last kept character is end - 1, then the padding space
    return (starts, deltas) if expected == folded_len else None


_PAGE_FOLD, _PAGE_DELETED, _PAGE_MARK = _page_tables()


def normalize(text: str) -> str:
    """The folded, space-padded form that terms and items are matched in."""
    if folds_wordwise(text):
        return _normalize_fast(text)
    folded = _normalize_page(text)
    return folded if folded is not None else _normalize_slow(text)


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
