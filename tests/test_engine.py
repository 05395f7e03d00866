"""The engine on the virtual clock: order, timing, failures, bounds, async callbacks.

Every test asserts on Event objects (Start, CallRecord, Cancelled, End), never on strings.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from helpers import Run, registry_with, run_virtual, schedule

from timerctl import current_run
from timerctl.clock import VirtualClockLoop
from timerctl.engine import Engine, RunOptions
from timerctl.events import CallRecord, Cancelled, End, ErrorInfo, Start

# -- the seed's three programs -------------------------------------------------------------------

CALL_SOON = """
    [[call]]
    soon = true
    callback = "callback"
    args = [1]

    [[call]]
    soon = true
    callback = "callback"
    args = [2]
    kwargs = { kwarg = "not default" }
"""

CALL_LATER = """
    [[call]]
    later = 0.2
    callback = "callback"
    args = [1]

    [[call]]
    later = 0.1
    callback = "callback"
    args = [2]

    [[call]]
    soon = true
    callback = "callback"
    args = [3]
"""

CALL_AT = CALL_LATER.replace("later =", "at =")


def test_call_soon_runs_callbacks_in_the_order_they_were_scheduled() -> None:
    run = run_virtual(CALL_SOON)
    assert run.results() == [
        "callback invoked with 1 and default",
        "callback invoked with 2 and not default",
    ]
    assert [r.entry for r in run.records] == ["soon#1", "soon#2"]
    assert [r.kind for r in run.records] == ["soon", "soon"]
    assert all(r.t == 0 and r.late == 0 for r in run.records)
    assert run.end.reason == "done" and run.end.exit_code == 0


def test_call_later_soon_first_then_by_delay() -> None:
    run = run_virtual(CALL_LATER)
    assert [r.args for r in run.records] == [(3,), (2,), (1,)]
    assert [r.entry for r in run.records] == ["soon#1", "later#2", "later#1"]
    assert [r.t for r in run.records] == [0.0, 0.1, 0.2]
    assert run.records[0].result == "callback invoked with 3 and default"
    assert run.end.duration == pytest.approx(0.2, abs=1e-9)


def test_call_at_soon_first_then_by_moment() -> None:
    run = run_virtual(CALL_AT)
    assert [r.args for r in run.records] == [(3,), (2,), (1,)]
    assert [r.kind for r in run.records] == ["soon", "at", "at"]
    t0 = run.start.loop_t0
    assert [r.due for r in run.records] == [t0, t0 + 0.1, t0 + 0.2]
    assert all(r.late == 0 for r in run.records)


@pytest.mark.parametrize("timer", ["later = 0", "at = 0", "later = 0.0"])
def test_soon_beats_every_timer_even_one_due_now(timer: str) -> None:
    timers = "".join(
        f'[[call]]\nname = "timer{i}"\n{timer}\ncallback = "echo"\nargs = [{i}]\n' for i in range(3)
    )
    run = run_virtual(timers + '[[call]]\nname = "soon"\nsoon = true\ncallback = "echo"\n')
    assert run.records[0].entry == "soon"
    assert {r.entry for r in run.records[1:]} == {"timer0", "timer1", "timer2"}
    assert all(r.t == 0 for r in run.records)


def test_timers_run_by_due_time_whatever_the_file_order() -> None:
    delays = [0.5, 0.05, 0.3, 0.001, 0.25, 0.125, 0.2]
    text = "".join(f'[[call]]\nlater = {d}\ncallback = "echo"\nargs = [{d}]\n' for d in delays)
    run = run_virtual(text)
    assert [r.args[0] for r in run.records] == sorted(delays)
    assert [r.t for r in run.records] == pytest.approx(sorted(delays), abs=1e-9)


def test_timers_due_at_the_same_moment_run_in_file_order() -> None:
    text = "".join(f'[[call]]\nname = "e{i}"\nat = 0.1\ncallback = "echo"\n' for i in range(6))
    run = run_virtual(text)
    assert [r.entry for r in run.records] == [f"e{i}" for i in range(6)]


# -- the record's arithmetic ---------------------------------------------------------------------

MIXED = """
    [[call]]
    name = "blocker"
    at = 0.1
    callback = "sleep"
    args = [0.05]

    [[call]]
    name = "victim"
    later = 0.12
    callback = "echo"
    args = ["late"]

    [[call]]
    name = "tick"
    soon = true
    every = 0.04
    count = 6
    callback = "echo"

    [[call]]
    name = "drift"
    later = 0.01
    every = 0.03
    count = 4
    mode = "fixed-delay"
    callback = "sleep"
    args = [0.01]
