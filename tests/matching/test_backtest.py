"""`watchfloor backtest --items FILE [--until]`: one JSON object per firing, in event-time order, no database."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
from typer.testing import CliRunner
from wf_matching import DEFAULT_LIBRARY, ROCKET, ROOT, indicator, write_library

from app.cli import app

# March 2020 in the seeds' terms: the Camp Taji barrages of March 11 and 14, Besmaya on the 16th,
# Usbat al-Thairen announcing itself on the 15th, and ordinary news in between.
MARCH_2020 = [
    {"id": "w-01", "published": "2020-02-10T07:00:00Z", "title": "Iraqi parliament debates the 2020 budget"},
    {"id": "w-02", "published": "2020-02-20T07:00:00Z", "title": "Two rockets hit near the U.S. Embassy in Baghdad"},
    {"id": "w-03", "published": "2020-03-11T21:00:00Z",
     "title": "Over 30 rockets hit Camp Taji, killing two U.S. troops and a British soldier"},
    {"id": "w-04", "published": "2020-03-12T10:00:00Z", "title": "Iraqi PM condemns the attack on Camp Taji"},
    {"id": "w-05", "published": "2020-03-14T11:00:00Z",
     "title": "A second barrage of 25 rockets struck Camp Taji, wounding coalition troops"},
    {"id": "w-06", "published": "2020-03-15T09:00:00+03:00",
     "title": "A new militia group calling itself Usbat al-Thairen claimed responsibility for the rocket attacks"},
    {"id": "w-07", "published": "2020-03-16T17:00:00Z", "title": "Two rockets landed inside Besmaya base"},
    {"id": "w-08", "published": "2020-03-20T08:00:00Z", "title": "Oil prices fall as the virus spreads"},
]


def write_items(path, items, extra_lines=()):
    lines = [json.dumps(i, ensure_ascii=False) for i in items] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def backtest(items_path, *args, library=DEFAULT_LIBRARY):
    r = CliRunner().invoke(app, ["backtest", "--items", str(items_path), "--library", str(library), *args])
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in r.stdout.splitlines()], r.stderr


def test_one_json_object_per_firing(tmp_path):
    firings, stderr = backtest(write_items(tmp_path / "items.jsonl", MARCH_2020))
    assert firings
    for f in firings:
        assert {"indicator", "at", "item_ids", "severity", "evidence", "kind", "library_version"} <= set(f)
        assert f["at"].endswith("Z")
    first = next(f for f in firings if f["indicator"] == "large-salvo")
    assert first["item_ids"] == ["w-03"] and first["at"] == "2020-03-11T21:00:00Z"
    assert first["evidence"]["quantity"] == 31
    assert first["severity"] == "critical"  # high, raised one step on Soleimani's birthday
    names = [f for f in firings if f["indicator"] == "new-militia-name"]
    assert [f["at"] for f in names] == ["2020-03-15T06:00:00Z"]  # the item's zone is converted to UTC
    assert [f["at"] for f in firings] == sorted(f["at"] for f in firings)
    assert "backtest: 8 items" in stderr and f"{len(firings)} firings" in stderr


def test_windowed_rules_fire_in_the_backtest(tmp_path):
    firings, _ = backtest(write_items(tmp_path / "items.jsonl", MARCH_2020))
    fired = {f["indicator"] for f in firings}
    assert {"indirect-fire-attack", "large-salvo", "coalition-casualties", "new-militia-name"} <= fired
    assert "coordinated-escalation" in fired


def test_unsorted_input_gives_the_same_output_as_sorted(tmp_path):
    sorted_out, _ = backtest(write_items(tmp_path / "sorted.jsonl", MARCH_2020))
    shuffled = MARCH_2020[:]
    random.Random(3).shuffle(shuffled)
    assert shuffled != MARCH_2020
    unsorted_out, _ = backtest(write_items(tmp_path / "unsorted.jsonl", shuffled))
    assert unsorted_out == sorted_out


def test_a_bad_line_is_reported_with_its_number_and_the_rest_runs(tmp_path):
    path = write_items(tmp_path / "items.jsonl", MARCH_2020[:3], extra_lines=[
        "this is not json",
        json.dumps({"id": "no-date", "title": "Rockets hit Camp Taji"}),
        json.dumps({"id": "naive", "title": "Rockets hit Camp Taji", "published": "2020-03-12T10:00:00"}),
        json.dumps(MARCH_2020[4]),
    ])
    firings, stderr = backtest(path)
    assert f"{path}:4: skipped" in stderr
    assert f"{path}:5: skipped" in stderr and "published" in stderr
    assert f"{path}:6: skipped" in stderr
    assert "backtest: 4 items" in stderr
    assert {i for f in firings for i in f["item_ids"]} >= {"w-03", "w-05"}


def test_a_bad_line_in_unsorted_input_is_reported_once(tmp_path):
    path = write_items(tmp_path / "items.jsonl", [MARCH_2020[4], MARCH_2020[2]], extra_lines=["{oops"])
    _, stderr = backtest(path)
    assert stderr.count(":3: skipped") == 1


@pytest.fixture
def lull_library(tmp_path):
    lull = indicator("lull", "absence", of=["rocket-attack"], quiet="14d", lookback="28d", min_prior=2)
    return write_library(tmp_path / "lib", [ROCKET, lull])


LULL_ITEMS = [
    {"id": "a", "published": "2020-03-11T21:00:00Z", "title": "Rockets hit Camp Taji"},
    {"id": "b", "published": "2020-03-14T11:00:00Z", "title": "Rockets hit Camp Taji again"},
    {"id": "c", "published": "2020-03-16T08:00:00Z", "title": "Parliament debates the budget"},
]


@pytest.mark.parametrize("until, fires", [
    (None, True),  # default: the last item plus the longest absence window (Mar 30)
    ("2020-03-28T10:59:59Z", False),
    ("2020-03-28T11:00:00Z", True),  # exactly the last rocket report plus 14 days
    ("2020-03-28T11:00:00", True),  # a naive --until is UTC
])
def test_until_extends_the_clock_for_absence_rules(tmp_path, lull_library, until, fires):
    path = write_items(tmp_path / "items.jsonl", LULL_ITEMS)
    firings, _ = backtest(path, *(["--until", until] if until else []), library=lull_library)
    lulls = [f for f in firings if f["indicator"] == "lull"]
    assert bool(lulls) is fires
    if fires:
        assert lulls[0]["at"] == "2020-03-28T11:00:00Z" and lulls[0]["item_ids"] == ["a", "b"]


def test_an_empty_file_runs(tmp_path):
    firings, stderr = backtest(write_items(tmp_path / "items.jsonl", []))
    assert firings == [] and "backtest: 0 items, 0 firings" in stderr


def test_a_broken_library_exits_1(tmp_path):
    root = write_library(tmp_path / "lib", [{**ROCKET, "scenarios": ["nope"]}])
    r = CliRunner().invoke(app, ["backtest", "--items", str(write_items(tmp_path / "i.jsonl", LULL_ITEMS)),
                                 "--library", str(root)])
    assert r.exit_code == 1 and "unknown scenario" in r.stderr


def test_composite_item_ids_are_unique(tmp_path):
    members = [indicator(k, "match", terms={"w": [w]}, when=[{"all": ["w"]}])
               for k, w in (("a", "alpha"), ("b", "bravo"), ("c", "charlie"))]
    together = indicator("together", "composite", of=["a", "b", "c"], min_distinct=3, window="30d")
    root = write_library(tmp_path / "lib", [*members, together])
    path = write_items(tmp_path / "i.jsonl", [{"id": "x", "title": "alpha bravo charlie",
                                               "published": "2020-03-11T21:00:00Z"}])
    firings, _ = backtest(path, library=root)
    (composite,) = [f for f in firings if f["indicator"] == "together"]
    assert composite["item_ids"] == ["x"]


def test_backtest_output_is_reproducible_across_processes(tmp_path):
    members = [indicator(k, "match", terms={"w": [w]}, when=[{"all": ["w"]}])
               for k, w in (("a", "alpha"), ("b", "bravo"), ("c", "charlie"), ("d", "delta"))]
    together = indicator("together", "composite", of=["a", "b", "c", "d"], min_distinct=3, window="30d")
    root = write_library(tmp_path / "lib", [*members, together])
    path = write_items(tmp_path / "i.jsonl", [
        {"id": "x", "title": "alpha bravo charlie", "published": "2020-03-11T21:00:00Z"},
        {"id": "y", "title": "delta alpha", "published": "2020-03-12T21:00:00Z"}])
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "backtest", "--items",
                              str(path), "--library", str(root)], capture_output=True, text=True, env=env, cwd=ROOT,
                             check=True)
        assert '"together"' in run.stdout
        outputs.add(run.stdout)
    assert len(outputs) == 1
