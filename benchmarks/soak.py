"""Soak: a 1 kHz repeating schedule for minutes, every record counted, memory watched.

Two modes, both through the installed entry point, on the real clock, with an environment
without PYTHONUNBUFFERED (records must be flushed one by one on their own):

- ``--seconds S`` (default 600): one entry, ``every = 0.001``, ``count = S * 1000``, run with
  ``--format jsonl`` into a pipe this script reads line by line. Every line is parsed; the call
  records must number exactly ``count`` with ``seq`` 1, 2, 3, ... (nothing lost, nothing
  doubled), then one ``end``. The RSS of the timerctl process is sampled every second from
  /proc/PID/status (VmRSS): flat memory means a last/first ratio close to 1.
- ``--count N``: N calls (``every = 1 µs``: the loop is always behind, so this is throughput)
  streamed through ``timerctl run s.toml --format jsonl | jq -c . | wc -l`` (wired here with
  pipes, so that each stage's exit status and timerctl's RSS are seen); the count must be
  exactly N + 2 (start and end).

    /work/venv/bin/python benchmarks/soak.py                    # 10 minutes, 600,000 calls
    /work/venv/bin/python benchmarks/soak.py --seconds 20       # a quick one
    /work/venv/bin/python benchmarks/soak.py --count 100000     # through jq and wc -l
    /work/venv/bin/python benchmarks/soak.py --seconds 20 --count 100000   # both

Exits 1 if a record was lost or doubled, a stage failed, or memory grew more than --max-growth.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import BIN, child_env, machine, table

TIMERCTL = str(BIN / "timerctl")


def schedule(path: Path, every: float, count: int) -> Path:
    path.write_text(f"""\
