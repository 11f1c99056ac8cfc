"""End to end over the bundled sample feeds: bootstrap, poll (file: URLs), match, alerts, clock, API.

One module-scoped run per database backend does what `make run` does once the scheduler ticks:
`watchfloor bootstrap`, a poll of every sample feed, match_pending and alerts_for_hits; then the
same again (nothing changed), a re-read of rewritten files and two clock ticks. Tests assert on
what each step reported and on the rows left behind. Tests that need their own data push items
into a fresh database.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.alerts.models import Alert, AlertHit
from app.alerts.service import alerts_for_hits
from app.cli import app as cli_app
from app.config import Settings, get_settings, load_settings
from app.context import AppContext
from app.db import make_engine, transaction, upgrade, utcnow
from app.ingest.models import Feed, Item
from app.ingest.schemas import ItemIn
from app.ingest.service import PollReport, poll_due, store_pushed
from app.main import create_app
from app.matching.compiler import CompiledLibrary
from app.matching.loader import load_library
from app.matching.models import Hit
from app.matching.service import MatchReport, clock_tick, match_pending

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_GUID = "levantwire:2020-01-20:green-zone"
HOSTILE_HTML = ("<p>Three Katyusha rockets struck inside Baghdad's fortified Green Zone late on Monday, close to the "
                "U.S. Embassy, security sources said. There were no immediate reports of casualties.</p>"
                "<script>alert('xss')</script><img src=x onerror=alert(1)>")
MARKUP = re.compile(r"<\s*[a-zA-Z/!]")

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the backend is not the subject


@pytest.fixture(scope="module")
def compiled() -> CompiledLibrary:
    """The default library, compiled once for the module."""
    return CompiledLibrary(load_library(ROOT / "indicators"))


# --- the module-scoped run over the samples -------------------------------------------------------


@dataclass
class Step:
    poll: PollReport
    match: MatchReport
    alerts: int


@dataclass
class SampleRun:
    settings: Settings
    ctx: AppContext
    api_key: str
    bootstrap_output: str
    first: Step
    counts_after_first: dict[str, int]
    second: Step
    reread: Step
    statuses_second: dict[str, int]
    statuses_reread: dict[str, int]
    ticks: list[MatchReport] = field(default_factory=list)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scenario_url(request, tmp_path_factory):
    """A migrated database for the module: a SQLite file, or a private schema on the test PostgreSQL
    (so the per-test truncation of the shared schema cannot touch it)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('pipeline')}/watchfloor.db"
        upgrade(url)
        yield url
        return
    base = request.getfixturevalue("pg_url")
    schema = f"pipeline_{os.getpid()}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _counts(ctx) -> dict[str, int]:
    with ctx.sessions() as s:
        return {name: s.scalar(select(func.count()).select_from(model))
                for name, model in (("items", Item), ("hits", Hit), ("alerts", Alert), ("alert_hits", AlertHit))}


async def _step(ctx, lib, now) -> Step:
    polled = await poll_due(ctx.sessions, ctx.settings, now=now, rng=random.Random(3))
    with transaction(ctx.sessions) as s:
        matched = match_pending(s, lib, limit=1000, now=now)
        alerts = alerts_for_hits(s, matched.hit_ids) if matched.hit_ids else []
    return Step(polled, matched, len(alerts))


def _statuses(ctx) -> dict[str, int]:
    with ctx.sessions() as s:
        return dict(s.execute(select(Feed.key, Feed.last_status)).all())


def _all_due(ctx) -> datetime:
    with ctx.sessions() as s:
        return s.scalar(select(func.max(Feed.next_check_at))) + timedelta(seconds=1)


