"""The one-pass matcher: term keys, whole words vs prefixes, possessives, Arabic proclitics, fields, offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching import matcher
from app.matching.engine import Engine, ItemInput
from app.matching.matcher import Automaton, term_key
from app.matching.normalize import normalize
from app.matching.scan import scan_item
from app.matching.store import MemoryStore

TERMS = ["rocket*", "mortar", "camp taji", "sadr", "u.s. forces", "Kata'ib Hezbollah", "حزب الله", "العراق",
         "مقاومة", "صاروخ*"]


@pytest.fixture(scope="module")
def auto() -> Automaton:
    a = Automaton()
    for t in TERMS:
        a.add_term(t)
    a.add_alias("Ain al-Asad", "ain-al-asad")
    a.add_alias("عين الأسد", "ain-al-asad")
    a.build()
    return a


def found(auto, title="", summary="", content="") -> dict[str, list[str]]:
    """term key or entity id -> the original words quoted for each occurrence."""
    scan = scan_item(auto, title, summary, content)
    out = {k: [scan.quote(s) for s in spans] for k, spans in scan.terms.items()}
    out.update({e: [scan.quote(s) for s in spans] for e, spans in scan.entities.items()})
    return out


def test_term_keys_are_folded_and_keep_the_prefix_star():
    assert term_key("Kata’ib Hezbollah") == term_key("KATAIB  hezbollah") == "kataib hezbollah"
    assert term_key("U.S. soldier*") == "u s soldier*"
    assert term_key("عصائبُ") == "عصايب"


@pytest.mark.parametrize("bad", ["rock*et", "*rocket", "--", "*"])
def test_bad_terms_are_refused(bad):
    with pytest.raises(ValueError):
        Automaton().add_term(bad)


def test_whole_word_terms_do_not_match_inside_words(auto):
    got = found(auto, "Sadrist bloc; mortarboard ceremony; Camp Tajik")
    assert "sadr" not in got and "mortar" not in got and "camp taji" not in got


def test_prefix_terms_match_any_ending_and_quote_the_whole_word(auto):
    assert found(auto, "Rockets and a rocketeer, then one rocket")["rocket*"] == ["Rockets", "rocketeer", "rocket"]
    # but only at the start of a word
    assert "rocket*" not in found(auto, "skyrockets")


def test_possessive_s_matches_names(auto):
    got = found(auto, "Sadr's statement and Sadr’s aides; mortars fell")
    assert got["sadr"] == ["Sadr's", "Sadr’s"]
    assert got["mortar"] == ["mortars"]  # the same -s rule gives plain plurals of whole-word terms


def test_multiword_terms_match_across_punctuation_and_case(auto):
    got = found(auto, "KATA’IB HEZBOLLAH denied it; U.S. Forces were at Camp-Taji.")
    assert got["kataib hezbollah"] == ["KATA’IB HEZBOLLAH"]
    assert got["u s forces"] == ["U.S. Forces"]
    assert got["camp taji"] == ["Camp-Taji"]


def test_terms_do_not_match_across_fields(auto):
    assert "camp taji" not in found(auto, "Rockets hit Camp", "Taji residents heard blasts")


def test_spans_say_which_field(auto):
    scan = scan_item(auto, "Rockets", "Camp Taji", "Sadr spoke")
    assert [s.field for s in scan.terms["rocket*"]] == [0]
    assert [s.field for s in scan.terms["camp taji"]] == [1]
    assert [s.field for s in scan.terms["sadr"]] == [2]


def test_aliases_map_to_their_entity(auto):
    got = found(auto, "Rockets hit Ain al‑Asad", "", "سقوط صاروخين على قاعدة عين الأسد")
    assert got["ain-al-asad"] == ["Ain al‑Asad", "عين الأسد"]


@pytest.mark.parametrize("text", [
    "حزب الله", "وحزب الله", "بحزب الله", "لحزب الله", "فحزب الله", "وبحزب الله", "ولحزب الله",
])
def test_arabic_terms_match_with_attached_conjunctions_and_prepositions(auto, text):
    assert found(auto, text)["حزب الله"] == [text]


@pytest.mark.parametrize("text", ["العراق", "والعراق", "بالعراق", "للعراق", "وللعراق", "كالعراق", "العراقية"])
def test_arabic_terms_with_the_article_match_with_proclitics_and_suffixes(auto, text):
    assert found(auto, text)["العراق"] == [text]


@pytest.mark.parametrize("text", ["مقاومة", "المقاومة", "والمقاومة", "بالمقاومة", "للمقاومة", "ولمقاومة"])
def test_arabic_terms_without_the_article_also_match_with_it(auto, text):
    assert found(auto, text)["مقاومه"] == [text]


def test_arabic_fa_li_al_proclitic_chain_matches_article_less_terms(auto):
    assert found(auto, "فللمقاومة").get("مقاومه") == ["فللمقاومة"]


def test_arabic_terms_need_a_word_start(auto):
    assert "حزب الله" not in found(auto, "تحزب اللهو")  # starts mid-word


def test_arabic_prefix_term(auto):
    # the quote keeps the attached conjunction; the broken plural صواريخ is a different stem
    assert found(auto, "سقوط صواريخ وصاروخين")["صاروخ*"] == ["وصاروخين"]


def test_source_range_maps_folded_spans_back_to_the_original_text(auto):
    title = "Breaking — ٣ Kata’ib  Hezbollah rockets hit Çamp Tâji"
    scan = scan_item(auto, title, "", "")
    (span,) = scan.terms["camp taji"]
    start, end = scan.source_range(span)
    assert title[start:end] == "Çamp Tâji"
    (span,) = scan.terms["kataib hezbollah"]
    assert scan.quote(span) == "Kata’ib  Hezbollah"
    assert "Kata’ib  Hezbollah" in scan.snippet(span)


def _quotes_fold_back(scan) -> None:
    for spans in (*scan.terms.values(), *scan.entities.values()):
        for span in spans:
            folded = scan.texts[span.field][span.start:span.end]
            assert normalize(scan.quote(span)) == f" {folded} ", (scan.originals[span.field], span)


_WORDS = ["Rockets", "rocket", "hit", "Camp", "Taji", "Çamp", "Tâji", "camp-taji", "Kata’ib", "Hezbollah", "U.S.",
          "forces", "Sadr's", "—", "(", ")", ",", "...", "حزب", "الله", "وحزب", "العراق", "بالعراق", "الـعراق",
          "مقاومة", "عين", "الأسد", "Ain", "al-Asad", "'", "”", "½", "كتائبُ", "حزبِ", "اللّه", "ـ", "مُقاوَمةٌ",
          "،", "«العراق»", "٣", "صواريخ", "ۆ"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=14), st.sampled_from([" ", "  ", "\n", " - "]))
def test_quotes_of_every_span_fold_back_to_the_span(auto, words, sep):
    _quotes_fold_back(scan_item(auto, sep.join(words), "", ""))


def test_quotes_are_right_when_token_and_word_counts_agree_by_accident(auto):
    scan = scan_item(auto, "صلى ﷺ وحزب الله اللّه وعلّى وصلّى", "", "")  # 10 tokens, 10 folded words
    _quotes_fold_back(scan)


def test_word_positions_give_word_distances_for_proximity(auto):
    scan = scan_item(auto, "Two rockets, it was said, hit Camp Taji", "", "Rockets hit Camp Taji")
    spans = scan.terms["rocket*"] + scan.terms["camp taji"]
    assert scan.word_positions(spans) == [(0, 2), (0, 7), (2, 1), (2, 3)]  # (field, 1-based word), text order


def test_an_item_is_scanned_in_one_pass_of_the_automaton(default_lib, monkeypatch):
    calls = []
    real = matcher.Automaton.scan

    def counting(self, text):
        calls.append(text)
        return real(self, text)

    monkeypatch.setattr(matcher.Automaton, "scan", counting)
    Engine(default_lib, MemoryStore()).process(ItemInput(
        "x", datetime(2020, 3, 11, 21, tzinfo=UTC), "Rockets hit Camp Taji",
        "A barrage of 30 Katyusha rockets struck the base", "Kata'ib Hezbollah was blamed"))
    assert len(calls) == 1
    assert "camp taji" in calls[0] and "katyusha" in calls[0] and "kataib hezbollah" in calls[0]
