"""Accounts: argon2id hashes, throttled logins kept in the database, the first admin and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.accounts.models import LoginThrottle, User
from app.accounts.service import (
    LOCKOUT,
    MAX_FAILURES,
    AccountError,
    Throttled,
    authenticate,
    create_user,
    ensure_first_admin,
    set_password,
)
from app.cli import app as cli_app
from app.config import get_settings
from app.db import transaction

T0 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def olga(ctx) -> int:
    with transaction(ctx.sessions) as s:
        return create_user(s, "Olga", "correct horse battery", "officer").id


def _login(ctx, name, password, address="10.0.0.1", now=T0):
    with transaction(ctx.sessions) as s:
        user = authenticate(s, name, password, address, now)
        return user.username if user else None


def test_production_hashes_use_the_current_argon2id_profile():
    from argon2 import PasswordHasher, Type

    from app.accounts.service import _DUMMY_HASH

    assert PasswordHasher().type is Type.ID and _DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_passwords_are_stored_as_argon2id_and_checked(ctx, olga):
    with ctx.sessions() as s:
        assert s.get(User, olga).password_hash.startswith("$argon2id$")
    assert _login(ctx, "olga", "correct horse battery") == "olga"
    assert _login(ctx, "OLGA ", "correct horse battery") == "olga"
    assert _login(ctx, "olga", "wrong horse battery") is None
    assert _login(ctx, "nobody", "correct horse battery") is None


def test_repeated_failures_lock_that_name_from_that_address_for_a_while(ctx, olga):
    for i in range(MAX_FAILURES):
        assert _login(ctx, "olga", f"guess {i}", now=T0 + timedelta(seconds=i)) is None
    with pytest.raises(Throttled) as locked:
        _login(ctx, "olga", "correct horse battery", now=T0 + timedelta(minutes=1))
    assert locked.value.retry_after > T0 + timedelta(minutes=1)
    assert _login(ctx, "olga", "correct horse battery", address="10.0.0.2", now=T0 + timedelta(minutes=1)) == "olga"
    later = T0 + timedelta(seconds=MAX_FAILURES) + LOCKOUT + timedelta(seconds=1)
    assert _login(ctx, "olga", "correct horse battery", now=later) == "olga"
    with ctx.sessions() as s:
        assert s.scalars(select(LoginThrottle.key)).all() == []  # success clears the count


def test_failures_spread_out_beyond_the_window_never_lock(ctx, olga):
    for i in range(MAX_FAILURES * 2):
        assert _login(ctx, "olga", "guess", now=T0 + timedelta(minutes=16 * i)) is None
    assert _login(ctx, "olga", "correct horse battery", now=T0 + timedelta(hours=10)) == "olga"


def test_unknown_names_are_throttled_too(ctx):
    for _ in range(MAX_FAILURES):
        _login(ctx, "ghost", "guess")
    with pytest.raises(Throttled):
        _login(ctx, "ghost", "guess")


def test_a_password_change_moves_the_session_epoch(ctx, olga):
    with transaction(ctx.sessions) as s:
        user = s.get(User, olga)
        set_password(s, user, "another long password")
        assert user.session_epoch == 1
        with pytest.raises(AccountError, match="at least"):
            set_password(s, user, "short")
    assert _login(ctx, "olga", "another long password") == "olga"


def test_user_rules(ctx, olga):
    with transaction(ctx.sessions) as s:
        with pytest.raises(AccountError, match="exists"):
            create_user(s, "olga", "correct horse battery")
        with pytest.raises(AccountError, match="role"):
            create_user(s, "pat", "correct horse battery", "superuser")
        with pytest.raises(AccountError, match="username"):
            create_user(s, "a b", "correct horse battery")
        viewer = create_user(s, "vic", "correct horse battery")
        assert viewer.can("viewer") and not viewer.can("officer")
        assert s.get(User, olga).can("officer") and not s.get(User, olga).can("admin")


def test_the_first_admin_is_made_once(ctx):
    with transaction(ctx.sessions) as s:
        name, password = ensure_first_admin(s)
        assert ensure_first_admin(s) is None
    assert name == "admin" and len(password) >= 16
    assert _login(ctx, "admin", password) == "admin"


def test_users_cli(sqlite_url, tmp_path):
    env = {"WATCHFLOOR_DATABASE_URL": sqlite_url, "WATCHFLOOR_VAR_PATH": str(tmp_path / "var"),
           "WATCHFLOOR_INDICATORS_PATH": str(ROOT / "indicators"), "WATCHFLOOR_FEEDS_PATH": str(ROOT / "feeds")}

    def run(*args):
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli_app, ["users", *args], env=env)
        finally:
            get_settings.cache_clear()

    made = run("create", "alice", "--role", "admin", "--password", "a long enough password")
    assert made.exit_code == 0 and "alice (admin) created" in made.output
    assert run("create", "alice", "--password", "a long enough password").exit_code == 1
    assert run("create", "bob", "--password", "short").exit_code == 1
    listed = run("list")
    assert "alice" in listed.output and "admin" in listed.output and "never" in listed.output
    assert run("set-password", "alice", "--password", "a different long one").exit_code == 0
    assert run("set-password", "carol", "--password", "a different long one").exit_code == 1


def test_bootstrap_prints_the_first_admin_login(sqlite_url, tmp_path):
    env = {"WATCHFLOOR_DATABASE_URL": sqlite_url, "WATCHFLOOR_VAR_PATH": str(tmp_path / "var"),
           "WATCHFLOOR_INDICATORS_PATH": str(ROOT / "indicators"), "WATCHFLOOR_FEEDS_PATH": str(ROOT / "feeds"),
           "WATCHFLOOR_SECRET_KEY": "s" * 40}
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(cli_app, ["bootstrap"], env=env)
        second = CliRunner().invoke(cli_app, ["bootstrap"], env=env)
    finally:
        get_settings.cache_clear()
    line = next(x for x in first.output.splitlines() if "inbox login" in x)
    assert line.split(":", 1)[1].split("/")[0].strip() == "admin"
    assert line in second.output  # the same admin, not a second one
