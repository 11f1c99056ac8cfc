"""Matching throughput on ~1.5 KB news items, on one core, against the bare automaton scan (the floor).

Two libraries: (a) the default library in indicators/, (b) a synthetic one of 1,000 match indicators
over a gazetteer of 10,000 aliases, written with the real schema to a temporary folder and loaded with
the real loader and CompiledLibrary. For each, the same items go through:

  normalize     normalize() of title, summary and content (the folding cost alone)
  raw iter      pyahocorasick's Automaton.iter over the folded, joined text (C only; for reference)
  bare scan     Automaton.scan over the folded, joined text — the floor the targets compare with
  scan_item     normalize + scan + spans per term and entity (what rules read)
  item rules    Engine.process with windowed evaluation and scenario levels switched off
  full          Engine.process with a MemoryStore: per-item rules, hits stored, windowed rules, levels

and, over off-topic items (the same filler with no library vocabulary, what most of a feed is):

  bare scan quiet   the bare scan of those items
  full quiet        full matching of those items: the fixed cost per item

Targets (issue 2): full matching >= 2,000 items/s/core at 10,000 aliases, and within 3x of the bare
scan. When one is missed the bench profiles full matching (cProfile) and prints where the time goes.

    python -m bench matching [--items 2000] [--reps 5] [--indicators 1000] [--aliases 10000]
"""

from __future__ import annotations

import cProfile
import io
import itertools
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import DEFAULT_LIBRARY, one_core, paired_ratio, parser, save, say, summary, timed_together
from bench.synthetic import library_vocab, stream, wire_items, write_library

TARGET_ITEMS_PER_S = 2000
TARGET_RATIO = 3.0
WORKLOADS = {"quiet": "off-topic items", "stream": "a stretch of the backtest bench's year of news",
             "news": "items at the year stream's densities"}
NEWS_MENTIONS, NEWS_SIGNALS = 0.3, 0.06  # the year stream's: items mentioning library vocabulary, items firing
STREAM_FROM = 10_000


def _engine_classes():
    from app.matching.engine import Engine

    class ItemOnlyEngine(Engine):
        """Engine.process without the windowed part: no windowed evaluation, no scenario levels."""

        def _windows(self, at, fresh, due, out, all_levels=False) -> None:
            return None

    return Engine, ItemOnlyEngine


def load(root: Path):
    from app.matching.compiler import CompiledLibrary
    from app.matching.loader import load_library

    t = time.perf_counter()
    library = load_library(root)
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    lib = CompiledLibrary(library)
    t_compile = time.perf_counter() - t
    info = {
        "indicators": len(library.indicators), "entities": len(library.entities),
        "aliases": sum(len({e.name, *e.aliases}) for e in lib.entities.values()),
        "automaton_patterns": len(lib.automaton), "item_rules": len(lib.item_rules),
        "window_rules": len(lib.window_rules), "load_s": round(t_load, 3), "compile_s": round(t_compile, 3),
    }
    return library, lib, info