"""


def test_seq_is_contiguous_and_calls_counted() -> None:
    run = run_virtual(MIXED)
    assert [r.seq for r in run.records] == list(range(1, len(run.records) + 1))
    assert run.end.calls == len(run.records) == 1 + 1 + 6 + 4
    assert run.start.calls == 4


def test_late_and_t_are_differences_of_the_loop_clock() -> None:
    run = run_virtual(MIXED)
    t0 = run.start.loop_t0
    for r in run.records:
        assert r.late == pytest.approx(r.loop_time - r.due, abs=1e-9)
        assert r.t == r.loop_time - t0
        assert r.late >= 0
    victim = run.of("victim")[0]
    assert victim.due == pytest.approx(t0 + 0.12)
    assert victim.loop_time == pytest.approx(t0 + 0.15)  # blocker held the loop until 0.15
    assert victim.late == pytest.approx(0.03, abs=1e-9)
    assert run.end.late_max == pytest.approx(max(r.late for r in run.records), abs=1e-12)


def test_simulated_wall_time_moves_with_the_loop_clock() -> None:
    run = run_virtual(MIXED)
    for r in run.records:
        assert r.wall_time == pytest.approx(run.start.wall_t0 + r.t, abs=1e-6)


def test_sleep_duration_on_the_virtual_clock_is_its_argument() -> None:
    run = run_virtual('[[call]]\nsoon = true\ncallback = "sleep"\nargs = [0.25]\n')
    (r,) = run.records
    assert r.duration == pytest.approx(0.25, abs=1e-9)
    assert r.result == "slept 0.25s"
    assert run.end.duration == pytest.approx(0.25, abs=1e-9)


# -- failures ------------------------------------------------------------------------------------


def test_a_failing_callback_is_a_failed_record_and_the_run_goes_on() -> None:
    run = run_virtual("""
        [[call]]
        soon = true
        callback = "fail"
        args = ["boom"]

        [[call]]
        later = 0.1
        callback = "echo"
        args = ["after"]
    """)
    failed, after = run.records
    assert failed.error == ErrorInfo("RuntimeError", "boom")
    assert failed.result is None and failed.failed
    assert after.result == "after" and after.error is None
    assert run.end.reason == "done"
    assert (run.end.failed, run.end.exit_code) == (1, 1)


def test_system_exit_from_a_plugin_callback_is_a_failure_not_an_exit() -> None:
    def bye(code: int) -> None:
        """Exit, as a careless plugin might."""
        raise SystemExit(code)

    reg = registry_with(bye=bye)
    run = run_virtual(
        """
        [[call]]
        soon = true
        callback = "bye"
        args = [3]

        [[call]]
        later = 0.1
        callback = "echo"
        args = ["still here"]
    """,
        registry=reg,
    )
    exited, after = run.records
    assert exited.error is not None and exited.error.type == "SystemExit"
    assert "3" in exited.error.message
    assert after.result == "still here"
    assert run.end.exit_code == 1 and run.end.failed == 1


def test_fail_fast_stops_at_the_first_failure_and_cancels_the_rest() -> None:
    run = run_virtual(
        """
        [[call]]
        name = "bad"
        later = 0.1
        callback = "fail"

        [[call]]
        name = "tick"
        soon = true
        every = 0.04
        count = 10
        callback = "echo"

        [[call]]
        name = "never"
        later = 0.5
        callback = "echo"
    """,
        fail_fast=True,
    )
    assert run.end.reason == "failed"
    assert run.end.exit_code == 1 and run.end.failed == 1
    assert run.records[-1].entry == "bad"
    assert not run.of("never")
    assert all(r.t <= 0.1 for r in run.records)
    assert run.end.cancelled == sum(c.count for c in run.cancels) >= 2
    assert {c.entry for c in run.cancels} == {"tick", "never"}
    assert all(c.by == "failed" and c.at_end for c in run.cancels)


def test_without_fail_fast_every_call_runs() -> None:
    run = run_virtual("""
        [[call]]
        later = 0.1
        callback = "fail"

        [[call]]
        later = 0.5
        callback = "echo"
    """)
    assert len(run.records) == 2 and run.end.reason == "done" and run.end.cancelled == 0


# -- ending a run --------------------------------------------------------------------------------


def test_timeout_ends_the_run_and_counts_what_was_cancelled() -> None:
    run = run_virtual(
        """
        [[call]]
        name = "forever"
        soon = true
        every = 0.1
        callback = "echo"

        [[call]]
        name = "far"
        later = 60
        callback = "echo"
    """,
        timeout=1.0,
    )
    assert run.end.reason == "timeout"
    assert run.end.exit_code == 0
    assert run.end.duration == pytest.approx(1.0, abs=1e-9)
    assert all(r.t <= 1.0 + 1e-9 for r in run.records)
    assert 10 <= len(run.of("forever")) <= 11
    assert not run.of("far")
    assert run.end.cancelled == sum(c.count for c in run.cancels) >= 2
    assert {c.entry for c in run.cancels} == {"forever", "far"}
    assert all(c.by == "timeout" for c in run.cancels)


def test_timeout_after_the_last_call_changes_nothing() -> None:
    run = run_virtual('[[call]]\nlater = 0.2\ncallback = "echo"\n', timeout=5.0)
    assert run.end.reason == "done" and run.end.cancelled == 0
    assert run.end.duration == pytest.approx(0.2, abs=1e-9)


def test_stop_callback_ends_the_run_and_cancels_pending() -> None:
    run = run_virtual("""
        [[call]]
        name = "tick"
        soon = true
        every = 0.1
        callback = "echo"

        [[call]]
        name = "halt"
        later = 0.25
        callback = "stop"
    """)
    assert run.end.reason == "stopped" and run.end.exit_code == 0
    assert [r.t for r in run.of("tick")] == pytest.approx([0.0, 0.1, 0.2])
    assert run.records[-1].entry == "halt" and run.records[-1].result == "stopping"
    assert run.end.cancelled == 1
    (c,) = run.cancels
    assert (c.entry, c.count, c.by, c.at_end) == ("tick", 1, "stopped", True)
    assert run.events.index(c) > run.events.index(run.records[-1])  # after the stop's record


def test_cancel_callback_cancels_a_repeating_entry() -> None:
    run = run_virtual("""
        [[call]]
        name = "tick"
        soon = true
        every = 0.1
        count = 10
        callback = "echo"

        [[call]]
        name = "killer"
        later = 0.25
        callback = "cancel"
        args = ["tick"]

        [[call]]
        name = "after"
        later = 0.5
        callback = "echo"
    """)
    assert len(run.of("tick")) == 3
    # 10 ticks, 3 ran: the 7 that will now never run are counted, not just the armed one
    assert run.of("killer")[0].result == "cancelled 7 calls of tick"
    assert run.of("after"), "cancelling one entry does not end the run"
    assert run.end.reason == "done" and run.end.cancelled == 7
    (c,) = run.cancels
    assert (c.entry, c.count, c.by, c.at_end) == ("tick", 7, "killer", False)
    assert c.t == pytest.approx(0.25)


def test_cancelling_the_last_pending_call_ends_the_run() -> None:
    run = run_virtual("""
        [[call]]
        name = "never"
        later = 100
        callback = "echo"

        [[call]]
        soon = true
        callback = "cancel"
        args = ["never"]
    """)
    assert run.end.reason == "done"
    assert run.end.duration == 0
    assert [r.callback for r in run.records] == ["cancel"]


# -- repeating calls -----------------------------------------------------------------------------


def test_fixed_rate_due_times_are_exact_multiples() -> None:
    run = run_virtual("""
        [[call]]
        soon = true
        every = 0.1
        count = 30
        callback = "echo"
    """)
    assert [r.n for r in run.records] == list(range(1, 31))
    assert [r.due for r in run.records] == [round(k * 0.1, 9) for k in range(30)]
    assert all(r.late == 0 for r in run.records)


def test_fixed_rate_does_not_drift_when_the_callback_takes_time() -> None:
    run = run_virtual("""
        [[call]]
        later = 0.05
        every = 0.1
        count = 10
        callback = "sleep"
        args = [0.03]
    """)
    assert [r.due for r in run.records] == [round(0.05 + k * 0.1, 9) for k in range(10)]
    assert all(r.late == 0 for r in run.records)


def test_fixed_delay_drifts_by_each_call_duration() -> None:
    run = run_virtual("""
        [[call]]
        soon = true
        every = 0.1
        count = 5
        mode = "fixed-delay"
        callback = "sleep"
        args = [0.03]
    """)
    recs = run.records
    assert len(recs) == 5
    for prev, nxt in itertools.pairwise(recs):
        ended = prev.loop_time + prev.duration
        assert nxt.due == pytest.approx(ended + 0.1, abs=1e-9)
        assert nxt.late == 0
    assert [r.t for r in recs] == pytest.approx([0.0, 0.13, 0.26, 0.39, 0.52], abs=1e-9)


def test_count_bounds_the_number_of_calls() -> None:
    run = run_virtual('[[call]]\nlater = 1\nevery = 2\ncount = 3\ncallback = "echo"\n')
    assert [r.t for r in run.records] == [1.0, 3.0, 5.0]
    assert run.end.reason == "done" and run.end.cancelled == 0


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (0.3, [0.0, 0.1, 0.2, 0.3]),  # inclusive, although 3 * 0.1 > 0.3 in floats
        (0.35, [0.0, 0.1, 0.2, 0.3]),
        (0.7, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
    ],
)
def test_until_bounds_the_last_due_time(until: float, expected: list[float]) -> None:
    run = run_virtual(f'[[call]]\nsoon = true\nevery = 0.1\nuntil = {until}\ncallback = "echo"\n')
    assert [r.t for r in run.records] == expected


def test_count_and_until_whichever_comes_first() -> None:
    run = run_virtual(
        '[[call]]\nsoon = true\nevery = 0.1\ncount = 20\nuntil = 0.45\ncallback = "echo"\n'
    )
    assert len(run.records) == 5
    run = run_virtual(
        '[[call]]\nsoon = true\nevery = 0.1\ncount = 2\nuntil = 10\ncallback = "echo"\n'
    )
    assert len(run.records) == 2


JITTER = """
    [[call]]
    later = 0.5
    every = 0.1
    count = 40
    jitter = 0.05
    callback = "echo"
