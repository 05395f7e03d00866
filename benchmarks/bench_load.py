"""Loading a big schedule: ``timerctl.loader.load_text`` vs bare ``tomllib.loads`` of the same text.

A generated 100,000-entry schedule (--entries) mixing every kind of entry a real file has:
``later``, numeric ``at``, ``soon``, repeating ones (``every``/``count``/``until``/``mode``/
``jitter``), names and args; in two forms: the simple generated form (one ``key = value`` per
line), and the same with ``kwargs = { ... }`` inline tables, which a full TOML parser must read.
tomllib is the floor. A form the loader refuses (it may cap what it hands to tomllib) is
reported, not timed. Both run in this process, alternating,
repeated; the ratio is taken per pair. ``--profile`` adds a cProfile of one load_text call.

    /work/venv/bin/python benchmarks/bench_load.py              # 100,000 entries, 3 repeats
    /work/venv/bin/python benchmarks/bench_load.py --quick      # 10,000 entries, 5 repeats
    /work/venv/bin/python benchmarks/bench_load.py --profile    # + where load_text spends it
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
import tomllib
from collections.abc import Callable

sys.dont_write_bytecode = True  # write nothing into the repository, not even __pycache__

from _common import machine, median, spread, table  # noqa: E402

from timerctl.errors import ScheduleError  # noqa: E402
from timerctl.load import load_text  # noqa: E402
from timerctl.schedule import Schedule  # noqa: E402


def generate(n: int, *, inline_tables: bool) -> str:
    """n valid [[call]] entries, each kind in turn.

    ``inline_tables=False`` is the simple generated form (one ``key = value`` line per key,
    JSON-like values) that the loader may read on a fast path; True adds ``kwargs = { ... }``,
    which only a full TOML parser reads.
    """
    parts = ['[run]\nloop = "asyncio"\n']
    for i in range(n):
        k = i % 5
        if k == 0:
            body = f'later = {i * 0.001:.3f}\ncallback = "echo"\nargs = ["later", {i}]\n'
        elif k == 1:
            body = (f'name = "named-{i}"\nat = {i * 0.001:.3f}\ncallback = "callback"\n'
                    f'args = [{i}]\n')
            if inline_tables:
                body += f'kwargs = {{ kwarg = "k{i}" }}\n'
        elif k == 2:
            body = 'soon = true\ncallback = "echo"\nargs = ["soon"]\n'
            if inline_tables:
                body += 'kwargs = { sep = ", " }\n'
        elif k == 3:
            body = (f'later = 0.5\nevery = 0.25\ncount = {i % 7 + 1}\nmode = "fixed-delay"\n'
                    'callback = "echo"\nargs = ["tick"]\n')
        else:
            body = ('at = 1.0\nevery = 0.1\nuntil = 30\njitter = 0.01\ncallback = "echo"\n'
                    f'args = ["jit", {i}, 1.5, true]\n')
        parts.append(f"[[call]]\n{body}")
    return "\n".join(parts)


def timed(func: Callable[[str], object], text: str) -> tuple[float, float]:
    """Seconds until ``func`` returns (its parse time), and then to free what it returned.

    Freeing is timed apart: it is not parsing, and it costs the two differently (tomllib
    returns dicts; the loader returns a Schedule of Call objects, and frees its own dicts
    before it returns). The table shows both; the target is on the first.
    """
    gc.collect()
    start = time.perf_counter()
    result = func(text)
    returned = time.perf_counter()
    del result
    return returned - start, time.perf_counter() - returned


def load(text: str) -> Schedule:
    return load_text(text, "bench.toml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="--entries 10000 --repeats 5")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    n = args.entries or (10_000 if args.quick else 100_000)
    repeats = args.repeats or (5 if args.quick else 3)
    texts = {
        "generated form": generate(n, inline_tables=False),
        "with inline tables": generate(n, inline_tables=True),
    }
    print(f"{n:,} entries ({', '.join(f'{k}: {len(t) / 1e6:.1f} MB' for k, t in texts.items())}"
          f"); {repeats} interleaved repeats; {machine()}")

    for form, text in list(texts.items()):
        try:
            schedule = load(text)  # also checks the generated file is valid
        except ScheduleError as exc:
            print(f"  {form}: refused by the loader, not timed: "
                  f"{'; '.join(p.message for p in exc.problems)}")
            del texts[form]
            continue
        assert len(schedule.calls) == n, len(schedule.calls)
        del schedule

    contenders: dict[str, Callable[[str], object]] = {
        "tomllib.loads": tomllib.loads,
        "loader.load_text": load,
    }
    times: dict[tuple[str, str], list[float]] = {
        (form, name): [] for form in texts for name in contenders
    }
    freeing = {key: [] for key in times}
    for rep in range(repeats):
        for form, text in texts.items():
            order = list(contenders) if rep % 2 == 0 else list(reversed(contenders))
            for name in order:
                parse, free = timed(contenders[name], text)
                times[form, name].append(parse)
                freeing[form, name].append(parse + free)
                print(f"  repeat {rep + 1}/{repeats} {form:<18} {name:<17} "
                      f"{parse:6.2f} s (+{free:.2f} s to free the result)", flush=True)

    rows = []
    for form in texts:
        base = times[form, "tomllib.loads"]
        for name in contenders:
            ts = times[form, name]
            with_free = freeing[form, name]
            rows.append([form if name == "tomllib.loads" else "", name,
                         spread(ts, "{:.2f}"),
                         spread([n / t / 1000 for t in ts], "{:.1f}"),
                         spread([t / b for t, b in zip(ts, base, strict=True)], "{:.2f}x"),
                         spread([t / b for t, b in zip(with_free, freeing[form, "tomllib.loads"],
                                                       strict=True)], "{:.2f}x")])
    print()
    print(table(["schedule", "parser", "seconds", "k entries/s", "vs tomllib",
                 "freeing included"], rows))
    for form in texts:
        ratio = median([t / b for t, b in zip(times[form, "loader.load_text"],
                                              times[form, "tomllib.loads"], strict=True)])
        whole = median([t / b for t, b in zip(freeing[form, "loader.load_text"],
                                              freeing[form, "tomllib.loads"], strict=True)])
        print(f"{form}: load_text = {ratio:.2f}x tomllib.loads (median of per-pair ratios; "
              f"{whole:.2f}x with freeing the result included)")

    if args.profile:
        for form, text in texts.items():
            prof = cProfile.Profile()
            prof.runcall(load, text)
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out)
            stats.sort_stats("tottime").print_stats(12)
            stats.sort_stats("cumulative").print_stats("timerctl|inspect", 12)
            print(f"\ncProfile of one load_text, {form} (by own time, then cumulative):")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