def measure(lib, items: list[dict], reps: int, others: dict[str, list[dict]] | None = None) -> dict:
    """Every stage over the same items, then bare scan and full matching over each other workload; medians of
    `reps` timed passes after a warm-up pass, the stages taken in turn (ratios are medians of per-pass ratios)."""
    from app.matching.engine import ItemInput
    from app.matching.normalize import normalize
    from app.matching.store import MemoryStore

    Engine, ItemOnlyEngine = _engine_classes()
    n = len(items)
    fields = [(it["title"], it["summary"], it["content"]) for it in items]
    joined = ["\n".join(normalize(t) for t in f) for f in fields]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    inputs = [ItemInput(f"i{i}", start + timedelta(minutes=10 * i), *f) for i, f in enumerate(fields)]
    automaton = lib.automaton
    raw = automaton._auto  # the pyahocorasick automaton inside, for the C-only reference figure

    def run_normalize():
        for t, s, c in fields:
            normalize(t), normalize(s), normalize(c)

    def run_raw():
        for text in joined:
            for _ in raw.iter(text):
                pass

    def run_scan():
        for text in joined:
            for _ in automaton.scan(text):
                pass

    def run_scan_item():
        for t, s, c in fields:
            lib.scan(t, s, c)

    def run_engine(cls):
        def go():
            engine = cls(lib, MemoryStore())
            for item in inputs:
                engine.process(item)
        return go

    stages = {
        "normalize": run_normalize, "raw_iter": run_raw, "bare_scan": run_scan, "scan_item": run_scan_item,
        "item_rules": run_engine(ItemOnlyEngine), "full": run_engine(Engine),
    }
    times = timed_together(stages, reps)
    out = {name: summary(t, n) for name, t in times.items()}
    for name, its in (others or {}).items():
        out.update(_scan_and_match(lib, its, name, reps))

    # what the items made the library do (one untimed pass)
    engine = Engine(lib, MemoryStore())
    occurrences, touched, candidates, firings, items_firing = [], [], [], Counter(), 0
    for item in inputs:
        scan = lib.scan(item.title, item.summary, item.content)
        occurrences.append(sum(len(v) for v in scan.terms.values()) + sum(len(v) for v in scan.entities.values()))
        touched.append(lib.gates.touched(lib.present_groups(scan)))
        candidates.append(len(lib.candidates(scan)))
        got = engine.process(item).firings
        items_firing += bool(got)
        firings.update(f.indicator_id for f, _ in got)
    out["workload"] = {
        "items": n, "mean_chars": round(statistics.mean(sum(map(len, f)) for f in fields)),
        "arabic_items": sum(any("\u0600" <= ch <= "\u06ff" for ch in f[0] + f[1]) for f in fields),
        "mean_term_and_alias_occurrences": round(statistics.mean(occurrences), 1),
        "mean_touched_rules": round(statistics.mean(touched), 1),
        "mean_candidate_rules": round(statistics.mean(candidates), 1),
        "max_candidate_rules": max(candidates), "items_with_firings": items_firing,
        "firings": sum(firings.values()), "distinct_indicators_fired": len(firings),
    }
    bare = times["bare_scan"]
    out["ratio_full_to_bare_scan"] = paired_ratio(times["full"], bare)
    out["ratio_full_to_normalize_plus_scan"] = paired_ratio(
        times["full"], [b + f for b, f in zip(bare, times["normalize"], strict=True)])
    out["ratio_item_rules_to_bare_scan"] = paired_ratio(times["item_rules"], bare)
    return out


def _scan_and_match(lib, items: list[dict], name: str, reps: int) -> dict:
    """Another workload: its bare scan, its full matching, their ratio and how many of its items fire."""
    from app.matching.engine import Engine, ItemInput
    from app.matching.normalize import normalize
    from app.matching.store import MemoryStore

    start = datetime(2020, 1, 1, tzinfo=UTC)
    inputs = [ItemInput(f"{name}{i}", _published(it) or start + timedelta(minutes=10 * i), it["title"],
                        it["summary"], it["content"]) for i, it in enumerate(items)]
    joined = ["\n".join(normalize(t) for t in (i.title, i.summary, i.content)) for i in inputs]

    def run_scan():
        for text in joined:
            for _ in lib.automaton.scan(text):
                pass

    def run_full():
        engine = Engine(lib, MemoryStore())
        return sum(bool(engine.process(item).firings) for item in inputs)

    times = timed_together({"bare": run_scan, "full": run_full}, reps)
    return {f"bare_scan_{name}": summary(times["bare"], len(items)), f"full_{name}": summary(times["full"], len(items)),
            f"ratio_{name}": paired_ratio(times["full"], times["bare"]),
            f"items_firing_{name}": round(run_full() / len(items), 3)}


def _published(item: dict) -> datetime | None:
    return datetime.fromisoformat(item["published"].replace("Z", "+00:00")) if item.get("published") else None


