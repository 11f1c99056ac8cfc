"""Full-text search over items, by the backend's own index: PostgreSQL tsvector + GIN, SQLite FTS5.

Both index title, summary and content without stemming (PostgreSQL's `simple` configuration, FTS5's
unicode61 tokenizer with diacritics removed), so English and Arabic are searched alike. The user's
words are all required; PostgreSQL also understands "quoted phrases", `or` and `-word`.
"""

from __future__ import annotations

import re

from sqlalchemy import Select, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from app.ingest.models import Item

# Must stay identical to the index expression in alembic/versions/0002_inbox.py.
PG_DOCUMENT = "to_tsvector('simple'::regconfig, left(title || ' ' || summary || ' ' || content, 100000))"
_WORD = re.compile(r"\w+", re.UNICODE)


def fts5_query(q: str) -> str | None:
    """The user's words as an FTS5 query of quoted terms (all required); None when there are none."""
    words = _WORD.findall(q)
    return " ".join(f'"{w}"' for w in words) or None


def matching_items(session: Session, q: str) -> Select | None:
    """A SELECT of the ids of items matching `q`, or None when `q` has nothing to search for."""
    if not _WORD.search(q):
        return None
    if session.get_bind().dialect.name == "postgresql":
        return select(Item.id).where(
            literal_column(PG_DOCUMENT).op("@@")(func.websearch_to_tsquery("simple", q)))
    return select(literal_column("rowid")).select_from(text("items_fts")).where(
        text("items_fts MATCH :fts").bindparams(bindparam("fts", fts5_query(q))))