[[call]]
name = "soak"
soon = true
every = {every!r}
count = {count}
callback = "echo"
args = ["soak"]
""")
    return path


def env(pycache: str) -> dict[str, str]:
    environ = child_env(pycache)
    environ.pop("PYTHONUNBUFFERED", None)
    return environ


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


@dataclass
class Sampler:
    """VmRSS of one process every ``interval`` seconds, until it exits."""

    pid: int
    interval: float = 1.0
    samples: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = rss_kib(self.pid)
            if rss is None:
                return
            self.samples.append((time.monotonic() - self._start, rss))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def memory_rows(
    samples: list[tuple[float, int]], interval: float
) -> tuple[list[list[str]], float | None]:
    if not samples:
        return [["RSS samples", "none (run shorter than a second?)"]], None
    first, last = samples[0][1], samples[-1][1]
    values = [rss for _, rss in samples]
    ratio = last / first
    return [
        ["RSS samples", f"{len(samples)} (every {interval:g} s)"],
        [f"RSS first (t={samples[0][0]:.0f}s)", mib(first)],
        ["RSS min / max", f"{mib(min(values))} / {mib(max(values))}"],
        [f"RSS last (t={samples[-1][0]:.0f}s)", mib(last)],
        ["RSS last / first", f"{ratio:.3f}"],
    ], ratio


def timeline(samples: list[tuple[float, int]], points: int = 10) -> str:
    if len(samples) < 2:
        return ""
    step = max(1, len(samples) // points)
    picked = samples[::step]
    if picked[-1] is not samples[-1]:
        picked.append(samples[-1])
    return table(["t (s)", "VmRSS"], [[f"{t:.0f}", mib(rss)] for t, rss in picked])


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.3f} ms"


# -- the soak: read every line ourselves -----------------------------------------------------------


def soak(seconds: float, every: float, workdir: Path, pycache: str, max_growth: float) -> bool:
    count = round(seconds / every)
    path = schedule(workdir / "soak.toml", every, count)
    print(
        f"\n== soak: every = {every} s, count = {count:,} (~{seconds:g} s), --format jsonl "
        "into a pipe read line by line",
        flush=True,
    )
    with tempfile.TemporaryFile() as errfile:
        started = time.monotonic()
        proc = subprocess.Popen(
            [TIMERCTL, "run", str(path), "--format", "jsonl"],
            stdout=subprocess.PIPE,
            stderr=errfile,
            env=env(pycache),
        )
        sampler = Sampler(proc.pid)
        assert proc.stdout is not None
        lines = calls = gaps = dups = bad = 0
        expected_seq = 1
        events: dict[str, int] = {}
        end: dict[str, object] | None = None
        next_report = started + 60
        for raw in proc.stdout:
            lines += 1
            try:
                obj = json.loads(raw)
            except ValueError:
                bad += 1
                continue
            kind = obj.get("event")
            events[kind] = events.get(kind, 0) + 1
            if kind == "call":
                calls += 1
                seq = obj["seq"]
                if seq < expected_seq:
                    dups += 1
                elif seq > expected_seq:
                    gaps += seq - expected_seq
                expected_seq = max(expected_seq, seq + 1)
            elif kind == "end":
                end = obj
            now = time.monotonic()
            if now >= next_report:
                rss = sampler.samples[-1][1] if sampler.samples else 0
                print(
                    f"  t={now - started:5.0f}s  calls={calls:,}  rss={mib(rss)}", file=sys.stderr
                )
                next_report += 60
        code = proc.wait()
        wall = time.monotonic() - started
        sampler.stop()
        errfile.seek(0)
        stderr = errfile.read().decode(errors="replace")
    rows = [
        ["calls expected", f"{count:,}"],
        ["call records read", f"{calls:,}"],
        ["seq gaps / duplicates", f"{gaps} / {dups}"],
        [
            "lines (all events)",
            f"{lines:,}  " + ", ".join(f"{k}={v:,}" for k, v in sorted(events.items())),
        ],
        ["unparseable lines", str(bad)],
        ["exit code", str(code)],
        ["stderr bytes", str(len(stderr))],
        ["wall time", f"{wall:.2f} s"],
    ]
    if end is not None:
        rows += [
            ["end: reason, calls", f"{end['reason']}, {end['calls']:,}"],
            [
                "late p50 / p99 / max",
                " / ".join(
                    fmt_ms(end.get(k))  # type: ignore[arg-type]
                    for k in ("late_p50", "late_p99", "late_max")
                ),
            ],
        ]
    mem, ratio = memory_rows(sampler.samples, sampler.interval)
    print(table(["figure", "value"], rows + mem))
    if sampler.samples:
        print("\nRSS over the run:")
        print(timeline(sampler.samples))
    lost_nothing = (
        calls == count
        and gaps == dups == bad == 0
        and end is not None
        and end.get("calls") == count
        and code == 0
    )
    flat = ratio is not None and ratio <= 1 + max_growth
    print(f"\n{'PASS' if lost_nothing else 'FAIL'}: every call has exactly one record")
    print(
        f"{'PASS' if flat else 'FAIL'}: memory flat (last/first "
        f"{'-' if ratio is None else f'{ratio:.3f}'} <= {1 + max_growth:.2f})"
    )
    if stderr:
        print(f"stderr: {stderr[-500:]}")
    return lost_nothing and flat


# -- through jq and wc -l -----------------------------------------------------------------------


def through_jq(n: int, every: float, workdir: Path, pycache: str, jq: str) -> bool:
    path = schedule(workdir / "count.toml", every, n)
    print(
        f"\n== count: {n:,} calls (every = {every} s): timerctl run {path.name} "
        "--format jsonl | jq -c . | wc -l",
        flush=True,
    )
    started = time.monotonic()
    producer = subprocess.Popen(
        [TIMERCTL, "run", str(path), "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(pycache),
    )
    sampler = Sampler(producer.pid, interval=0.25)
    jq_proc = subprocess.Popen([jq, "-c", "."], stdin=producer.stdout, stdout=subprocess.PIPE)
    wc = subprocess.Popen(["wc", "-l"], stdin=jq_proc.stdout, stdout=subprocess.PIPE)
    assert producer.stdout is not None and jq_proc.stdout is not None
    producer.stdout.close()  # the next stage holds the only read end, as in a shell
    jq_proc.stdout.close()
    out, _ = wc.communicate()
    codes = [producer.wait(), jq_proc.wait(), wc.returncode]
    wall = time.monotonic() - started
    sampler.stop()
    assert producer.stderr is not None
    stderr = producer.stderr.read().decode(errors="replace")
    counted = int(out.split()[0])
    expected = n + 2
    mem, _ = memory_rows(sampler.samples, sampler.interval)
    print(
        table(
            ["figure", "value"],
            [
                ["lines counted by wc -l", f"{counted:,}"],
                ["expected (calls + start + end)", f"{expected:,}"],
                ["exit codes (timerctl, jq, wc)", ", ".join(map(str, codes))],
                ["timerctl stderr bytes", str(len(stderr))],
                ["wall time", f"{wall:.2f} s"],
                ["throughput", f"{n / wall:,.0f} calls/s"],
                *mem,
            ],
        )
    )
    ok = counted == expected and codes == [0, 0, 0]
    print(f"\n{'PASS' if ok else 'FAIL'}: the count is exact")
    if stderr:
        print(f"stderr: {stderr[-500:]}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="length of the soak (default 600, unless only --count is given)",
    )
    parser.add_argument("--every", type=float, default=0.001, help="the soak's period")
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="also stream this many calls through jq -c . | wc -l",
    )
    parser.add_argument(
        "--count-every",
        type=float,
        default=1e-6,
        help="period of the --count schedule (default 1 µs: throughput)",
    )
    parser.add_argument(
        "--max-growth",
        type=float,
        default=0.10,
        help="RSS last/first above 1 + this fails the soak (default 0.10)",
    )
    parser.add_argument("--jq", default=shutil.which("jq") or "/usr/bin/jq")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else (None if args.count else 600.0)
    print(machine(), flush=True)
    ok = True
    with tempfile.TemporaryDirectory(prefix="timerctl-soak-") as tmp:
        workdir = Path(tmp)
        pycache = str(workdir / "pycache")
        os.makedirs(pycache)
        if seconds is not None:
            ok &= soak(seconds, args.every, workdir, pycache, args.max_growth)
        if args.count is not None:
            ok &= through_jq(args.count, args.count_every, workdir, pycache, args.jq)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
