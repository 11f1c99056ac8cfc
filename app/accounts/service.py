"""Users and passwords: argon2id hashes, role checks, and login with throttling of failed attempts.

Throttling is per (username, client address) and lives in the database, so it holds across restarts
and across every web process sharing the database: after MAX_FAILURES wrong passwords within
FAILURE_WINDOW that pair is refused for LOCKOUT, whatever password it sends.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import ROLES, LoginThrottle, User

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# verified against when the username is unknown, so a miss costs the same time as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


class Throttled(Exception):
    """Too many failed logins for this username from this address."""

    def __init__(self, retry_after: datetime) -> None:
        super().__init__(f"locked until {retry_after.isoformat()}")
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _normal_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise AccountError("a username is 2-100 characters: letters, digits, '.', '_' or '-'")
    return name


def create_user(session: Session, username: str, password: str, role: str = "viewer") -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    name = _normal_username(username)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise AccountError(f"user {name!r} exists")
    user = User(username=name, password_hash=hash_password(password), role=role, session_epoch=0, disabled=False)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def set_password(session: Session, user: User, password: str) -> None:
    """New password; sessions signed in with the old one end (the epoch in their cookie no longer matches)."""
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    session.flush()


def set_role(session: Session, user: User, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    user.role = role
    user.session_epoch += 1
    session.flush()


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    user.disabled = disabled
    user.session_epoch += 1
    session.flush()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def count_admins(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role == "admin", User.disabled.is_(False))) or 0


def _throttle_key(username: str, address: str) -> str:
    return f"{username.strip().lower()[:200]}|{address[:90]}"


def authenticate(session: Session, username: str, password: str, address: str, now: datetime) -> User | None:
    """The user whose password this is, or None; raises Throttled while the pair is locked out.

    A failure is recorded on the throttle row in the caller's transaction, so the caller must commit
    even when login fails.
    """
    key = _throttle_key(username, address)
    throttle = session.get(LoginThrottle, key)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        raise Throttled(throttle.locked_until)
    user = get_user(session, username)
    if user is not None and not user.disabled and _verify(user.password_hash, password):
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = now
        if throttle is not None:
            session.delete(throttle)
        session.flush()
        return user
    if user is None:
        _verify(_DUMMY_HASH, password)
    _record_failure(session, throttle, key, now)
    return None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _record_failure(session: Session, throttle: LoginThrottle | None, key: str, now: datetime) -> None:
    if throttle is None:
        throttle = LoginThrottle(key=key, failures=0, first_failed_at=now)
        session.add(throttle)
    elif now - throttle.first_failed_at > FAILURE_WINDOW:
        throttle.failures, throttle.first_failed_at, throttle.locked_until = 0, now, None
    throttle.failures += 1
    if throttle.failures >= MAX_FAILURES:
        throttle.locked_until = now + LOCKOUT
    session.flush()


def ensure_first_admin(session: Session) -> tuple[str, str] | None:
    """Create user `admin` with a random password when no admin exists; (username, password) or None."""
    if count_admins(session):
        return None
    name = "admin" if get_user(session, "admin") is None else f"admin-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(15)
    create_user(session, name, password, "admin")
    return name, password


def first_admin_credentials(_ctx, session: Session, _creds: dict) -> dict:
    """Bootstrap step (app.bootstrap.CREDENTIAL_STEPS): the first admin's login, shown once by `make run`."""
    made = ensure_first_admin(session)
    return {"admin_user": made[0], "admin_password": made[1]} if made else {}
