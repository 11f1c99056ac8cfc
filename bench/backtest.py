"""Backtest of a year-long synthetic stream through the real `run_backtest`: items/s and peak memory.

The stream (100,000 items of ~1.5 KB by default, 2020-01-01 to 2020-12-31, sorted JSON Lines in a
temporary folder) has background traffic, bursts of attack reports, ordered pauses, a casualty and
drone escalation, new militia names and days on which several proxy leaders back the same march, so
the windowed rules (rate, absence, coordination, composite) and the calendar modifier fire.

Each size (by default 25k, 50k and 100k items: prefixes of the same stream, so the same density over
a longer period) runs in a fresh subprocess pinned to one core: the default library is loaded, then
`run_backtest` streams the file with no service database. Reported per size: items/s end to end
(reading and validating the JSONL included), resident memory after loading the library, peak RSS
(`resource.getrusage`), RSS sampled along the stream, and with --tracemalloc the Python heap peak of
the backtest itself. Memory is flat when the peak does not grow with the stream's length.

Targets (issue 3): >= 1,000 items/s on one core, memory flat in the stream's length.

    python -m bench backtest [--items 100000] [--sizes 25000,50000,100000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench import DEFAULT_LIBRARY, ROOT, one_core, parser, save, say

TARGET_ITEMS_PER_S = 1000
FLAT_TOLERANCE = 0.10  # peak RSS may grow at most 10 % from the smallest to the largest stream


def _status_mb(key: str) -> float | None:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    return _status_mb("VmRSS") or 0.0


def _peak_rss_mb() -> float:
    """Peak RSS of this process image: VmHWM where there is one, else getrusage's ru_maxrss.

    On Linux ru_maxrss also carries the parent's RSS at the moment it spawned us (the kernel keeps the
    pre-exec high-water mark), so it overstates a small child of a big parent; VmHWM does not.
    """
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


def _reset_peak() -> bool:
    """Restart the VmHWM high-water mark at the current RSS (Linux clear_refs); False when unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def worker(path: Path, library: Path, trace: bool) -> dict:
    """One backtest in this (fresh) process: what the parent reports for one stream size."""
    import tracemalloc

    from app.matching.backtest import ordered_items, run_backtest
    from app.matching.compiler import CompiledLibrary
    from app.matching.loader import load_library

    with one_core() as cpu:
        t = time.perf_counter()
        lib = CompiledLibrary(load_library(library))
        load_s = time.perf_counter() - t
        rss_library = _rss_mb()
        peak_library = _peak_rss_mb()
        reset = _reset_peak()
        if trace:
            tracemalloc.start()
        counts: Counter = Counter()
        raised: Counter = Counter()
        state = {"last": None}
        warnings: list[str] = []

        def emit(f) -> None:
            counts[f.indicator_id] += 1
            if f.evidence.get("modifiers"):
                raised[f.indicator_id] += 1
            state["last"] = f.at

        samples: list[tuple[float, float, str | None]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                last = state["last"]
                samples.append((round(time.perf_counter() - t0, 1), round(_rss_mb(), 1),
                                last.date().isoformat() if last else None))

        sampler = threading.Thread(target=sample, daemon=True)
        t0, c0 = time.perf_counter(), time.process_time()
        sampler.start()
        stats = run_backtest(lib, path, None, emit, warnings.append)
        elapsed, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        done.set()
        sampler.join()
        peak_end = _peak_rss_mb()
        heap = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
        if trace:
            tracemalloc.stop()
        # the share of the run spent reading and validating the file (run_backtest reads it twice when sorted)
        t = time.perf_counter()
        read_items = sum(1 for _ in ordered_items(path, lambda m: None))
        read_s = time.perf_counter() - t
    return {
        "items": stats.items, "skipped": stats.skipped, "warnings": len(warnings), "firings": stats.firings,
        "elapsed_s": round(elapsed, 2), "items_per_s": round(stats.items / elapsed, 1) if elapsed else None,
        "cpu_s": round(cpu_s, 2), "items_per_cpu_s": round(stats.items / cpu_s, 1) if cpu_s else None,
        "library_load_s": round(load_s, 2), "read_and_validate_s": round(read_s, 2), "read_items": read_items,
        "rss_after_library_mb": round(rss_library, 1), "peak_rss_loading_mb": round(peak_library, 1),
        # with the high-water mark reset after loading, peak_end is the backtest's own peak
        "peak_rss_backtest_mb": round(peak_end, 1) if reset else None,
        "peak_rss_mb": round(max(peak_library, peak_end), 1),
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "heap_peak_mb": round(heap, 1) if heap is not None else None, "cpu": cpu,
        "firings_by_indicator": dict(sorted(counts.items())),
        "severity_raised_by_calendar": dict(sorted(raised.items())),
        "rss_samples": samples,
    }


def _run_worker(path: Path, library: Path, trace: bool) -> dict:
    cmd = [sys.executable, "-m", "bench.backtest", "--worker", str(path), "--library", str(library)]
    if trace:
        cmd.append("--trace")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"backtest worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _first_last(path: Path) -> tuple[str, str]:
    """Published times of a stream's first and last lines, reading only its two ends."""
    with path.open("rb") as fh:
        first = json.loads(fh.readline())["published"]
        fh.seek(max(0, path.stat().st_size - 65_536))
        last = json.loads(fh.read().rstrip().rsplit(b"\n", 1)[-1])["published"]
    return first, last


def _prefix(src: Path, dst: Path, n: int) -> None:
    with src.open("rb") as fin, dst.open("wb") as fout:
        for i, line in enumerate(fin):
            if i >= n:
                break
            fout.write(line)


def _quartiles(samples: list, days: list[str]) -> list[dict]:
    """RSS at the first sample whose last firing falls in each quarter of the stream (by event date)."""
    out = []
    for q, day in enumerate(days, 1):
        hit = next((s for s in samples if s[2] and s[2] >= day), samples[-1] if samples else None)
        if hit:
            out.append({"quarter": q, "from": day, "elapsed_s": hit[0], "rss_mb": hit[1]})
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=100_000, help="items of the largest stream (default 100000)")
    p.add_argument("--sizes", help="comma-separated stream sizes (default: items/4, items/2, items)")
    p.add_argument("--size", type=int, default=1500, help="approximate characters per item")
    p.add_argument("--library", type=Path, default=DEFAULT_LIBRARY, help="library folder")
    p.add_argument("--tracemalloc", action="store_true",
                   help="also run each size under tracemalloc for the heap peak (slower; separate processes)")
    p.add_argument("--keep", type=Path, help="write the stream here and keep it (default: a temporary folder)")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.library, args.trace)))
        return 0

    from app.matching.loader import load_library
    from bench.synthetic import write_stream

    sizes = sorted({int(s) for s in args.sizes.split(",")} if args.sizes else
                   {max(1, args.items // 4), max(1, args.items // 2), args.items})
    largest = sizes[-1]
    library = load_library(args.library)
    with tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        stream = folder / f"stream-{largest}.jsonl"
        say(f"backtest bench: writing a {largest}-item stream ({args.size} chars/item) to {stream} ...")
        t = time.perf_counter()
        nbytes = write_stream(stream, largest, library, seed=args.seed + 10, size=args.size)
        gen_s = time.perf_counter() - t
        first, last = _first_last(stream)
        say(f"  {nbytes / 2**20:.0f} MB in {gen_s:.0f} s, {first} .. {last}")
        runs = {}
        for n in sizes:
            path = stream if n == largest else folder / f"stream-{n}.jsonl"
            if n != largest:
                _prefix(stream, path, n)
            r = _run_worker(path, args.library, False)
            if args.tracemalloc:
                r["heap_peak_mb"] = _run_worker(path, args.library, True)["heap_peak_mb"]
            r["from"], r["to"] = _first_last(path)
            runs[n] = r
            say(f"  {n:>7} items ({r['from'][:10]} .. {r['to'][:10]}): {r['items_per_s']:>7,.0f} items/s "
                f"({r['items_per_cpu_s']:,.0f} per CPU-s; {r['elapsed_s']} s, of which reading+validating "
                f"{r['read_and_validate_s']} s), RSS after library "
                f"{r['rss_after_library_mb']} MB, peak RSS {r['peak_rss_mb']} MB (backtest alone "
                f"{r['peak_rss_backtest_mb']} MB)"
                + (f", heap peak {r['heap_peak_mb']} MB" if r["heap_peak_mb"] is not None else "")
                + f", {r['firings']} firings")
            if n != largest:
                path.unlink()
        if not args.keep:
            stream.unlink()

    big, small = runs[largest], runs[sizes[0]]
    key = "peak_rss_backtest_mb" if big["peak_rss_backtest_mb"] is not None else "peak_rss_mb"
    growth = (big[key] - small[key]) / small[key] if small[key] else 0.0
    heap_growth = None
    if big["heap_peak_mb"] is not None and small["heap_peak_mb"]:
        heap_growth = (big["heap_peak_mb"] - small["heap_peak_mb"]) / small["heap_peak_mb"]
    quarters = [f"2020-{m:02d}-01" for m in (1, 4, 7, 10)]
    big["rss_by_quarter"] = _quartiles(big.pop("rss_samples"), quarters)
    for r in runs.values():
        r.pop("rss_samples", None)
    met = {"items_per_s": big["items_per_s"] >= TARGET_ITEMS_PER_S, "memory_flat": growth <= FLAT_TOLERANCE}
    say(f"  RSS along the {largest}-item stream: "
        + ", ".join(f"Q{q['quarter']} {q['rss_mb']} MB" for q in big["rss_by_quarter"]))
    say(f"  peak RSS ({key}) {sizes[0]} -> {largest} items: {small[key]} -> {big[key]} MB ({growth:+.1%})"
        + (f"; heap peak {small['heap_peak_mb']} -> {big['heap_peak_mb']} MB ({heap_growth:+.1%})"
           if heap_growth is not None else ""))
    say(f"  firings by indicator ({largest} items): "
        + ", ".join(f"{k} {v}" for k, v in sorted(big["firings_by_indicator"].items(), key=lambda kv: -kv[1])))
    say(f"  severity raised by the calendar: {sum(big['severity_raised_by_calendar'].values())} firings")
    say(f"  target >= {TARGET_ITEMS_PER_S} items/s on one core: {'MET' if met['items_per_s'] else 'MISSED'} "
        f"({big['items_per_s']:,.0f}); memory flat (peak RSS growth <= {FLAT_TOLERANCE:.0%}): "
        f"{'MET' if met['memory_flat'] else 'MISSED'} ({growth:+.1%})")
    result = {"stream": {"items": largest, "bytes": nbytes, "item_chars": args.size, "generated_s": round(gen_s, 1),
                         "from": first, "to": last},
              "runs": {str(n): r for n, r in runs.items()}, "flatness_measure": key,
              "peak_rss_growth": round(growth, 4),
              "heap_peak_growth": round(heap_growth, 4) if heap_growth is not None else None, "targets": met}
    if (path := save("backtest", result, args)) is not None:
        say(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
