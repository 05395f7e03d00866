"""Read a recorded run (``--record FILE`` or ``--format jsonl`` output) back into Events."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

from .errors import ExitCode, Problem, ScheduleError
from .events import (
    Backlog,
    CallRecord,
    Cancelled,
    ClockStep,
    Decision,
    End,
    ErrorInfo,
    Event,
    Start,
)


class RecordingError(ScheduleError):
    """A recording has lines that are not timerctl records."""


#: a recorded line is a few hundred bytes; beyond this it is not one (``/dev/zero``)
MAX_LINE = 1024 * 1024
MAX_PROBLEMS = 20


def _ts(text: Any) -> float:
    if not isinstance(text, str):
        raise ValueError(f"a wall time must be an ISO 8601 string, not {_shown(text)}")
    return datetime.fromisoformat(text).timestamp()


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(d: dict[str, Any], key: str, default: Any = KeyError) -> float:
    """A finite number (not a bool, not NaN): what every time and lateness is."""
    if key not in d and default is not KeyError:
        return default  # type: ignore[no-any-return]
    value = d[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"'{key}' must be a finite number, not {_shown(value)}")
    return float(value)


def _opt_num(d: dict[str, Any], key: str) -> float | None:
    return None if d.get(key) is None else _num(d, key)


def _int(d: dict[str, Any], key: str, default: Any = KeyError) -> int:
    if key not in d and default is not KeyError:
        return default  # type: ignore[no-any-return]
    value = d[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"'{key}' must be an integer, not {_shown(value)}")
    return value


def _str(d: dict[str, Any], key: str, default: Any = KeyError) -> str:
    if key not in d and default is not KeyError:
        return default  # type: ignore[no-any-return]
    value = d[key]
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string, not {_shown(value)}")
    return value


def _event(d: dict[str, Any]) -> Event | None:
    kind = d.get("event")
    if kind == "start":
        seed = d.get("seed")
        return Start(
            schedule=_str(d, "schedule"),
            loop_impl=_str(d, "loop_impl"),
            clock=_str(d, "clock"),
            loop_t0=_num(d, "loop_t0"),
            wall_t0=_ts(d["wall_t0"]),
            clock_resolution=_num(d, "clock_resolution"),
            calls=_int(d, "calls"),
            speed=_num(d, "speed", 1.0),
            precision=d.get("precision") if isinstance(d.get("precision"), str) else None,
            selector=d.get("selector") if isinstance(d.get("selector"), str) else None,
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        )
    if kind == "call":
        err = d.get("error")
        if err is not None and not isinstance(err, dict):
            raise ValueError(f"'error' must be an object, not {_shown(err)}")
        args, kwargs = d["args"], d["kwargs"]
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError("'args' must be a list and 'kwargs' an object")
        status = d.get("exit_status")
        return CallRecord(
            seq=_int(d, "seq"),
            entry=_str(d, "entry"),
            kind=_str(d, "kind"),
            callback=_str(d, "callback"),
            args=tuple(args),
            kwargs=kwargs,
            n=_int(d, "n"),
            due=_num(d, "due"),
            loop_time=_num(d, "loop_time"),
            t=_num(d, "t"),
            wall_time=_ts(d["wall_time"]),
            late=_num(d, "late"),
            duration=_num(d, "duration", 0.0),
            result=d.get("result"),
            error=ErrorInfo(_str(err, "type"), _str(err, "message"), _str(err, "output", ""))
            if err
            else None,
            cancelled=bool(d.get("cancelled")),
            exit_status=status
            if isinstance(status, int) and not isinstance(status, bool)
            else None,
        )
    if kind == "cancel":
        return Cancelled(
            entry=_str(d, "entry"),
            count=_int(d, "count"),
            by=_str(d, "by"),
            t=_num(d, "t"),
            at_end=bool(d.get("at_end")),
        )
    if kind == "clock":
        return ClockStep(t=_num(d, "t"), step=_num(d, "step"), wall_time=_ts(d["wall_time"]))
    if kind == "backlog":
        return Backlog(t=_num(d, "t"), pending=_int(d, "pending"), policy=_str(d, "policy"))
    if kind == "policy":
        return Decision(
            entry=_str(d, "entry"),
            n=_int(d, "n"),
            action=_str(d, "action"),
            why=_str(d, "why"),
            t=_num(d, "t"),
            late=_num(d, "late"),
        )
    if kind == "end":
        dropped = d.get("dropped")
        return End(
            reason=_str(d, "reason"),
            calls=_int(d, "calls"),
            failed=_int(d, "failed"),
            cancelled=_int(d, "cancelled"),
            late_p50=_opt_num(d, "late_p50"),
            late_p99=_opt_num(d, "late_p99"),
            late_max=_opt_num(d, "late_max"),
            duration=_num(d, "duration"),
            exit_code=_int(d, "exit_code"),
            late_p90=_opt_num(d, "late_p90"),
            early=_int(d, "early", 0),
            clock_steps=_int(d, "clock_steps", 0),
            dropped=dropped if isinstance(dropped, int) else None,
        )
    return None  # an event kind added later: skipped, not an error


def read_lines(stream: BinaryIO, path: str) -> Iterator[tuple[int, str]]:
    """The numbered lines of a recording, each read with a bound: a file without newlines
    (``/dev/zero``) is a located error, not all of memory."""
    lineno = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise RecordingError(
                path,
                [
                    Problem(
                        path,
                        lineno,
                        None,
                        f"a line of more than {MAX_LINE // 1048576} MiB: "
                        "not a timerctl record (a recording has one JSON object a line)",
                    )
                ],
            )
        yield lineno, raw.decode("utf-8", errors="replace")


def read_events(lines: Iterable[tuple[int, str]], path: str) -> Iterator[Event]:
    """Parse every line as it comes (a recording may be bigger than memory); once they are
    all read, the bad ones are raised together as located problems."""
    problems: list[Problem] = []
    first_line = 0
    calls = 0
    for lineno, line in lines:
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
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            problems.append(Problem(path, lineno, None, f"not a timerctl record: {what}"))
        else:
            if event is not None:
                calls += type(event) is CallRecord
                if not problems:
                    yield event
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems and problems[0].line == first_line:
        # Not one line of it is a record: say that once, not once per line.
        what = "a schedule (TOML)" if path.endswith(".toml") else "not JSON Lines"
        raise RecordingError(
            path,
            [
                Problem(
                    path,
                    0,
                    None,
                    f"this is {what}, not a timerctl recording: write one with "
                    "`timerctl run SCHEDULE --record FILE` (or --format jsonl)",
                )
            ],
        )
    if problems:
        raise RecordingError(path, problems)
    if not calls:
        raise RecordingError(path, [Problem(path, 0, None, "no call records in this file")])


class EndBuilder:
    """An End rebuilt from call records, for a recording cut short (no end record); kept as
    the records go by, in bounded memory."""

    def __init__(self) -> None:
        from .stats import Lateness

        self.late = Lateness()
        self.calls = self.failed = self.cancelled = 0
        self.duration = 0.0

    def add(self, event: Event) -> None:
        if isinstance(event, CallRecord):
            self.calls += 1
            self.failed += event.failed
            self.duration = max(self.duration, event.t)
            if not event.cancelled:
                self.late.add(event.late)
        elif isinstance(event, Cancelled):
            self.cancelled += event.count

    def end(self) -> End:
        p50, p90, p99 = self.late.percentiles(50, 90, 99)
        return End(
            reason="unfinished",
            calls=self.calls,
            failed=self.failed,
            cancelled=self.cancelled,
            late_p50=p50,
            late_p99=p99,
            late_max=self.late.maximum,
            duration=self.duration,
            exit_code=int(ExitCode.CALLBACK_FAILED if self.failed else ExitCode.OK),
            late_p90=p90,
            early=self.late.early,
        )
