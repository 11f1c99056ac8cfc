"""Keys that recognise one story arriving twice: by its link, or by its words under other markup."""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})
FINGERPRINT_TEXT_CHARS = 500


def _is_tracking(pair: str) -> bool:
    """Campaign parameters differ per share of a link while naming the same page."""
    key = unquote_plus(pair.partition("=")[0]).lower()
    return key.startswith("utm_") or key in _TRACKING_PARAMS


def _netloc(parts: SplitResult, scheme: str) -> str:
    """Host lowercased and the scheme's default port dropped; an unparseable port is left as written."""
    try:
        port = parts.port
    except ValueError:
        return parts.netloc.lower()
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal, which hostname returns without its brackets
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return netloc


def normalize_url(url: str) -> str:
    """The form two links to the same article share: no tracking, fragment, default port or trailing slash.

    Query parameters keep their original encoding (only their order changes), so the result is still a
    working link to the same page. The scheme is kept: http and https may serve different content.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    netloc = _netloc(parts, scheme)
    path = parts.path
    if netloc:
        path = path.rstrip("/") or "/"
    pairs = [p for p in parts.query.split("&") if p and not _is_tracking(p)]
    query = "&".join(sorted(pairs))
    return urlunsplit((scheme, netloc, path, query, ""))


def _fold(text: str) -> str:
    """Casefolded words, punctuation turned into spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


def content_fingerprint(title: str, text: str) -> str:
    """SHA-1 hex of the folded title and start of the plain text, equal for one story under any markup."""
    folded = _fold(title) + "\n" + _fold(text)[:FINGERPRINT_TEXT_CHARS]
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()
