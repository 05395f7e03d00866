"""The run's counts, and the records made from them: one CallRecord per call, one End.

The engine decides what happened; this module says it: seq numbers, failed and cancelled
counts, the lateness figures, and the end record's exit code.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import signals
from .errors import ExitCode
from .events import CallRecord, End, ErrorInfo
from .slots import Slot
from .stats import Lateness


class Status(NamedTuple):
    """Where a run stands: what a live footer shows."""

    calls: int
    failed: int
    cancelled: int
    pending: int
    running: int
    next_entry: str | None
    next_in: float | None
    t: float


class Tally:
    """What a run has done so far (read by a live display's ``status`` from its thread)."""

    __slots__ = ("cancelled", "failed", "lateness", "seq", "t0", "virtual")

    def __init__(self) -> None:
        self.seq = 0  # calls recorded
        self.failed = 0
        self.cancelled = 0
        self.lateness = Lateness()
        self.virtual = False
        self.t0 = 0.0  # the loop clock at the start: a record's ``t`` counts from here

    def record(
        self,
        slot: Slot,
        now: float,
        wall: float,
        duration: float,
        result: Any,
        error: ErrorInfo | None,
        cancelled: bool,
        exit_status: int | None,
    ) -> CallRecord:
        """The record of a call that started at ``now`` (loop time) and ``wall``.

        Once per call: the fields are given in CallRecord's order, not by name, and the
        kind's text is the member's own ``_value_`` (``.value`` is a property).
        """
        call = slot.entry.call
        self.seq += 1
        due = slot.due
        late = now - due
        if self.virtual:  # both sides are on the nanosecond grid, give or take a float step
            late = round(late, 9) + 0.0
        self.lateness.add(late)  # a call cut short still started: its lateness is real
        if error is not None:
            result = None
            if not cancelled:  # (CallRecord.failed)
                self.failed += 1
        return CallRecord(
            self.seq,
            call.name,
            call.kind._value_,
            call.callback,
            call.args,
            call.kwargs,
            slot.n,
            due,
            now,
            now - self.t0,
            wall,
            late,
            duration,
            result,
            error,
            cancelled,
            exit_status,
        )

    def exit_code(self, reason: str, signum: int | None, timeout_exit: int | None) -> int:
        """The run's exit status: a signal's, a closed output's, a timeout's (when asked for),
        a failed call's, or 0."""
        if signum is not None:
            return signals.exit_code_of(signum)
        if reason == "closed":
            return ExitCode.PIPE
        if reason == "timeout" and timeout_exit is not None:
            return timeout_exit
        return ExitCode.CALLBACK_FAILED if self.failed else ExitCode.OK

    def end(self, reason: str, code: int, *, clock_steps: int, duration: float) -> End:
        p50, p90, p99 = self.lateness.percentiles(50, 90, 99)
        return End(
            reason=reason,
            calls=self.seq,
            failed=self.failed,
            cancelled=self.cancelled,
            late_p50=p50,
            late_p99=p99,
            late_max=self.lateness.maximum,
            late_p90=p90,
            early=self.lateness.early,
            clock_steps=clock_steps,
            duration=duration,
            exit_code=int(code),
        )
