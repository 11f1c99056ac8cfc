"""Fixtures for the matching tests; the helpers themselves live in wf_matching.py (importable from tests)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from wf_matching import DEFAULT_LIBRARY, write_library  # noqa: E402

from app.db import Base, make_engine, make_sessionmaker, upgrade  # noqa: E402
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


# The shared test PostgreSQL (WATCHFLOOR_TEST_DATABASE_URL) is reset by every pytest session that starts
# (tests/conftest.py drops its `public` schema), so runs by several engineers at once break each other. The
# matching tests migrate a schema of their own in that database instead (search_path set on the connection),
# created per session and dropped after.
@pytest.fixture(scope="session")
def matching_pg_url():
    url = os.environ.get("WATCHFLOOR_TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests skipped: WATCHFLOOR_TEST_DATABASE_URL is not set")
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"matching_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    private = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    private = private.render_as_string(hide_password=False)
    try:
        upgrade(private)
        yield private
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory) -> str:
    """A fresh, migrated, empty database: a new SQLite file, or this run's private PostgreSQL truncated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/watchfloor.db"
        upgrade(url)
        return url
    url = request.getfixturevalue("matching_pg_url")
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def sessions(db_url):
    """A session factory on a fresh database (SQLite and, when available, PostgreSQL)."""
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()
