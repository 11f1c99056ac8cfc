"""The feed catalog: feeds/*.yaml validated with file and line, synced into the database, OPML import.

Sync runs on a real database (SQLite file and PostgreSQL); the CLI runs through typer's CliRunner
with WATCHFLOOR_* variables pointing at temporary paths.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app as cli_app
from app.config import get_settings
from app.context import AppContext
from app.db import transaction
from app.ingest.catalog import CatalogError, load_catalog, sync_catalog
from app.ingest.jobs import sync_feeds
from app.ingest.models import Feed, Item

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 1, tzinfo=UTC)
BUNDLED = ["arabic-wire", "baghdad-desk", "gulf-monitor", "levant-wire", "malformed"]

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def sync(ctx) -> dict[str, int]:
    with transaction(ctx.sessions) as s:
        return sync_catalog(s, load_catalog(ctx.settings.feeds_path), ctx.settings.poll_interval)


def feeds(ctx) -> dict[str, Feed]:
    with ctx.sessions() as s:
        return {f.key: f for f in s.scalars(select(Feed))}


def write_catalog(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def drop_entry(catalog: Path, key: str) -> None:
    data = yaml.safe_load(catalog.read_text())
    data["feeds"] = [f for f in data["feeds"] if f["key"] != key]
    catalog.write_text(yaml.safe_dump(data))


def edit_entry(catalog: Path, key: str, **values) -> None:
    data = yaml.safe_load(catalog.read_text())
    next(f for f in data["feeds"] if f["key"] == key).update(values)
    catalog.write_text(yaml.safe_dump(data))


# --- sync ----------------------------------------------------------------------------------------


def test_sync_adds_the_bundled_feeds_with_their_settings(ctx):
    assert sync(ctx) == {"added": 5, "updated": 0, "removed": 0}

    synced = feeds(ctx)
    assert sorted(synced) == BUNDLED
    levant = synced["levant-wire"]
    assert (levant.url, levant.poll_interval, levant.reliability) == ("file:samples/levant-wire.rss.xml", 300, "B")
    assert levant.tags == ["sample", "english", "rss"] and levant.enabled and levant.in_catalog


@sqlite_only
def test_resync_of_an_unchanged_catalog_changes_nothing(ctx):
    sync(ctx)

    assert sync(ctx) == {"added": 0, "updated": 0, "removed": 0}


@sqlite_only
def test_edited_feed_is_updated_in_place_keeping_its_polling_state(ctx, feeds_dir):
    sync(ctx)
    with transaction(ctx.sessions) as s:
        feed = s.scalar(select(Feed).where(Feed.key == "gulf-monitor"))
        feed.consecutive_failures, feed.etag = 2, '"abc"'
        before = feed.id
    edit_entry(feeds_dir / "catalog.yaml", "gulf-monitor", reliability="A", poll_interval=1200)

    assert sync(ctx) == {"added": 0, "updated": 1, "removed": 0}

    feed = feeds(ctx)["gulf-monitor"]
    assert (feed.id, feed.reliability, feed.poll_interval) == (before, "A", 1200)
    assert (feed.consecutive_failures, feed.etag) == (2, '"abc"')


def test_feed_removed_from_the_catalog_is_disabled_and_keeps_its_items(ctx, feeds_dir):
    sync(ctx)
    with transaction(ctx.sessions) as s:
        feed = s.scalar(select(Feed).where(Feed.key == "arabic-wire"))
        s.add(Item(feed_id=feed.id, source=feed.key, guid="g1", fingerprint="f" * 40, published_at=NOW))
    drop_entry(feeds_dir / "catalog.yaml", "arabic-wire")

    assert sync(ctx) == {"added": 0, "updated": 0, "removed": 1}

    feed = feeds(ctx)["arabic-wire"]
    assert not feed.enabled and not feed.in_catalog
    with ctx.sessions() as s:
        assert s.scalars(select(Item.guid).where(Item.feed_id == feed.id)).all() == ["g1"]


@sqlite_only
def test_feed_back_in_the_catalog_is_enabled_again(ctx, feeds_dir):
    catalog = feeds_dir / "catalog.yaml"
    original = catalog.read_text()
    sync(ctx)
    drop_entry(catalog, "arabic-wire")
    sync(ctx)
    catalog.write_text(original)

    assert sync(ctx) == {"added": 0, "updated": 1, "removed": 0}
    feed = feeds(ctx)["arabic-wire"]
    assert feed.enabled and feed.in_catalog


@sqlite_only
def test_feeds_from_every_yaml_file_in_the_folder_are_synced(ctx, feeds_dir):
    write_catalog(feeds_dir, "extra.yaml", "feeds:\n  - key: extra\n    title: Extra\n    url: https://x.example/rss\n")

    assert sync(ctx)["added"] == 6
    assert feeds(ctx)["extra"].reliability == "F"


@sqlite_only
def test_feed_without_an_interval_gets_the_configured_default(make_settings, db_url, feeds_dir):
    write_catalog(feeds_dir, "extra.yaml", "feeds:\n  - key: extra\n    title: Extra\n    url: https://x.example/rss\n")
    ctx = AppContext.create(make_settings(db_url, poll_interval=120))
    try:
        sync(ctx)
        assert feeds(ctx)["extra"].poll_interval == 120
    finally:
        ctx.engine.dispose()


@sqlite_only
async def test_sync_job_keeps_the_last_good_state_when_the_catalog_breaks(ctx, feeds_dir, caplog):
    await sync_feeds(ctx)
    catalog = feeds_dir / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("reliability: B", "reliability: Z"))
    drop_entry(feeds_dir / "catalog.yaml", "malformed")

    with caplog.at_level(logging.ERROR, logger="app.ingest.jobs"):
        await sync_feeds(ctx)

    assert all(f.enabled for f in feeds(ctx).values()) and len(feeds(ctx)) == 5
    assert "catalog.yaml" in caplog.text and "reliability" in caplog.text


# --- a broken catalog is reported with file, line and field ----------------------------------------

GOOD_ENTRY = "  - key: good\n    title: Good\n    url: https://good.example/rss\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param("feeds:\n" + GOOD_ENTRY + "  - key: bad\n    title: a: b\n", 6, "not valid YAML",
                      id="bad-yaml"),
        pytest.param("feeds:\n" + GOOD_ENTRY + "  - key: typo\n    title: T\n    url: https://t.example/\n"
                     "    reliabilty: B\n", 8, "feeds.1.reliabilty: Extra inputs are not permitted", id="unknown-key"),
        pytest.param("feeds:\n" + GOOD_ENTRY + "    reliability: G\n", 5, "feeds.0.reliability: Input should be",
                     id="bad-reliability-grade"),
        pytest.param("feeds:\n  - key: ftp\n    title: F\n    url: ftp://f.example/rss\n", 4, "feeds.0.url",
                     id="url-scheme"),
        pytest.param("feeds:\n" + GOOD_ENTRY + "    poll_interval: 5\n", 5, "feeds.0.poll_interval",
                     id="interval-too-short"),
        pytest.param("feeds:\n  - key: Bad Key\n    title: B\n    url: https://b.example/\n", 2, "feeds.0.key",
                     id="key-not-a-slug"),
        pytest.param("feed:\n" + GOOD_ENTRY, 1, "feed: Extra inputs are not permitted", id="misspelt-top-level"),
    ],
)
def test_broken_catalog_is_reported_with_file_and_line(tmp_path, text: str, line: int, message: str):
    path = write_catalog(tmp_path, "catalog.yaml", text)

    with pytest.raises(CatalogError) as err:
        load_catalog(tmp_path)

    assert f"{path}:{line}: " in str(err.value)
    assert message in str(err.value)


def test_duplicate_key_is_reported_naming_the_file_and_key(tmp_path):
    path = write_catalog(tmp_path, "catalog.yaml", "feeds:\n" + GOOD_ENTRY + GOOD_ENTRY)

    with pytest.raises(CatalogError) as err:
        load_catalog(tmp_path)

    assert str(path) in str(err.value) and "feeds.good: duplicate key" in str(err.value)


def test_duplicate_key_is_reported_with_its_line(tmp_path):
    path = write_catalog(tmp_path, "catalog.yaml", "feeds:\n" + GOOD_ENTRY + GOOD_ENTRY)

    with pytest.raises(CatalogError) as err:
        load_catalog(tmp_path)

    assert f"{path}:5: " in str(err.value)


def test_every_broken_file_is_reported_not_just_the_first(tmp_path):
    first = write_catalog(tmp_path, "a.yaml", "feeds:\n" + GOOD_ENTRY + "    reliability: G\n")
    second = write_catalog(tmp_path, "b.yaml", "feeds: [\n")

    with pytest.raises(CatalogError) as err:
        load_catalog(tmp_path)

    assert [p.path for p in err.value.problems] == [str(first), str(second)]


# --- the CLI: feeds sync and OPML import ---------------------------------------------------------


@pytest.fixture
def cli(sqlite_url, feeds_dir, tmp_path):
    """Runs `watchfloor ...` in-process with WATCHFLOOR_* pointing at this test's database and folders."""
    env = {"WATCHFLOOR_DATABASE_URL": sqlite_url, "WATCHFLOOR_FEEDS_PATH": str(feeds_dir),
           "WATCHFLOOR_VAR_PATH": str(tmp_path / "var"), "WATCHFLOOR_INDICATORS_PATH": str(ROOT / "indicators"),
           "WATCHFLOOR_SECRET_KEY": "test-secret-" + "x" * 32}

    def run(*args: str):
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli_app, list(args), env=env)
        finally:
            get_settings.cache_clear()

    return run


