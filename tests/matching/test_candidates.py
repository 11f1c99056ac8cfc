"""Candidate selection and the evaluation shortcuts never change which `match` indicators fire.

The engine evaluates only the rules an item anchors and whose clauses the groups present allow, and
skips re-checking what that precheck already decided. Here a brute-force reference decides every `match`
rule of a library from the item's spans alone (no anchors, no group registry, no precheck), and the
engine must agree with it on every item of a hit-dense stream.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from app.matching.compiler import CompiledLibrary
from app.matching.engine import Engine, ItemInput
from app.matching.loader import load_library
from app.matching.scan import FIELDS
from app.matching.store import MemoryStore
from bench.synthetic import library_vocab, wire_items, write_library

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _spans(rule, scan, name):
    """Every span of the group's terms and entities, in the fields the rule reads."""
    g = rule.groups[name]
    fields = {FIELDS.index(f) for f in rule.spec.fields}
    out = [s for k, ss in scan.terms.items() if k in g.keys for s in ss]
    out += [s for e, ss in scan.entities.items() if e in g.entities for s in ss]
    return [s for s in out if s.field in fields]


def _near(scan, a, b, within) -> bool:
    def word(s):
        return scan.texts[s.field].count(" ", 0, s.start)

    return any(x.field == y.field and abs(word(x) - word(y)) <= within for x in a for y in b)


def _reference_fires(rule, scan) -> bool:
    def has(name):
        return bool(_spans(rule, scan, name))

    if any(has(g) for g in rule.spec.unless):
        return False
    if not rule.spec.when:
        return True
    return any(
        all(has(g) for g in c.all) and (not c.any or any(has(g) for g in c.any)) and not any(has(g) for g in c.none)
        and all(_near(scan, _spans(rule, scan, n.groups[0]), _spans(rule, scan, n.groups[1]), n.within)
                for n in c.near)
        for c in rule.spec.when)


def _agree(lib: CompiledLibrary, items: list[dict]) -> tuple[int, int]:
    """Assert engine and reference agree on every item; return (firings, items where some candidate rule did not
    fire), so the caller can check the stream exercised both outcomes."""
    engine = Engine(lib, MemoryStore())
    match_rules = [r for r in lib.item_rules if r.kind == "match"]
    firings = declined = 0
    for i, it in enumerate(items):
        item = ItemInput(f"i{i}", T0 + timedelta(minutes=i), it["title"], it["summary"], it["content"])
        got = {f.indicator_id for f, _ in engine.process(item).firings if lib.rules[f.indicator_id].kind == "match"}
        scan = lib.scan(item.title, item.summary, item.content)
        want = {r.id for r in match_rules if _reference_fires(r, scan)}
        assert got == want, f"item {i}: engine fired {sorted(got - want)} wrongly, missed {sorted(want - got)}"
        firings += len(got)
        declined += bool({r.id for r in lib.candidates(scan) if r.kind == "match"} - got)
    return firings, declined


@pytest.fixture(scope="module")
def synthetic_lib(tmp_path_factory) -> CompiledLibrary:
    """A small synthetic library, with every fourth indicator reading only the title and summary."""
    syn = write_library(tmp_path_factory.mktemp("synthetic"), indicators=150, aliases=600, seed=3)
    for n, path in enumerate(sorted((syn.root / "tripwires").glob("*.yaml"))):
        if n % 4 == 0:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            doc["fields"] = ["title", "summary"]
            path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return CompiledLibrary(load_library(syn.root))


def test_engine_agrees_with_brute_force_on_a_synthetic_library(synthetic_lib):
    items = wire_items(300, library_vocab(synthetic_lib.library), seed=5, size=900)
    firings, declined = _agree(synthetic_lib, items)
    assert firings > 100 and declined > 30


def test_engine_agrees_with_brute_force_on_the_default_library(default_lib):
    items = wire_items(300, library_vocab(default_lib.library), seed=9, size=900)
    firings, declined = _agree(default_lib, items)
    assert firings > 50 and declined > 30
