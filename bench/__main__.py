"""Run the benchmarks: `python -m bench [NAME ...] [-- OPTIONS]`.

With no NAME, every module bench/NAME.py that defines `main()` runs (bench.synthetic, the data
generator, is not a bench). Each bench runs in its own Python process, one after the other, so one
bench's memory, CPU pinning or imports cannot colour another's figures. OPTIONS (after `--`, or after
the names) are passed to every bench that runs, e.g. `python -m bench matching -- --items 500`.

    python -m bench                      # all of them
    python -m bench matching backtest    # these two
    python -m bench --list               # what would run
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHES = {"__init__", "__main__", "synthetic"}


def discover() -> list[str]:
    """Names of bench modules: bench/*.py with a top-level `main` function (found without importing)."""
    names = []
    for path in sorted(HERE.glob("*.py")):
        if path.stem in NOT_BENCHES or path.stem.startswith("_"):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError) as e:
            print(f"bench: skipping {path.name}: {e}", file=sys.stderr)
            continue
        if any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "main" for n in tree.body):
            names.append(path.stem)
    return names


def run(name: str, options: list[str]) -> int:
    """One bench in a fresh interpreter: its main() sees OPTIONS as its command line."""
    code = (
        "import sys, inspect, asyncio\n"
        f"import bench.{name} as m\n"
        f"sys.argv = ['bench.{name}', *{options!r}]\n"
        "r = m.main()\n"
        "r = asyncio.run(r) if inspect.iscoroutine(r) else r\n"
        "sys.exit(r if isinstance(r, int) else 0)\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=HERE.parent, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    available = discover()
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        print("available:", " ".join(available))
        return 0
    if args[:1] == ["--list"]:
        print("\n".join(available))
        return 0
    names: list[str] = []
    while args and not args[0].startswith("-"):
        names.append(args.pop(0))
    if args[:1] == ["--"]:
        args.pop(0)
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"bench: unknown {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed = []
    for name in names or available:
        print(f"\n===== bench {name} " + "=" * max(0, 60 - len(name)), flush=True)
        t = time.perf_counter()
        code = run(name, args)
        print(f"===== bench {name}: {'ok' if code == 0 else f'FAILED (exit {code})'} "
              f"in {time.perf_counter() - t:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nbench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
