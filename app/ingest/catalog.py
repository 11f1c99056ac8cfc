"""The feed catalog: YAML files in feeds/ (the source of truth), validated and synced into the database."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ingest.models import Feed
from app.ingest.opml import OpmlFeed
from app.matching.loader import LibraryProblem, _line_map, _line_of, _located


class FeedSpec(BaseModel):
    """One catalog entry."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)
    title: str
    url: str = Field(pattern=r"^(https?://|file:)")
    enabled: bool = True
    poll_interval: int | None = Field(None, ge=30, description="seconds; default WATCHFLOOR_POLL_INTERVAL")
    reliability: Literal["A", "B", "C", "D", "E", "F"] = "F"
    tags: list[str] = []


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feeds: list[FeedSpec]


class CatalogError(Exception):
    """The catalog did not validate; lists every problem with file and line."""

    def __init__(self, problems: list[LibraryProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_catalog(folder: Path) -> list[FeedSpec]:
    """Every feed of every *.yaml in the folder; duplicate keys and invalid entries are errors."""
    problems: list[LibraryProblem] = []
    specs: dict[str, FeedSpec] = {}
    origin: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        try:
            data = CatalogFile.model_validate(yaml.safe_load(text))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problems.append(LibraryProblem(str(path), mark.line + 1 if mark else None, "", f"not valid YAML: {e}"))
            continue
        except ValidationError as e:
            problems += _located(path, text, e)
            continue
        lines = None
        for n, spec in enumerate(data.feeds):
            if spec.key in specs:
                lines = lines or _line_map(text)
                problems.append(LibraryProblem(str(path), _line_of(lines, ("feeds", n, "key")), f"feeds.{spec.key}",
                                               f"duplicate key `{spec.key}` (first in {origin[spec.key]})"))
                continue
            specs[spec.key] = spec
            origin[spec.key] = str(path)
    if problems:
        raise CatalogError(problems)
    return list(specs.values())


def sync_catalog(session: Session, specs: list[FeedSpec], default_interval: int) -> dict[str, int]:
    """Upsert catalog feeds by key; feeds gone from the catalog are disabled, never deleted (items stay)."""
    existing = {f.key: f for f in session.scalars(select(Feed))}
    counts = {"added": 0, "updated": 0, "removed": 0}
    for spec in specs:
        feed = existing.pop(spec.key, None)
        values = spec.model_dump()
        values["poll_interval"] = spec.poll_interval or default_interval
        if feed is not None and feed.url != spec.url:
            feed.etag = feed.last_modified = None  # validators of the old URL mean nothing to the new one
        if feed is None:
            session.add(Feed(**values, in_catalog=True))
            counts["added"] += 1
        else:
            changed = any(getattr(feed, k) != v for k, v in values.items()) or not feed.in_catalog
            for k, v in values.items():
                setattr(feed, k, v)
            feed.in_catalog = True
            counts["updated"] += changed
    for feed in existing.values():
        if feed.in_catalog:
            feed.in_catalog = False
            feed.enabled = False
            counts["removed"] += 1
    session.flush()
    return counts


def catalog_from_opml(feeds: list[OpmlFeed], taken: set[str]) -> tuple[str, list[str]]:
    """YAML text of a catalog file for the importable feeds, with unique keys, and why others were skipped."""
    entries, skipped = [], []
    for f in feeds:
        base = re.sub(r"[^a-z0-9]+", "-", (f.title or f.url).lower()).strip("-")[:60] or "feed"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        taken.add(key)
        entry = {"key": key, "title": f.title or f.url, "url": f.url, "enabled": True, "reliability": "F"}
        if f.category:
            entry["tags"] = [f.category]
        try:
            FeedSpec.model_validate(entry)
        except ValidationError as e:
            taken.discard(key)
            skipped.append(f"{f.title or f.url!r}: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}")
            continue
        entries.append(entry)
    text = "# Imported from OPML by `watchfloor feeds import`; edit freely.\n" + yaml.safe_dump(
        {"feeds": entries}, sort_keys=False, allow_unicode=True)
    return text, skipped