@pytest.fixture(scope="module")
def run(scenario_url, compiled, tmp_path_factory) -> SampleRun:
    base = tmp_path_factory.mktemp("sample-run")
    feeds_dir = base / "feeds"
    shutil.copytree(ROOT / "feeds", feeds_dir)
    env = {"WATCHFLOOR_DATABASE_URL": scenario_url, "WATCHFLOOR_FEEDS_PATH": str(feeds_dir),
           "WATCHFLOOR_VAR_PATH": str(base / "var"), "WATCHFLOOR_INDICATORS_PATH": str(ROOT / "indicators"),
           "WATCHFLOOR_SECRET_KEY": "test-secret-" + "x" * 32}
    get_settings.cache_clear()
    boot = CliRunner().invoke(cli_app, ["bootstrap"], env=env)
    get_settings.cache_clear()
    assert boot.exit_code == 0, boot.output
    api_key = re.search(r"API key:\s+(wf_\S+)", boot.stdout).group(1)

    settings = load_settings(database_url=scenario_url, feeds_path=feeds_dir, var_path=base / "var",
                             indicators_path=ROOT / "indicators", secret_key="test-secret-" + "x" * 32)
    ctx = AppContext.create(settings)

    async def scenario() -> SampleRun:
        first = await _step(ctx, compiled, utcnow())
        counts = _counts(ctx)
        second = await _step(ctx, compiled, _all_due(ctx))
        statuses_second = _statuses(ctx)
        for path in (feeds_dir / "samples").glob("*.xml"):  # rewritten files: same entries, new mtime
            os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 120))
        reread = await _step(ctx, compiled, _all_due(ctx))
        return SampleRun(settings, ctx, api_key, boot.stdout, first, counts, second, reread, statuses_second,
                         _statuses(ctx))

    result = asyncio.run(scenario())
    tick_at = datetime(2021, 1, 1, tzinfo=UTC)
    for _ in range(2):
        with transaction(ctx.sessions) as s:
            result.ticks.append(clock_tick(s, compiled, now=tick_at))
    yield result
    ctx.engine.dispose()


def hits_with_items(run: SampleRun) -> list[tuple[Hit, Item]]:
    with run.ctx.sessions() as s:
        return list(s.execute(select(Hit, Item).join(Item, Item.id == Hit.item_id)).tuples())


def item(run: SampleRun, **where) -> Item:
    with run.ctx.sessions() as s:
        return s.scalars(select(Item).filter_by(**where)).one()


# --- first run -----------------------------------------------------------------------------------


def test_bootstrap_syncs_the_catalog_and_prints_the_api_key(run):
    assert "Watchfloor: http://127.0.0.1:8000/" in run.bootstrap_output
    assert "5 feeds in the catalog: 5 added" in run.bootstrap_output
    assert run.api_key.startswith("wf_")


def test_every_sample_feed_is_polled_and_stored_without_failure(run):
    assert (run.first.poll.polled, run.first.poll.new_items, run.first.poll.failed) == (5, 64, [])
    with run.ctx.sessions() as s:
        per_feed = dict(s.execute(select(Item.source, func.count()).group_by(Item.source)).all())
    assert per_feed == {"levant-wire": 19, "gulf-monitor": 17, "baghdad-desk": 18, "arabic-wire": 8, "malformed": 2}


def test_sample_items_fire_many_indicators(run):
    fired = {hit.indicator_id for hit, _ in hits_with_items(run)}
    assert {"indirect-fire-attack", "large-salvo", "coalition-casualties", "us-strike", "new-militia-name",
            "ultimatum", "drone-attack", "convoy-ied", "anti-us-mobilization"} <= fired
    assert len(fired) >= 15


def test_every_item_hit_has_evidence_pointing_into_its_item(run):
    checked = 0
    for hit, it in hits_with_items(run):
        ev = hit.evidence
        assert ev["terms"] and ev["snippet"] and ev["offsets"], hit.indicator_id
        for off in ev["offsets"]:
            text = getattr(it, off["field"])[off["start"]:off["end"]]
            assert text in ev["terms"][off["group"]], (hit.indicator_id, off, text)
            checked += 1
    assert checked > 100


def test_every_hit_and_item_records_the_library_version(run, compiled):
    with run.ctx.sessions() as s:
        assert set(s.scalars(select(Hit.library_version))) == {compiled.version}
        assert set(s.scalars(select(Item.library_version))) == {compiled.version}
        assert s.scalar(select(func.count()).select_from(Item).where(Item.matched_at.is_(None))) == 0


def test_arabic_sample_items_are_matched(run):
    arabic = Counter(hit.indicator_id for hit, it in hits_with_items(run) if it.source == "arabic-wire")
    assert arabic["indirect-fire-attack"] >= 1 and arabic["ultimatum"] >= 1
    assert sum(arabic.values()) >= 8


