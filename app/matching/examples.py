"""Checks each indicator's own `examples`: match texts must fire it, no_match texts must not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.matching.compiler import CompiledLibrary
from app.matching.rules import ItemView
from app.matching.scan import scan_item
from app.matching.store import MemoryStore

_WHEN = datetime(2020, 6, 15, tzinfo=UTC)  # away from every symbolic date; examples test matching only


@dataclass(frozen=True)
class ExampleFailure:
    indicator_id: str
    expected: str
    text: str

    def __str__(self) -> str:
        verb = "should fire on" if self.expected == "match" else "should NOT fire on"
        return f"{self.indicator_id}: {verb}: {self.text!r}"


def check_examples(lib: CompiledLibrary, only: str | None = None) -> tuple[int, list[ExampleFailure]]:
    """Run every example through its indicator with a fresh store; return (checked, failures)."""
    checked, failures = 0, []
    for rule in lib.item_rules:
        if only and rule.id != only:
            continue
        ex = rule.spec.examples
        for expected, texts in (("match", ex.match), ("no_match", ex.no_match)):
            for t in texts:
                checked += 1
                scan = scan_item(lib.automaton, t.title, t.summary, t.content)
                fired = rule.evaluate(ItemView("example", _WHEN, scan), MemoryStore()) is not None
                if fired != (expected == "match"):
                    failures.append(ExampleFailure(rule.id, expected, t.title or t.summary or t.content))
    return checked, failures
