"""Loading a big schedule: ``timerctl check big.toml`` against a bare tomllib parse of it.

A generated 100,000-entry schedule (--entries) mixing every kind of entry a real file has:
``later``, numeric ``at``, ``soon``, repeating ones (``every``/``count``/``until``/``mode``/
``jitter``), names, args and ``kwargs`` inline tables. Three programs, each a whole process
(start-up included), interleaved and repeated, ratios taken per repeat:

- ``tomllib``: ``python -c "import tomllib; tomllib.load(open('big.toml', 'rb'))"``, the floor;
- ``check``: ``timerctl check big.toml`` (read, parse, check every entry, build the Calls);
- ``check, 1 error``: the same file with one bad entry at its end, which must be found, worded
  and located (``FILE:LINE:COL``) in about the time of the valid file.

Targets: check <= 0.25x tomllib; the error case <= 1.5x check; peak RSS reported for each.
``--profile`` adds a cProfile of one in-process ``load_text`` (where the Python time goes).

    python benchmarks/bench_load.py              # 100,000 entries, 3 repeats
    python benchmarks/bench_load.py --quick      # 10,000 entries, 5 repeats
    python benchmarks/bench_load.py --profile    # + where load_text spends it
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # write nothing into the repository, not even __pycache__

from _common import BIN, child_env, machine, median, run_child, spread, table  # noqa: E402

from timerctl.load import PARSER, load_text  # noqa: E402

BROKEN = '\n[[call]]\nsoon = true\ncallback = "echo"\nnme = "typo"\n'


def generate(n: int, *, inline_tables: bool = True) -> str:
    """n valid [[call]] entries, each kind in turn (``inline_tables`` adds ``kwargs = {...}``)."""
    parts = ['[run]\nloop = "asyncio"\n']
    for i in range(n):
        k = i % 5
        if k == 0:
            body = f'later = {i * 0.001:.3f}\ncallback = "echo"\nargs = ["later", {i}]\n'
        elif k == 1:
            body = (
                f'name = "named-{i}"\nat = {i * 0.001:.3f}\ncallback = "callback"\nargs = [{i}]\n'
            )
            if inline_tables:
                body += f'kwargs = {{ kwarg = "k{i}" }}\n'
        elif k == 2:
            body = 'soon = true\ncallback = "echo"\nargs = ["soon"]\n'
            if inline_tables:
                body += 'kwargs = { sep = ", " }\n'
        elif k == 3:
            body = (
                f'later = 0.5\nevery = 0.25\ncount = {i % 7 + 1}\nmode = "fixed-delay"\n'
                'callback = "echo"\nargs = ["tick"]\n'
            )
        else:
            body = (
                'at = 1.0\nevery = 0.1\nuntil = 30\njitter = 0.01\ncallback = "echo"\n'
                f'args = ["jit", {i}, 1.5, true]\n'
            )
        parts.append(f"[[call]]\n{body}")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="--entries 10000 --repeats 5")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    n = args.entries or (10_000 if args.quick else 100_000)
    repeats = args.repeats or (5 if args.quick else 3)

    with tempfile.TemporaryDirectory() as tmp:
        big, broken = Path(tmp, "big.toml"), Path(tmp, "broken.toml")
        text = generate(n)
        big.write_text(text)
        broken.write_text(text + BROKEN)
        print(
            f"{n:,} entries ({len(text) / 1e6:.1f} MB), parser {PARSER}; {repeats} "
            f"interleaved repeats; {machine()}"
        )
        env = child_env(str(Path(tmp, "pycache")))
        timerctl = str(BIN / "timerctl")
        programs = {
            "tomllib": (
                [sys.executable, "-c", f"import tomllib; tomllib.load(open({str(big)!r}, 'rb'))"],
                (0,),
            ),
            "check": ([timerctl, "check", str(big)], (0,)),
            "check, 1 error": ([timerctl, "check", str(broken)], (2,)),
        }
        run_child(programs["check"][0], env=env)  # warm: bytecode cached, files in page cache
        walls: dict[str, list[float]] = {name: [] for name in programs}
        rss: dict[str, list[float]] = {name: [] for name in programs}
        for rep in range(repeats):
            order = list(programs) if rep % 2 == 0 else list(reversed(programs))
            for name in order:
                argv, ok = programs[name]
                child = run_child(argv, env=env, ok=ok)
                walls[name].append(child.wall)
                rss[name].append(child.max_rss_mb)
                print(
                    f"  repeat {rep + 1}/{repeats} {name:<15} {child.wall:6.2f} s "
                    f"{child.max_rss_mb:6.0f} MB",
                    flush=True,
                )

    base = walls["tomllib"]
    rows = [
        [
            name,
            spread(ws, "{:.2f}"),
            spread([w / b for w, b in zip(ws, base, strict=True)], "{:.2f}x"),
            spread(rss[name], "{:.0f}"),
        ]
        for name, ws in walls.items()
    ]
    print()
    print(table(["program", "seconds", "vs tomllib", "peak RSS MB"], rows))
    check = median([w / b for w, b in zip(walls["check"], base, strict=True)])
    error = median([e / c for e, c in zip(walls["check, 1 error"], walls["check"], strict=True)])
    print(
        f"\ncheck = {check:.2f}x tomllib (target <= 0.25x); one error at the end = "
        f"{error:.2f}x the valid file (target <= 1.5x); medians of per-repeat ratios"
    )

    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(load_text, text, "bench.toml")
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("tottime").print_stats(12)
        print("\ncProfile of one load_text (by own time):")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
