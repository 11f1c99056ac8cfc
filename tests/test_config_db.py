"""Settings refusal, the migrated-schema guard and readiness, on a real SQLite file and PostgreSQL."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.config import SettingsError, load_settings
from app.context import AppContext
from app.db import NotMigratedError, make_engine, transaction, upgrade
from app.ingest.models import Feed
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
UPGRADE_HINT = "run `watchfloor db upgrade`"


@pytest.fixture
def clean_env(monkeypatch):
    """No WATCHFLOOR_* variables but the ones a test sets (the suite's own test URL is not a setting)."""
    for name in list(os.environ):
        if name.startswith("WATCHFLOOR_"):
            monkeypatch.delenv(name)
    return monkeypatch


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("WATCHFLOOR_PORT", "http", "WATCHFLOOR_PORT: Input should be a valid integer"),
    ("WATCHFLOOR_PORT", "0", "WATCHFLOOR_PORT: Input should be greater than or equal to 1"),
    ("WATCHFLOOR_DATABASE_URL", "mysql://db/wf", "WATCHFLOOR_DATABASE_URL: Value error, must be a sqlite:/// or "
                                                 "postgresql+psycopg:// URL"),
    ("WATCHFLOOR_POLL_TIMEOUT", "-1", "WATCHFLOOR_POLL_TIMEOUT: Input should be greater than 0"),
])
def test_invalid_variable_is_refused_with_its_name(clean_env, variable, value, message):
    clean_env.setenv(variable, value)

    with pytest.raises(SettingsError) as err:
        load_settings()

    assert str(err.value).startswith("invalid settings:\n") and message in str(err.value)


def test_every_invalid_variable_is_named_in_one_error(clean_env):
    clean_env.setenv("WATCHFLOOR_PORT", "x")
    clean_env.setenv("WATCHFLOOR_DATABASE_URL", "oracle://db")

    with pytest.raises(SettingsError) as err:
        load_settings()

    lines = str(err.value).splitlines()[1:]
    assert sorted(line.split(":")[0].strip() for line in lines) == ["WATCHFLOOR_DATABASE_URL", "WATCHFLOOR_PORT"]


def test_valid_variables_are_read_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("WATCHFLOOR_PORT", "9000")
    clean_env.setenv("WATCHFLOOR_POLL_INTERVAL", "60")
    clean_env.setenv("WATCHFLOOR_FEEDS_PATH", str(tmp_path))

    s = load_settings()

    assert (s.port, s.poll_interval, s.feeds_path) == (9000, 60, tmp_path)


def test_plain_postgresql_url_gets_the_psycopg_driver(clean_env):
    assert load_settings(database_url="postgresql://u@db/wf").database_url == "postgresql+psycopg://u@db/wf"


def test_unset_secret_is_generated_once_and_kept_private(clean_env, tmp_path):
    s = load_settings(var_path=tmp_path / "var")

    first, again = s.secret(), load_settings(var_path=tmp_path / "var").secret()

    assert first == again and len(first) >= 32
    assert oct((tmp_path / "var" / "secret_key").stat().st_mode & 0o777) == "0o600"


# --- the schema guard ----------------------------------------------------------------------------


@pytest.fixture
def fresh_sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/fresh.db"


@pytest.fixture
def fresh_postgresql(pg_url):
    """An empty private schema on the test PostgreSQL, as a URL whose search_path points at it."""
    schema = f"unmigrated_{os.getpid()}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    if url.password is None:
        url = url.set(password="not-shown")  # trust auth ignores it; the message must not show it either
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request) -> str:
    """A database of its own that exists but was never migrated (never the suite's shared PostgreSQL schema)."""
    return request.getfixturevalue(f"fresh_{request.param}")


def test_unmigrated_database_is_refused_saying_what_to_run(fresh_url, make_settings):
    with pytest.raises(NotMigratedError) as err:
        AppContext.create(make_settings(fresh_url))

    message = str(err.value)
    assert " is empty, the code expects [" in message and message.endswith(UPGRADE_HINT)


def test_refusal_message_does_not_show_the_database_password(fresh_postgresql, make_settings):
    password = make_url(fresh_postgresql).password

    with pytest.raises(NotMigratedError) as err:
        AppContext.create(make_settings(fresh_postgresql))

    assert password not in str(err.value) and "***" in str(err.value)


