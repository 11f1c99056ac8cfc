"""Inbox server time at scale: 1,000,000 hits and 200,000 alerts in PostgreSQL (target: p95 < 100 ms).

A database of its own (default `watchfloor_bench` on the test server) is created, migrated with the
real migrations, bulk-loaded with COPY (synthetic but shaped like the service's data: stories of
several items from several feeds, 5 hits per alert, recent alerts mostly open, old ones mostly closed),
then dropped at the end. The timings are of real requests to the real app, in process (ASGI, no
network): a signed-in officer asks for the inbox results as htmx does after a filter change, and for
the whole page. Each query is also checked with EXPLAIN ANALYZE: indexes used, keyset (no OFFSET).

    python -m bench inbox [--alerts 200000] [--hits-per-alert 5] [--reps 60] [--keep]
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event, orm
from sqlalchemy.engine import make_url

from bench import DEFAULT_LIBRARY, parser, save, say

TARGET_P95_MS = 100.0
PASSWORD = "bench password 1"
FEEDS = [("levant-wire", "B"), ("gulf-monitor", "C"), ("baghdad-desk", "C"), ("arabic-wire", "D"),
         ("tigris-bulletin", "F"), ("kurdistan-24h", "B"), ("basra-post", "E"), ("anbar-daily", "D")]
PLACES = ["Camp Taji", "Ain al-Asad", "Balad air base", "Besmaya", "Erbil airport", "Harir base", "Victory base",
          "the Green Zone", "Baghdad airport", "K1 base", "al-Qaim", "Jurf al-Nasr", "Kirkuk", "Basra", "Diwaniyah"]
ACTORS = ["Kataib Hezbollah", "Asaib Ahl al-Haq", "Harakat al-Nujaba", "Badr", "Saraya al-Salam", "the PMF"]
EVENTS = ["rockets hit", "a drone struck", "mortar rounds fell on", "a roadside bomb hit a convoy near",
          "protesters marched on", "lawmakers debated the U.S. presence at", "militia leaders met in"]
OFFICERS = ["ana", "ben", "carla", "dev", "emil", "fatma"]


def _fillers(rng: random.Random, n: int) -> list[str]:
    """A vocabulary with a long tail, so full-text search sees common, middling and rare words."""
    consonants, vowels = "bdfghklmnprstvz", "aeiou"
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def generate(conn, *, alerts: int, hits_per_alert: int, seed: int, now: datetime, lib) -> dict:
    """COPY the synthetic data in, one table after the other; returns counts and words to search for."""
    rng = random.Random(seed)
    fillers = _fillers(rng, 5000)
    weights = [1 / (i + 1) for i in range(len(fillers))]  # Zipf-like: a few words are everywhere
    indicators = [i.id for i in lib.library.indicators.values() if i.kind != "calendar"]
    severities, sev_weights = ["info", "low", "medium", "high", "critical"], [5, 20, 40, 25, 10]
    span = timedelta(days=730)

    stories: list[tuple] = []  # (story_id, title, [(item_id, feed index, at)], indicators)
    item_id = made_alerts = 0
    while made_alerts < alerts:
        start = now - span * rng.random() ** 1.5  # more recent than old: feeds keep growing
        title = f"{rng.choice(ACTORS)}: {rng.choice(EVENTS)} {rng.choice(PLACES)}"
        members = []
        for _ in range(rng.randint(1, 5)):
            item_id += 1
            members.append((item_id, rng.randrange(len(FEEDS)), start + timedelta(minutes=rng.randint(0, 2160))))
        chosen = rng.sample(indicators, k=min(rng.choice([1, 1, 2, 2, 3]), alerts - made_alerts))
        made_alerts += len(chosen)
        stories.append((len(stories) + 1, title, members, chosen))

    raw = conn.connection.driver_connection
    cur = raw.cursor()
    cur.execute("DROP INDEX ix_items_fts")  # a GIN index builds far faster in bulk than row by row
    cur.executemany(
        "INSERT INTO feeds (id, key, title, url, enabled, poll_interval, reliability, tags, in_catalog, "
        "next_check_at, consecutive_failures, created_at, last_success_at) VALUES "
        "(%s, %s, %s, %s, true, 900, %s, '[]', true, %s, 0, %s, %s)",
        [(i + 1, key, key.replace("-", " ").title(), f"https://{key}.example/rss", grade, now, now - span, now)
         for i, (key, grade) in enumerate(FEEDS)])
    with cur.copy("COPY items (id, feed_id, source, guid, fingerprint, title, summary, content, summary_html, "
                  "content_html, published_at, fetched_at, matched_at, library_version) FROM STDIN") as copy:
        for _, title, members, _ in stories:
            for iid, feed, at in members:
                body = " ".join(rng.choices(fillers, weights, k=30))
                copy.write_row((iid, feed + 1, FEEDS[feed][0], f"g{iid}", f"{iid:040x}", title, f"{title}. {body}",
                                "", "", "", at, at, at, lib.version))
    with cur.copy("COPY stories (id, title, signature, first_seen_at, last_seen_at, created_at) FROM STDIN") as copy:
        for sid, title, members, _ in stories:
            times = [m[2] for m in members]
            copy.write_row((sid, title, "[]", min(times), max(times), min(times)))
    with cur.copy("COPY story_items (story_id, item_id) FROM STDIN") as copy:
        for sid, _, members, _ in stories:
            for m in members:
                copy.write_row((sid, m[0]))

    alert_rows: list[tuple] = []  # (alert_id, indicator, severity, hits [(item_id, feed, at)])
    with cur.copy("COPY alerts (id, indicator_id, story_id, group_key, status, severity, title, first_seen_at, "
                  "last_seen_at, hit_count, silenced, assignee, dismiss_reason, library_version, created_at, "
                  "updated_at, silenced_until) FROM STDIN") as copy:
        for sid, title, members, chosen in stories:
            for indicator in chosen:
                alert_id = len(alert_rows) + 1
                severity = rng.choices(severities, sev_weights)[0]
                hits = [members[k % len(members)] for k in range(hits_per_alert)]
                first, last = min(h[2] for h in hits), max(h[2] for h in hits)
                status = rng.choices(["new", "acknowledged", "escalated", "dismissed", "resolved"],
                                     [55, 25, 5, 8, 7] if now - last < timedelta(days=30) else [3, 4, 1, 32, 60])[0]
                muted = rng.random() < 0.02
                copy.write_row((
                    alert_id, indicator, sid, f"{indicator}:story:{sid}", status, severity, title, first, last,
                    len(hits), muted, rng.choice(OFFICERS) if rng.random() < 0.3 else None,
                    "false positive" if status == "dismissed" else None, lib.version, first, last,
                    now + timedelta(days=3) if muted else None))
                alert_rows.append((alert_id, indicator, severity, hits))
    with cur.copy("COPY hits (id, indicator_id, kind, item_id, item_ids, at, severity, evidence, library_version, "
                  "created_at) FROM STDIN") as copy:
        hit_id = 0
        for _, indicator, severity, hits in alert_rows:
            for iid, _, at in hits:
                hit_id += 1
                copy.write_row((hit_id, indicator, "match", iid, f"[{iid}]", at, severity,
                                '{"terms": {"weapon": ["rockets"]}}', lib.version, at))
    with cur.copy("COPY alert_hits (alert_id, hit_id) FROM STDIN") as copy:
        hit_id = 0
        for alert_id, _, _, hits in alert_rows:
            for _ in hits:
                hit_id += 1
                copy.write_row((alert_id, hit_id))
    with cur.copy("COPY alert_sources (source, alert_id) FROM STDIN") as copy:
        for alert_id, _, _, hits in alert_rows:
            for feed in sorted({h[1] for h in hits}):
                copy.write_row((FEEDS[feed][0], alert_id))
    from app.alerts.search import PG_DOCUMENT

    cur.execute(f"CREATE INDEX ix_items_fts ON items USING gin ({PG_DOCUMENT})")
    for table in ("feeds", "items", "stories", "alerts", "hits"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    raw.commit()
    return {"stories": len(stories), "items": item_id, "alerts": len(alert_rows), "hits": hit_id}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--alerts", type=int, default=200_000)
    p.add_argument("--hits-per-alert", type=int, default=5)
    p.add_argument("--reps", type=int, default=60, help="timed requests per scenario (after warm-up)")
    p.add_argument("--database", default="watchfloor_bench", help="database created (and dropped) on the server")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards (and reuse it when present)")
    args = p.parse_args()
    server = os.environ.get("WATCHFLOOR_BENCH_DATABASE_URL") or os.environ.get("WATCHFLOOR_TEST_DATABASE_URL")
    if not server:
        say("inbox bench needs PostgreSQL: set WATCHFLOOR_BENCH_DATABASE_URL (or source scripts/test-env.sh)")
        return 2
    server_url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    url = server_url.set(database=args.database).render_as_string(hide_password=False)
    admin = sa.create_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": args.database})
        if exists and not args.keep:
            c.execute(sa.text(f'DROP DATABASE "{args.database}" WITH (FORCE)'))
        if not exists or not args.keep:
            c.execute(sa.text(f'CREATE DATABASE "{args.database}"'))
    try:
        result = run(url, args, reuse=bool(exists and args.keep))
    finally:
        if not args.keep:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        admin.dispose()
    save("inbox", result, args)
    return 0 if result["all_within_target"] else 1


def run(url: str, args, *, reuse: bool) -> dict:
    from fastapi.testclient import TestClient

    from app.accounts.service import create_user, get_user
    from app.alerts.inbox import InboxFilter, inbox_page
    from app.config import load_settings
    from app.db import transaction, upgrade
    from app.main import create_app
    from app.matching.compiler import CompiledLibrary
    from app.matching.loader import load_library
    from app.web.pagination import encode_cursor

    lib = CompiledLibrary(load_library(DEFAULT_LIBRARY))
    now = datetime.now(UTC)
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as c:
        present = c.scalar(sa.text("SELECT count(*) FROM alerts")) if reuse else 0
        made = {"alerts": present, "hits": c.scalar(sa.text("SELECT count(*) FROM hits")), "reused": True}
    if not present:
        say(f"loading {args.alerts:,} alerts with {args.hits_per_alert} hits each into {make_url(url).database} …")
        t = time.perf_counter()
        with engine.connect() as c:
            made = generate(c, alerts=args.alerts, hits_per_alert=args.hits_per_alert, seed=args.seed, now=now,
                            lib=lib)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE"))
        made["load_s"] = round(time.perf_counter() - t, 1)
        say(f"loaded in {made['load_s']} s: " + ", ".join(f"{v:,} {k}" for k, v in made.items()
                                                         if isinstance(v, int)))
    settings = load_settings(database_url=url, indicators_path=DEFAULT_LIBRARY, secret_key="bench-" + "x" * 40,
                             var_path=args.results_dir / "inbox-var")
    with transaction(orm.sessionmaker(engine)) as s:
        if get_user(s, "bench-officer") is None:
            create_user(s, "bench-officer", PASSWORD, "officer")
    words = _fillers(random.Random(args.seed), 5000)  # the vocabulary generate() drew item text from
    common, rare = words[0], words[3000]
    scenarios = {
        "first page (open, unmuted)": "",
        "filtered: new, high+, scenario mdcoa-coordinated": "status=new&severity=high&scenario=mdcoa-coordinated",
        "filtered: indicator + source": "indicator=indirect-fire-attack&source=basra-post",
        "filtered: assignee, all statuses": "assignee=carla&status=all",
        "filtered: a week a year ago, all statuses": _week_a_year_ago(now),
        "search, rare word": f"q={rare}&status=all",
        "search, common word": f"q={common}&status=all",
    }
    results: dict[str, dict] = {}
    app = create_app(settings)
    with TestClient(app) as client:
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"username": "bench-officer", "password": PASSWORD, "csrf_token": token})
        partial = {"HX-Request": "true", "HX-Target": "results"}
        for name, query in scenarios.items():
            results[name] = _time(client, f"/inbox?{query}", partial, args.reps)
        results["whole inbox page (first load)"] = _time(client, "/inbox", {}, max(10, args.reps // 3))
        with orm.Session(engine) as s:
            after = None
            for _ in range(40):
                _, after = inbox_page(s, InboxFilter(status=["all"]), lib, now, after=after)
        results["page 41 (keyset cursor), all statuses"] = _time(
            client, f"/inbox/more?status=all&cursor={encode_cursor(*after)}", partial, args.reps)
    plans = explain(engine, lib, now, scenarios, after)
    engine.dispose()
    for name, r in results.items():
        flag = "ok" if r["p95_ms"] < TARGET_P95_MS else "OVER TARGET"
        say(f"{name:48} p50 {r['p50_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms  max {r['max_ms']:6.1f} ms  "
            f"{r['rows']:3} rows  {flag}")
    for name, plan in plans.items():
        say(f"\n--- EXPLAIN ANALYZE: {name} ({plan['execution_ms']} ms in the database)")
        say("\n".join(plan["plan"][:14]))
        say(f"indexes: {', '.join(plan['indexes']) or 'none'}; OFFSET: {plan['offset']}; "
            f"seq scan of alerts: {plan['seq_scan_alerts']}")
    target_names = [n for n in results if not n.startswith("search")]
    return {"made": made, "target_p95_ms": TARGET_P95_MS, "timings": results, "plans": plans,
            "all_within_target": all(results[n]["p95_ms"] < TARGET_P95_MS for n in target_names)}


def _week_a_year_ago(now: datetime) -> str:
    start = (now - timedelta(days=365)).date()
    return f"status=all&since={start}&until={start + timedelta(days=6)}"


def _time(client, path: str, headers: dict, reps: int) -> dict:
    for _ in range(3):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        r = client.get(path, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1), "reps": reps, "rows": r.text.count('class="alert-row')}


def explain(engine, lib, now, scenarios: dict[str, str], after) -> dict:
    """EXPLAIN ANALYZE the alerts query of each scenario, as the service sends it (captured from the driver)."""
    from starlette.datastructures import QueryParams

    from app.alerts.inbox import inbox_page
    from app.web.inbox.common import filter_from

    captured: list[tuple[str, dict]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT ALERTS.ID"):
            captured.append((statement, parameters))

    cases = {name: (filter_from(QueryParams(q), None), None) for name, q in scenarios.items()}
    cases["page 41 (keyset cursor), all statuses"] = (filter_from(QueryParams("status=all"), None), after)
    out = {}
    event.listen(engine, "before_cursor_execute", grab)
    try:
        with orm.Session(engine) as s:
            for name, (f, cursor) in cases.items():
                captured.clear()
                inbox_page(s, f, lib, now, after=cursor)
                statement, params = captured[-1]
                raw = s.connection().connection.driver_connection
                with raw.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                    plan = [row[0] for row in cur.fetchall()]
                text = "\n".join(plan)
                out[name] = {
                    "plan": plan, "offset": "OFFSET" in statement.upper(),
                    "indexes": sorted(set(re.findall(r"\b((?:ix|pk|uq)_\w+)", text))),
                    "seq_scan_alerts": "Seq Scan on alerts" in text,
                    "execution_ms": float(re.search(r"Execution Time: ([\d.]+)", text).group(1)),
                }
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return out
