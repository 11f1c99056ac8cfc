"""The `watchfloor` command: run the service, migrate, manage feeds, keys and the library, backtest."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import typer

from app.config import SettingsError, get_settings

app = typer.Typer(help="Watchfloor: indicators-and-warnings alerting.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
ind_app = typer.Typer(help="The indicator library.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ind_app, name="indicators")


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
    typer.echo(f"library {lib.version}: {len(lib.rules)} indicators ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), "
               f"{len(lib.library.scenarios)} scenarios, {len(lib.entities)} entities, {len(lib.automaton)} patterns")


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


def main() -> None:  # pragma: no cover - console entry
    app()