def test_hostile_markup_is_kept_verbatim_but_never_reaches_the_text(run):
    hostile = item(run, guid=HOSTILE_GUID)
    assert hostile.summary_html == HOSTILE_HTML
    assert hostile.summary == ("Three Katyusha rockets struck inside Baghdad's fortified Green Zone late on Monday, "
                               "close to the U.S. Embassy, security sources said. There were no immediate reports "
                               "of casualties.")


def test_no_text_field_of_any_item_contains_markup(run):
    with run.ctx.sessions() as s:
        for it in s.scalars(select(Item)):
            for name in ("title", "summary", "content"):
                assert not MARKUP.search(getattr(it, name)), (it.guid, name)
                assert "alert(" not in getattr(it, name)


def test_item_api_serves_text_and_no_original_markup(run):
    hostile = item(run, guid=HOSTILE_GUID)
    with TestClient(create_app(run.settings)) as client:
        body = client.get(f"/api/v1/items/{hostile.id}", headers={"Authorization": f"Bearer {run.api_key}"}).json()
    assert body["summary"].startswith("Three Katyusha rockets")
    assert "<script" not in str(body) and "onerror" not in str(body)


def test_malformed_sample_is_ingested_and_flagged(run):
    with run.ctx.sessions() as s:
        feed = s.scalar(select(Feed).where(Feed.key == "malformed"))
    assert "not well-formed" in feed.parse_warning and feed.consecutive_failures == 0
    assert any(it.source == "malformed" and hit.indicator_id == "indirect-fire-attack"
               for hit, it in hits_with_items(run))


def test_cross_feed_copy_in_the_samples_is_linked_and_not_matched(run):
    copy = item(run, source="baghdad-desk", title="Iraqi lawmakers vote to expel foreign troops")
    original = item(run, source="levant-wire", title="Iraqi lawmakers vote to expel foreign troops")
    assert copy.duplicate_of_id == original.id and copy.matched_at is not None
    assert run.first.match.duplicates == 1 and run.first.match.items == 63
    assert original.id in {it.id for _, it in hits_with_items(run)}
    assert copy.id not in {it.id for _, it in hits_with_items(run)}


def test_alerts_group_item_hits_by_indicator_and_story(run):
    with run.ctx.sessions() as s:
        alerts = s.scalars(select(Alert)).all()
        membership = Counter(s.scalars(select(AlertHit.hit_id)))
        per_alert = Counter(s.scalars(select(AlertHit.alert_id)))
        item_hits = set(s.scalars(select(Hit.id).where(Hit.item_id.is_not(None))))
    assert item_hits <= set(membership) and set(membership.values()) == {1}
    story_alerts = [(a.indicator_id, a.story_id) for a in alerts if a.story_id is not None]
    assert len(story_alerts) == len(set(story_alerts))
    assert all(a.hit_count == per_alert[a.id] for a in alerts)


def test_indicators_api_lists_the_library_with_hit_counts(run, compiled):
    with TestClient(create_app(run.settings)) as client:
        listed = client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {run.api_key}"}).json()
    with run.ctx.sessions() as s:
        counts = dict(s.execute(select(Hit.indicator_id, func.count()).group_by(Hit.indicator_id)).all())
    assert {i["id"] for i in listed} == set(compiled.library.indicators)
    assert {i["id"]: i["hits"] for i in listed} == {i: counts.get(i, 0) for i in compiled.library.indicators}
    salvo = next(i for i in listed if i["id"] == "large-salvo")
    assert salvo["last_hit_at"] and salvo["kind"] and salvo["source"]


# --- runs after the first ------------------------------------------------------------------------


def test_second_run_over_unchanged_files_adds_nothing(run):
    assert (run.second.poll.polled, run.second.poll.new_items, run.second.poll.failed) == (5, 0, [])
    assert set(run.statuses_second.values()) == {304}
    assert (run.second.match.items, run.second.match.hit_ids, run.second.alerts) == (0, [], 0)


def test_rewritten_files_are_reread_without_storing_anything_twice(run):
    assert set(run.statuses_reread.values()) == {200}
    assert (run.reread.poll.new_items, run.reread.match.items, run.reread.alerts) == (0, 0, 0)
    assert _counts(run.ctx)["items"] == run.counts_after_first["items"]


