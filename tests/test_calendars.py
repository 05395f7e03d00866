"""cron and calendar entries: their moments on the wall clock, DST as cron and systemd have it,
re-armed when the wall clock steps."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from helpers import Run

from timerctl import engine
from timerctl.calendars import RuleKind, WallRule, dst_notes
from timerctl.engine import Engine, RunOptions
from timerctl.events import CallRecord, ClockStep
from timerctl.plan import make_plan
from timerctl.schedule import Call, Kind, Schedule

BERLIN = ZoneInfo("Europe/Berlin")


def at(*fields: int) -> float:
    return datetime(*fields, tzinfo=BERLIN).timestamp()


def rule_schedule(kind: RuleKind, expr: str, **kw: object) -> Schedule:
    rule = WallRule(kind, expr, "Europe/Berlin", **kw)  # type: ignore[arg-type]
    call = Call(
        name="job",
        kind=Kind.CRON if kind is RuleKind.CRON else Kind.CALENDAR,
        callback="echo",
        args=("x",),
        rule=rule,
    )
    return Schedule("s.toml", (call,))


def run_virtual_from(sched: Schedule, wall_t0: float) -> Run:
    run = Run()
    engine.run(sched, run.events.append, virtual=True, wall_clock=lambda: wall_t0)
    return run


def walls(run: Run) -> list[str]:
    return [datetime.fromtimestamp(r.wall_time, BERLIN).isoformat() for r in run.records]


def test_cron_runs_a_job_in_the_spring_gap_when_the_gap_ends() -> None:
    run = run_virtual_from(
        rule_schedule(RuleKind.CRON, "30 2 * * *", count=2), at(2027, 3, 27, 12, 0)
    )
    assert walls(run) == ["2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00"]
    assert [r.kind for r in run.records] == ["cron", "cron"]
    assert all(r.late == 0 for r in run.records)


def test_cron_runs_an_interval_job_in_both_halves_of_the_autumn_fold() -> None:
    run = run_virtual_from(
        rule_schedule(RuleKind.CRON, "*/30 * * * *", count=4), at(2027, 10, 31, 1, 50)
    )
    assert walls(run) == [
        "2027-10-31T02:00:00+02:00",
        "2027-10-31T02:30:00+02:00",
        "2027-10-31T02:00:00+01:00",
        "2027-10-31T02:30:00+01:00",
    ]


def test_calendar_weekdays_skip_the_weekend() -> None:
    run = run_virtual_from(
        rule_schedule(RuleKind.CALENDAR, "Mon..Fri 09:00", count=3), at(2026, 12, 4, 10, 0)
    )  # a Friday, after 09:00
    assert walls(run) == [
        "2026-12-07T09:00:00+01:00",
        "2026-12-08T09:00:00+01:00",
        "2026-12-09T09:00:00+01:00",
    ]


def test_until_bounds_a_calendar_on_the_wall_clock() -> None:
    run = run_virtual_from(
        rule_schedule(RuleKind.CRON, "0 * * * *", until=3 * 3600.0), at(2026, 12, 4, 10, 30)
    )
    assert walls(run)[-1] == "2026-12-04T13:00:00+01:00" and len(run.records) == 3


@pytest.mark.parametrize(
    ("kind", "expr", "message"),
    [
        (RuleKind.CRON, "61 * * * *", "bad cron expression '61 * * * *'"),
        (RuleKind.CALENDAR, "Mon..Fri 25:00", "bad calendar expression"),
    ],
)
def test_a_bad_expression_is_refused_when_built(kind: RuleKind, expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        WallRule(kind, expr)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        WallRule(RuleKind.CRON, "* * * * *", "Mars/Base")


def test_plan_lists_the_moments_and_notes_the_dst_change() -> None:
    sched = rule_schedule(RuleKind.CRON, "30 2 * * *", count=3)
    plan = make_plan(sched, at(2027, 3, 27, 12, 0), limit=10)
    assert [round(s.due) for s in plan.steps] == [
        round(at(2027, 3, 28, 3, 0) - at(2027, 3, 27, 12, 0)),
        round(at(2027, 3, 29, 2, 30) - at(2027, 3, 27, 12, 0)),
        round(at(2027, 3, 30, 2, 30) - at(2027, 3, 27, 12, 0)),
    ]
    assert (
        "job: DST: the clocks go forward: the wall times of the skipped hour do not exist "
        "(cron runs a job due then when the gap ends; calendar skips it); +01:00 -> +02:00 "
        "at 2027-03-28T03:00:00+02:00, before the moment 2027-03-28T03:00:00+02:00"
    ) in plan.notes


def test_dst_notes_name_a_fold() -> None:
    moments = [
        datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN),
        datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=BERLIN),
    ]
    assert dst_notes(moments) == [
        "DST: the clocks go back: the wall times of the repeated hour come twice (cron runs a "
        "fixed-time job once and an interval job in both; calendar runs in both); +02:00 -> "
        "+01:00 at 2027-10-31T02:00:00+01:00, before the moment 2027-10-31T02:30:00+01:00"
    ]


def test_a_wall_clock_moment_is_rearmed_when_the_wall_clock_steps() -> None:
    """Real clock, short: the wall clock jumps an hour ahead 0.2 s in (a resume, an NTP step);
    a moment an hour and a bit away is then due at once, not an hour later."""
    start = time.monotonic()

    def wall() -> float:
        return time.time() + (3600.0 if time.monotonic() - start > 0.2 else 0.0)

    moment = datetime.fromtimestamp(time.time() + 3600.3, UTC)
    call = Call(name="a", kind=Kind.AT, callback="echo", args=("x",), wall_at=moment)
    events: list[object] = []
    eng = Engine(
        Schedule("s.toml", (call,)), events.append, wall_clock=wall, options=RunOptions(timeout=30)
    )
    with asyncio.Runner() as runner:
        end = runner.run(eng.run())
    assert end.reason == "done" and end.calls == 1 and end.clock_steps == 1
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ClockStep") < kinds.index("CallRecord")
    record = next(e for e in events if isinstance(e, CallRecord))
    step = next(e for e in events if isinstance(e, ClockStep))
    assert record.t < 10  # noticed by the wall watch (once a second), not after an hour
    assert abs(record.wall_time - moment.timestamp()) < 5
    assert abs(step.step - 3600) < 1


# -- in a schedule file ---------------------------------------------------------------------------


def test_cron_and_calendar_keys_load_with_zone_and_bounds() -> None:
    from helpers import schedule

    sched = schedule("""
    [[call]]
    name = "standup"
    calendar = "Mon..Fri 09:00"
    tz = "Europe/Berlin"
    count = 2
    callback = "echo"

    [[call]]
    cron = "*/30 * * * *"
    until = "2h"
    callback = "echo"
    """)
    standup, half = sched.calls
    assert standup.kind is Kind.CALENDAR and standup.rule is not None
    assert (standup.rule.expr, standup.rule.tz, standup.rule.count) == (
        "Mon..Fri 09:00",
        "Europe/Berlin",
        2,
    )
    assert half.name == "cron#1" and half.rule is not None and half.rule.until == 7200.0
    run = run_virtual_from(sched, at(2026, 12, 4, 10, 0))
    assert walls(run)[:2] == ["2026-12-04T10:30:00+01:00", "2026-12-04T11:00:00+01:00"]
    assert "2026-12-07T09:00:00+01:00" in walls(run)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('cron = "61 * * * *"', 2, "'cron': bad cron expression '61 * * * *': Bad minute"),
        ('calendar = "daily"\nevery = 5', 3, "'every' does not apply to a calendar entry"),
        ('cron = "* * * * *"\ntz = "Mars/Base"', 3, "'tz': unknown time zone 'Mars/Base'"),
        ('soon = true\ntz = "UTC"', 3, "'tz' needs 'cron' or 'calendar'"),
    ],
)
def test_calendar_keys_are_checked_and_located(text: str, line: int, message: str) -> None:
    from helpers import schedule

    from timerctl.errors import ScheduleError

    with pytest.raises(ScheduleError) as caught:
        schedule(f'[[call]]\n{text}\ncallback = "echo"\n')
    (problem,) = caught.value.problems
    assert problem.line == line and message in problem.message, problem
