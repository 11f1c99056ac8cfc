"""Fixtures for the matching tests; the helpers themselves live in wf_matching.py (importable from tests)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from wf_matching import DEFAULT_LIBRARY, write_library  # noqa: E402

from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.matching.compiler import AliasAddition, CompiledLibrary  # noqa: E402
from app.matching.loader import load_library  # noqa: E402


@pytest.fixture
def make_lib(tmp_path):
    """make_lib(*indicator_docs, additions=[...], gazetteer=..., vocabulary=...) -> CompiledLibrary."""
    count = [0]

    def make(*indicators: dict, additions: list[AliasAddition] = (), **files) -> CompiledLibrary:
        count[0] += 1
        root = write_library(tmp_path / f"lib{count[0]}", list(indicators), **files)
        return CompiledLibrary(load_library(root), list(additions))

    return make


@pytest.fixture(scope="session")
def default_lib() -> CompiledLibrary:
    return CompiledLibrary(load_library(DEFAULT_LIBRARY))


@pytest.fixture
def library_copy(tmp_path) -> Path:
    """A private copy of the default library folder, for tests that break or edit it."""
    target = tmp_path / "indicators"
    shutil.copytree(DEFAULT_LIBRARY, target)
    return target


@pytest.fixture
def sessions(db_url):
    """A session factory on a fresh database (SQLite and, when available, PostgreSQL)."""
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()
