"""Engine, sessions and the declarative Base shared by every domain package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints the same everywhere."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, PostgreSQL gets timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Aware now, the only clock the code reads (tests pass their own times instead)."""
    return datetime.now(UTC)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout so web and worker can share it."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (services flush, boundaries commit)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The commit boundary for jobs and commands: commit on success, roll back on error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class NotMigratedError(RuntimeError):
    """The database schema is behind the code's migrations."""


def alembic_config(url: str):
    """Alembic config pointing at this project's migrations, for any database URL."""
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic autogenerate filter: full-text objects that migration 0002 makes by hand for one dialect (the
    SQLite FTS5 table `items_fts` with its shadow tables, the PostgreSQL GIN index `ix_items_fts`) have no model,
    so they are not drift; everything else is compared."""
    hand_made = name is not None and (name.startswith("items_fts") or name == "ix_items_fts")
    return not (reflected and compare_to is None and hand_made)


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations (the only way the schema is made)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def require_migrated(engine: Engine) -> None:
    """Refuse to run against a database whose schema is not at the code's migration heads."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    expected = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
        has_tables = bool(inspect(conn).get_table_names())
    if current != expected:
        state = "empty" if not current and not has_tables else f"at {sorted(current) or 'no revision'}"
        raise NotMigratedError(
            f"the database {engine.url.render_as_string(hide_password=True)} is {state}, "
            f"the code expects {sorted(expected)}: run `watchfloor db upgrade`"
        )
