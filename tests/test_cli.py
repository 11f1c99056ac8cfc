"""The `watchfloor` command in-process (typer's CliRunner) with WATCHFLOOR_* variables pointing at tmp paths.

Databases are real SQLite files; the API is exercised with FastAPI's TestClient over the same file.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from typer.testing import CliRunner

from app.cli import app as cli_app
from app.config import get_settings
from app.context import AppContext
from app.db import make_engine, upgrade
from app.ingest.service import poll_due
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
UPGRADE_HINT = "run `watchfloor db upgrade`"


@pytest.fixture
def db(tmp_path) -> str:
    """The CLI's database: a SQLite file not yet migrated (tests that need the schema ask for `migrated`)."""
    return f"sqlite:///{tmp_path}/watchfloor.db"


@pytest.fixture
def migrated(db) -> str:
    upgrade(db)
    return db


@pytest.fixture
def env(db, feeds_dir, tmp_path) -> dict[str, str]:
    return {"WATCHFLOOR_DATABASE_URL": db, "WATCHFLOOR_FEEDS_PATH": str(feeds_dir),
            "WATCHFLOOR_VAR_PATH": str(tmp_path / "var"), "WATCHFLOOR_INDICATORS_PATH": str(ROOT / "indicators"),
            "WATCHFLOOR_SECRET_KEY": "test-secret-" + "x" * 32}


def invoke(env: dict[str, str], *args: str):
    get_settings.cache_clear()  # the CLI reads its settings once per process
    try:
        return CliRunner().invoke(cli_app, list(args), env=env)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def cli(env):
    def run(*args: str, **overrides: str):
        return invoke({**env, **overrides}, *args)

    return run


@pytest.fixture
def api(migrated, make_settings):
    """A client of the app over the CLI's (migrated) database, without an API key of its own."""
    with TestClient(create_app(make_settings(migrated))) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- settings and migrations ---------------------------------------------------------------------


def test_db_upgrade_migrates_a_fresh_database_in_a_new_folder(cli, tmp_path):
    url = f"sqlite:///{tmp_path}/not/yet/there.db"

    result = cli("db", "upgrade", WATCHFLOOR_DATABASE_URL=url)

    assert result.exit_code == 0, result.output
    assert f"database at {url} is up to date" in result.stdout
    assert "feeds" in inspect(make_engine(url)).get_table_names()


def test_db_upgrade_twice_is_harmless(cli, db):
    assert cli("db", "upgrade").exit_code == 0
    assert cli("db", "upgrade").exit_code == 0


@pytest.mark.parametrize("command", [["run"], ["serve"], ["worker"], ["feeds", "sync"], ["feeds", "list"],
                                     ["apikeys", "create", "someone"], ["bootstrap"]])
def test_commands_refuse_an_unmigrated_database_saying_what_to_run(cli, db, command):
    result = cli(*command)

    assert result.exit_code == 2
    assert f"the database {db} is empty" in result.stderr and UPGRADE_HINT in result.stderr
    assert inspect(make_engine(db)).get_table_names() == []  # nothing was created behind Alembic's back


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("WATCHFLOOR_PORT", "eighty", "WATCHFLOOR_PORT: Input should be a valid integer"),
    ("WATCHFLOOR_PORT", "70000", "WATCHFLOOR_PORT: Input should be less than or equal to 65535"),
    ("WATCHFLOOR_DATABASE_URL", "mysql://db/watchfloor", "WATCHFLOOR_DATABASE_URL: Value error, must be a sqlite"),
    ("WATCHFLOOR_POLL_INTERVAL", "5", "WATCHFLOOR_POLL_INTERVAL: Input should be greater than or equal to 30"),
])
def test_invalid_setting_stops_the_cli_with_exit_2_naming_the_variable(cli, variable, value, message):
    result = cli("run", **{variable: value})

    assert result.exit_code == 2
    assert result.stderr.startswith("invalid settings:\n") and message in result.stderr
    assert "Traceback" not in result.output


def test_every_invalid_setting_is_listed_at_once(cli):
    result = cli("db", "upgrade", WATCHFLOOR_PORT="0", WATCHFLOOR_POLL_BATCH="none")

    assert result.exit_code == 2
    assert "WATCHFLOOR_PORT" in result.stderr and "WATCHFLOOR_POLL_BATCH" in result.stderr


def test_config_lists_every_variable_with_its_default(cli):
    result = cli("config")

    assert result.exit_code == 0
    assert re.search(r"WATCHFLOOR_PORT\s+8000", result.stdout)
    assert re.search(r"WATCHFLOOR_POLL_INTERVAL\s+900\s+default seconds between polls", result.stdout)


# --- API keys ------------------------------------------------------------------------------------


def test_created_api_key_is_printed_once_and_accepted_by_the_api(cli, api):
    result = cli("apikeys", "create", "partner")

    key = result.stdout.strip()
    assert result.exit_code == 0 and key.startswith("wf_")
    assert "API key #1 for 'partner' created" in result.stderr
    assert api.get("/api/v1/feeds", headers=bearer(key)).status_code == 200


