"""The `watchfloor` command: run the service, migrate, manage feeds, keys and the library, backtest."""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from pathlib import Path

import typer

from app.accounts import cli as users_cli
from app.config import SettingsError, get_settings

app = typer.Typer(help="Watchfloor: indicators-and-warnings alerting.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
ind_app = typer.Typer(help="The indicator library.", no_args_is_help=True)
feeds_app = typer.Typer(help="The feed catalog.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for other services.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ind_app, name="indicators")
app.add_typer(feeds_app, name="feeds")
app.add_typer(keys_app, name="apikeys")
app.add_typer(users_cli.app, name="users")


def _settings():
    try:
        return get_settings()
    except SettingsError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None


def _library(path: Path | None = None):
    from app.matching.compiler import CompiledLibrary
    from app.matching.loader import LibraryError, load_library

    root = path or _settings().indicators_path
    try:
        return CompiledLibrary(load_library(root))
    except LibraryError as e:
        typer.echo(f"the indicator library at {root} has {len(e.problems)} problem(s):", err=True)
        for p in e.problems:
            typer.echo(f"  {p}", err=True)
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply migrations to the configured database."""
    from app.db import upgrade

    s = _settings()
    upgrade(s.database_url, revision)
    typer.echo(f"database at {s.database_url} is up to date")


@ind_app.command("validate")
def indicators_validate(path: Path = typer.Option(None, help="library folder (default: settings)")) -> None:
    """Validate every library file; problems are listed with file, line and field."""
    lib = _library(path)
    kinds: dict[str, int] = {}
    for r in lib.rules.values():
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    typer.echo(f"library {lib.version}: {len(lib.rules)} indicators ({by_kind}), {len(lib.library.scenarios)} "
               f"scenarios, {len(lib.entities)} entities, {len(lib.automaton)} patterns")


@ind_app.command("test")
def indicators_test(
    path: Path = typer.Option(None, help="library folder (default: settings)"),
    indicator: str = typer.Option(None, help="only this indicator"),
) -> None:
    """Run each indicator's `examples` (match / no_match) and report the ones that disagree."""
    from app.matching.examples import check_examples

    lib = _library(path)
    checked, failures = check_examples(lib, indicator)
    for f in failures:
        typer.echo(f"FAIL {f}")
    typer.echo(f"{checked} examples, {len(failures)} failed")
    if failures:
        raise typer.Exit(1)


@app.command()
def backtest(
    items: Path = typer.Option(..., exists=True, dir_okay=False, help="JSON Lines file of items"),
    until: datetime = typer.Option(None, help="evaluate clock rules up to here (default: last item + longest absence)"),
    library: Path = typer.Option(None, help="library folder (default: settings)"),
) -> None:
    """Run the library over items without touching the service database; one JSON line per firing."""
    from datetime import UTC

    from app.matching.backtest import firing_json, run_backtest

    lib = _library(library)
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    out = sys.stdout
    stats = run_backtest(lib, items, until, lambda f: out.write(firing_json(f, lib.version) + "\n"))
    typer.echo(f"backtest: {stats.items} items, {stats.firings} firings, library {lib.version}", err=True)


def _context():
    from app.context import AppContext
    from app.db import NotMigratedError

    try:
        return AppContext.create(_settings())
    except NotMigratedError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None


def _logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def run() -> None:
    """Web API, inbox and scheduler in one process (the embedded default)."""
    import uvicorn

    from app.main import create_app

    _logging()
    s = _settings()
    _context()  # fail fast, with the message, on an un-migrated database
    typer.echo(f"Watchfloor is starting on http://{s.host}:{s.port}/ (API docs: /docs)")
    uvicorn.run(create_app(s, with_scheduler=True), host=s.host, port=s.port, log_level="info")


@app.command()
def serve() -> None:
    """Web API and inbox only; run `watchfloor worker` processes for polling and matching."""
    import uvicorn

    from app.main import create_app

    _logging()
    s = _settings()
    _context()
    uvicorn.run(create_app(s), host=s.host, port=s.port, log_level="info")


@app.command()
def worker() -> None:
    """Scheduler only: polls feeds, matches items, delivers; any number may run against PostgreSQL."""
    import asyncio

    from app.scheduler import build_scheduler

    _logging()
    ctx = _context()

    async def main():
        scheduler = build_scheduler(ctx)
        scheduler.start()
        try:
            await asyncio.Event().wait()
        finally:
            scheduler.shutdown(wait=False)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@feeds_app.command("sync")
def feeds_sync() -> None:
    """Load feeds/*.yaml into the database (added, updated, removed-from-catalog feeds)."""
    from app.db import transaction
    from app.ingest.catalog import CatalogError, load_catalog, sync_catalog

    ctx = _context()
    try:
        specs = load_catalog(ctx.settings.feeds_path)
    except CatalogError as e:
        typer.echo(f"the feed catalog has {len(e.problems)} problem(s):", err=True)
        for p in e.problems:
            typer.echo(f"  {p}", err=True)
        raise typer.Exit(1) from None
    with transaction(ctx.sessions) as s:
        counts = sync_catalog(s, specs, ctx.settings.poll_interval)
    typer.echo(f"{len(specs)} feeds in the catalog: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@feeds_app.command("import")
def feeds_import(opml: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Import an OPML file as a new catalog file feeds/imported-<name>.yaml (then run `feeds sync`)."""
    from app.ingest.catalog import CatalogError, catalog_from_opml, load_catalog
    from app.ingest.opml import OpmlError, parse_opml

    s = _settings()
    try:
        feeds = parse_opml(opml.read_bytes())
    except OpmlError as e:
        typer.echo(f"{opml}: {e}", err=True)
        raise typer.Exit(1) from None
    try:
        taken = {f.key for f in load_catalog(s.feeds_path)}
    except CatalogError:
        taken = set()
    target = s.feeds_path / f"imported-{opml.stem.lower().replace(' ', '-')}.yaml"
    if target.exists():
        typer.echo(f"{target} exists; remove it or rename the OPML file", err=True)
        raise typer.Exit(1)
    text, skipped = catalog_from_opml(feeds, taken)
    for why in skipped:
        typer.echo(f"skipped {why}", err=True)
    target.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(feeds) - len(skipped)} feeds to {target}; run `watchfloor feeds sync` to load them")


@feeds_app.command("list")
def feeds_list() -> None:
    """Feeds with their health."""
    from sqlalchemy import select

    from app.ingest.models import Feed

    ctx = _context()
    with ctx.sessions() as s:
        for f in s.scalars(select(Feed).order_by(Feed.key)):
            state = "disabled" if not f.enabled else ("failing" if f.consecutive_failures else "ok")
            err = f" last error: {f.last_error}" if f.last_error and f.consecutive_failures else ""
            warn = f" warning: {f.parse_warning}" if f.parse_warning else ""
            typer.echo(f"{f.key:24} {state:8} {f.reliability} next {f.next_check_at:%Y-%m-%d %H:%M}{err}{warn}")


@keys_app.command("create")
def apikeys_create(name: str = typer.Argument(..., help="who the key is for")) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from app.db import transaction
    from app.web.auth import create_api_key

    ctx = _context()
    with transaction(ctx.sessions) as s:
        row, plain = create_api_key(s, name)
    typer.echo(plain)
    typer.echo(f"API key #{row.id} for {name!r} created; it will not be shown again", err=True)


@keys_app.command("list")
def apikeys_list() -> None:
    from sqlalchemy import select

    from app.web.models import ApiKey

    ctx = _context()
    with ctx.sessions() as s:
        for k in s.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = "revoked" if k.revoked_at else "active"
            typer.echo(f"#{k.id} {k.prefix}… {k.name} {state} last used {k.last_used_at or 'never'}")


@keys_app.command("revoke")
def apikeys_revoke(key_id: int) -> None:
    from app.db import transaction, utcnow
    from app.web.models import ApiKey

    ctx = _context()
    with transaction(ctx.sessions) as s:
        row = s.get(ApiKey, key_id)
        if row is None:
            typer.echo(f"no API key #{key_id}", err=True)
            raise typer.Exit(1)
        row.revoked_at = utcnow()
    typer.echo(f"API key #{key_id} revoked")


@app.command()
def config(markdown: bool = typer.Option(False, help="print as a Markdown table (for the README)")) -> None:
    """Every setting: its WATCHFLOOR_* variable, default and meaning (generated from the Settings class)."""
    from app.config import Settings

    rows = []
    for name, f in Settings.model_fields.items():
        default = f.default if f.default is not None else ""
        rows.append((f"WATCHFLOOR_{name.upper()}", str(default), f.description or ""))
    if markdown:
        typer.echo("| variable | default | meaning |\n|---|---|---|")
        for var, default, desc in rows:
            typer.echo(f"| `{var}` | `{default}` | {desc} |")
    else:
        for var, default, desc in rows:
            typer.echo(f"{var:34} {default:40} {desc}")


@app.command()
def bootstrap() -> None:
    """First-run setup for the demo: sync the catalog and make sure demo credentials exist (printed)."""
    from app.bootstrap import ensure_demo_credentials

    feeds_sync()
    ctx = _context()
    for line in ensure_demo_credentials(ctx):
        typer.echo(line)


def main() -> None:  # pragma: no cover - console entry
    app()
