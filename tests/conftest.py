"""Shared fixtures: a migrated database per test on SQLite and (when configured) PostgreSQL, the app, a client.

PostgreSQL runs when WATCHFLOOR_TEST_DATABASE_URL is set (`make test` sets it when a local server
answers); otherwise those parametrizations are skipped with the reason shown in the summary.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.config import load_settings
from app.db import Base, make_engine, upgrade

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "WATCHFLOOR_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def pg_url():
    """This test session's own schema in the test PostgreSQL (search_path on every connection), dropped after.

    A private schema means concurrent test runs against one server never see or wipe each other's tables.
    """
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests skipped: {PG_ENV} is not set (make test sets it when a server answers)")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    schema = f"wf_test_{uuid.uuid4().hex[:10]}"
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


def _truncate(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session; tests get copies (a real migration, not create_all)."""
    path = tmp_path_factory.mktemp("template") / "watchfloor.db"
    upgrade(f"sqlite:///{path}")
    return path


def _sqlite_copy(template: Path, folder: Path) -> str:
    target = folder / "watchfloor.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory, sqlite_template) -> str:
    """A freshly migrated, empty database: a new SQLite file, or this session's PostgreSQL schema truncated."""
    if request.param == "sqlite":
        return _sqlite_copy(sqlite_template, tmp_path_factory.mktemp("db"))
    url = request.getfixturevalue("pg_url")
    _truncate(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """A migrated SQLite file, for tests whose subject is not the database backend."""
    return _sqlite_copy(sqlite_template, tmp_path)


_PARSED: dict = {}


@pytest.fixture
def library_parsed_once(monkeypatch):
    """Parse the indicator YAML once per run, not once per test, for folders that never edit it (they opt in
    with an autouse fixture); every test still compiles its own library with its database's additions."""
    from app.matching import service as matching_service
    from app.matching.loader import load_library

    def cached(root):
        if root not in _PARSED:
            _PARSED[root] = load_library(root)
        return _PARSED[root]

    monkeypatch.setattr(matching_service, "load_library", cached)


@pytest.fixture
def feeds_dir(tmp_path) -> Path:
    """A private copy of the bundled feeds folder (tests may edit the catalog)."""
    target = tmp_path / "feeds"
    shutil.copytree(ROOT / "feeds", target)
    return target


@pytest.fixture
def make_settings(tmp_path, feeds_dir):
    def make(url: str, **overrides):
        return load_settings(database_url=url, var_path=tmp_path / "var", indicators_path=ROOT / "indicators",
                             feeds_path=feeds_dir, secret_key="test-secret-" + "x" * 32, **overrides)
    return make


@pytest.fixture
def settings(db_url, make_settings):
    return make_settings(db_url)


@pytest.fixture
def ctx(settings):
    from app.context import AppContext

    context = AppContext.create(settings)
    yield context
    context.engine.dispose()


PIPELINE_NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def pipeline(ctx):
    """pipeline(*push_bodies, now=...) -> ids of the alerts touched: pushed as the API does, matched by the
    matching job's function, then turned into alerts (the real pipeline, one transaction per step)."""
    from app.alerts.service import alerts_for_hits
    from app.db import transaction
    from app.ingest.schemas import ItemIn
    from app.ingest.service import store_pushed
    from app.matching.service import match_pending

    def run(*items: dict, now: datetime = PIPELINE_NOW) -> list[int]:
        with transaction(ctx.sessions) as s:
            for body in items:
                store_pushed(s, ItemIn(**body), now)
        with transaction(ctx.sessions) as s:
            report = match_pending(s, ctx.library.get(s), limit=1000, now=now)
            return [a.id for a in alerts_for_hits(s, report.hit_ids, now=now)]

    return run


@pytest.fixture
def session(ctx):
    with ctx.sessions() as s:
        yield s
        s.rollback()


@pytest.fixture
def app(settings):
    from app.main import create_app

    return create_app(settings)


@pytest.fixture
def api_key(ctx) -> str:
    from app.db import transaction
    from app.web.auth import create_api_key

    with transaction(ctx.sessions) as s:
        _, plain = create_api_key(s, "tests")
    return plain


@pytest.fixture
def client(app, api_key):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {api_key}"
        yield c
