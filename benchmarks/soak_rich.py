"""Soak of the rich view's memory on an endless ``every``: peak RSS after N and 2N virtual calls.

The rich view keeps what its summary needs of every call (the histogram, the timeline). It
must stay flat: it keeps every point of the first 100,000 calls, then bins. Each size runs
``timerctl run endless.toml --clock virtual --timeout N --format rich`` (into /dev/null:
records drawn as text, every summary structure kept) and reads the child's peak RSS; the
growth per call between the sizes is the figure (before the fix: ~20 bytes a call).

    python benchmarks/soak_rich.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, run_child, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        schedule = Path(tmp, "endless.toml")
        schedule.write_text(
            '[[call]]\nname = "tick"\nsoon = true\nevery = 0.001\n'
            'callback = "echo"\nargs = ["tick"]\n'
        )
        rows, rss = [], []
        for calls in (args.calls, 2 * args.calls):
            run = run_child(
                [
                    str(BIN / "timerctl"),
                    "run",
                    str(schedule),
                    "--clock",
                    "virtual",
                    "--timeout",
                    str(calls / 1000),
                    "--format",
                    "rich",
                ]
            )
            rss.append(run.max_rss_mb)
            rows.append([f"{calls:,}", f"{run.max_rss_mb:.1f}", f"{run.wall:.1f}"])
        print(table(["calls", "peak RSS MB", "wall s"], rows))
        per_call = (rss[1] - rss[0]) * 1024 * 1024 / args.calls
        print(
            f"growth: {per_call:.2f} bytes a call between {args.calls:,} and "
            f"{2 * args.calls:,} calls"
        )
        ok = per_call < 2
        print(f"{'PASS' if ok else 'FAIL'}: flat (< 2 bytes a call)")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
