"""Runs the library over a JSON Lines file of items, with no service database, in event-time order."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ValidationError

from app.ingest.schemas import ItemIn
from app.matching.compiler import CompiledLibrary
from app.matching.engine import Engine, ItemInput, Outcome
from app.matching.store import MemoryStore


@dataclass
class BacktestStats:
    items: int = 0
    skipped: int = 0
    firings: int = 0


def horizon(lib: CompiledLibrary) -> timedelta:
    """The longest look-back any rule or scenario can take, so older data can be dropped."""
    spans = [sc.lookback for sc in lib.library.scenarios.values()]
    for r in lib.rules.values():
        s = r.spec
        for a, b in (("recent", "baseline"), ("lookback", "quiet")):
            if hasattr(s, a):
                spans.append(getattr(s, a) + getattr(s, b))
        if hasattr(s, "window"):
            spans.append(s.window)
    return max(spans, default=timedelta(days=1)) + timedelta(days=1)


def longest_absence(lib: CompiledLibrary) -> timedelta:
    return max((r.spec.quiet for r in lib.rules.values() if r.kind == "absence"), default=timedelta(0))


def _read(path: Path, warn) -> Iterator[tuple[int, int, ItemIn]]:
    """(byte offset, line number, item) for every valid line; invalid lines are reported, not fatal."""
    with path.open("rb") as fh:
        offset, n = 0, 0
        for raw in fh:
            n += 1
            here, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            try:
                yield here, n, ItemIn.model_validate_json(raw)
            except ValidationError as e:
                err = e.errors()[0]
                where = ".".join(map(str, err["loc"]))
                warn(f"{path}:{n}: skipped: {where + ': ' if where else ''}{err['msg']}")


class _EventTime(BaseModel):
    """Only an item's event time: all the order check needs to read of each line."""

    published: AwareDatetime


def _is_sorted(path: Path) -> bool:
    """Whether the valid lines are in event-time order (lines without a valid time are left to the full read)."""
    last = None
    with path.open("rb") as fh:
        for raw in fh:
            try:
                t = _EventTime.model_validate_json(raw).published
            except ValidationError:
                continue
            if last is not None and t < last:
                return False
            last = t
    return True


def ordered_items(path: Path, warn) -> Iterator[ItemIn]:
    """Items in event-time order: streamed when the file is sorted, else via an index of offsets."""
    if _is_sorted(path):
        for _, _, item in _read(path, warn):
            yield item
        return
    index = sorted((item.published_utc(), off) for off, _, item in _read(path, warn))
    with path.open("rb") as fh:
        for _, off in index:
            fh.seek(off)
            yield ItemIn.model_validate_json(fh.readline())


def run_backtest(lib: CompiledLibrary, path: Path, until: datetime | None, emit, warn=None) -> BacktestStats:
    """Feed every item to a fresh engine, ticking the clock daily; emit(firing) for every firing."""
    warn = warn or (lambda m: print(m, file=sys.stderr))
    store = MemoryStore(horizon(lib))
    engine = Engine(lib, store)
    stats = BacktestStats()
    clock: datetime | None = None

    def flush(out: Outcome) -> None:
        for f, _ in out.firings:
            stats.firings += 1
            emit(f)

    def advance(to: datetime) -> None:
        nonlocal clock
        if clock is None:
            clock = datetime.combine(to.date(), time(), UTC)
        while clock + timedelta(days=1) <= to:
            clock += timedelta(days=1)
            flush(engine.tick(clock))
            store.prune(clock)

    last = None
    for item in ordered_items(path, warn):
        t = item.published_utc()
        advance(t)
        store.record_item(t)
        flush(engine.process(ItemInput(item.id, t, item.title, item.summary, item.content)))
        stats.items += 1
        last = t
    if last is not None:
        end = until or last + longest_absence(lib)
        advance(end)
        flush(engine.tick(end))
    return stats


def firing_json(f, version: str) -> str:
    return json.dumps({
        "indicator": f.indicator_id, "at": f.at.isoformat().replace("+00:00", "Z"), "item_ids": f.item_ids,
        "severity": f.severity, "kind": f.kind, "evidence": f.evidence, "library_version": version,
    }, ensure_ascii=False, default=str)
