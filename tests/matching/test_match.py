"""`match`: any / all / none clauses, proximity, fields, gazetteer aliases by entity and role, and evidence."""

from __future__ import annotations

import pytest
from wf_matching import TAJI_1, Feed, indicator

ATTACK = indicator(
    "attack", "match",
    terms={"weapon": ["rocket*", "mortar*", "صواريخ"], "event": ["hit", "struck", "landed", "fired at", "سقوط"],
           "site": ["@role:us-site"], "claim": ["denied", "denies"], "kh": ["@entity:kh"]},
    when=[{"all": ["weapon", "site"], "any": ["event"], "none": ["claim"],
           "near": [{"groups": ["weapon", "event"], "within": 3}]},
          {"all": ["kh", "weapon"]}],
)


@pytest.fixture
def fires(make_lib):
    lib = make_lib(ATTACK)
    return lambda title="", summary="", content="": bool(Feed(lib).item(TAJI_1, title, summary, content))


@pytest.mark.parametrize("text, expected", [
    ("Rockets hit Camp Taji", True),
    ("Mortar rounds landed inside Besmaya", True),  # an alias of another us-site entity
    ("Rockets hit Bismaya overnight", True),  # a spelling variant from the gazetteer
    ("Rockets were seen near Camp Taji", False),  # no event term
    ("Rockets hit a market far from any base", False),  # no site
    ("Camp Taji was hit hard by the flu; later, at a quite different site, old rockets were found", False),  # near
    ("Militia denied that rockets hit Camp Taji", False),  # none: claim
    ("Kata'ib Hezbollah stockpiles rockets", True),  # the second clause: an entity and a weapon
    ("Kataib Hizballah stockpiles rockets", True),  # ... under another alias
])
def test_clauses(fires, text, expected):
    assert fires(text) is expected


def test_terms_may_come_from_different_fields_unless_near_is_required(fires):
    assert fires("Kata'ib Hezbollah statement", content="It boasted of its rockets")
    assert fires("Rockets hit overnight", content="The target was Camp Taji") is True
    assert fires("Rockets", content="hit Camp Taji") is False  # near: weapon and event in different fields


def test_fields_restrict_where_terms_count(make_lib):
    lib = make_lib({**ATTACK, "fields": ["title"]})
    assert Feed(lib).item(TAJI_1, "Rockets hit Camp Taji")
    assert Feed(lib).item(TAJI_1, "Morning briefing", content="Rockets hit Camp Taji") == []


def test_unless_vetoes_the_whole_indicator(make_lib):
    lib = make_lib({**ATTACK, "terms": {**ATTACK["terms"], "space": ["spacex", "satellite*"]}, "unless": ["space"]})
    assert Feed(lib).item(TAJI_1, "Rockets hit Camp Taji") != []
    assert Feed(lib).item(TAJI_1, "Rockets hit Camp Taji", content="SpaceX satellites") == []


def test_evidence_quotes_the_original_words_with_offsets(make_lib):
    lib = make_lib(ATTACK)
    title = "BREAKING: Katyusha… no — ROCKETS hit Çamp Taji"
    (firing,) = Feed(lib).item(TAJI_1, title)
    ev = firing.evidence
    assert ev["terms"]["weapon"] == ["ROCKETS"] and ev["terms"]["site"] == ["Çamp Taji"]
    assert "claim" not in ev["terms"]
    for off in ev["offsets"]:
        assert off["field"] == "title"
        assert title[off["start"]:off["end"]] in ("ROCKETS", "hit", "Çamp Taji")
    assert "ROCKETS hit Çamp Taji" in ev["snippet"]
    assert firing.item_ids == ["item-1"] and firing.at == TAJI_1 and firing.severity == "medium"


@pytest.mark.parametrize("text, expected", [
    ("سقوط صواريخ على معسكر التاجي", True),
    ("سقوط صواريخ قرب بمعسكر التاجي", True),  # the alias with an attached preposition
    ("صواريخ في معسكر التاجي", False),  # no event
])
def test_arabic_text(fires, text, expected):
    assert fires(text) is expected


NEAR = indicator("near", "match", terms={"weapon": ["rocket*"], "event": ["hit", "struck"]},
                 when=[{"all": ["weapon", "event"], "near": [{"groups": ["weapon", "event"], "within": 3}]}])
_FILLER = ["the", "base", "was", "said", "to", "be", "quiet", "and"]


@pytest.mark.parametrize("seed", range(60))
def test_proximity_agrees_with_every_pair_of_mentions(make_lib, seed):
    """`near` holds when some weapon and some event mention are within 3 words in one field, however many
    mentions each group has and in whatever order (checked against all pairs, word by word)."""
    import random

    rng = random.Random(seed)
    fields = [[rng.choice(_FILLER + ["rockets", "hit", "struck"]) for _ in range(rng.randint(0, 14))]
              for _ in range(3)]
    want = any(
        w.startswith("rocket") and e in ("hit", "struck") and abs(i - j) <= 3
        for words in fields for i, w in enumerate(words) for j, e in enumerate(words))
    lib = make_lib(NEAR)
    got = bool(Feed(lib).item(TAJI_1, *(" ".join(words) for words in fields)))
    assert got is want, fields


@pytest.mark.parametrize("text, expected", [
    ("rockets one two hit", True),  # 3 words apart: the edge of `within: 3`
    ("rockets one two three hit", False),  # 4
    ("hit one two rockets", True),  # either order
    ("hit one two three rockets struck", True),  # the second event mention is the near one
    ("rockets one two three four hit one two three four rockets", False),
])
def test_proximity_edges(make_lib, text, expected):
    assert bool(Feed(make_lib(NEAR)).item(TAJI_1, text)) is expected
