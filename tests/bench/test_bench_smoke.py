"""The benchmarks still run, at a tiny size. Their figures are not tested here (see bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(name: str, *options: str, results: Path) -> dict:
    """`python -m bench NAME -- OPTIONS` as `make bench` runs it, with the result JSON written to `results`."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench", name, "--", *options, "--results-dir", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return json.loads((results / f"{name}.json").read_text(encoding="utf-8"))


def test_discovery_finds_the_benches_and_skips_the_generator():
    out = subprocess.run([sys.executable, "-m", "bench", "--list"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert {"matching", "backtest"} <= set(out)
    assert "synthetic" not in out


def test_matching_bench(tmp_path):
    got = run_bench("matching", "--items", "200", "--reps", "1", "--indicators", "50", "--aliases", "500",
                    "--profile", "always", results=tmp_path)
    for name in ("default", "synthetic"):
        lib = got["libraries"][name]
        for stage in ("normalize", "bare_scan", "scan_item", "item_rules", "full", "full_quiet"):
            assert lib[stage]["items"] == 200 and lib[stage]["items_per_s"] > 0
        assert lib["workload"]["mean_candidate_rules"] > 0  # the items make rules get evaluated...
        assert lib["workload"]["firings"] > 0  # ...and some fire
        assert lib["workload"]["mean_touched_rules"] >= lib["workload"]["mean_candidate_rules"]
        assert lib["profile"]["by_own_time"]
    assert got["libraries"]["default"]["full_stream"]["items"] == 200
    assert got["libraries"]["synthetic"]["full_news"]["items"] == 200
    assert 0 < got["libraries"]["synthetic"]["items_firing_news"] < 1
    assert got["libraries"]["synthetic"]["library"]["aliases"] == 500
    assert got["libraries"]["synthetic"]["library"]["indicators"] == 50
    assert (tmp_path / "matching-profile-synthetic.txt").exists()


def test_backtest_bench(tmp_path):
    got = run_bench("backtest", "--items", "400", results=tmp_path)
    assert set(got["runs"]) == {"100", "200", "400"}
    run = got["runs"]["400"]
    assert run["items"] == 400 and run["firings"] > 0 and run["items_per_s"] > 0
    assert run["peak_rss_mb"] > 0
    assert run["from"].startswith("2020-01-01") and run["to"].startswith("2020-12-31")
