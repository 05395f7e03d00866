"""CPython's own test_asyncio, run against timerctl's precision loops and the stock loop.

A regression check, not a benchmark: the precision loops replace the selector and wait logic of
asyncio's SelectorEventLoop, so asyncio's own suite is the best witness that they still behave
like it. The stock loop runs the same tests in the same interpreter; only failures beyond its own
count. Run it on each Python the project supports:

    python benchmarks/asyncio_conformance.py                      # this interpreter
    python benchmarks/asyncio_conformance.py --python /root/.pyenv/versions/3.12.1/bin/python3

The target interpreter needs its ``test`` package (pyenv builds have it) and timerctl importable:
``--python`` puts this checkout on its PYTHONPATH. Exit status: 0 when the precision loops fail
no test the stock loop passes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPS = ("stock", "normal", "high")

# Runs inside the target interpreter: the default policy's new_event_loop() makes the loop under
# test, then unittest runs test.test_asyncio, one line per failed or erroring test.
RUNNER = r"""
import asyncio, sys, unittest
mode = sys.argv[1]
if mode != "stock":
    import functools
    from timerctl.precision import PrecisionEventLoop

    # Every default policy, including the fresh ones test_asyncio installs between tests,
    # makes its loops with this factory; tests with policies of their own keep them.
    asyncio.DefaultEventLoopPolicy._loop_factory = functools.partial(PrecisionEventLoop, mode)
suite = unittest.defaultTestLoader.loadTestsFromName("test.test_asyncio")
result = unittest.TextTestRunner(stream=open("/dev/null", "w"), verbosity=0).run(suite)
for test, _ in result.failures + result.errors:
    print("FAILED", test.id())
print("RAN", result.testsRun)
"""


def run(python: str, mode: str, timeout: float) -> tuple[int, set[str]]:
    """How many tests ran and which failed, for one loop in one interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(
            [python, "-c", RUNNER, mode],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=timeout,
        )
    ran = re.search(r"^RAN (\d+)$", proc.stdout, re.M)
    if ran is None:
        sys.exit(f"{python} ({mode}): the suite did not finish:\n{proc.stderr[-2000:]}")
    failed = set(re.findall(r"^FAILED (\S+)$", proc.stdout, re.M))
    return int(ran.group(1)), failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to test")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per loop")
    args = parser.parse_args()
    version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    results = {mode: run(args.python, mode, args.timeout) for mode in LOOPS}
    stock = results["stock"][1]
    worse = False
    print(f"test_asyncio on Python {version}")
    for mode in LOOPS:
        ran, failed = results[mode]
        extra = sorted(failed - stock)
        worse |= bool(extra)
        print(f"  {mode:<7} ran {ran:5d}  failed {len(failed):3d}  beyond stock {len(extra):3d}")
        for name in extra:
            print(f"    {name}")
    print("PASS" if not worse else "FAIL: the precision loops fail tests the stock loop passes")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