def profile(lib, items: list[dict], top: int = 25) -> dict:
    """cProfile of full matching: the functions holding the most own time and most cumulative time."""
    from app.matching.engine import Engine, ItemInput
    from app.matching.store import MemoryStore

    start = datetime(2020, 1, 1, tzinfo=UTC)
    inputs = [ItemInput(f"i{i}", start + timedelta(minutes=10 * i), it["title"], it["summary"], it["content"])
              for i, it in enumerate(items)]
    engine = Engine(lib, MemoryStore())
    prof = cProfile.Profile()
    prof.enable()
    for item in inputs:
        engine.process(item)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]

    def rows(key: int) -> list[dict]:
        entries = sorted(stats.stats.items(), key=lambda kv: kv[1][key], reverse=True)[:top]  # type: ignore[attr-defined]
        out = []
        for (path, line, fn), (_cc, ncalls, tt, ct, _callers) in entries:
            short = path.split("/site-packages/")[-1].replace(str(Path.cwd()) + "/", "")
            out.append({"function": f"{short}:{line}({fn})", "calls": ncalls, "own_s": round(tt, 4),
                        "own_share": round(tt / total, 3), "cum_s": round(ct, 4), "cum_share": round(ct / total, 3)})
        return out

    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    return {"total_s": round(total, 4), "items": len(items), "by_own_time": rows(2), "by_cumulative_time": rows(3),
            "pstats": text.getvalue()}


def _print_profile(p: dict, k: int = 12) -> None:
    say(f"    profile of full matching ({p['items']} items, {p['total_s']:.2f} s under cProfile):")
    say("      own time:")
    for r in p["by_own_time"][:k]:
        say(f"        {r['own_share']:6.1%}  {r['calls']:>9}  {r['function']}")
    say("      cumulative:")
    for r in p["by_cumulative_time"][:k]:
        say(f"        {r['cum_share']:6.1%}  {r['calls']:>9}  {r['function']}")