"""


def _offsets(run: Run) -> list[float]:
    t0 = run.start.loop_t0
    return [r.due - (t0 + 0.5 + (r.n - 1) * 0.1) for r in run.records]


def test_jitter_is_reproducible_with_a_seed_and_within_bounds() -> None:
    a, b = run_virtual(JITTER, seed=7), run_virtual(JITTER, seed=7)
    assert [r.due for r in a.records] == [r.due for r in b.records]
    offsets = _offsets(a)
    assert len(offsets) == 40
    assert all(-1e-9 <= o <= 0.05 + 1e-9 for o in offsets)
    assert len({round(o, 9) for o in offsets}) > 30  # really random, not a constant
    assert all(r.late == 0 for r in a.records)  # jitter moves the due time, not lateness


def test_jitter_differs_with_another_seed() -> None:
    a, b = run_virtual(JITTER, seed=1), run_virtual(JITTER, seed=2)
    assert [r.due for r in a.records] != [r.due for r in b.records]


def test_jitter_does_not_accumulate_on_fixed_rate() -> None:
    run = run_virtual(JITTER, seed=3)
    assert max(_offsets(run)) <= 0.05 + 1e-9  # call 40 is no further off than call 1


# -- async callbacks -----------------------------------------------------------------------------


async def nap(seconds: float, result: str = "woke") -> str:
    """An async callback: awaits on the loop (virtual time) and returns."""
    await asyncio.sleep(seconds)
    return result


async def nap_then_fail(seconds: float) -> None:
    await asyncio.sleep(seconds)
    raise ValueError("async boom")


ASYNC_REG = registry_with(nap=nap, nap_then_fail=nap_then_fail)


def test_async_callback_late_at_start_written_when_it_finishes() -> None:
    run = run_virtual(
        """
        [[call]]
        name = "slow"
        later = 0.1
        callback = "nap"
        args = [0.5, "done napping"]

        [[call]]
        name = "quick"
        later = 0.2
        callback = "echo"
        args = ["quick"]
    """,
        registry=ASYNC_REG,
    )
    assert [r.entry for r in run.records] == ["quick", "slow"]
    assert [r.seq for r in run.records] == [1, 2]
    slow = run.of("slow")[0]
    assert slow.t == pytest.approx(0.1) and slow.late == 0
    assert slow.duration == pytest.approx(0.5, abs=1e-9)
    assert slow.result == "done napping"
    assert run.end.reason == "done"
    assert run.end.duration == pytest.approx(0.6, abs=1e-9)


def test_async_callback_is_late_when_the_loop_is_blocked() -> None:
    run = run_virtual(
        """
        [[call]]
        soon = true
        callback = "sleep"
        args = [0.2]

        [[call]]
        name = "slow"
        later = 0.1
        callback = "nap"
        args = [0.3]
    """,
        registry=ASYNC_REG,
    )
    slow = run.of("slow")[0]
    assert slow.late == pytest.approx(0.1, abs=1e-9)
    assert slow.duration == pytest.approx(0.3, abs=1e-9)


def test_async_callback_that_raises_is_a_failure() -> None:
    run = run_virtual(
        '[[call]]\nsoon = true\ncallback = "nap_then_fail"\nargs = [0.1]\n', registry=ASYNC_REG
    )
    (r,) = run.records
    assert r.error == ErrorInfo("ValueError", "async boom")
    assert r.duration == pytest.approx(0.1, abs=1e-9)
    assert run.end.exit_code == 1


def test_async_callback_cut_short_by_timeout_is_cancelled_not_failed() -> None:
    run = run_virtual(
        '[[call]]\nname = "slow"\nsoon = true\ncallback = "nap"\nargs = [5]\n',
        registry=ASYNC_REG,
        timeout=1.0,
    )
    (r,) = run.records
    assert r.cancelled and not r.failed
    assert r.error is not None and r.error.type == "CancelledError"
    assert run.end.reason == "timeout"
    assert (run.end.failed, run.end.cancelled, run.end.exit_code) == (0, 1, 0)


async def nap_then_cancel(seconds: float, entry: str) -> str:
    await asyncio.sleep(seconds)
    return f"cancelled {current_run().cancel(entry)}"


def test_cancel_from_an_async_callback_names_it() -> None:
    reg = registry_with(nap_then_cancel=nap_then_cancel)
    run = run_virtual(
        """
        [[call]]
        name = "tick"
        soon = true
        every = 0.1
        callback = "echo"

        [[call]]
        name = "waiter"
        soon = true
        callback = "nap_then_cancel"
        args = [0.25, "tick"]
    """,
        registry=reg,
    )
    assert len(run.of("tick")) == 3
    assert run.of("waiter")[0].result == "cancelled 1"
    (c,) = run.cancels
    assert (c.entry, c.by, c.at_end) == ("tick", "waiter", False)
    assert run.end.reason == "done"


def test_fixed_delay_async_callback_waits_for_the_previous_one() -> None:
    run = run_virtual(
        """
        [[call]]
        soon = true
        every = 0.1
        count = 3
        mode = "fixed-delay"
        callback = "nap"
        args = [0.05]
    """,
        registry=ASYNC_REG,
    )
    assert [r.t for r in run.records] == pytest.approx([0.0, 0.15, 0.3], abs=1e-9)


def test_async_call_cancelled_before_it_started_is_still_accounted_for() -> None:
    run = run_virtual(
        """
        [[call]]
        name = "slow"
        soon = true
        callback = "nap"
        args = [1]

        [[call]]
        name = "halt"
        soon = true
        callback = "stop"
    """,
        registry=ASYNC_REG,
    )
    assert run.end.reason == "stopped"
    slow = run.of("slow")
    assert len(slow) == 1 and slow[0].cancelled
    assert run.end.cancelled == 1


# -- speed ---------------------------------------------------------------------------------------


def test_speed_two_halves_every_delay() -> None:
    text = """
        [[call]]
        name = "l"
        later = 0.2
        callback = "echo"

        [[call]]
        name = "a"
        at = 0.4
        callback = "echo"

        [[call]]
        name = "r"
        soon = true
        every = 0.1
        count = 3
        callback = "echo"

        [[call]]
        name = "s"
        later = 1
        callback = "sleep"
        args = [0.5]
    """
    run = run_virtual(text, speed=2.0)
    assert run.start.speed == 2.0
    assert run.of("l")[0].t == pytest.approx(0.1)
    assert run.of("a")[0].t == pytest.approx(0.2)
    assert [r.t for r in run.of("r")] == pytest.approx([0.0, 0.05, 0.1])
    s = run.of("s")[0]
    assert s.t == pytest.approx(0.5) and s.duration == pytest.approx(0.25)
    assert all(r.late == 0 for r in run.records)


# -- clocks --------------------------------------------------------------------------------------


def _run_on(loop_factory, text: str, **kw) -> Run:  # type: ignore[no-untyped-def]
    run = Run()
    eng = Engine(schedule(text, now=kw.pop("now", None)), run.events.append, **kw)
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        end = runner.run(eng.run())
    assert end is run.end
    return run


FAR = """
    [[call]]
    name = "rate"
    later = 0.1
    every = 0.1
    count = 8
    callback = "echo"

    [[call]]
    name = "delay"
    at = 0.05
    every = 0.07
    count = 5
    mode = "fixed-delay"
    callback = "sleep"
    args = [0.01]

    [[call]]
    name = "at"
    at = 0.65
    callback = "echo"

    [[call]]
    soon = true
    callback = "echo"