def test_feeds_import_writes_a_catalog_file_from_opml(cli, feeds_dir):
    result = cli("feeds", "import", str(feeds_dir / "samples/example.opml"))

    assert result.exit_code == 0, result.output
    written = feeds_dir / "imported-example.yaml"
    assert f"wrote 3 feeds to {written}" in result.stdout
    entries = yaml.safe_load(written.read_text())["feeds"]
    assert [e["key"] for e in entries] == ["euphrates-courier-security", "anbar-daily-dispatch",
                                           "kurdistan-evening-post-erbil"]
    assert entries[0] == {"key": "euphrates-courier-security", "title": "Euphrates Courier — Security",
                          "url": "http://euphrates-courier.example/rss/security.xml", "enabled": True,
                          "reliability": "F", "tags": ["iraq/security"]}  # OPML 2.0's category attribute


def test_imported_feeds_are_loaded_by_feeds_sync(cli, feeds_dir):
    cli("feeds", "import", str(feeds_dir / "samples/example.opml"))

    result = cli("feeds", "sync")

    assert result.exit_code == 0, result.output
    assert "8 feeds in the catalog: 8 added, 0 updated, 0 removed" in result.stdout
    listed = cli("feeds", "list").stdout
    assert "anbar-daily-dispatch" in listed and "levant-wire" in listed


