"""Read a recorded run (``--record FILE`` or ``--format jsonl`` output) back into Events."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .errors import Problem, ScheduleError
from .events import CallRecord, Cancelled, ClockStep, End, ErrorInfo, Event, Start


class RecordingError(ScheduleError):
    """A recording has lines that are not timerctl records."""


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _event(d: dict[str, Any]) -> Event | None:
    kind = d.get("event")
    if kind == "start":
        return Start(schedule=d["schedule"], loop_impl=d["loop_impl"], clock=d["clock"],
                     loop_t0=d["loop_t0"], wall_t0=_ts(d["wall_t0"]),
                     clock_resolution=d["clock_resolution"], calls=d["calls"],
                     speed=d.get("speed", 1.0), precision=d.get("precision"),
                     selector=d.get("selector"))
    if kind == "call":
        err = d.get("error")
        return CallRecord(
            seq=d["seq"], entry=d["entry"], kind=d["kind"], callback=d["callback"],
            args=tuple(d["args"]), kwargs=d["kwargs"], n=d["n"], due=d["due"],
            loop_time=d["loop_time"], t=d["t"], wall_time=_ts(d["wall_time"]), late=d["late"],
            duration=d.get("duration", 0.0), result=d.get("result"),
            error=ErrorInfo(err["type"], err["message"], err.get("output", "")) if err else None,
            cancelled=bool(d.get("cancelled")), exit_status=d.get("exit_status"),
        )
    if kind == "cancel":
        return Cancelled(entry=d["entry"], count=d["count"], by=d["by"], t=d["t"],
                         at_end=bool(d.get("at_end")))
    if kind == "clock":
        return ClockStep(t=d["t"], step=d["step"], wall_time=_ts(d["wall_time"]))
    if kind == "end":
        return End(reason=d["reason"], calls=d["calls"], failed=d["failed"],
                   cancelled=d["cancelled"], late_p50=d["late_p50"], late_p99=d["late_p99"],
                   late_max=d["late_max"], duration=d["duration"], exit_code=d["exit_code"],
                   late_p90=d.get("late_p90"), early=d.get("early", 0),
                   clock_steps=d.get("clock_steps", 0))
    return None  # an event kind added later: skipped, not an error


def read_events(lines: Iterable[str], path: str) -> list[Event]:
    """Parse every line; collect the bad ones as located problems."""
    events: list[Event] = []
    problems: list[Problem] = []
    first_line = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        first_line = first_line or lineno
        try:
            d = json.loads(line)
            if not isinstance(d, dict):
                raise TypeError("not a JSON object")
            event = _event(d)
        except json.JSONDecodeError as exc:
            problems.append(Problem(path, lineno, exc.colno, f"not JSON: {exc.msg}"))
            continue
        except (KeyError, TypeError, ValueError) as exc:
            what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            problems.append(Problem(path, lineno, None, f"not a timerctl record: {what}"))
            continue
        if event is not None:
            events.append(event)
        if len(problems) >= 20:
            break
    if problems and problems[0].line == first_line:
        # Not one line of it is a record: say that once, not once per line.
        what = "a schedule (TOML)" if path.endswith(".toml") else "not JSON Lines"
        raise RecordingError(path, [Problem(
            path, 0, None, f"this is {what}, not a timerctl recording: write one with "
            "`timerctl run SCHEDULE --record FILE` (or --format jsonl)")])
    if problems:
        raise RecordingError(path, problems)
    if not any(isinstance(e, CallRecord) for e in events):
        raise RecordingError(path, [Problem(path, 0, None, "no call records in this file")])
    return events


def end_from(events: list[Event]) -> End:
    """An End rebuilt from call records, for a recording cut short (no end record)."""
    from .engine import percentile

    calls = [e for e in events if isinstance(e, CallRecord)]
    late = sorted(c.late for c in calls if not c.cancelled)
    failed = sum(1 for c in calls if c.failed)
    return End(
        reason="unfinished", calls=len(calls), failed=failed,
        cancelled=sum(e.count for e in events if isinstance(e, Cancelled)),
        late_p50=percentile(late, 50), late_p99=percentile(late, 99),
        late_max=late[-1] if late else None,
        duration=max((c.t for c in calls), default=0.0),
        exit_code=1 if failed else 0, late_p90=percentile(late, 90),
        early=sum(1 for v in late if v < 0),
    )
