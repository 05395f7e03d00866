"""JSON Lines: one object per event, stable keys, one flushed line each (SPEC §4)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import IO, Any

from ..events import (
    Backlog,
    CallRecord,
    Cancelled,
    ClockStep,
    Decision,
    End,
    Event,
    Output,
    Start,
    iso,
)
from . import RenderOptions
from .passthrough import Passthrough
from .text import jsonable, write_flushed
from .writer import Writer

_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
#: what ``_dumps`` does with a str (JSONEncoder.encode's own first case), without the call
_quote = encode_basestring_ascii


def to_dict(event: Event) -> dict[str, Any]:
    """The published form of an event: keys once published stay."""
    if isinstance(event, CallRecord):
        d: dict[str, Any] = {
            "event": "call",
            "seq": event.seq,
            "entry": event.entry,
            "kind": event.kind,
            "callback": event.callback,
            "args": jsonable(event.args),
            "kwargs": jsonable(event.kwargs),
            "n": event.n,
            "due": event.due,
            "loop_time": event.loop_time,
            "t": event.t,
            "wall_time": iso(event.wall_time),
            "late": event.late,
            "duration": event.duration,
        }
        if event.error is not None:
            d["error"] = {"type": event.error.type, "message": event.error.message}
            if event.error.output:
                d["error"]["output"] = event.error.output
            if event.cancelled:
                d["cancelled"] = True
        else:
            d["result"] = jsonable(event.result)
        if event.exit_status is not None:
            d["exit_status"] = event.exit_status
        return d
    if isinstance(event, Start):
        return {
            "event": "start",
            "schedule": event.schedule,
            "loop_impl": event.loop_impl,
            "clock": event.clock,
            "loop_t0": event.loop_t0,
            "wall_t0": iso(event.wall_t0),
            "clock_resolution": event.clock_resolution,
            "calls": event.calls,
            "speed": event.speed,
            "precision": event.precision,
            "selector": event.selector,
            "seed": event.seed,
        }
    if isinstance(event, Cancelled):
        return {
            "event": "cancel",
            "entry": event.entry,
            "count": event.count,
            "by": event.by,
            "at_end": event.at_end,
            "t": event.t,
        }
    if isinstance(event, ClockStep):
        return {
            "event": "clock",
            "t": event.t,
            "step": event.step,
            "wall_time": iso(event.wall_time),
        }
    if isinstance(event, Backlog):
        return {"event": "backlog", "t": event.t, "pending": event.pending, "policy": event.policy}
    if isinstance(event, Decision):
        return {
            "event": "policy",
            "entry": event.entry,
            "n": event.n,
            "action": event.action,
            "why": event.why,
            "t": event.t,
            "late": event.late,
        }
    if isinstance(event, Output):
        return {
            "event": "output",
            "entry": event.entry,
            "n": event.n,
            "t": event.t,
            "line": event.line,
        }
    assert isinstance(event, End)
    end = {
        "event": "end",
        "reason": event.reason,
        "calls": event.calls,
        "failed": event.failed,
        "cancelled": event.cancelled,
        "late_p50": event.late_p50,
        "late_p90": event.late_p90,
        "late_p99": event.late_p99,
        "late_max": event.late_max,
        "early": event.early,
        "clock_steps": event.clock_steps,
        "duration": event.duration,
        "exit_code": event.exit_code,
    }
    if event.dropped is not None:  # only under --on-backlog drop, then always
        end["dropped"] = event.dropped
    return end


def _plain(values: Any) -> bool:
    """Values json encodes as they are (the usual arguments): no need to walk them."""
    for v in values:
        t = type(v)
        if t is str or t is bool or v is None or (t is float and math.isfinite(v)):
            continue
        if t is int and -(2**63) <= v < 2**63:
            continue
        return False
    return True


def _putter(stream: IO[str]) -> Callable[[str], object]:
    """How a line is written and flushed: one call to a Writer's ``put`` (the hot path), or
    ``write_flushed`` for any other stream."""
    out: object = stream
    if type(out) is Writer or type(out) is Passthrough:
        return out.put
    return lambda line: write_flushed(stream, line)


class JsonlRenderer:
    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.stream = stream
        self.options = options
        self._fixed: dict[str, str] = {}  # entry -> its encoded entry/kind/callback/args/kwargs
        self._put = _putter(stream)

    def __call__(self, event: Event) -> None:
        """Once per record. A call's line is the one ``to_dict`` gives, made faster (the hot path
        of a run): what an entry's calls share (name, callback, arguments) is encoded once per
        entry; only the numbers, the wall time and the result are formatted per call. Floats
        print as JSON prints them (``float.__repr__``); these are always finite."""
        if (
            type(event) is not CallRecord
            or event.error is not None
            or event.exit_status is not None
        ):
            self._put(_dumps(to_dict(event)) + "\n")
            return
        r = event
        fixed = self._fixed.get(r.entry)
        if fixed is None:
            fixed = self._fixed_part(r)
        result = r.result
        encoded = _quote(result) if type(result) is str else _dumps(jsonable(result))
        self._put(
            f'{{"event":"call","seq":{r.seq},{fixed},"n":{r.n},"due":{r.due!r},'
            f'"loop_time":{r.loop_time!r},"t":{r.t!r},"wall_time":"{iso(r.wall_time)}",'
            f'"late":{r.late!r},"duration":{r.duration!r},"result":{encoded}}}\n'
        )

    def _fixed_part(self, r: CallRecord) -> str:
        """What every line of an entry says alike, encoded (kept for a repeating entry)."""
        fixed = _dumps(
            {
                "entry": r.entry,
                "kind": r.kind,
                "callback": r.callback,
                "args": r.args if _plain(r.args) else jsonable(r.args),
                "kwargs": r.kwargs if _plain(r.kwargs.values()) else jsonable(r.kwargs),
            }
        )[1:-1]
        if r.n > 1:  # a repeating entry: worth keeping (a one-shot one is never seen again)
            self._fixed[r.entry] = fixed
        return fixed
