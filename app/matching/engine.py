"""Runs the compiled library over items in event-time order and over clock ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.matching.compiler import CompiledLibrary
from app.matching.rules import Firing, ItemView
from app.matching.scenarios import LevelChange, update_levels
from app.matching.store import Store


@dataclass
class Outcome:
    """What one step produced: stored firings (with their hit ids) and scenario level changes."""

    firings: list[tuple[Firing, object]] = field(default_factory=list)
    levels: list[LevelChange] = field(default_factory=list)


@dataclass(frozen=True)
class ItemInput:
    """The fields matching reads from an item, wherever it came from (feed, API, backtest file)."""

    id: object
    published: datetime
    title: str = ""
    summary: str = ""
    content: str = ""


class Engine:
    """Per-item rules first, then calendar modifiers, then windowed rules in dependency order."""

    def __init__(self, lib: CompiledLibrary, store: Store) -> None:
        self.lib = lib
        self.store = store

    def process(self, item: ItemInput) -> Outcome:
        scan = self.lib.scan(item.title, item.summary, item.content)
        view = ItemView(item.id, item.published, scan)
        out = Outcome()
        candidates = self.lib.candidates(scan)
        fresh: set[str] = set()
        for rule in candidates:
            if not rule.windowed and (f := rule.evaluate(view, self.store)) is not None:
                self._store(f, out)
                fresh.add(f.indicator_id)
        due = set()
        for rule in candidates:
            if rule.windowed and rule.on_item(view, self.store):
                due.add(rule.id)
        self._windows(item.published, fresh, due, out)
        return out

    def tick(self, now: datetime) -> Outcome:
        """Clock-driven evaluation: absences come due, episodes close, levels decay."""
        out = Outcome()
        self._windows(now, set(), {r.id for r in self.lib.window_rules}, out, all_levels=True)
        return out

    def _windows(self, at: datetime, fresh: set[str], due: set[str], out: Outcome, all_levels=False) -> None:
        if not (fresh or due or all_levels):
            return  # most items: nothing fired and nothing observed, so no window or level can have moved
        for rule in self.lib.window_rules:
            if rule.id in due or not self.lib.window_deps[rule.id].isdisjoint(fresh):
                for f in rule.evaluate(at, self.store):
                    self._store(f, out)
                    fresh.add(f.indicator_id)
        if all_levels:
            out.levels = update_levels(self.lib, self.store, at)
        elif fresh:
            out.levels = update_levels(self.lib, self.store, at, self.lib.scenarios_of(fresh))

    def _store(self, firing: Firing, out: Outcome) -> None:
        for cal in self.lib.calendar_rules:
            cal.modify(firing)
        out.firings.append((firing, self.store.add_hit(firing)))
