"""The README's configuration table is the one `watchfloor config --markdown` prints (it cannot go stale)."""

from pathlib import Path

from typer.testing import CliRunner

from app.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_readme_configuration_table_matches_the_settings_class():
    table = CliRunner().invoke(app, ["config", "--markdown"]).stdout.strip()
    assert table.count("WATCHFLOOR_") > 20
    assert table in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:1500]
    assert "make run" in head and "make test" in head
