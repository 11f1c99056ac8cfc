"""Feed lists exported from other readers (OPML), read without trusting the XML."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


@dataclass(frozen=True)
class OpmlFeed:
    """One subscription: its title, feed URL and the folder it was filed under (None at top level)."""

    title: str
    url: str
    category: str | None


class OpmlError(ValueError):
    """The document is not OPML we can read; the message says why."""


def _attrs(outline: Element) -> dict[str, str]:
    """Attributes by lowercased name, since exporters disagree on xmlUrl versus xmlurl."""
    return {name.lower(): value.strip() for name, value in outline.attrib.items()}


def _walk(body: Element) -> list[OpmlFeed]:
    """Depth-first in document order, with an explicit stack so hostile nesting depth cannot overflow."""
    feeds: list[OpmlFeed] = []
    stack: list[tuple[Element, str | None]] = [(o, None) for o in reversed(body.findall("outline"))]
    while stack:
        outline, category = stack.pop()
        attrs = _attrs(outline)
        label = attrs.get("text") or attrs.get("title") or None
        if url := attrs.get("xmlurl"):
            # OPML 2.0's own category attribute ("/iraq/anbar") wins over the parent folder's name
            own = attrs.get("category", "").split(",")[0].strip().strip("/") or None
            feeds.append(OpmlFeed(title=label or url, url=url, category=own or category))
        stack.extend((child, label) for child in reversed(outline.findall("outline")))
    return feeds


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an xmlUrl, in document order, filed under its parent outline's text."""
    try:
        root = fromstring(data)
    except DefusedXmlException as e:
        raise OpmlError(f"OPML refused: entities and external references are not allowed ({e})") from None
    except ParseError as e:
        raise OpmlError(f"OPML is not well-formed XML: {e}") from None
    if root.tag != "opml":
        raise OpmlError(f"not an OPML document: root element is <{root.tag}>, expected <opml>")
    body = root.find("body")
    if body is None:
        raise OpmlError("OPML document has no <body>")
    return _walk(body)
