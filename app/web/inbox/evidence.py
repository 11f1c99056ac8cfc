"""Item text with the evidence's matched terms marked: escaped text plus <mark>, never the feed's markup.

Offsets in a hit's evidence point into the item's plain-text fields; every other occurrence of a
matched term is marked too. The feed's own HTML is only ever shown after nh3 sanitizing.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from app.ingest.text import sanitize_html
from app.matching.models import Hit


def _merge(ranges: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for start, end, cls in sorted(ranges):
        if out and start < out[-1][1]:
            prev = out[-1]
            out[-1] = (prev[0], max(prev[1], end), prev[2] if prev[2] == "name" else cls)
        else:
            out.append((start, end, cls))
    return out


def highlight(text: str, ranges: list[tuple[int, int, str]]) -> Markup:
    """`text` escaped, with each (start, end, class) range wrapped in <mark class=…>."""
    parts, pos = [], 0
    for start, end, cls in _merge([r for r in ranges if 0 <= r[0] < r[1] <= len(text)]):
        parts += [escape(text[pos:start]), Markup('<mark class="{}">{}</mark>').format(cls, text[start:end])]
        pos = end
    parts.append(escape(text[pos:]))
    return Markup("").join(parts)


def ranges_for(hit: Hit, field: str, text: str) -> list[tuple[int, int, str]]:
    """Where a hit's terms (and new names) are in one field of its item."""
    ev = hit.evidence or {}
    ranges = [(o["start"], o["end"], "term") for o in ev.get("offsets", []) if o.get("field") == field]
    ranges += [(n["start"], n["end"], "name") for n in ev.get("names", []) if n.get("field") == field]
    quotes = {q for group in (ev.get("terms") or {}).values() for q in group if len(q.strip()) > 1}
    for q in sorted(quotes, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(q)}(?!\w)", text, re.IGNORECASE):
            ranges.append((m.start(), m.end(), "term"))
    return ranges


def marked(hit: Hit, field: str, text: str) -> Markup:
    return highlight(text, ranges_for(hit, field, text))


def safe_link(url: str | None) -> str | None:
    """A source link worth making clickable: http(s) only, so a `javascript:` link from a feed stays text."""
    if not url:
        return None
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else None


def original_markup(html: str) -> Markup:
    """The feed's own formatting, after the allow-list sanitizer (the only way feed HTML reaches a page)."""
    return Markup(sanitize_html(html))
