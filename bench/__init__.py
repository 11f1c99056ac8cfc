"""Benchmarks for Watchfloor (not part of the test suite): `python -m bench [NAME ...] [OPTIONS]`.

Shared helpers: the machine description every result carries, single-core pinning, repeated timing
with a median, and writing results as JSON under bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIBRARY = ROOT / "indicators"
RESULTS = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's best guess elsewhere)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict:
    """What a figure was measured on."""
    mhz = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                mhz = float(line.split(":", 1)[1])
                break
    versions = {}
    for dist in ("pyahocorasick", "pydantic", "rapidfuzz"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[dist] = metadata.version(dist)
    return {
        "cpu_model": cpu_model(), "cpu_mhz": mhz, "logical_cpus": os.cpu_count(),
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "platform": platform.platform(), "packages": versions,
    }


CODE_MEASURED = ("app/matching", "app/ingest/schemas.py", "indicators")


def code_state() -> dict:
    """The commit measured and which of the files the benches exercise differed from it (read-only git)."""
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = [line[3:] for line in git("status", "--porcelain", "--", *CODE_MEASURED).splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD") or None, "uncommitted": dirty}


@contextlib.contextmanager
def one_core() -> Iterator[int | None]:
    """Pin this process to a single CPU (the last one allowed) for the duration; yields its number."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


class Timings(list):
    """Wall-clock seconds (perf_counter) of each repetition; `.cpu` holds the process CPU seconds of each."""

    cpu: list[float]


def timed_together(fns: dict[str, Callable[[], object]], reps: int, warmup: int = 1) -> dict[str, Timings]:
    """Time `reps` calls of each stage after `warmup` untimed ones, gc collected between: wall (perf_counter) and
    CPU time. The stages are taken in turn within each repetition, so a slow spell of a shared machine falls on
    every stage of that repetition alike and ratios taken per repetition stay comparable.

    On a shared machine the wall time of a pinned process also counts the time other processes held
    its core; the process CPU time (time.process_time) does not, so the two together show contention.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    out = {name: Timings() for name in fns}
    for t in out.values():
        t.cpu = []
    for _ in range(reps):
        for name, fn in fns.items():
            gc.collect()
            c, t = time.process_time(), time.perf_counter()
            fn()
            out[name].append(time.perf_counter() - t)
            out[name].cpu.append(time.process_time() - c)
    return out


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median over repetitions of a[i] / b[i]: the ratio of two stages timed side by side (see timed_together)."""
    return round(statistics.median(x / y for x, y in zip(a, b, strict=True)), 2)


def summary(seconds: list[float], n: int) -> dict:
    """Median (and spread) of repeated timings of `n` items, as seconds and items per second."""
    med = statistics.median(seconds)
    out = {
        "median_s": round(med, 6), "min_s": round(min(seconds), 6), "max_s": round(max(seconds), 6),
        "reps": len(seconds), "items": n, "items_per_s": round(n / med, 1) if med else None,
        "us_per_item": round(med / n * 1e6, 2) if n else None,
    }
    cpu = getattr(seconds, "cpu", None)
    if cpu:
        cmed = statistics.median(cpu)
        out["cpu_median_s"] = round(cmed, 6)
        out["items_per_cpu_s"] = round(n / cmed, 1) if cmed else None
    return out


def parser(description: str) -> argparse.ArgumentParser:
    """Options every bench accepts (each adds its own)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON result is written")
    p.add_argument("--no-save", action="store_true", help="print only; write no JSON result")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    return p


def save(name: str, data: dict, args: argparse.Namespace) -> Path | None:
    """Write `data` (plus when and where it was measured) to RESULTS/<name>.json."""
    if args.no_save:
        return None
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{name}.json"
    doc = {"bench": name, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": machine(), "code": code_state(), "load_average": [round(x, 2) for x in os.getloadavg()],
           "argv": sys.argv[1:], **data}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def say(*parts: object) -> None:
    print(*parts, flush=True)
