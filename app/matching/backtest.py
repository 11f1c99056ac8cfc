"""Runs the library over a JSON Lines file of items, with no service database, in event-time order."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from pydantic import ValidationError

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
                yield here, n, ItemIn.model_validate(json.loads(raw))
            except (json.JSONDecodeError, ValidationError, UnicodeDecodeError) as e:
                msg = e.errors()[0] if isinstance(e, ValidationError) else e
                warn(f"{path}:{n}: skipped: {msg}")


def ordered_items(path: Path, warn) -> Iterator[ItemIn]:
    """Items in event-time order: streamed when the file is sorted, else via an index of offsets."""
    last, is_sorted = None, True
    for _, _, item in _read(path, lambda m: None):
        t = item.published_utc()
        if last is not None and t < last:
            is_sorted = False
            break
        last = t
    if is_sorted:
        for _, _, item in _read(path, warn):
            yield item
        return
    index = sorted((item.published_utc(), off) for off, _, item in _read(path, warn))
    with path.open("rb") as fh:
        for _, off in index:
            fh.seek(off)
            yield ItemIn.model_validate(json.loads(fh.readline()))


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