def test_clock_tick_runs_over_the_samples_and_does_not_fire_twice(run):
    first_tick, second_tick = run.ticks
    assert second_tick.hit_ids == [] and second_tick.level_changes == 0
    assert _counts(run.ctx)["hits"] == run.counts_after_first["hits"] + len(first_tick.hit_ids)


# --- windowed rules over the SQL store: the attack lull ---------------------------------------------

ATTACKS = ["Two rockets hit Camp Taji, home to Coalition trainers",
           "Katyusha rockets land inside Ain al-Asad air base",
           "Mortar rounds slam into Balad air base hosting U.S. contractors",
           "Rockets fired at the U.S. Embassy in Baghdad's Green Zone"]
DAY1 = datetime(2020, 1, 1, 12, tzinfo=UTC)


def push(ctx, n: str, title: str, published: datetime) -> None:
    with transaction(ctx.sessions) as s:
        store_pushed(s, ItemIn(id=n, title=title, source="wire", published=published), utcnow())


def match_all(ctx, lib) -> MatchReport:
    with transaction(ctx.sessions) as s:
        return match_pending(s, lib, limit=100)


def tick(ctx, lib, at: datetime) -> MatchReport:
    with transaction(ctx.sessions) as s:
        return clock_tick(s, lib, now=at)


def lull_hits(ctx) -> list[Hit]:
    with ctx.sessions() as s:
        return s.scalars(select(Hit).where(Hit.indicator_id == "attack-lull")).all()


def test_lull_after_a_run_of_attacks_fires_once(ctx, compiled):
    for n, title in enumerate(ATTACKS):
        push(ctx, f"a{n}", title, DAY1 + timedelta(days=n))
    push(ctx, "quiet", "Iraq's parliament debates the budget", DAY1 + timedelta(days=9))
    match_all(ctx, compiled)

    tick(ctx, compiled, DAY1 + timedelta(days=19))
    tick(ctx, compiled, DAY1 + timedelta(days=20))

    (lull,) = lull_hits(ctx)
    assert lull.at == DAY1 + timedelta(days=3 + 14)
    assert lull.evidence["prior"] == 4 and lull.evidence["last_hit"].startswith("2020-01-04")
    assert len(lull.item_ids) == 4


@sqlite_only
def test_silent_sources_are_an_outage_not_a_lull(ctx, compiled):
    for n, title in enumerate(ATTACKS):
        push(ctx, f"a{n}", title, DAY1 + timedelta(days=n))
    match_all(ctx, compiled)

    tick(ctx, compiled, DAY1 + timedelta(days=30))

    assert lull_hits(ctx) == []


# --- the hits API under concurrent writes ---------------------------------------------------------


def page(client, cursor: str | None) -> dict:
    params = {"indicator": "indirect-fire-attack", "limit": 2, **({"cursor": cursor} if cursor else {})}
    return client.get("/api/v1/hits", params=params).json()


def test_hit_pages_stay_stable_when_new_hits_arrive_between_pages(ctx, compiled, client):
    for n in range(5):
        push(ctx, f"old{n}", f"{n + 2} rockets hit Camp Taji, report {n}", DAY1 + timedelta(days=n))
    match_all(ctx, compiled)
    first = page(client, None)
    push(ctx, "newest", "Rockets hit Ain al-Asad air base", DAY1 + timedelta(days=30))
    push(ctx, "between", "Mortar rounds hit Balad air base", DAY1 + timedelta(days=1, hours=12))
    match_all(ctx, compiled)

    seen, cursor = list(first["items"]), first["next_cursor"]
    while cursor:
        nxt = page(client, cursor)
        seen += nxt["items"]
        cursor = nxt["next_cursor"]

    days = [h["at"][:13] for h in seen]
    assert days == ["2020-01-05T12", "2020-01-04T12",  # the first page
                    "2020-01-03T12", "2020-01-03T00", "2020-01-02T12", "2020-01-01T12"]  # "between" joins
    assert len({h["id"] for h in seen}) == len(seen)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_since_without_a_time_zone_is_not_a_server_error(app, api_key):
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/hits", params={"since": "2020-03-10T00:00:00"},
                       headers={"Authorization": f"Bearer {api_key}"})
    assert r.status_code in (200, 422)