def _report(name: str, info: dict, res: dict, cpu: int | None) -> None:
    w = res["workload"]
    say(f"\n[{name}] {info['indicators']} indicators, {info['entities']} entities, {info['aliases']} aliases, "
        f"{info['automaton_patterns']} automaton patterns (load {info['load_s']} s, compile {info['compile_s']} s)")
    say(f"  {w['items']} items, mean {w['mean_chars']} chars ({w['arabic_items']} Arabic); per item "
        f"{w['mean_term_and_alias_occurrences']} term/alias occurrences, {w['mean_touched_rules']} rules with a "
        f"gate requirement met, {w['mean_candidate_rules']} with a gate open and evaluated "
        f"(max {w['max_candidate_rules']}); "
        f"{w['items_with_firings']} items fired, {w['firings']} firings of "
        f"{w['distinct_indicators_fired']} indicators")
    say(f"  {'stage':<16} {'items/s':>10} {'us/item':>9} {'items/cpu-s':>12}   "
        f"(median of {res['full']['reps']}, one core: cpu {cpu})")
    others = [k[len("ratio_"):] for k in res if k.startswith("ratio_") and k[len("ratio_"):] in WORKLOADS]
    stages = ["normalize", "raw_iter", "bare_scan", "scan_item", "item_rules", "full"]
    for stage in stages + [f"{kind}_{w}" for w in others for kind in ("bare_scan", "full")]:
        if (s := res.get(stage)) is not None:
            say(f"  {stage:<16} {s['items_per_s']:>10,.0f} {s['us_per_item']:>9.1f} {s['items_per_cpu_s']:>12,.0f}")
    say(f"  full / bare scan = {res['ratio_full_to_bare_scan']}x; full / (normalize + bare scan) = "
        f"{res['ratio_full_to_normalize_plus_scan']}x; item rules / bare scan = "
        f"{res['ratio_item_rules_to_bare_scan']}x")
    for w in others:
        say(f"  {WORKLOADS[w]} ({res[f'items_firing_{w}']:.1%} of items fire): full / bare scan = {res[f'ratio_{w}']}x")


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=2000, help="items per pass (default 2000)")
    p.add_argument("--reps", type=int, default=5, help="timed passes per stage; the median is reported")
    p.add_argument("--size", type=int, default=1500, help="approximate characters per item")
    p.add_argument("--indicators", type=int, default=1000, help="indicators of the synthetic library")
    p.add_argument("--aliases", type=int, default=10_000, help="gazetteer aliases of the synthetic library")
    p.add_argument("--library", type=Path, default=DEFAULT_LIBRARY, help="the 'default' library folder")
    p.add_argument("--only", choices=["default", "synthetic"], help="run one of the two libraries")
    p.add_argument("--profile", choices=["auto", "always", "never"], default="auto",
                   help="cProfile full matching when a target is missed (auto), always or never")
    args = p.parse_args(argv)

    results: dict = {"items": args.items, "reps": args.reps, "item_chars": args.size, "libraries": {}}
    with one_core() as cpu, tempfile.TemporaryDirectory(prefix="watchfloor-bench-") as tmp:
        say(f"matching bench: one core (cpu {cpu} of {os.cpu_count()} logical), "
            f"{args.items} items x {args.reps} reps")
        runs = []
        if args.only in (None, "default"):
            runs.append(("default", args.library, None))
        if args.only in (None, "synthetic"):
            t = time.perf_counter()
            syn = write_library(Path(tmp) / "library", indicators=args.indicators, aliases=args.aliases,
                                seed=args.seed + 6)
            gen = {"written_s": round(time.perf_counter() - t, 2), "roles": syn.roles, "literal_terms": syn.terms}
            runs.append(("synthetic", syn.root, gen))
        for name, root, gen in runs:
            library, lib, info = load(root)
            if gen:
                info["generated"] = gen
            vocab = library_vocab(library)
            items = wire_items(args.items, vocab, seed=args.seed, size=args.size)
            others = {"quiet": wire_items(args.items, vocab, seed=args.seed + 1, size=args.size, mentions_per_item=0,
                                          signal_share=0, negative_share=0)}
            if name == "default":  # the backtest bench's year of news (written for the default library), at its
                # density of 100,000 items a year; a stretch from February on, after the episodes' warm-up
                others["stream"] = list(itertools.islice(stream(100_000, library, size=args.size),
                                                         STREAM_FROM, STREAM_FROM + args.items))
            else:  # no year of news is written for this library: the stream's densities, in independent items
                others["news"] = wire_items(args.items, vocab, seed=args.seed + 2, size=args.size,
                                            mention_share=NEWS_MENTIONS, signal_share=NEWS_SIGNALS,
                                            negative_share=NEWS_SIGNALS / 2)
            res = measure(lib, items, args.reps, others)
            _report(name, info, res, cpu)
            met = {"items_per_s": res["full"]["items_per_s"] >= TARGET_ITEMS_PER_S,
                   "within_3x_of_bare_scan": res["ratio_full_to_bare_scan"] <= TARGET_RATIO}
            if name == "synthetic":
                say(f"  target >= {TARGET_ITEMS_PER_S} items/s/core at {info['aliases']} aliases: "
                    f"{'MET' if met['items_per_s'] else 'MISSED'} ({res['full']['items_per_s']:,.0f}); "
                    f"within {TARGET_RATIO:g}x of bare scan: {'MET' if met['within_3x_of_bare_scan'] else 'MISSED'} "
                    f"({res['ratio_full_to_bare_scan']}x)")
            wall, cpu_rate = res["full"]["items_per_s"], res["full"]["items_per_cpu_s"]
            if cpu_rate and wall < 0.85 * cpu_rate:
                say(f"  note: the core was shared (load average {os.getloadavg()[0]:.1f}): full matching used "
                    f"{cpu_rate:,.0f} items per CPU-second against {wall:,.0f} items per wall-second")
            entry = {"library": info, **res, "targets": met,
                     "load_average_after": [round(x, 2) for x in os.getloadavg()]}
            if args.profile == "always" or (args.profile == "auto" and not all(met.values())):
                prof = profile(lib, items)
                _print_profile(prof)
                if not args.no_save:
                    args.results_dir.mkdir(parents=True, exist_ok=True)
                    (args.results_dir / f"matching-profile-{name}.txt").write_text(prof["pstats"])
                entry["profile"] = {k: v for k, v in prof.items() if k != "pstats"}
            results["libraries"][name] = entry
            del lib, library
        results["cpu"] = cpu
    if (path := save("matching", results, args)) is not None:
        say(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
