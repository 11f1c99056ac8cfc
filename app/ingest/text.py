"""Feed markup turned into plain text for matching, and into safe HTML for showing to an analyst."""

from __future__ import annotations

import nh3
from bs4 import BeautifulSoup
from bs4.element import Comment, Declaration, Doctype, PageElement, ProcessingInstruction, Tag

# Elements whose boundaries end a line of text, so words on either side never run together.
# fmt: off
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
})
# fmt: on
# Elements whose boundaries separate words on one line (table cells).
_CELLS = frozenset({"td", "th"})
# Elements whose contents are code or styling, never text a reader sees.
_INVISIBLE = frozenset({"script", "style", "template", "iframe"})
# Markup that bs4 keeps as strings but a reader never sees.
_HIDDEN_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)

_ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "ul", "ol", "li", "blockquote", "a"}
_LINK_REL = "noopener noreferrer nofollow"


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment: one line per block, single spaces, entities decoded.

    Line breaks in the source are plain whitespace, as in a browser; only block boundaries break lines.
    The tree is walked with an explicit stack (None marks a block edge), so depth and size stay cheap.
    """
    lines: list[list[str]] = [[]]
    stack: list[PageElement | str | None] = [BeautifulSoup(html, "html.parser")]
    while stack:
        node = stack.pop()
        if node is None:
            lines.append([])
        elif isinstance(node, Tag):
            if node.name not in _INVISIBLE:
                edge = None if node.name in _BLOCKS else " " if node.name in _CELLS else ""
                stack.append(edge)
                stack.extend(reversed(node.contents))
                stack.append(edge)
        elif not isinstance(node, _HIDDEN_STRINGS):
            lines[-1].append(node)
    text = (" ".join("".join(line).split()) for line in lines)
    return "\n".join(line for line in text if line)


def sanitize_html(html: str) -> str:
    """Feed item HTML reduced to an allow-list of text formatting and outbound links."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "template", "iframe", "noscript", "object", "svg", "math"},
        attributes={"a": {"href"}, "*": set()},  # empty "*" drops nh3's default title/lang on every tag
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",  # a relative link would point into Watchfloor, not at the source
        link_rel=_LINK_REL,
    )
