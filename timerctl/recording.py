"""Read a recorded run (``--record FILE`` or ``--format jsonl`` output) back into Events."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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


def _ts_of(d: dict[str, Any], key: str) -> float:
    return _ts(d[key])


def _str_or_none(d: dict[str, Any], key: str) -> str | None:
    value = d.get(key)
    return value if isinstance(value, str) else None


def _int_or_none(d: dict[str, Any], key: str) -> int | None:
    """Where older runs wrote nothing, or something else: a plain int (not a bool) or None."""
    value = d.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dropped(d: dict[str, Any], key: str) -> int | None:
    value = d.get(key)
    return value if isinstance(value, int) else None  # (a bool passes: as it always has)


def _flag(d: dict[str, Any], key: str) -> bool:
    return bool(d.get(key))


def _raw(d: dict[str, Any], key: str) -> Any:
    return d.get(key)


def _args(d: dict[str, Any], key: str) -> tuple[Any, ...]:
    return tuple(d[key])  # a list: checked by _call_shape


def _error(d: dict[str, Any], key: str) -> ErrorInfo | None:
    err = d.get(key)  # an object or None: checked by _call_shape
    return (
        ErrorInfo(_str(err, "type"), _str(err, "message"), _str(err, "output", "")) if err else None
    )


def _call_shape(d: dict[str, Any]) -> None:
    """A call record's containers, checked before its fields (the first problem is the one
    told)."""
    err = d.get("error")
    if err is not None and not isinstance(err, dict):
        raise ValueError(f"'error' must be an object, not {_shown(err)}")
    args, kwargs = d["args"], d["kwargs"]
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError("'args' must be a list and 'kwargs' an object")


#: reads one field of a record: (record, key) -> value, or KeyError/ValueError saying why not
Reader = Callable[[dict[str, Any], str], Any]


@dataclass(frozen=True)
class Kind:
    """How one kind of record becomes its Event: its fields in the order they are checked
    (the first bad one is told), each key the Event's field of the same name."""

    event: Callable[..., Event]
    fields: tuple[tuple[str, Reader], ...]
    shape: Callable[[dict[str, Any]], None] | None = None


_NUM_OR_1 = functools.partial(_num, default=1.0)
_NUM_OR_0 = functools.partial(_num, default=0.0)
_INT_OR_0 = functools.partial(_int, default=0)

KINDS: dict[str, Kind] = {
    "start": Kind(
        Start,
        (
            ("schedule", _str),
            ("loop_impl", _str),
            ("clock", _str),
            ("loop_t0", _num),
            ("wall_t0", _ts_of),
            ("clock_resolution", _num),
            ("calls", _int),
            ("speed", _NUM_OR_1),
            ("precision", _str_or_none),
            ("selector", _str_or_none),
            ("seed", _int_or_none),
        ),
    ),
    "call": Kind(
        CallRecord,
        (
            ("seq", _int),
            ("entry", _str),
            ("kind", _str),
            ("callback", _str),
            ("args", _args),
            ("kwargs", _raw),
            ("n", _int),
            ("due", _num),
            ("loop_time", _num),
            ("t", _num),
            ("wall_time", _ts_of),
            ("late", _num),
            ("duration", _NUM_OR_0),
            ("result", _raw),
            ("error", _error),
            ("cancelled", _flag),
            ("exit_status", _int_or_none),
        ),
        shape=_call_shape,
    ),
    "cancel": Kind(
        Cancelled,
        (("entry", _str), ("count", _int), ("by", _str), ("t", _num), ("at_end", _flag)),
    ),
    "clock": Kind(ClockStep, (("t", _num), ("step", _num), ("wall_time", _ts_of))),
    "backlog": Kind(Backlog, (("t", _num), ("pending", _int), ("policy", _str))),
    "policy": Kind(
        Decision,
        (
            ("entry", _str),
            ("n", _int),
            ("action", _str),
            ("why", _str),
            ("t", _num),
            ("late", _num),
        ),
    ),
    "end": Kind(
        End,
        (
            ("reason", _str),
            ("calls", _int),
            ("failed", _int),
            ("cancelled", _int),
            ("late_p50", _opt_num),
            ("late_p99", _opt_num),
            ("late_max", _opt_num),
            ("duration", _num),
            ("exit_code", _int),
            ("late_p90", _opt_num),
            ("early", _INT_OR_0),
            ("clock_steps", _INT_OR_0),
            ("dropped", _dropped),
        ),
    ),
}


def _event(d: dict[str, Any]) -> Event | None:
    name = d.get("event")
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        return None  # an event kind added later: skipped, not an error
    if kind.shape is not None:
        kind.shape(d)
    return kind.event(**{key: read(d, key) for key, read in kind.fields})


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


def _parse(lineno: int, line: str, path: str) -> Event | Problem | None:
    """One line's Event, the Problem that says why it is none, or None (a kind added later)."""
    try:
        d = json.loads(line)
        if not isinstance(d, dict):
            raise TypeError("not a JSON object")
        return _event(d)
    except json.JSONDecodeError as exc:
        return Problem(path, lineno, exc.colno, f"not JSON: {exc.msg}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        return Problem(path, lineno, None, f"not a timerctl record: {what}")


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
        parsed = _parse(lineno, line, path)
        if isinstance(parsed, Problem):
            problems.append(parsed)
            if len(problems) >= MAX_PROBLEMS:
                break
        elif parsed is not None:
            calls += type(parsed) is CallRecord
            if not problems:
                yield parsed
    _refuse(path, problems, first_line, calls)


def _refuse(path: str, problems: list[Problem], first_line: int, calls: int) -> None:
    """Raise what was wrong with a recording read to its end (nothing: return)."""
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
