"""Calls per second and memory: ``timerctl run --format jsonl`` vs a bare asyncio script.

Two generated schedules, both due within one second so the loop is always behind and the
measure is throughput, not waiting:

- ``every``: one entry, ``every = 1 µs``, ``count = N`` (1,000,000 by default): a fixed-rate
  chain, one pending timer at a time.
- ``entries``: M separate ``[[call]]`` entries (``later = i/M``), all pending at once: the cost of
  loading and holding many timers. M defaults to 100,000 (--entries): a million-entry file is
  ~60 MB of TOML. A file the loader refuses (it caps sizes) is reported, not measured.

The baseline is the same job with no framework: it reads the file with tomllib, schedules the
same calls with ``call_at`` (fixed rate: due = first + k*every), calls the same ``echo``, and
writes the same JSON Lines (same keys, one flush per record as SPEC §4 requires) to the same
/dev/null. Each program is a child process launched through the installed entry point; wall
time, CPU time and peak RSS come from that child's own rusage (os.wait4). Contenders alternate,
repeated; ratios are taken within each repeat.

    /work/venv/bin/python benchmarks/bench_throughput.py                # N = 1,000,000, 3 repeats
    /work/venv/bin/python benchmarks/bench_throughput.py --quick        # N = 100,000, M = 20,000
    /work/venv/bin/python benchmarks/bench_throughput.py --n 200000 --entries 50000 --repeats 5
    /work/venv/bin/python benchmarks/bench_throughput.py --quick --profile  # + where the time goes
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # write nothing into the repository, not even __pycache__

from _common import (  # noqa: E402
    BIN,
    ChildFailed,
    ChildRun,
    child_env,
    machine,
    median,
    run_child,
    spread,
    table,
)

BARE = r'''
"""The same job as `timerctl run FILE --format jsonl`, in plain asyncio."""
import asyncio, json, sys, time, tomllib
from datetime import datetime

dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def iso(ts):
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="microseconds")


def pct(values, q):
    return values[max(1, -(-q * len(values) // 100)) - 1] if values else None


async def run(path, calls):
    loop = asyncio.get_running_loop()
    out = sys.stdout
    t0, wall_t0 = loop.time(), time.time()
    out.write(dumps({"event": "start", "schedule": path, "loop_impl": "asyncio", "clock": "real",
                     "loop_t0": t0, "wall_t0": iso(wall_t0), "clock_resolution": 1e-9,
                     "calls": len(calls), "speed": 1.0}) + "\n")
    out.flush()
    done = loop.create_future()
    late = []
    state = {"seq": 0, "pending": 0}

    def fire(name, kind, args, n, due, first, every, count):
        now = loop.time()
        wall = time.time()
        if every and n < count:
            state["pending"] += 1
            loop.call_at(first + n * every, fire, name, kind, args, n + 1,
                         first + n * every, first, every, count)
        result = " ".join(str(a) for a in args)
        state["seq"] += 1
        late.append(now - due)
        out.write(dumps({"event": "call", "seq": state["seq"], "entry": name, "kind": kind,
                         "callback": "echo", "args": args, "kwargs": {}, "n": n, "due": due,
                         "loop_time": now, "t": now - t0, "wall_time": iso(wall),
                         "late": now - due, "duration": loop.time() - now,
                         "result": result}) + "\n")
        out.flush()
        state["pending"] -= 1
        if not state["pending"]:
            done.set_result(None)

    for i, c in enumerate(calls, 1):
        due = t0 + c["later"]
        state["pending"] += 1
        loop.call_at(due, fire, c.get("name", f"later#{i}"), "later", c.get("args", []), 1,
                     due, due, c.get("every"), c.get("count", 1))
    await done
    late.sort()
    out.write(dumps({"event": "end", "reason": "done", "calls": state["seq"], "failed": 0,
                     "cancelled": 0, "late_p50": pct(late, 50), "late_p99": pct(late, 99),
                     "late_max": late[-1], "duration": loop.time() - t0,
                     "exit_code": 0}) + "\n")
    out.flush()


path = sys.argv[1]
with open(path, "rb") as f:
    doc = tomllib.load(f)
asyncio.run(run(path, doc["call"]))
'''

PROFILE = r'''
"""cProfile one `timerctl run FILE --format jsonl --clock real`, output to /dev/null."""
import cProfile, io, os, pstats, sys
from timerctl.cli import main

devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
sys.argv = ["timerctl", "run", sys.argv[1], "--format", "jsonl", "--clock", "real"]
prof = cProfile.Profile()
try:
    prof.runcall(main)
except SystemExit:
    pass
out = io.StringIO()
stats = pstats.Stats(prof, stream=out)
stats.sort_stats("tottime").print_stats(16)
stats.sort_stats("cumulative").print_stats("timerctl", 16)
sys.stderr.write("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
'''


def write_every(path: Path, n: int) -> None:
    path.write_text(
        f'[[call]]\nname = "tick"\nlater = 0\nevery = 0.000001\ncount = {n}\n'
        'callback = "echo"\nargs = ["tick", 1]\n'
    )


def write_entries(path: Path, m: int) -> None:
    with path.open("w") as f:
        for i in range(m):
            f.write(f'[[call]]\nlater = {i / m:.9f}\ncallback = "echo"\nargs = ["e", {i}]\n\n')


def check_output(path: Path, prog: str, case: str, calls: int) -> None:
    """Both programs must have made every call; other events (timerctl may add some) are shown."""
    counts: dict[str, int] = {}
    with path.open("rb") as f:
        for line in f:
            event = (
                line[10 : line.index(b'"', 10)].decode() if line.startswith(b'{"event":"') else "?"
            )
            counts[event] = counts.get(event, 0) + 1
    if counts.get("call") != calls:
        raise SystemExit(
            f"{prog} on {case}: {counts.get('call', 0)} call records, expected {calls}"
        )
    extra = {k: v for k, v in counts.items() if k not in ("start", "call", "end")}
    if extra:
        print(f"  note: {prog} on {case} also wrote {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=None, help="calls of the `every` entry")
    parser.add_argument("--entries", type=int, default=None, help="entries of the N-entry file")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="--n 100000 --entries 20000")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then cProfile timerctl on both schedules (in a child process)",
    )
    args = parser.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    m = args.entries or (20_000 if args.quick else 100_000)
    timerctl = str(BIN / "timerctl")
    print(
        f"every: {n:,} calls; entries: {m:,} entries; {args.repeats} interleaved repeats; "
        f"{machine()}"
    )

    with tempfile.TemporaryDirectory(prefix="timerctl-bench-") as tmp:
        d = Path(tmp)
        env = child_env(str(d / "pycache"))  # start as an installed package would
        bare = d / "bare.py"
        bare.write_text(BARE)
        every, entries = d / "every.toml", d / "entries.toml"
        write_every(every, n)
        write_entries(entries, m)
        cases = {"every": (every, n), "entries": (entries, m)}
        programs = {
            "timerctl": lambda p: [timerctl, "run", str(p), "--format", "jsonl", "--clock", "real"],
            "bare asyncio": lambda p: [sys.executable, str(bare), str(p)],
        }
        # sanity: both print the same number of lines (and timerctl accepts the file at all)
        for case, (path, calls) in list(cases.items()):
            for prog, argv in programs.items():
                with (d / "out.jsonl").open("wb") as out:
                    try:
                        run_child(argv(path), stdout=out.fileno(), env=env)
                    except ChildFailed as exc:
                        print(f"  {case}: {prog} failed, case skipped: {exc.stderr.strip()}")
                        del cases[case]
                        break
                check_output(d / "out.jsonl", prog, case, calls)
        results: dict[tuple[str, str], list[ChildRun]] = {
            (c, p): [] for c in cases for p in programs
        }
        for rep in range(args.repeats):
            for case, (path, _) in cases.items():
                order = list(programs) if rep % 2 == 0 else list(reversed(programs))
                for prog in order:
                    r = run_child(programs[prog](path), env=env)
                    results[case, prog].append(r)
                    print(
                        f"  repeat {rep + 1}/{args.repeats} {case:<8} {prog:<13} "
                        f"wall {r.wall:7.2f} s  cpu {r.cpu:7.2f} s  "
                        f"max RSS {r.max_rss_mb:7.1f} MB",
                        flush=True,
                    )

    rows = []
    for case, (_, calls) in cases.items():
        base = results[case, "bare asyncio"]
        for prog in programs:
            runs = results[case, prog]
            rows.append(
                [
                    f"{case} ({calls:,} calls)" if prog == "timerctl" else "",
                    prog,
                    spread([r.wall for r in runs], "{:.2f}"),
                    spread([calls / r.wall / 1000 for r in runs], "{:.0f}"),
                    spread([r.max_rss_mb for r in runs], "{:.0f}"),
                    spread([r.wall / b.wall for r, b in zip(runs, base, strict=True)], "{:.2f}x"),
                    spread(
                        [r.max_rss_mb / b.max_rss_mb for r, b in zip(runs, base, strict=True)],
                        "{:.2f}x",
                    ),
                ]
            )
    print()
    print(
        table(
            [
                "schedule",
                "program",
                "wall s",
                "k calls/s",
                "max RSS MB",
                "wall vs bare",
                "RSS vs bare",
            ],
            rows,
        )
    )
    for case in cases:
        t = median([r.wall for r in results[case, "timerctl"]])
        b = median([r.wall for r in results[case, "bare asyncio"]])
        print(f"{case}: timerctl {t / b:.2f}x the bare script's wall time (median of medians)")
    if args.profile:
        profile(n, m)


def profile(n: int, m: int) -> None:
    """Where `timerctl run` spends its time on each schedule (cProfile slows it ~2x)."""
    with tempfile.TemporaryDirectory(prefix="timerctl-bench-") as tmp:
        d = Path(tmp)
        script = d / "prof_timerctl.py"
        script.write_text(PROFILE)
        every, entries = d / "every.toml", d / "entries.toml"
        write_every(every, n)
        write_entries(entries, m)
        for case, path in (("every", every), ("entries", entries)):
            print(f"\n== cProfile: timerctl run {case}.toml --format jsonl > /dev/null ==")
            proc = subprocess.run(
                [sys.executable, str(script), str(path)],
                capture_output=True,
                text=True,
                env=child_env(str(d / "pycache")),
            )
            print(proc.stderr)


if __name__ == "__main__":
    main()