def test_imported_keys_do_not_collide_with_the_catalog(cli, feeds_dir, tmp_path):
    opml = tmp_path / "mine.opml"
    opml.write_text('<opml version="2.0"><body><outline text="Levant Wire" xmlUrl="https://lw.example/rss"/>'
                    '<outline text="Levant Wire" xmlUrl="https://lw.example/other"/></body></opml>')

    cli("feeds", "import", str(opml))

    keys = [e["key"] for e in yaml.safe_load((feeds_dir / "imported-mine.yaml").read_text())["feeds"]]
    assert keys == ["levant-wire-2", "levant-wire-3"]
    assert cli("feeds", "sync").exit_code == 0


def test_opml_folders_become_tags(cli, feeds_dir, tmp_path):
    opml = tmp_path / "folders.opml"
    opml.write_text('<opml version="2.0"><body><outline text="Iraq"><outline text="Wire" '
                    'xmlUrl="https://w.example/rss"/></outline></body></opml>')

    cli("feeds", "import", str(opml))

    (entry,) = yaml.safe_load((feeds_dir / "imported-folders.yaml").read_text())["feeds"]
    assert entry["tags"] == ["Iraq"]


def test_import_refuses_to_overwrite_an_earlier_import(cli, feeds_dir):
    cli("feeds", "import", str(feeds_dir / "samples/example.opml"))
    edited = (feeds_dir / "imported-example.yaml").read_text() + "# my edits\n"
    (feeds_dir / "imported-example.yaml").write_text(edited)

    result = cli("feeds", "import", str(feeds_dir / "samples/example.opml"))

    assert result.exit_code == 1 and "exists" in result.stderr
    assert (feeds_dir / "imported-example.yaml").read_text() == edited


def test_import_of_a_broken_opml_says_why_and_writes_nothing(cli, feeds_dir, tmp_path):
    opml = tmp_path / "broken.opml"
    opml.write_text("<opml><body><outline text='x'")

    result = cli("feeds", "import", str(opml))

    assert result.exit_code == 1 and "not well-formed" in result.stderr
    assert not (feeds_dir / "imported-broken.yaml").exists()


def test_import_never_writes_a_catalog_that_fails_to_load(cli, feeds_dir, tmp_path):
    opml = tmp_path / "odd.opml"
    opml.write_text('<opml version="2.0"><body><outline text="Good" xmlUrl="https://good.example/rss"/>'
                    '<outline text="Podcast" xmlUrl="feed://odd.example/rss"/></body></opml>')

    cli("feeds", "import", str(opml))

    assert cli("feeds", "sync").exit_code == 0


def test_feeds_sync_lists_catalog_problems_and_exits_1(cli, feeds_dir):
    catalog = feeds_dir / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("reliability: B", "reliability: Z"))

    result = cli("feeds", "sync")

    assert result.exit_code == 1
    assert "the feed catalog has 1 problem(s):" in result.stderr
    assert f"{catalog}:20: feeds.0.reliability" in result.stderr
