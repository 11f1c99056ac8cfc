"""`quantity`: a number tied to a unit reaching a threshold — on a small library and on `large-salvo`."""

from __future__ import annotations

import pytest
from wf_matching import TAJI_1, TAJI_2, Feed, indicator

SALVO = indicator(
    "salvo", "quantity", severity="high", units=["rocket*", "katyusha*", "missile*", "drone*", "صواريخ"],
    threshold=10, max_gap=2, terms={"attack": ["hit", "struck", "fired", "launched", "barrage", "سقطت", "اطلقت"]},
    when=[{"all": ["attack"]}])


@pytest.fixture
def salvo(make_lib):
    lib = make_lib(SALVO)
    return lambda text, **kw: Feed(lib).item(TAJI_1, text, **kw)


@pytest.mark.parametrize("text, n", [
    ("A barrage of 24 rockets hit Camp Taji", 24),
    ("Over 30 rockets struck Camp Taji", 31),
    ("Militants fired a dozen Katyusha rockets at the base", 12),
    ("Two dozen rockets hit the base", 24),
    ("Twenty-four rockets struck Camp Taji", 24),
    ("Ten rockets hit the base", 10),
    ("Militants launched 10 drones at the airport", 10),
    ("سقطت عشرة صواريخ على معسكر التاجي", 10),
    ("اطلقت أكثر من عشرين صواريخ على القاعدة", 21),
])
def test_fires_at_or_above_the_threshold_with_the_quantity_as_evidence(salvo, text, n):
    (firing,) = salvo(text)
    assert firing.indicator_id == "salvo" and firing.severity == "high"
    assert firing.evidence["quantity"] == n


@pytest.mark.parametrize("text", [
    "Nine rockets hit the base",
    "9 rockets hit the base",
    "Two rockets hit the Green Zone",
    "Most attacks fired fewer than five rockets",
    "Militants fired up to 12 rockets",
    "سقطت ثلاثة صواريخ على معسكر التاجي",
])
def test_does_not_fire_below_the_threshold_or_on_an_upper_bound(salvo, text):
    assert salvo(text) == []


def test_the_unit_gap_limits_how_far_the_number_may_stand(salvo):
    assert salvo("Militants fired 12 Iranian-made Katyusha rockets")  # 2 words between: allowed
    assert salvo("Militants fired 12 old Iranian-made Katyusha rockets") == []  # 3 words: too far


def test_the_largest_quantity_in_the_item_counts(salvo):
    (firing,) = salvo("Two rockets hit the base on Monday", content="On Wednesday a barrage of 30 rockets struck it")
    assert firing.evidence["quantity"] == 30
    assert "30 rockets" in firing.evidence["snippet"]


def test_the_term_clauses_must_hold_too(salvo):
    assert salvo("Iran showed 30 missiles at a parade") == []


def test_a_number_without_its_unit_does_not_count(salvo):
    assert salvo("Rockets hit the base, wounding 12") == []


# The seed's own numbers, through the default library's `large-salvo` (seed 000: "Two recent attacks on
# Camp Taji used over 30 rockets each, but most such attacks employ fewer than five rockets. A third
# attack that same week used just two").
@pytest.mark.parametrize("text, fires", [
    ("Over 30 rockets slammed into Camp Taji, the base north of Baghdad that hosts Coalition trainers", True),
    ("A barrage of more than two dozen Katyusha rockets struck Camp Taji on Saturday", True),
    ("Two rockets landed inside Besmaya base south of Baghdad", False),
    ("As usual the attackers fired fewer than five rockets at the base", False),
])
def test_large_salvo_on_the_seed_events(default_lib, text, fires):
    got = [f.indicator_id for f in Feed(default_lib).item(TAJI_2, text)]
    assert ("large-salvo" in got) is fires


def test_large_salvo_ignores_the_date_before_a_small_count(default_lib):
    got = [f.indicator_id for f in Feed(default_lib).item(TAJI_2, "On March 14 three rockets hit Camp Taji")]
    assert "indirect-fire-attack" in got and "large-salvo" not in got


@pytest.mark.parametrize("hash_seed", ["1", "2", "3", "4"])
def test_of_equal_quantities_the_first_mention_is_the_evidence_whatever_the_hash_seed(hash_seed, tmp_path):
    """"twenty Katyusha rockets" counts 20 for both units; which is quoted must not depend on set order."""
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from wf_matching import TAJI_1, Feed, write_library
        from test_quantity import SALVO
        from app.matching.compiler import CompiledLibrary
        from app.matching.loader import load_library
        lib = CompiledLibrary(load_library(write_library(Path({str(tmp_path)!r}) / "lib", [SALVO])))
        (f,) = Feed(lib).item(TAJI_1, "Militants fired twenty Katyusha rockets at the airport")
        print(f.evidence["terms"]["unit"], f.evidence["offsets"][-1]["start"])
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout
    assert out.split() == ["['Katyusha']", "23"]