def test_upgrade_makes_an_unmigrated_database_usable(fresh_url, make_settings):
    upgrade(fresh_url)

    ctx = AppContext.create(make_settings(fresh_url))
    with transaction(ctx.sessions) as s:
        s.add(Feed(key="k", title="T", url="file:x.xml"))
    ctx.engine.dispose()


def test_database_at_another_revision_is_refused(sqlite_url, make_settings):
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
        conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES ('0000_older')"))
    engine.dispose()

    with pytest.raises(NotMigratedError) as err:
        AppContext.create(make_settings(sqlite_url))

    assert "is at ['0000_older']" in str(err.value) and UPGRADE_HINT in str(err.value)


def test_app_refuses_to_start_on_an_unmigrated_database(fresh_sqlite, make_settings):
    """The refusal happens when the app is built, so /readyz is never served over an empty database."""
    with pytest.raises(NotMigratedError, match="watchfloor db upgrade"):
        create_app(make_settings(fresh_sqlite))


# --- readiness -----------------------------------------------------------------------------------


def test_readyz_is_200_with_the_library_version_on_a_migrated_database(app):
    with TestClient(app) as client:
        r = client.get("/readyz")

    assert r.status_code == 200
    assert r.json()["status"] == "ready" and r.json()["checks"]["database"] == "ok"
    assert len(r.json()["checks"]["library"]) >= 8


def test_readyz_is_503_when_the_schema_falls_behind_after_start(fresh_url, make_settings):
    upgrade(fresh_url)
    with TestClient(create_app(make_settings(fresh_url))) as client:
        engine = make_engine(fresh_url)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM alembic_version"))
        engine.dispose()
        r = client.get("/readyz")

    assert r.status_code == 503 and r.json()["status"] == "not ready"
    assert UPGRADE_HINT in r.json()["checks"]["database"]


def test_readyz_is_503_naming_the_problem_when_the_library_is_invalid(sqlite_url, feeds_dir, tmp_path):
    library = tmp_path / "indicators"
    shutil.copytree(ROOT / "indicators", library)
    (library / "tripwires" / "ultimatum.yaml").write_text("id: ultimatum\nkind: nonsense\n")
    settings = load_settings(database_url=sqlite_url, indicators_path=library, feeds_path=feeds_dir,
                             var_path=tmp_path / "var", secret_key="test-secret-" + "x" * 32)

    with TestClient(create_app(settings)) as client:
        r = client.get("/readyz")

    assert r.status_code == 503
    assert r.json()["checks"]["library"].startswith("invalid: ") and "ultimatum.yaml" in r.json()["checks"]["library"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_healthz_answers_without_a_key(app):
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


# --- the database layer --------------------------------------------------------------------------


def test_times_are_stored_as_utc_and_read_back_aware(ctx):
    plus3 = timezone(timedelta(hours=3))
    with transaction(ctx.sessions) as s:
        s.add(Feed(key="k", title="T", url="file:x.xml", next_check_at=datetime(2025, 6, 1, 15, 0, tzinfo=plus3)))

    with ctx.sessions() as s:
        stored = s.scalar(sa.select(Feed.next_check_at))

    assert stored == datetime(2025, 6, 1, 12, 0, tzinfo=UTC) and stored.tzinfo is UTC


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_naive_times_are_refused(ctx):
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), transaction(ctx.sessions) as s:
        s.add(Feed(key="k", title="T", url="file:x.xml", next_check_at=datetime(2025, 6, 1, 12)))
        s.flush()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


def test_models_and_migrations_agree(fresh_url):
    """What `alembic revision --autogenerate` would propose after the last migration must be nothing: a model
    change without its migration (or the reverse) fails here, and full-text objects the migrations create by
    hand for one dialect (SQLite FTS5 tables, the PostgreSQL GIN index) must not look like drift."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.db import include_in_autogenerate
    from app.models import Base

    upgrade(fresh_url)
    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_in_autogenerate, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_migrations_go_down_to_nothing_and_up_again(fresh_url):
    from alembic import command
    from app.db import alembic_config

    upgrade(fresh_url)
    command.downgrade(alembic_config(fresh_url), "base")
    engine = make_engine(fresh_url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(fresh_url)
