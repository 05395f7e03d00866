"""Helpers shared by the benchmark scripts: statistics, tables, child processes.

The machine these run on is small and noisy, so every script interleaves its contenders, repeats
them, and reports medians with ranges and *ratios measured within the same repeat*: absolute
figures drift from run to run, the ratios hold.
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: measure through the installed entry point


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (the same definition as the engine's summary)."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], fmt: str = "{:.1f}") -> str:
    """``median [min-max]`` of repeats."""
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(median(values))} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned table: first column left, the others right."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


@dataclass(frozen=True)
class ChildRun:
    """One child process: wall time, CPU time and peak resident memory (its own, not its
    siblings': os.wait4 gives each child's rusage)."""

    wall: float
    cpu: float
    max_rss_mb: float
    returncode: int


class ChildFailed(Exception):
    """A benchmarked program exited non-zero: its stderr says why."""

    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)} exited {code}")
        self.code = code
        self.stderr = stderr


def run_child(
    argv: Sequence[str],
    *,
    stdout: int | None = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    ok: Sequence[int] = (0,),
) -> ChildRun:
    """Run argv to completion, its output to /dev/null by default; ChildFailed unless it
    exits with one of ``ok``."""
    # stderr to a file, not a pipe: a child that writes much would block on a full pipe while we
    # sit in wait4 (os.wait4 rather than Popen.wait: it gives this one child's rusage)
    with tempfile.TemporaryFile() as errfile:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=errfile, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            errfile.seek(0)
            err = errfile.read().decode(errors="replace")[-2000:]
            raise ChildFailed(argv, proc.returncode, err)
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return ChildRun(wall, usage.ru_utime + usage.ru_stime, rss, proc.returncode)


def self_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def child_env(pycache: str, *, compile_every_start: bool = False) -> dict[str, str]:
    """The environment for children: ours, minus anything that would colour or slow them.

    By default their bytecode goes to ``pycache`` (PYTHONPYCACHEPREFIX, a temp dir) and is
    cached there: they start as an installed package does (pip writes .pyc files at install
    time), and nothing is written into the repository. ``compile_every_start`` instead sets
    PYTHONDONTWRITEBYTECODE=1 as the dev machines do: the stdlib's own .pyc files are read, but
    with the editable install timerctl is compiled from source at every start (unless someone
    left a __pycache__ in the repository: ``stale_pycache`` tells).
    """
    env = dict(os.environ)
    env.pop("PYTHONDEVMODE", None)
    env.pop("PYTHONTRACEMALLOC", None)
    env["NO_COLOR"] = "1"
    if compile_every_start:
        env.pop("PYTHONPYCACHEPREFIX", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = pycache
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def stale_pycache() -> bool:
    """Whether timerctl's own __pycache__ exists in the repository (compiled code gets reused)."""
    return (REPO / "timerctl" / "__pycache__").is_dir()


def machine() -> str:
    return (
        f"Python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPUs, "
        f"load avg {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
