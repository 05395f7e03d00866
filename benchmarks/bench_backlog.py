"""A slow reader never makes a call late: lateness into a reader taking 6 ms a line, against
jsonl > /dev/null.

The schedule is a tick every 2 ms (500 calls a second) for 2 s; the reader reads one line every
6 ms (167 a second), so stdout falls behind by ~330 records a second and the pipe (64 KiB) is
full after a fraction of a second: from there every record waits in timerctl's writer queue.
Lateness is read from ``--record FILE`` (complete whatever stdout does), so both runs are
measured the same way. Interleaved repeats; the ratio is the slow-reader run's p50/p99 over
the /dev/null run of the same repeat. Target (issue 14): within 1.2x. Also reported: how long
the run took (calls stay on time; the reader still gets every record after them).

    python benchmarks/bench_backlog.py [--seconds 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, median, percentile, spread, table

READER = """\
import sys, time
n = 0
for line in sys.stdin:
    time.sleep(0.006)
    n += 1
print(n, file=sys.stderr)
"""


def run(slow: bool, schedule: Path, record: Path, reader: Path) -> tuple[list[float], float, int]:
    """Sorted lateness of every call, the run's loop duration, and lines the reader got."""
    argv = [
        str(BIN / "timerctl"),
        "run",
        str(schedule),
        "--format",
        "jsonl",
        "--record",
        str(record),
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    got = -1
    if slow:
        read = subprocess.Popen(
            [sys.executable, str(reader)], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        subprocess.run(argv, stdout=read.stdin, env=env, check=False)
        assert read.stdin is not None and read.stderr is not None
        read.stdin.close()
        got = int(read.stderr.read().strip() or -1)
        read.wait()
    else:
        with open(os.devnull, "w") as null:
            subprocess.run(argv, stdout=null, env=env, check=False)
    late, duration = [], 0.0
    for line in record.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "call":
            late.append(event["late"])
        elif event["event"] == "end":
            duration = event["duration"]
    return sorted(late), duration, got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    count = int(args.seconds * 500)
    with tempfile.TemporaryDirectory() as tmp:
        schedule = Path(tmp, "s.toml")
        schedule.write_text(
            f'[[call]]\nname = "tick"\nlater = 0.01\nevery = 0.002\n'
            f'count = {count}\ncallback = "echo"\nargs = ["tick"]\n'
        )
        reader = Path(tmp, "reader.py")
        reader.write_text(READER)
        record = Path(tmp, "rec.jsonl")
        rows: dict[str, list[tuple[float, float, float, int]]] = {"/dev/null": [], "6 ms/line": []}
        ratios50: list[float] = []
        ratios99: list[float] = []
        for _ in range(args.repeats):
            base = None
            for name in rows:
                start = time.perf_counter()
                late, duration, got = run(name != "/dev/null", schedule, record, reader)
                _ = time.perf_counter() - start
                p50, p99 = percentile(late, 50) * 1e6, percentile(late, 99) * 1e6
                rows[name].append((p50, p99, duration, got))
                if base is None:
                    base = (p50, p99)
                else:
                    ratios50.append(p50 / base[0])
                    ratios99.append(p99 / base[1])
        out = []
        for name, runs in rows.items():
            out.append(
                [
                    name,
                    spread([r[0] for r in runs]),
                    spread([r[1] for r in runs]),
                    spread([r[2] for r in runs], "{:.3f}"),
                    "-" if runs[0][3] < 0 else f"{min(r[3] for r in runs)}/{count + 2}",
                ]
            )
        print(
            f"{count} calls, one every 2 ms; lateness in µs, median [min-max] of "
            f"{args.repeats} repeats"
        )
        print(table(["stdout", "p50 µs", "p99 µs", "run s", "lines read"], out))
        print(
            f"slow reader / null: p50 {spread(ratios50, '{:.2f}')}x, "
            f"p99 {spread(ratios99, '{:.2f}')}x"
        )
        ok = median(ratios50) <= 1.2 and median(ratios99) <= 1.2
        print(f"{'PASS' if ok else 'FAIL'}: within 1.2x of > /dev/null (median ratios)")


if __name__ == "__main__":
    main()
