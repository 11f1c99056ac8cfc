"""Reads the library folder, validates every file and reports errors with file, line and field."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from app.matching.schema import (
    CalendarIndicator,
    CompositeIndicator,
    Entity,
    Gazetteer,
    Indicator,
    Scenario,
    ScenarioFile,
    Vocabulary,
)

_INDICATOR = TypeAdapter(Indicator)


@dataclass(frozen=True)
class LibraryProblem:
    """One thing wrong in the library, located precisely enough to fix."""

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class LibraryError(Exception):
    """The library did not validate; `problems` lists every error found, not just the first."""

    def __init__(self, problems: list[LibraryProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Library:
    """The validated library: indicators, scenarios, gazetteer and a content hash naming this version."""

    indicators: dict[str, object]
    scenarios: dict[str, Scenario]
    entities: dict[str, Entity]
    version: str
    files: dict[str, str] = field(default_factory=dict)  # indicator id -> file path
    vocabulary: dict[str, list[str]] = field(default_factory=dict)


def _line_map(text: str) -> dict[tuple, int]:
    """Map each key path in a YAML document to its 1-based line, for pointing at bad fields."""
    lines: dict[tuple, int] = {}

    def walk(node, path: tuple) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                lines[(*path, k.value)] = k.start_mark.line + 1
                walk(v, (*path, k.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, i))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of the deepest part of a key path that the document has."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _located(path: Path, text: str, err: ValidationError, tag: str | None = None) -> list[LibraryProblem]:
    """Pydantic errors as problems with file, line and dotted field; `tag` is a union discriminator to drop."""
    lines = _line_map(text)
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        if tag is not None and loc[:1] == (tag,):
            loc = loc[1:]  # a discriminated union puts the tag value ("match") before the field path
        out.append(LibraryProblem(str(path), _line_of(lines, loc), ".".join(str(p) for p in loc), e["msg"]))
    return out


def _read(path: Path, problems: list[LibraryProblem]) -> tuple[object, str] | None:
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.safe_load(text), text
    except (OSError, UnicodeDecodeError) as e:
        problems.append(LibraryProblem(str(path), None, "", f"cannot read: {e}"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problems.append(
            LibraryProblem(str(path), mark.line + 1 if mark else None, "", f"not valid YAML: {e.problem}")
        )
    return None


def load_library(root: Path) -> Library:
    """Load and cross-check the library under `root`; raise LibraryError listing every problem."""
    problems: list[LibraryProblem] = []
    digest = hashlib.sha256()
    if not root.is_dir():
        raise LibraryError([LibraryProblem(str(root), None, "", "library folder not found")])

    entities: dict[str, Entity] = {}
    gaz_path = root / "gazetteer.yaml"
    if (got := _read(gaz_path, problems)) is not None:
        data, text = got
        digest.update(text.encode())
        try:
            for e in Gazetteer.model_validate(data).entities:
                if e.id in entities:
                    problems.append(LibraryProblem(str(gaz_path), None, f"entities.{e.id}", "duplicate id"))
                entities[e.id] = e
        except ValidationError as err:
            problems += _located(gaz_path, text, err)

    scenarios: dict[str, Scenario] = {}
    sc_path = root / "scenarios.yaml"
    if (got := _read(sc_path, problems)) is not None:
        data, text = got
        digest.update(text.encode())
        try:
            scenarios = {s.id: s for s in ScenarioFile.model_validate(data).scenarios}
        except ValidationError as err:
            problems += _located(sc_path, text, err)

    vocabulary: dict[str, list[str]] = {}
    voc_path = root / "vocabulary.yaml"
    if voc_path.exists() and (got := _read(voc_path, problems)) is not None:
        data, text = got
        digest.update(text.encode())
        try:
            vocabulary = Vocabulary.model_validate(data).terms
        except ValidationError as err:
            problems += _located(voc_path, text, err)

    indicators: dict[str, object] = {}
    files: dict[str, str] = {}
    texts: dict[str, str] = {}
    if (got := _read(gaz_path, [])) is not None:
        texts[str(gaz_path)] = got[1]
    for path in sorted((root / "tripwires").glob("*.yaml")):
        if (got := _read(path, problems)) is None:
            continue
        data, text = got
        digest.update(path.name.encode() + b"\0" + text.encode())
        try:
            ind = _INDICATOR.validate_python(data)
        except ValidationError as err:
            problems += _located(path, text, err, tag=data.get("kind") if isinstance(data, dict) else None)
            continue
        if ind.id in indicators:
            problems.append(LibraryProblem(str(path), 1, "id", f"duplicate of {files[ind.id]}"))
            continue
        indicators[ind.id] = ind
        files[ind.id] = str(path)
        texts[str(path)] = text

    problems += _cross_check(indicators, scenarios, entities, files, str(gaz_path), vocabulary, texts)
    if problems:
        raise LibraryError(problems)
    return Library(indicators, scenarios, entities, digest.hexdigest()[:12], files, vocabulary)


def _cross_check(indicators, scenarios, entities, files, gaz_path, vocabulary, texts) -> list[LibraryProblem]:
    """References between files and term syntax: every problem located by file, line and field."""
    out: list[LibraryProblem] = []
    maps: dict[str, dict[tuple, int]] = {}

    def problem(path: str, loc: tuple, message: str, field: str | None = None) -> None:
        if path not in maps:
            maps[path] = _line_map(texts[path]) if path in texts else {}
        field = field or ".".join(str(p) for p in loc if not isinstance(p, int))
        out.append(LibraryProblem(path, _line_of(maps[path], loc), field, message))

    roles = {r for e in entities.values() for r in e.roles}
    for n, e in enumerate(entities.values()):
        if e.affiliation and e.affiliation not in entities:
            problem(gaz_path, ("entities", n, "affiliation"), "unknown entity",
                    field=f"entities.{e.id}.affiliation")
    for ind in indicators.values():
        path = files[ind.id]
        for n, s in enumerate(ind.scenarios):
            if s != "*" and s not in scenarios:
                problem(path, ("scenarios", n), f"unknown scenario `{s}`")
        key = "applies_to" if isinstance(ind, CalendarIndicator) else "of"
        for n, ref in enumerate(getattr(ind, key, []) or []):
            if ref != "*" and ref not in indicators:
                problem(path, (key, n), f"unknown indicator `{ref}`")
        if isinstance(ind, CompositeIndicator) and ind.of_scenario and ind.of_scenario not in scenarios:
            problem(path, ("of_scenario",), f"unknown scenario `{ind.of_scenario}`")
        for n, r in enumerate(getattr(ind, "roles", []) or []):
            if r not in roles:
                problem(path, ("roles", n), f"no gazetteer entity has role `{r}`")
        for loc, terms in _term_lists(ind):
            for n, t in enumerate(terms):
                at = (*loc, n)
                if t.startswith("@role:") and t[6:] not in roles:
                    problem(path, at, f"no entity has role `{t[6:]}`")
                elif t.startswith("@entity:") and t[8:] not in entities:
                    problem(path, at, f"unknown entity `{t[8:]}`")
                elif t.startswith("@terms:") and t[7:] not in vocabulary:
                    problem(path, at, f"unknown vocabulary `{t[7:]}`")
                elif not t.startswith("@") and (msg := term_problem(t)):
                    problem(path, at, msg)
    return out


def _term_lists(ind) -> list[tuple[tuple, list[str]]]:
    """(key path, terms) for every list of terms an indicator has."""
    out = []
    for key in ("terms", "topics"):
        for name, terms in (getattr(ind, key, None) or {}).items():
            out.append(((key, name), terms))
    for key in ("units", "cues", "head_nouns"):
        if getattr(ind, key, None):
            out.append(((key,), getattr(ind, key)))
    return out


def term_problem(term: str) -> str | None:
    """Why a literal term cannot be matched, or None when it can."""
    from app.matching.normalize import normalize

    if "*" in term.rstrip("*"):
        return f"term {term!r}: * is only allowed at the end of a term"
    if not normalize(term.rstrip("*")).strip():
        return f"term {term!r} has no letters or digits"
    return None
