"""Truthful records: do `late` and `wall_time` agree with readings taken in the callback?

A plugin callback reads time.monotonic() (asyncio's loop.time() clock), time.perf_counter() and
time.time() first thing and returns them; the record's loop_time and wall_time are compared with
them. The gap is how long after timerctl's own reading the callback really started: what a
record's `late` leaves out. Target (issue 6, item 7): within 20 µs.

    /work/venv/bin/python benchmarks/bench_truth.py [--calls 2000] [--precision normal|high]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, percentile, table

PLUGIN = '''
import time
from timerctl import callback

@callback("truth")
def truth() -> list:
    """Independent clock readings, taken first thing in the callback."""
    return [time.monotonic(), time.time()]
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--precision", default="normal", choices=["normal", "high"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "truthplugin.py").write_text(PLUGIN)
        schedule = Path(tmp, "s.toml")
        schedule.write_text(
            f'[run]\nplugins = ["truthplugin"]\n[[call]]\nsoon = true\n'
            f'every = 0.001\ncount = {args.calls}\ncallback = "truth"\n'
        )
        out = subprocess.run(
            [
                str(BIN / "timerctl"),
                "run",
                str(schedule),
                "--format",
                "jsonl",
                "--precision",
                args.precision,
            ],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": tmp, "PATH": ""},
        ).stdout
    loop_gap, wall_gap = [], []
    for line in out.splitlines():
        event = json.loads(line)
        if event["event"] != "call":
            continue
        mono, wall = event["result"]
        loop_gap.append((mono - event["loop_time"]) * 1e6)
        wall_gap.append((wall - datetime.fromisoformat(event["wall_time"]).timestamp()) * 1e6)
    rows = []
    for label, gaps in (
        ("callback monotonic - loop_time", loop_gap),
        ("callback time.time - wall_time", wall_gap),
    ):
        s = sorted(gaps)
        rows.append(
            [
                label,
                f"{percentile(s, 50):.1f}",
                f"{percentile(s, 99):.1f}",
                f"{s[-1]:.1f}",
                f"{s[0]:.1f}",
            ]
        )
    print(
        table(
            [f"µs (n={len(loop_gap)}, precision {args.precision})", "p50", "p99", "max", "min"],
            rows,
        )
    )
    worst = max(percentile(sorted(loop_gap), 99), percentile(sorted(wall_gap), 99))
    print(f"\np99 gap {worst:.1f} µs (target <= 20 µs) -> {'PASS' if worst <= 20 else 'FAIL'}")


if __name__ == "__main__":
    main()
