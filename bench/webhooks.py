"""Webhook fan-out: events to endpoints on loopback, through the real collector and sender.

Alerts are created at a steady rate (as matching would create them); sender processes run the real
`notify.collect` and `notify.webhooks` jobs on their tick; a uvicorn receiver in its own process
verifies every request with the reference `standardwebhooks` library and logs when it arrived. The
figures: deliveries per second and the delay from an alert's creation (its audit row) to receipt.

Target (issue 5): 10,000 events to 10 endpoints, p95 delay < 2 s at >= 200 deliveries/s.

    python -m bench webhooks [--events 10000] [--endpoints 10] [--rate 50] [--workers 1]
                             [--database-url postgresql+psycopg://…/scratch]   # default: a fresh SQLite file

A PostgreSQL database given with --database-url is wiped and migrated: point it at a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench import ROOT, parser, save, say

TARGET_P95_S = 2.0
TARGET_RATE = 200.0
WINDOW_S = 30
SECRET = "bench-secret-" + "x" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(url: str, tmp: Path, tick: float | None) -> dict:
    env = {**os.environ, "WATCHFLOOR_DATABASE_URL": url, "WATCHFLOOR_VAR_PATH": str(tmp / "var"),
           "WATCHFLOOR_SECRET_KEY": SECRET, "WATCHFLOOR_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
           "WATCHFLOOR_INDICATORS_PATH": str(ROOT / "indicators"), "PYTHONPATH": str(ROOT)}
    if tick:
        env["WATCHFLOOR_NOTIFY_TICK"] = str(tick)
    return env


def _fresh_database(url: str | None, tmp: Path) -> str:
    import sqlalchemy as sa

    from app.db import make_engine, upgrade

    if not url:
        url = f"sqlite:///{tmp}/bench.db"
    elif url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return url


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the receiver exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise SystemExit("the receiver did not start")


def _inject(ctx, events: int, rate: float) -> tuple[float, float]:
    """Create `events` alerts (with their `created` audit rows) at `rate` per second; returns (start, end)."""
    from app.alerts.models import Alert, AlertEvent
    from app.db import transaction, utcnow

    batch = 500 if rate <= 0 else max(1, round(rate * 0.05))
    start = time.time()
    made = 0
    while made < events:
        n = min(batch, events - made)
        with transaction(ctx.sessions) as s:
            now = utcnow()
            alerts = [Alert(indicator_id="indirect-fire-attack", group_key=f"bench:{made + i}", status="new",
                            severity="medium", title=f"bench alert {made + i}", first_seen_at=now, last_seen_at=now,
                            hit_count=1, library_version="bench") for i in range(n)]
            s.add_all(alerts)
            s.flush()
            s.add_all([AlertEvent(alert_id=a.id, at=now, actor="system", action="created", to_value="new")
                       for a in alerts])
        made += n
        if rate > 0:
            time.sleep(max(0.0, start + made / rate - time.time()))
    return start, time.time()


def _delivered(ctx) -> int:
    from sqlalchemy import func, select

    from app.notify.models import Delivery

    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "succeeded")) or 0


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _pct(values: list[float], p: float) -> float:
    return round(statistics.quantiles(values, n=1000, method="inclusive")[int(p * 10) - 1], 3)


def _analyse(log: Path, expected: int) -> dict:
    first: dict[tuple[str, str], tuple[float, float]] = {}
    lines = unverified = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        at, path, msg_id, stamp, ok = line.split("\t")
        lines += 1
        unverified += ok != "1"
        key = (path, msg_id)
        if key not in first:
            first[key] = (float(at), datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    delays = [recv - created for recv, created in first.values()]
    received = [recv for recv, _ in first.values()]
    span = max(received) - min(received) if received else 0.0
    by_window: dict[int, list[float]] = {}
    t0 = min((c for _, c in first.values()), default=0.0)
    for recv, created in first.values():
        by_window.setdefault(int((created - t0) // WINDOW_S), []).append(recv - created)
    return {
        "deliveries": len(first), "expected": expected, "requests": lines, "duplicates": lines - len(first),
        "unverified": unverified, "receive_span_s": round(span, 2),
        "deliveries_per_s": round(len(first) / span, 1) if span else None,
        "delay_s": {"p50": _pct(delays, 50), "p95": _pct(delays, 95), "p99": _pct(delays, 99),
                    "max": round(max(delays), 3), "mean": round(statistics.fmean(delays), 3)} if delays else {},
        "p95_by_creation_window": {f"{w * WINDOW_S}s": _pct(v, 95) for w, v in sorted(by_window.items())
                                   if len(v) > 1},
    }


async def _work(deadline: float) -> None:
    """A sender process: the collector and the webhook sender on their tick, as the scheduler runs them."""
    from app.config import load_settings
    from app.context import AppContext
    from app.notify.jobs import collect, deliver_webhooks

    ctx = AppContext.create(load_settings())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def supervise() -> None:
        """As the scheduler does: every tick, make sure the collector and sender loops run."""
        while not stop.is_set() and time.monotonic() < deadline:
            await collect(ctx)
            await deliver_webhooks(ctx)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), ctx.settings.notify_tick)

    await supervise()
    ctx.engine.dispose()


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--endpoints", type=int, default=10)
    p.add_argument("--rate", type=float, default=50.0, help="alerts created per second (0: all at once)")
    p.add_argument("--workers", type=int, default=1, help="sender processes (they share the work through the DB)")
    p.add_argument("--tick", type=float, default=None, help="WATCHFLOOR_NOTIFY_TICK for the senders (default: 1.0)")
    p.add_argument("--database-url", default=os.environ.get("WATCHFLOOR_BENCH_DATABASE_URL"),
                   help="a scratch database (wiped); default: a fresh SQLite file")
    p.add_argument("--timeout", type=float, default=1200, help="seconds before the run is abandoned")
    p.add_argument("--role", default="driver", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.role == "worker":
        asyncio.run(_work(time.monotonic() + args.timeout))
        return

    from app.config import load_settings
    from app.context import AppContext
    from app.db import transaction
    from app.notify.schemas import EndpointIn
    from app.notify.service import create_endpoint

    with tempfile.TemporaryDirectory(prefix="wf-bench-") as d:
        tmp = Path(d)
        url = _fresh_database(args.database_url, tmp)
        env = _env(url, tmp, args.tick)
        ctx = AppContext.create(load_settings(database_url=url, var_path=tmp / "var", secret_key=SECRET,
                                              webhook_allow_networks="127.0.0.0/8"))
        port = _free_port()
        secrets = {}
        with transaction(ctx.sessions) as s:
            for i in range(args.endpoints):
                ep = create_endpoint(s, EndpointIn(url=f"http://127.0.0.1:{port}/ep{i}"), settings=ctx.settings)
                secrets[f"/ep{i}"] = ep.secret
        log = tmp / "received.tsv"
        receiver = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench._webhook_receiver:app", "--host", "127.0.0.1", "--port",
             str(port), "--log-level", "warning", "--no-access-log", "--lifespan", "on"],
            cwd=ROOT, env={**env, "BENCH_SECRETS": json.dumps(secrets), "BENCH_LOG": str(log)})
        workers: list[subprocess.Popen] = []
        try:
            _wait_for_port(port, receiver)
            workers = [subprocess.Popen([sys.executable, "-m", "bench.webhooks", "--role", "worker", "--timeout",
                                         str(args.timeout)], cwd=ROOT, env=env) for _ in range(args.workers)]
            time.sleep(3)  # let the senders import and connect before the clock starts
            expected = args.events * args.endpoints
            say(f"webhooks: {args.events} events x {args.endpoints} endpoints = {expected} deliveries, "
                f"{'all at once' if args.rate <= 0 else f'{args.rate:g} events/s'}, {args.workers} sender(s), "
                f"{url.split(':', 1)[0]}")
            started, injected = _inject(ctx, args.events, args.rate)
            end = started + args.timeout
            while _delivered(ctx) < expected and time.time() < end:
                time.sleep(0.5)
            finished = time.time()
        finally:
            for proc in workers:
                _stop(proc)
            _stop(receiver)
            ctx.engine.dispose()
        result = {"events": args.events, "endpoints": args.endpoints, "rate": args.rate, "workers": args.workers,
                  "database": url.split(":", 1)[0], "tick": args.tick or 1.0,
                  "inject_s": round(injected - started, 2), "total_s": round(finished - started, 2),
                  **_analyse(log, expected)}
    met = {"p95_under_2s": bool(result["delay_s"]) and result["delay_s"]["p95"] < TARGET_P95_S,
           "at_least_200_per_s": (result["deliveries_per_s"] or 0) >= TARGET_RATE,
           "all_delivered": result["deliveries"] == expected and result["unverified"] == 0}
    result["targets"] = met
    say(f"  delivered {result['deliveries']}/{expected} ({result['duplicates']} duplicate requests, "
        f"{result['unverified']} failed verification) in {result['receive_span_s']} s: "
        f"{result['deliveries_per_s']} deliveries/s")
    say(f"  delay from alert creation to receipt: {result['delay_s']}")
    say(f"  targets: {met}")
    if (path := save("webhooks", result, args)) is not None:
        say(f"  saved {path}")


if __name__ == "__main__":
    main()
