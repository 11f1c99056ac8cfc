"""Helpers shared by the matching tests (imported as `wf_matching`; conftest.py puts this folder on sys.path).

Windowed kinds are tested on tiny libraries (one `match` indicator on "rocket*" plus the rule under test),
so each test states exactly the windows it relies on; name and term tests use the default library.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from app.matching.compiler import CompiledLibrary
from app.matching.engine import Engine, ItemInput
from app.matching.store import MemoryStore

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LIBRARY = ROOT / "indicators"
DAY = timedelta(days=1)

# Camp Taji was hit on March 11, 2020 (Soleimani's birthday) and again on March 14 (seed 000).
TAJI_1 = datetime(2020, 3, 11, 21, 0, tzinfo=UTC)
TAJI_2 = datetime(2020, 3, 14, 11, 0, tzinfo=UTC)

SCENARIOS = {"scenarios": [
    {"id": "pressure", "name": "Pressure", "lookback": "30d", "levels": {"guarded": 2, "elevated": 5}},
    {"id": "escalation", "name": "Escalation", "lookback": "30d", "levels": {"guarded": 3, "elevated": 7}},
]}

GAZETTEER = {"entities": [
    {"id": "camp-taji", "name": "Camp Taji", "type": "place", "roles": ["us-site"],
     "aliases": ["Camp Taji", "Taji base", "معسكر التاجي"]},
    {"id": "besmaya", "name": "Besmaya", "type": "place", "roles": ["us-site"], "aliases": ["Besmaya", "Bismaya"]},
    {"id": "kh", "name": "Kata'ib Hezbollah", "type": "group", "roles": ["proxy-group"],
     "aliases": ["Kata'ib Hezbollah", "Kataib Hizballah", "Hezbollah Brigades"]},
    {"id": "aah", "name": "Asa'ib Ahl al-Haq", "type": "group", "roles": ["proxy-group"],
     "aliases": ["Asa'ib Ahl al-Haq", "Asaib Ahl al-Haq", "AAH"]},
    {"id": "badr", "name": "Badr Organization", "type": "group", "roles": ["proxy-group"],
     "aliases": ["Badr Organization", "Badr"]},
    {"id": "nujaba", "name": "Harakat al-Nujaba", "type": "group", "roles": ["proxy-group"],
     "aliases": ["Harakat al-Nujaba", "Nujaba"]},
    {"id": "ameri", "name": "Hadi al-Ameri", "type": "person", "roles": ["proxy-leader"], "affiliation": "badr",
     "aliases": ["Hadi al-Ameri", "Ameri"]},
    {"id": "khazali", "name": "Qais al-Khazali", "type": "person", "roles": ["proxy-leader"], "affiliation": "aah",
     "aliases": ["Qais al-Khazali", "Khazali"]},
    {"id": "kaabi", "name": "Akram al-Kaabi", "type": "person", "roles": ["proxy-leader"], "affiliation": "nujaba",
     "aliases": ["Akram al-Kaabi", "Kaabi"]},
    {"id": "sadr", "name": "Moqtada al-Sadr", "type": "person", "roles": ["sadrist"],
     "aliases": ["Moqtada al-Sadr", "Sadr"]},
]}


def indicator(id: str, kind: str, **fields) -> dict:
    """An indicator document with the boilerplate every kind needs (name, source, scenario) filled in."""
    return {"id": id, "name": id.replace("-", " "), "kind": kind, "source": "test", "scenarios": ["pressure"],
            **fields}


# one `match` indicator every windowed test builds on: any item mentioning a rocket is an attack report
ROCKET = indicator("rocket-attack", "match", severity="medium", terms={"weapon": ["rocket*"]},
                   when=[{"all": ["weapon"]}])


def write_library(root: Path, indicators: list[dict], *, gazetteer=None, scenarios=None, vocabulary=None) -> Path:
    """Write a library folder: gazetteer, scenarios, optional vocabulary and one file per indicator."""
    (root / "tripwires").mkdir(parents=True, exist_ok=True)
    (root / "gazetteer.yaml").write_text(yaml.safe_dump(gazetteer or GAZETTEER, allow_unicode=True), "utf-8")
    (root / "scenarios.yaml").write_text(yaml.safe_dump(scenarios or SCENARIOS), "utf-8")
    if vocabulary is not None:
        (root / "vocabulary.yaml").write_text(yaml.safe_dump({"terms": vocabulary}, allow_unicode=True), "utf-8")
    for doc in indicators:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        (root / "tripwires" / f"{doc['id']}.yaml").write_text(text, "utf-8")
    return root


class Feed:
    """Drives an Engine the way the backtest does: items in event-time order, each recorded as observed.

    With a SqlStore the caller inserts the items (the store observes the items table) and passes their ids.
    """

    def __init__(self, lib: CompiledLibrary, store=None) -> None:
        self.lib = lib
        self.store = store if store is not None else MemoryStore()
        self.engine = Engine(lib, self.store)
        self.n = 0

    def process(self, at: datetime, title: str = "", summary: str = "", content: str = "", id=None):
        """Process one item (ids item-1, item-2, ... unless given); returns the engine's Outcome."""
        self.n += 1
        if isinstance(self.store, MemoryStore):
            self.store.record_item(at)
        item_id = id if id is not None else f"item-{self.n}"
        return self.engine.process(ItemInput(item_id, at, title, summary, content))

    def item(self, at: datetime, title: str = "", summary: str = "", content: str = "", id=None) -> list:
        """Process one item; returns its firings."""
        return [f for f, _ in self.process(at, title, summary, content, id).firings]

    def fired(self, at: datetime, title: str = "", summary: str = "", content: str = "") -> list[str]:
        return [f.indicator_id for f in self.item(at, title, summary, content)]

    def tick(self, at: datetime) -> list:
        return [f for f, _ in self.engine.tick(at).firings]


def only(firings, indicator_id: str) -> list:
    return [f for f in firings if f.indicator_id == indicator_id]


def add_item(session, at: datetime, title: str = "", summary: str = "", content: str = ""):
    """Insert an item row (what SqlStore observes as the stream) and return it."""
    import hashlib

    from app.ingest.models import Item

    digest = hashlib.sha1(f"{at.isoformat()}|{title}|{summary}|{content}".encode()).hexdigest()
    item = Item(source="test", fingerprint=digest, title=title, summary=summary, content=content, published_at=at)
    session.add(item)
    session.flush()
    return item
