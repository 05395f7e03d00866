"""overlap and late_after: what happens to a call due while its entry's last one still runs,
or too late to be worth running; each decision one 'policy' event (virtual clock: exact)."""

from __future__ import annotations

import asyncio
import dataclasses

from helpers import Run, registry_with, schedule

from timerctl import engine
from timerctl.events import Decision
from timerctl.registry import Registry
from timerctl.schedule import Overlap


async def slow(seconds: float = 0.25) -> str:
    await asyncio.sleep(seconds)
    return "done"


REG = registry_with(slow=slow)


def run_with(text: str, registry: Registry = REG, **policies: object) -> Run:
    sched = schedule(text, registry=registry)
    calls = tuple(
        dataclasses.replace(c, **policies) if c.name == "tick" else c for c in sched.calls
    )
    sched = dataclasses.replace(sched, calls=calls)
    run = Run()
    engine.run(sched, run.events.append, virtual=True, registry=registry)
    return run


TICKS = """
[[call]]
name = "tick"
soon = true
every = 0.1
count = {count}
callback = "slow"
"""


def decisions(run: Run) -> list[tuple[int, str, str]]:
    return [(e.n, e.action, e.why) for e in run.events if isinstance(e, Decision)]


def test_allow_is_the_default_and_starts_every_call() -> None:
    run = run_with(TICKS.format(count=3))
    assert [(r.n, round(r.t, 9)) for r in run.records] == [(1, 0.0), (2, 0.1), (3, 0.2)]
    assert decisions(run) == []


def test_skip_drops_the_calls_due_while_one_runs() -> None:
    run = run_with(TICKS.format(count=6), overlap=Overlap.SKIP)
    assert [r.n for r in run.records] == [1, 4]
    assert [round(r.loop_time - run.start.loop_t0, 9) for r in run.records] == [0.0, 0.3]
    assert decisions(run) == [
        (2, "skip", "overlap"),
        (3, "skip", "overlap"),
        (5, "skip", "overlap"),
        (6, "skip", "overlap"),
    ]
    assert run.end.calls == 2 and run.end.exit_code == 0


def test_queue_runs_one_call_when_the_running_one_ends_and_skips_beyond_it() -> None:
    run = run_with(TICKS.format(count=3), overlap=Overlap.QUEUE)
    assert [(r.n, round(r.late, 9)) for r in run.records] == [(1, 0.0), (2, 0.15)]
    assert decisions(run) == [(2, "queue", "overlap"), (3, "skip", "overlap")]


def test_kill_ends_the_running_call_for_the_new_one() -> None:
    run = run_with(TICKS.format(count=3), overlap=Overlap.KILL)
    by_n = {r.n: r for r in run.records}
    assert by_n[1].cancelled and by_n[1].error is not None
    assert by_n[1].error.message == "killed: call 2 was due (overlap = kill)"
    assert by_n[2].cancelled and by_n[3].result == "done"
    assert decisions(run) == [(2, "kill", "overlap"), (3, "kill", "overlap")]
    assert run.end.failed == 0


def test_late_after_skips_what_a_blocked_loop_made_too_late() -> None:
    text = """
    [[call]]
    name = "tick"
    soon = true
    every = 0.1
    count = 5
    callback = "echo"

    [[call]]
    name = "block"
    later = 0.05
    callback = "sleep"
    args = [0.25]
    """
    run = run_with(text, late_after=0.05)
    assert [r.n for r in run.of("tick")] == [1, 4, 5]
    assert decisions(run) == [(2, "skip", "late"), (3, "skip", "late")]
    late = [e.late for e in run.events if isinstance(e, Decision)]
    assert [round(x, 9) for x in late] == [0.2, 0.1]


def test_without_late_after_every_call_runs_late() -> None:
    text = TICKS.format(count=1).replace('"slow"', '"echo"')
    assert [r.n for r in run_with(text).records] == [1]


def test_a_queued_call_is_cancelled_and_counted_when_the_run_ends() -> None:
    text = TICKS.format(count=2) + '\n[[call]]\nname = "end"\nlater = 0.15\ncallback = "stop"\n'
    run = run_with(text, overlap=Overlap.QUEUE)
    assert decisions(run) == [(2, "queue", "overlap")]
    assert [r.n for r in run.of("tick")] == [1]
    assert sum(c.count for c in run.cancels if c.entry == "tick") == 1
