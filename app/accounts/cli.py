"""`watchfloor users …`: create the first admin and manage users from the shell."""

from __future__ import annotations

import getpass

import typer

from app.accounts.models import ROLES

app = typer.Typer(help="Inbox users and their roles.", no_args_is_help=True)


def _context():
    from app.cli import _context as cli_context

    return cli_context()


def _password(given: str | None) -> str:
    if given:
        return given
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        typer.echo("passwords differ", err=True)
        raise typer.Exit(1)
    return first


@app.command("create")
def create(username: str, role: str = typer.Option("officer", help=f"one of {', '.join(ROLES)}"),
           password: str = typer.Option(None, help="prompted for when not given (keeps it out of shell history)")
           ) -> None:
    """Create a user (e.g. the first admin: `watchfloor users create alice --role admin`)."""
    from app.accounts.service import AccountError, create_user
    from app.db import transaction

    ctx = _context()
    try:
        with transaction(ctx.sessions) as s:
            user = create_user(s, username, _password(password), role)
    except AccountError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"user {user.username} ({user.role}) created")


@app.command("list")
def list_() -> None:
    """Users with their role and last sign-in."""
    from app.accounts.service import list_users

    ctx = _context()
    with ctx.sessions() as s:
        for u in list_users(s):
            state = "disabled" if u.disabled else "active"
            typer.echo(f"{u.username:24} {u.role:8} {state:8} last sign-in {u.last_login_at or 'never'}")


@app.command("set-password")
def set_password_(username: str, password: str = typer.Option(None, help="prompted for when not given")) -> None:
    """Set a user's password; their open sessions end."""
    from app.accounts.service import AccountError, get_user, set_password
    from app.db import transaction

    ctx = _context()
    try:
        with transaction(ctx.sessions) as s:
            user = get_user(s, username)
            if user is None:
                typer.echo(f"no user {username!r}", err=True)
                raise typer.Exit(1)
            set_password(s, user, _password(password))
    except AccountError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"password of {username} changed")
