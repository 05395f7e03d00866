"""Rendering never makes a call late: lateness per output format against jsonl > /dev/null.

Each format runs the same schedule (a tick every 100 µs, 10,000 calls a second) with
``--record FILE``, and lateness is read from the record file, so every format is measured the
same way. ``rich (tty)`` runs on a pseudo-terminal with the live footer, as a person would watch
it (there a display process of its own draws: its CPU time is in the "CPU s" column, which is
timerctl's and its children's, user + system). Interleaved repeats; the ratio is each format's
p50/p99 over the jsonl run of the same repeat. Target (issue 6, item 3): within 1.2x of
jsonl > /dev/null.

    /work/venv/bin/python benchmarks/bench_render.py [--seconds 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, median, percentile, spread, table

FORMATS = ("jsonl", "plain", "rich", "rich (tty)")


def run(fmt: str, schedule: Path, record: Path) -> tuple[list[float], float]:
    """The sorted lateness of every call, and the CPU seconds the run took."""
    argv = [str(BIN / "timerctl"), "run", str(schedule), "--record", str(record)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if fmt == "rich (tty)":
        env["TERM"] = "xterm-256color"
        env["COLUMNS"], env["LINES"] = "120", "40"
        pid, fd = pty.fork()
        if pid == 0:  # the child: stdout and stderr are the pseudo-terminal
            os.execve(argv[0], [*argv, "--format", "rich"], env)
        while True:  # drain the terminal as a terminal emulator would
            try:
                if not os.read(fd, 65536):
                    break
            except OSError:
                break
        os.close(fd)
    else:
        with open(os.devnull, "w") as null:
            pid = subprocess.Popen([*argv, "--format", fmt], stdout=null, env=env).pid
    _, _, usage = os.wait4(pid, 0)  # its own and its (waited-for) children's
    late = []
    for line in record.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "call":
            late.append(event["late"])
    return sorted(late), usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    count = int(args.seconds * 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        schedule = Path(tmp) / "tick.toml"
        schedule.write_text(
            f'[[call]]\nname = "tick"\nsoon = true\nevery = 0.0001\n'
            f'count = {count}\ncallback = "echo"\nargs = ["tick"]\n'
        )
        results: dict[str, list[tuple[float, float, int, float]]] = {f: [] for f in FORMATS}
        ratios: dict[str, list[tuple[float, float]]] = {f: [] for f in FORMATS}
        for repeat in range(args.repeats):
            order = FORMATS if repeat % 2 == 0 else tuple(reversed(FORMATS))
            this: dict[str, tuple[float, float, int, float]] = {}
            for fmt in order:
                late, cpu = run(fmt, schedule, Path(tmp) / "rec.jsonl")
                this[fmt] = (percentile(late, 50) * 1e6, percentile(late, 99) * 1e6, len(late), cpu)
                print(
                    f"  repeat {repeat + 1}/{args.repeats} {fmt:<11} p50 {this[fmt][0]:8.1f} µs"
                    f"  p99 {this[fmt][1]:9.1f} µs  calls {this[fmt][2]}  CPU {cpu:.2f} s",
                    flush=True,
                )
            for fmt in FORMATS:
                results[fmt].append(this[fmt])
                base = this["jsonl"]
                ratios[fmt].append((this[fmt][0] / base[0], this[fmt][1] / base[1]))
    rows = []
    for fmt in FORMATS:
        rows.append(
            [
                fmt,
                spread([r[0] for r in results[fmt]]),
                spread([r[1] for r in results[fmt]]),
                spread([r[0] for r in ratios[fmt]], "{:.2f}x"),
                spread([r[1] for r in ratios[fmt]], "{:.2f}x"),
                str(results[fmt][0][2]),
                spread([r[3] for r in results[fmt]], "{:.2f}"),
            ]
        )
    print()
    print(
        table(
            [
                "format",
                "late p50 µs",
                "late p99 µs",
                "p50 vs jsonl",
                "p99 vs jsonl",
                "calls",
                "CPU s",
            ],
            rows,
        )
    )
    worst = max(median([r[1] for r in ratios[f]]) for f in FORMATS)
    print(
        f"\nworst p99 ratio: {worst:.2f}x (target <= 1.2x) -> {'PASS' if worst <= 1.2 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
