"""RSS/Atom bytes to plain entries, via feedparser, keeping what a broken feed still offers."""

from __future__ import annotations

import calendar
import html
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser

from app.ingest.text import html_to_text

_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class ParsedEntry:
    """One feed entry: plain text for matching, original markup for display once sanitized."""

    guid: str | None
    url: str | None
    title: str
    summary_text: str
    content_text: str
    summary_html: str  # the publisher's markup verbatim (plain text escaped); never shown unsanitized
    content_html: str
    published: datetime | None  # aware UTC: published, else updated
    author: str | None
    lang: str | None


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed document; bozo feeds keep the entries feedparser recovered, with the reason."""

    title: str | None
    lang: str | None
    entries: list[ParsedEntry]
    bozo: bool
    bozo_reason: str | None


def _as_text(detail: dict | None) -> str:
    """Plain text of a feedparser text construct, reading markup only where its type says HTML."""
    if not detail:
        return ""
    value = detail.get("value") or ""
    if detail.get("type") in _HTML_TYPES:
        return html_to_text(value)
    return " ".join(value.split())


def _as_html(detail: dict | None) -> str:
    """Markup of a text construct as published; plain text is escaped so the field is always HTML."""
    if not detail:
        return ""
    value = detail.get("value") or ""
    return value if detail.get("type") in _HTML_TYPES else html.escape(value)


def _utc(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime; dates outside datetime's range are dropped."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _lang(entry: dict, feed_lang: str | None) -> str | None:
    """The entry's own language (dc:language or xml:lang on its parts), else the feed's."""
    parts = [*entry.get("content", []), entry.get("summary_detail"), entry.get("title_detail")]
    langs = [entry.get("language"), *(p.get("language") for p in parts if p)]
    return next((lang for lang in langs if lang), feed_lang)


def _web_url(link: str | None) -> str | None:
    """Absolute http(s) links only: the inbox renders url as a link, so javascript: or data: must not pass."""
    parts = urlsplit(link or "")
    return link if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _entry(entry: dict, feed_lang: str | None) -> ParsedEntry:
    content = entry["content"][0] if entry.get("content") else None
    summary = entry.get("summary_detail")
    return ParsedEntry(
        guid=entry.get("id") or None,
        url=_web_url(entry.get("link")),
        title=_as_text(entry.get("title_detail")),
        summary_text=_as_text(summary),
        content_text=_as_text(content),
        summary_html=_as_html(summary),
        content_html=_as_html(content),
        published=_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
        author=entry.get("author_detail", {}).get("name") or entry.get("author") or None,
        lang=_lang(entry, feed_lang),
    )


def _reason(exc: BaseException | None) -> str | None:
    """One line naming the exception class, for the feed's parse warning."""
    return " ".join(f"{type(exc).__name__}: {exc}".split()) if exc else None


def parse_feed(body: bytes, *, content_type: str | None, base_url: str) -> ParsedFeed:
    """Parse a fetched body; base_url resolves relative links, content_type supplies the charset.

    feedparser's own sanitizer and relative-URI rewriting are off: the *_html fields keep the
    publisher's markup, and app.ingest.text.sanitize_html cleans it when it is shown.
    """
    headers = {
        "content-location": base_url,
        # Unknown type: decode as XML does (BOM, declaration, else UTF-8) rather than flag the feed
        # and guess ISO-8859-1, which is what feedparser does for headers without a content type.
        "content-type": content_type or "application/xml",
    }
    result = feedparser.parse(
        io.BytesIO(body),  # a stream, so feedparser never treats the body as a URL or file name
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed_lang = result.feed.get("language") or None
    return ParsedFeed(
        title=_as_text(result.feed.get("title_detail")) or None,
        lang=feed_lang,
        entries=[_entry(entry, feed_lang) for entry in result.entries],
        bozo=bool(result.bozo),
        bozo_reason=_reason(result.get("bozo_exception")),
    )
