"""Start-up: ``timerctl run tiny.toml --format jsonl`` vs the bare imports it cannot avoid.

The floor is ``python -c "import asyncio, tomllib, click"``: any timerctl run needs an event
loop, a TOML parser and its CLI library, so the target is at most 1.3x that. Both go through
the venv's own interpreter (a version-manager shim adds ~100 ms) and timerctl through its
installed entry point. Runs alternate, ~20 each; the ratio is taken per pair, then the median.
Also shown, for scale: ``python -c pass``, ``timerctl --help`` and ``timerctl --version``.

Two settings, both shown: "bytecode cached" (PYTHONPYCACHEPREFIX in a temp dir: how an
installed package starts, pip writes .pyc files at install) and "compiled at every start"
(PYTHONDONTWRITEBYTECODE=1, as the dev machines are configured: with the editable install, every
start compiles timerctl from source). Neither writes a __pycache__ into the repository.

    /work/venv/bin/python benchmarks/bench_startup.py              # 20 pairs
    /work/venv/bin/python benchmarks/bench_startup.py --runs 40
    /work/venv/bin/python benchmarks/bench_startup.py --importtime # + top imports of a run
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # write nothing into the repository, not even __pycache__

from _common import (  # noqa: E402
    BIN,
    child_env,
    machine,
    median,
    run_child,
    spread,
    stale_pycache,
    table,
)

TINY = '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["hello"]\n'
FLOOR = "import asyncio, tomllib, click"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--importtime",
        action="store_true",
        help="print the slowest imports of one `timerctl run` (-X importtime)",
    )
    args = parser.parse_args()
    timerctl = str(BIN / "timerctl")
    print(f"{args.runs} interleaved runs each; {machine()}")
    with tempfile.TemporaryDirectory(prefix="timerctl-bench-") as tmp:
        tiny = Path(tmp) / "tiny.toml"
        tiny.write_text(TINY)
        commands = {
            "timerctl run tiny.toml --format jsonl": [
                timerctl,
                "run",
                str(tiny),
                "--format",
                "jsonl",
            ],
            f'python -c "{FLOOR}"': [sys.executable, "-c", FLOOR],
            'python -c "pass"': [sys.executable, "-c", "pass"],
            "timerctl --help": [timerctl, "--help"],
            "timerctl --version": [timerctl, "--version"],
        }
        settings = {
            "bytecode cached": child_env(str(Path(tmp) / "pycache")),
            "compiled at every start": child_env("", compile_every_start=True),
        }
        names = list(commands)
        for setting, env in settings.items():
            for argv in commands.values():  # warm the page cache and write the .pyc files
                run_child(argv, env=env)
            walls: dict[str, list[float]] = {name: [] for name in commands}
            for i in range(args.runs):
                order = names if i % 2 == 0 else list(reversed(names))
                for name in order:
                    walls[name].append(run_child(commands[name], env=env).wall * 1000)

            run_name, floor_name = names[0], names[1]
            ratios = [a / b for a, b in zip(walls[run_name], walls[floor_name], strict=True)]
            floor = median(walls[floor_name])
            rows = [
                [name, spread(walls[name]), f"{median(walls[name]) / floor:.2f}x"] for name in names
            ]
            note = (
                "PYTHONDONTWRITEBYTECODE=1"
                if "PYTHONDONTWRITEBYTECODE" in env
                else "PYTHONPYCACHEPREFIX=<tmp>"
            )
            if "PYTHONDONTWRITEBYTECODE" in env and stale_pycache():
                note += "; but timerctl/__pycache__ exists in the repo and is read"
            print(f"\n{setting} ({note}):")
            print(table(["command", "wall ms", "vs floor"], rows))
            verdict = "PASS" if median(ratios) <= 1.3 else "FAIL"
            print(
                f"{verdict}  timerctl run / floor = {spread(ratios, '{:.2f}x')} "
                "(median of per-pair ratios, target <= 1.3x)"
            )

        if args.importtime:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-X",
                    "importtime",
                    "-c",
                    "import sys; from timerctl.cli import main; "
                    f"sys.argv = ['timerctl', 'run', {str(tiny)!r}, '--format', "
                    "'jsonl']; main()",
                ],
                capture_output=True,
                text=True,
                env=settings["bytecode cached"],
            )
            rows_it = []
            for line in proc.stderr.splitlines():
                m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
                if m and len(m.group(3)) <= 3:  # top-level and direct children only
                    rows_it.append((int(m.group(2)), m.group(4)))
            rows_it.sort(reverse=True)
            print("\nslowest imports of `timerctl run` (cumulative µs, top levels):")
            print(
                table(
                    ["module", "cumulative ms"],
                    [[name, f"{us / 1000:.1f}"] for us, name in rows_it[:15]],
                )
            )


if __name__ == "__main__":
    main()
