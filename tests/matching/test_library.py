"""The library format: broken files are reported with file, line and field; `watchfloor indicators validate|test`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner
from wf_matching import ROCKET, write_library

from app.cli import app
from app.matching.compiler import CompiledLibrary
from app.matching.loader import LibraryError, load_library

GOOD = textwrap.dedent("""\
    id: broken
    name: A test indicator
    kind: match
    source: test
    scenarios: [pressure]
    terms:
      weapon: [rocket*]
    when:
      - all: [weapon]
    """)


def problems(root: Path) -> list:
    with pytest.raises(LibraryError) as err:
        CompiledLibrary(load_library(root))
    return err.value.problems


def broken_library(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    root = write_library(tmp_path / "lib", [ROCKET])
    (root / "tripwires" / name).write_text(text, "utf-8")
    return root


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_the_good_file_loads(tmp_path):
    lib = CompiledLibrary(load_library(broken_library(tmp_path, GOOD)))
    assert set(lib.rules) == {"broken", "rocket-attack"}


def test_bad_yaml_names_file_and_line(tmp_path):
    text = GOOD.replace("  weapon: [rocket*]", "  weapon: [rocket*")
    (p,) = problems(broken_library(tmp_path, text))
    assert p.path.endswith("broken.yaml") and "not valid YAML" in p.message
    assert p.line is not None and 7 <= p.line <= 9


@pytest.mark.parametrize("text, field, words", [
    (GOOD + "colour: red\n", "colour", ["Extra inputs"]),  # unknown field (a typo must not disable a rule)
    (edit(GOOD, "source: test", "source: test\nseverity: 3"), "severity", ["'high'"]),  # wrong type
    (edit(GOOD, "  - all: [weapon]", "  - all: weapon"), "when.0.all", ["list"]),  # wrong type
    (edit(GOOD, "kind: match", "kind: spike"), "", ["spike"]),  # unknown kind
    (edit(GOOD, "  - all: [weapon]", "  - all: [weapon, target]"), "", ["undefined term groups", "target"]),
    (edit(GOOD, "source: test", "source: test\nthreshold: 10"), "threshold", ["Extra inputs"]),  # not a match field
])
def test_schema_problems_name_file_field_and_message(tmp_path, text, field, words):
    (p,) = problems(broken_library(tmp_path, text))
    assert p.path.endswith("broken.yaml") and p.line is not None
    assert p.field.endswith(field)
    assert all(w in p.message for w in words), p.message
    assert str(p).startswith(f"{p.path}:{p.line}: ")


@pytest.mark.parametrize("old, new, field, words", [
    ("scenarios: [pressure]", "scenarios: [nope]", "scenarios", ["unknown scenario", "nope"]),
    ("weapon: [rocket*]", "weapon: ['@entity:nobody']", "terms.weapon", ["unknown entity", "nobody"]),
    ("weapon: [rocket*]", "weapon: ['@role:astronaut']", "terms.weapon", ["role", "astronaut"]),
    ("weapon: [rocket*]", "weapon: ['@terms:nope']", "terms.weapon", ["unknown vocabulary", "nope"]),
    ("weapon: [rocket*]", "weapon: [rock*et]", "terms.weapon", ["rock*et", "only allowed at the end"]),
    ("weapon: [rocket*]", "weapon: ['--']", "terms.weapon", ["no letters or digits"]),
])
def test_reference_problems_name_file_field_and_what_is_missing(tmp_path, old, new, field, words):
    (p,) = problems(broken_library(tmp_path, edit(GOOD, old, new)))
    assert p.path.endswith("broken.yaml") and p.field == field
    assert all(w in p.message for w in words), p.message


def test_unknown_indicator_reference(tmp_path):
    text = "id: broken\nname: T\nkind: rate\nsource: t\nscenarios: [pressure]\nof: [nope]\nrecent: 14d\n" \
           "baseline: 28d\nfactor: 2\n"
    (p,) = problems(broken_library(tmp_path, text))
    assert p.path.endswith("broken.yaml") and p.field == "of" and "`nope`" in p.message


def test_bad_duration(tmp_path):
    text = "id: broken\nname: T\nkind: rate\nsource: t\nscenarios: [pressure]\nof: [rocket-attack]\n" \
           "recent: 2 weeks\nbaseline: 28d\nfactor: 2\n"
    (p,) = problems(broken_library(tmp_path, text))
    assert p.field.endswith("recent") and "14d" in p.message


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    root = broken_library(tmp_path, GOOD + "colour: red\n")
    (root / "tripwires" / "other.yaml").write_text(edit(edit(GOOD, "broken", "other"), "[pressure]", "[nope]"))
    got = problems(root)
    assert sorted(Path(p.path).name for p in got) == ["broken.yaml", "other.yaml"]


def test_duplicate_indicator_ids(tmp_path):
    root = broken_library(tmp_path, edit(GOOD, "id: broken", "id: rocket-attack"))
    (p,) = problems(root)
    assert p.field == "id" and "duplicate" in p.message


def test_gazetteer_schema_problem(tmp_path):
    gazetteer = {"entities": [
        {"id": "kh", "name": "KH", "type": "group", "roles": ["proxy-group"], "aliases": ["KH"]},
        {"id": "nameless", "name": "No aliases", "type": "group", "roles": ["proxy-group"], "aliases": []},
    ]}
    (p,) = problems(write_library(tmp_path / "lib", [ROCKET], gazetteer=gazetteer))
    assert p.path.endswith("gazetteer.yaml") and p.field == "entities.1.aliases" and p.line is not None


def test_gazetteer_duplicate_ids_and_unknown_affiliations(tmp_path):
    gazetteer = {"entities": [
        {"id": "kh", "name": "KH", "type": "group", "roles": ["proxy-group"], "aliases": ["KH"]},
        {"id": "kh", "name": "KH again", "type": "group", "roles": ["proxy-group"], "aliases": ["Kataib"]},
        {"id": "askari", "name": "Abu Ali al-Askari", "type": "person", "roles": ["proxy-leader"],
         "affiliation": "kataib-hezbollah", "aliases": ["Askari"]},
    ]}
    got = {(Path(p.path).name, p.field): p.message
           for p in problems(write_library(tmp_path / "lib", [ROCKET], gazetteer=gazetteer))}
    assert "duplicate" in got[("gazetteer.yaml", "entities.kh")]
    assert "unknown entity" in got[("gazetteer.yaml", "entities.askari.affiliation")]


def test_scenario_thresholds_must_rise(tmp_path):
    scenarios = {"scenarios": [{"id": "pressure", "name": "P", "levels": {"guarded": 5, "elevated": 2}}]}
    root = write_library(tmp_path / "lib", [ROCKET], scenarios=scenarios)
    (p,) = [p for p in problems(root) if p.path.endswith("scenarios.yaml")]
    assert "rise" in p.message and p.line is not None


def test_a_missing_library_folder(tmp_path):
    (p,) = problems(tmp_path / "nowhere")
    assert "not found" in p.message


@pytest.mark.parametrize("text, line, field", [
    (GOOD + "colour: red\n", 10, "colour"),
    (edit(GOOD, "  - all: [weapon]", "  - all: weapon"), 9, "when.0.all"),
])
def test_schema_problems_point_at_the_offending_line(tmp_path, text, line, field):
    (p,) = problems(broken_library(tmp_path, text))
    assert (p.line, p.field) == (line, field)


@pytest.mark.parametrize("old, new, line", [
    ("scenarios: [pressure]", "scenarios: [nope]", 5),
    ("weapon: [rocket*]", "weapon: ['@entity:nobody']", 7),
    ("weapon: [rocket*]", "weapon: [rock*et]", 7),
])
def test_reference_problems_point_at_the_offending_line(tmp_path, old, new, line):
    (p,) = problems(broken_library(tmp_path, edit(GOOD, old, new)))
    assert p.line == line


# ------------------------------------------------------------------------------------------------ the CLI


def cli(*args):
    return CliRunner().invoke(app, list(args))


def test_validate_accepts_the_default_library(library_copy):
    r = cli("indicators", "validate", "--path", str(library_copy))
    assert r.exit_code == 0, r.output
    assert "indicators" in r.stdout and "scenarios" in r.stdout and "entities" in r.stdout


def test_validate_exits_1_and_lists_the_problems(library_copy):
    path = library_copy / "tripwires" / "large-salvo.yaml"
    doc = yaml.safe_load(path.read_text("utf-8"))
    doc["treshold"] = doc.pop("threshold")  # a typo
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    r = cli("indicators", "validate", "--path", str(library_copy))
    assert r.exit_code == 1
    assert "problem(s)" in r.stderr
    assert "large-salvo.yaml" in r.stderr and "treshold" in r.stderr and "threshold" in r.stderr


def test_indicators_test_passes_on_the_default_library(library_copy):
    r = cli("indicators", "test", "--path", str(library_copy))
    assert r.exit_code == 0, r.stdout
    assert r.stdout.strip().endswith("0 failed")


def test_indicators_test_fails_on_a_wrong_example(tmp_path):
    doc = {**ROCKET, "examples": {"match": ["Rockets hit Camp Taji", "Drones hit Erbil"],
                                  "no_match": ["Parliament met", "Rocket launch in Florida"]}}
    root = write_library(tmp_path / "lib", [doc])
    r = cli("indicators", "test", "--path", str(root))
    assert r.exit_code == 1
    assert "FAIL rocket-attack: should fire on: 'Drones hit Erbil'" in r.stdout
    assert "FAIL rocket-attack: should NOT fire on: 'Rocket launch in Florida'" in r.stdout
    assert "4 examples, 2 failed" in r.stdout


def test_indicators_test_only_one_indicator(tmp_path):
    good = {**ROCKET, "id": "good", "examples": {"match": ["Rockets hit Camp Taji"]}}
    bad = {**ROCKET, "id": "bad", "examples": {"match": ["Drones hit Erbil"]}}
    root = write_library(tmp_path / "lib", [good, bad])
    assert cli("indicators", "test", "--path", str(root), "--indicator", "good").exit_code == 0
    assert cli("indicators", "test", "--path", str(root), "--indicator", "bad").exit_code == 1