def test_revoked_api_key_gets_401(cli, api):
    key = cli("apikeys", "create", "partner").stdout.strip()
    assert api.get("/api/v1/hits", headers=bearer(key)).status_code == 200

    result = cli("apikeys", "revoke", "1")

    assert result.exit_code == 0 and "API key #1 revoked" in result.stdout
    denied = api.get("/api/v1/hits", headers=bearer(key))
    assert denied.status_code == 401 and denied.json()["detail"] == "invalid or revoked API key"


def test_revoking_one_key_leaves_the_others_working(cli, api):
    first = cli("apikeys", "create", "first").stdout.strip()
    second = cli("apikeys", "create", "second").stdout.strip()

    cli("apikeys", "revoke", "1")

    assert api.get("/api/v1/hits", headers=bearer(first)).status_code == 401
    assert api.get("/api/v1/hits", headers={"X-API-Key": second}).status_code == 200


def test_apikeys_list_shows_each_key_state_but_never_the_key(cli, migrated):
    key = cli("apikeys", "create", "partner").stdout.strip()
    cli("apikeys", "create", "other")
    cli("apikeys", "revoke", "1")

    listed = cli("apikeys", "list").stdout

    assert f"#1 {key[:11]}… partner revoked" in listed and "#2 " in listed and " other active" in listed
    assert key not in listed


def test_revoking_an_unknown_key_exits_1(cli, migrated):
    result = cli("apikeys", "revoke", "42")

    assert result.exit_code == 1 and "no API key #42" in result.stderr


# --- bootstrap -----------------------------------------------------------------------------------


def test_bootstrap_prints_a_working_api_key_and_keeps_it_private(cli, api, tmp_path):
    result = cli("bootstrap")

    assert result.exit_code == 0, result.output
    key = re.search(r"API key:\s+(wf_\S+)", result.stdout).group(1)
    assert api.get("/api/v1/feeds", headers=bearer(key)).status_code == 200
    creds = tmp_path / "var" / "demo-credentials.json"
    assert json.loads(creds.read_text())["api_key"] == key
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600


def test_bootstrap_twice_shows_the_same_key_and_adds_no_feeds(cli, migrated):
    first = cli("bootstrap")
    second = cli("bootstrap")

    assert "5 feeds in the catalog: 0 added, 0 updated, 0 removed" in second.stdout
    key = re.compile(r"API key:\s+(wf_\S+)")
    assert key.search(first.stdout).group(1) == key.search(second.stdout).group(1)


# --- indicators and feeds ------------------------------------------------------------------------


def test_indicators_validate_summarises_the_library(cli):
    result = cli("indicators", "validate")

    assert result.exit_code == 0
    assert re.match(r"library \w+: \d+ indicators \(.*match \d+.*\), \d+ scenarios", result.stdout)


def broken_library(tmp_path: Path) -> Path:
    """A copy of the default library whose ultimatum.yaml has a bad severity on line 5."""
    library = tmp_path / "indicators"
    shutil.copytree(ROOT / "indicators", library)
    broken = library / "tripwires" / "ultimatum.yaml"
    broken.write_text(broken.read_text().replace("severity: high", "severity: extreme"))
    return library


def test_indicators_validate_names_the_broken_file_and_field_and_exits_1(cli, tmp_path):
    library = broken_library(tmp_path)

    result = cli("indicators", "validate", WATCHFLOOR_INDICATORS_PATH=str(library))

    assert result.exit_code == 1
    assert "has 1 problem(s)" in result.stderr
    assert str(library / "tripwires" / "ultimatum.yaml") in result.stderr and "severity" in result.stderr


def test_indicators_validate_gives_the_line_of_the_bad_field(cli, tmp_path):
    library = broken_library(tmp_path)

    result = cli("indicators", "validate", WATCHFLOOR_INDICATORS_PATH=str(library))

    assert f"{library / 'tripwires' / 'ultimatum.yaml'}:5: severity: " in result.stderr


def test_feeds_list_shows_failing_and_degraded_feeds(cli, feeds_dir, make_settings, migrated):
    catalog = feeds_dir / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("file:samples/gulf-monitor.rss.xml", "file:samples/gone.xml"))
    cli("feeds", "sync")
    ctx = AppContext.create(make_settings(migrated))
    asyncio.run(poll_due(ctx.sessions, ctx.settings))
    ctx.engine.dispose()

    lines = {line.split()[0]: line for line in cli("feeds", "list").stdout.splitlines()}

    assert re.match(r"gulf-monitor\s+failing\s+C next .* last error: file:samples/gone.xml: cannot read",
                    lines["gulf-monitor"])
    assert re.match(r"malformed\s+ok\s+F next .* warning: SAXParseException", lines["malformed"])
    assert re.match(r"levant-wire\s+ok\s+B next", lines["levant-wire"])