"""


@pytest.mark.parametrize("start", [1e6, 123456.789, 4e6 + 0.3])
def test_a_virtual_loop_far_from_zero(start: float) -> None:
    run = _run_on(lambda: VirtualClockLoop(start=start), FAR)
    assert run.start.loop_t0 == start
    assert run.end.reason == "done" and len(run.records) == 8 + 5 + 1 + 1
    for r in run.records:
        assert r.t == r.loop_time - start
        assert r.late == 0
    rate = [r.t for r in run.of("rate")]
    assert rate == pytest.approx([0.1 * k for k in range(1, 9)], abs=1e-6)
    assert run.of("at")[0].t == pytest.approx(0.65, abs=1e-6)


def test_injected_wall_clock_is_t0_and_simulated_from_there() -> None:
    wall = 1_700_000_000.25
    run = run_virtual(CALL_LATER, wall_clock=lambda: wall)
    assert run.start.wall_t0 == wall
    assert [r.wall_time for r in run.records] == pytest.approx(
        [wall, wall + 0.1, wall + 0.2], abs=1e-6
    )


@pytest.mark.parametrize(
    ("now_local", "at", "ahead"),
    [
        ("2030-01-15T11:59:00", "2030-01-15T12:00:00", 60.0),  # local date-time, winter (+01)
        ("2030-07-15T11:59:00", "2030-07-15T12:00:00", 60.0),  # local date-time, summer (+02)
        ("2030-01-15T11:59:00", "12:00:00", 60.0),  # bare time of day: its next occurrence
        ("2030-01-15T12:01:00", "12:00:00", 86340.0),  # already past today: tomorrow
        ("2030-01-15T11:59:00", "2030-01-15T12:00:00Z", 3660.0),  # offset: absolute
        ("2030-01-15T11:59:00", "2030-01-15T13:00:00+02:00", 60.0),
    ],
)
def test_wall_clock_at_in_a_non_utc_zone(berlin, now_local: str, at: str, ahead: float) -> None:  # type: ignore[no-untyped-def]
    now = datetime.fromisoformat(now_local).replace(tzinfo=berlin).timestamp()
    run = run_virtual(f'[[call]]\nat = {at}\ncallback = "echo"\n', now=now, wall_clock=lambda: now)
    (r,) = run.records
    assert r.kind == "at"
    assert r.due - run.start.loop_t0 == pytest.approx(ahead, abs=1e-6)
    assert r.wall_time == pytest.approx(now + ahead, abs=1e-6)


def test_a_wall_moment_passed_before_the_start_is_reported_late() -> None:
    loaded = 1_900_000_000.0
    moment = loaded + 2  # valid when loaded ...
    at = datetime.fromtimestamp(moment, ZoneInfo("UTC")).isoformat()
    run = run_virtual(
        f'[[call]]\nat = {at}\ncallback = "echo"\n', now=loaded, wall_clock=lambda: loaded + 5
    )  # ... but the run started 3 s after it
    (r,) = run.records
    assert r.wall_time - moment == pytest.approx(3.0)
    assert r.late == pytest.approx(r.wall_time - moment)


def test_the_engine_runs_on_a_real_loop_in_order() -> None:
    short = CALL_LATER.replace("0.2", "0.02").replace("0.1", "0.01")
    run = _run_on(asyncio.SelectorEventLoop, short)
    assert [r.args for r in run.records] == [(3,), (2,), (1,)]
    assert run.start.clock == "real"
    assert all(r.late >= 0 for r in run.records)
    assert isinstance(run.events[0], Start) and isinstance(run.events[-1], End)


def test_events_are_start_then_records_then_end() -> None:
    run = run_virtual(MIXED)
    assert isinstance(run.events[0], Start) and isinstance(run.events[-1], End)
    middle = run.events[1:-1]
    assert all(isinstance(e, CallRecord | Cancelled) for e in middle)


def test_run_options_defaults() -> None:
    opts = RunOptions()
    assert (opts.timeout, opts.fail_fast, opts.seed, opts.speed) == (None, False, None, 1.0)


# -- the next-due view a live display reads ------------------------------------------------------


def test_status_names_the_next_due_call_from_the_engines_own_view() -> None:
    """status() says which call comes next and when, from the engine's own due times (never
    the loop's private timer heap), skipping what was cancelled or already fired."""
    seen = []

    def look() -> str:
        seen.append(current_run().status())  # type: ignore[attr-defined]
        return "looked"

    text = """
        [[call]]
        name = "look"
        at = 0.1
        callback = "look"

        [[call]]
        name = "gone"
        at = 0.15
        callback = "echo"

        [[call]]
        name = "drop"
        at = 0.1
        callback = "cancel"
        args = ["gone"]

        [[call]]
        name = "tick"
        at = 0.2
        every = 0.1
        count = 2
        callback = "echo"

        [[call]]
        name = "last"
        at = 0.25
        callback = "look"
    """
    run_virtual(text, registry=registry_with(look=look))
    first, last = seen
    # at 0.1: "drop" (same moment) is still to run, so "gone" is next at 0.15
    assert (first.next_entry, first.calls, first.pending) == ("gone", 0, 4)
    assert first.next_in == pytest.approx(0.05)
    # at 0.25: "gone" was cancelled, tick's first call fired; its second is due at 0.3
    assert (last.next_entry, last.calls, last.cancelled) == ("tick", 3, 1)
    assert last.next_in == pytest.approx(0.05)
    assert last.t == pytest.approx(0.25)


@pytest.mark.parametrize(
    "module",
    ["timerctl.engine", "timerctl.fanout", "timerctl.render.jsonl", "timerctl.render.writer"],
)
def test_the_run_and_its_jsonl_output_import_neither_click_nor_rich(module: str) -> None:
    # The core side of a run (the engine, the fan-out to its sinks, the jsonl writer) sits
    # under the CLI and the rich renderers, never on them.
    code = (
        f"import sys, {module}; "
        "print([m for m in sys.modules if m.split('.')[0] in ('click', 'rich')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
