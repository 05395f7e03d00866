"""How late do one-shot ``call_at`` timers fire? Default asyncio vs timerctl's precision loops.

N timers (2,000 by default) at seeded random moments spread over S seconds (2 s), all scheduled
up front with ``loop.call_at(when)``, ``when`` counted from ``time.monotonic()``. Lateness is
``time.perf_counter()`` read first thing in the callback minus ``when``, not anything read from
``loop.time()``: a loop whose clock is coarse (uvloop's counts whole milliseconds) would report
itself on time while firing early. On Linux perf_counter and monotonic are the same clock
(CLOCK_MONOTONIC), so this is exact; elsewhere the script pins one to the other with a pair of
reads taken so that the error can only overstate lateness, never invent an early firing.

Contenders run in one process, interleaved (the order rotates every repeat), each on a fresh loop;
the table shows medians of the repeats with [min-max], and ratios taken within each repeat.

    /work/venv/bin/python benchmarks/bench_precision.py            # 2,000 timers / 2 s, 5 repeats
    /work/venv/bin/python benchmarks/bench_precision.py --quick    # 500 timers / 0.5 s, 3 repeats
    PYTHONPATH=/path/to/uvloop/site benchmarks/bench_precision.py  # adds uvloop when importable
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import selectors
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

sys.dont_write_bytecode = True  # write nothing into the repository, not even __pycache__

from _common import machine, median, percentile, spread, table  # noqa: E402

from timerctl.precision import describe, get_timer_slack, precise_loop_factory  # noqa: E402

Factory = Callable[[], asyncio.AbstractEventLoop]


@dataclass(frozen=True)
class Trial:
    p50: float  # µs
    p99: float
    max: float
    early: int
    cpu: float  # % of one core while the timers were pending
    skew: float  # µs: how uncertain the ground truth is (0 where perf_counter is monotonic)


def contenders() -> dict[str, Factory]:
    loops: dict[str, Factory] = {
        "asyncio default": asyncio.SelectorEventLoop,
        "asyncio+SelectSelector": lambda: asyncio.SelectorEventLoop(selectors.SelectSelector()),
        "precision normal": precise_loop_factory("normal"),
        "precision high": precise_loop_factory("high"),
    }
    try:
        import uvloop

        loops["uvloop"] = uvloop.new_event_loop
    except ImportError:
        pass
    return loops


async def _trial(offsets: list[float]) -> Trial:
    loop = asyncio.get_running_loop()
    perf = time.perf_counter
    late: list[float] = [0.0] * len(offsets)
    remaining = len(offsets)
    done = loop.create_future()

    def fire(i: int, deadline: float) -> None:
        late[i] = perf() - deadline  # first thing: the callback's own cost is not lateness
        nonlocal remaining
        remaining -= 1
        if not remaining:
            done.set_result(None)

    t0, offset, skew = _ground_truth()
    for i, delay in enumerate(offsets):
        loop.call_at(t0 + delay, fire, i, t0 + delay + offset)
    cpu0, wall0 = time.process_time(), perf()
    await done
    cpu = (time.process_time() - cpu0) / (perf() - wall0) * 100
    late.sort()
    return Trial(
        p50=percentile(late, 50) * 1e6,
        p99=percentile(late, 99) * 1e6,
        max=late[-1] * 1e6,
        early=sum(1 for x in late if x < 0),
        cpu=cpu,
        skew=skew * 1e6,
    )


def _ground_truth() -> tuple[float, float, float]:
    """``(t0 on the monotonic clock, perf_counter - monotonic, uncertainty of that offset)``."""
    perf, mono = time.get_clock_info("perf_counter"), time.get_clock_info("monotonic")
    if perf.implementation == mono.implementation:
        return time.monotonic(), 0.0, 0.0
    p_before = time.perf_counter()
    t0 = time.monotonic()
    p_after = time.perf_counter()
    return t0, p_before - t0, p_after - p_before  # p_before: deadlines at their earliest


def _gain(baseline: float, contender: float) -> float | None:
    """How many times less late than the baseline; None when "late" is negative (early)."""
    return baseline / max(contender, 1e-3) if contender >= 0 else None


def run_trial(factory: Factory, offsets: list[float]) -> Trial:
    gc.collect()
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_trial(offsets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 timers over 0.5 s, 3 repeats")
    parser.add_argument("--timers", type=int, default=None)
    parser.add_argument("--span", type=float, default=None, help="seconds the timers spread over")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.timers or (500 if args.quick else 2000)
    span = args.span or (0.5 if args.quick else 2.0)
    repeats = args.repeats or (3 if args.quick else 5)

    loops = contenders()
    names = list(loops)
    results: dict[str, list[Trial]] = {name: [] for name in names}
    rng = random.Random(args.seed)
    print(f"{n} call_at timers over {span} s, {repeats} interleaved repeats; {machine()}")
    print(f"timer slack of this thread outside the precision loops: {get_timer_slack()} ns")
    for mode in ("normal", "high"):
        print(f"precision {mode}: {describe(mode)}")
    for rep in range(repeats):
        offsets = [0.05 + rng.uniform(0, span) for _ in range(n)]  # 50 ms to schedule them all
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            trial = run_trial(loops[name], offsets)
            results[name].append(trial)
            print(
                f"  repeat {rep + 1}/{repeats} {name:<24} p50 {trial.p50:8.1f} µs  "
                f"p99 {trial.p99:8.1f} µs  early {trial.early:4d}  CPU {trial.cpu:5.1f}%",
                flush=True,
            )

    base = results["asyncio default"]
    rows = []
    for name in names:
        trials = results[name]
        p50_ratio = [_gain(b.p50, t.p50) for b, t in zip(base, trials, strict=True)]
        p99_ratio = [_gain(b.p99, t.p99) for b, t in zip(base, trials, strict=True)]
        rows.append(
            [
                name,
                spread([t.p50 for t in trials]),
                spread([t.p99 for t in trials]),
                spread([t.max for t in trials], "{:.0f}"),
                f"{sum(t.early for t in trials)}/{n * len(trials)}",
                spread([t.cpu for t in trials]),
                spread([r for r in p50_ratio if r], "{:.1f}x") if all(p50_ratio) else "n/a (early)",
                spread([r for r in p99_ratio if r], "{:.1f}x") if all(p99_ratio) else "n/a (early)",
            ]
        )
    print()
    print(
        table(
            [
                "loop",
                "p50 µs",
                "p99 µs",
                "max µs",
                "early",
                "CPU %",
                "p50 gain vs default",
                "p99 gain vs default",
            ],
            rows,
        )
    )
    skew = median([t.skew for ts in results.values() for t in ts])
    if skew:
        print(f"(lateness overstated by up to the clock-pairing skew, median {skew:.2f} µs)")

    print()
    normal, high = results["precision normal"], results["precision high"]
    gain = median([_gain(b.p50, t.p50) or 0.0 for b, t in zip(base, normal, strict=True)])
    checks = [
        ("normal p50 <= 100 µs", median([t.p50 for t in normal]) <= 100),
        ("normal p99 <= 250 µs", median([t.p99 for t in normal]) <= 250),
        ("normal CPU <= 5%", median([t.cpu for t in normal]) <= 5),
        ("normal never early", sum(t.early for t in normal) == 0),
        ("normal >= 4x better p50 than default", gain >= 4),
        ("high p50 <= 5 µs", median([t.p50 for t in high]) <= 5),
        ("high p99 <= 50 µs", median([t.p99 for t in high]) <= 50),
        ("high never early", sum(t.early for t in high) == 0),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")


if __name__ == "__main__":
    main()
