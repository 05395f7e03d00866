"""What the engine emits. Renderers format these; tests assert on them, not on strings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .schedule import describe_call

_last_second: list[Any] = [None, "", ""]  # whole second, its text, its UTC offset: one per second


def iso(ts: float) -> str:
    """A wall-clock reading as ISO 8601 with microseconds, in the local time zone.

    Rounded to the nearest microsecond first: a float epoch has only ~0.2 µs to spare, and
    ``wall_t0 + 0.1`` must not print as 99.999 ms later. The date and zone are worked out once
    per second (a record per call makes this a hot path).
    """
    seconds, micros = divmod(round(ts * 1_000_000), 1_000_000)
    cache = _last_second
    if cache[0] != seconds:
        try:
            text = datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")
        except (ValueError, OverflowError, OSError):  # beyond year 9999 (virtual time can go there)
            return f"epoch+{ts:.6f}s"
        cache[:] = [seconds, text[:19], text[19:]]
    return f"{cache[1]}.{micros:06d}{cache[2]}"


@dataclass
class Start:
    schedule: str
    loop_impl: str
    clock: str  # "real" | "virtual"
    loop_t0: float
    wall_t0: float  # epoch seconds
    clock_resolution: float
    calls: int  # entries in the schedule
    speed: float = 1.0
    precision: str | None = None  # "normal" | "high" on the real asyncio loop, else None
    selector: str | None = None  # what the loop waits with
    seed: int | None = None  # the jitter's seed (--seed, or chosen): --seed replays the run


@dataclass
class ErrorInfo:
    type: str
    message: str
    output: str = ""  # what a failed call still printed (exec's stdout)


@dataclass(eq=False)  # not frozen: built once per call, on the hot path
class CallRecord:
    """One invocation: when it was due, when it ran on both clocks, and what it returned."""

    seq: int
    entry: str
    kind: str
    callback: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    n: int  # firings of this entry so far, 1-based
    due: float  # loop clock
    loop_time: float  # loop clock when invoked
    t: float  # loop_time - loop_t0
    wall_time: float  # epoch seconds, read together with loop_time
    late: float  # loop_time - due
    duration: float
    result: Any = None
    error: ErrorInfo | None = None
    cancelled: bool = False  # an async call cut short by the end of the run
    exit_status: int | None = None  # of a process the call ran (exec)

    @property
    def failed(self) -> bool:
        return self.error is not None and not self.cancelled

    def describe(self) -> str:
        return describe_call(self.callback, self.args, self.kwargs)


@dataclass
class Cancelled:
    """Pending calls of an entry that will not run: cancelled by a callback or by the end."""

    entry: str
    count: int
    by: str  # the entry whose callback cancelled it, or the end reason ("stopped", ...)
    t: float
    at_end: bool = False  # cancelled because the run ended, not by a callback

    def describe(self) -> str:
        cause = f"the run ended: {self.by}" if self.at_end else f"by {self.by}"
        s = "" if self.count == 1 else "s"
        return f"cancelled {self.count} call{s} of {self.entry} ({cause}) at T+{self.t:.6f}"


@dataclass
class ClockStep:
    """The wall clock jumped against the loop clock (an NTP step, ``date -s``, a resume)."""

    t: float  # loop time since t0 when it was noticed
    step: float  # seconds the wall clock moved beyond the loop clock (negative: back)
    wall_time: float  # the wall clock as it now reads

    def describe(self) -> str:
        return (
            f"the wall clock stepped {self.step:+.6f}s against the loop clock "
            f"(noticed at T+{self.t:.6f}); wall times from here are as it now reads"
        )


@dataclass
class Decision:
    """A policy decided about a due call: skipped (too late, or overlapping a running one),
    queued behind a running one, or a running one killed for it. One record per decision."""

    entry: str
    n: int  # the firing decided about
    action: str  # "skip" | "queue" | "kill"
    why: str  # "late" (late_after) | "overlap"
    t: float
    late: float  # how late the call was when it was decided about

    def describe(self) -> str:
        if self.why == "late":
            return (
                f"skipped call {self.n} of {self.entry}: {self.late:.6f}s late, beyond "
                f"its late_after (at T+{self.t:.6f})"
            )
        what = {"skip": "skipped", "queue": "queued", "kill": "killed the running call for"}
        return (
            f"{what.get(self.action, self.action)} call {self.n} of {self.entry}: the "
            f"previous call still runs (overlap = {self.action}, at T+{self.t:.6f})"
        )


@dataclass
class Output:
    """One line a running ``exec`` printed on stdout, as it came (``--stream``)."""

    entry: str
    n: int
    t: float
    line: str

    def describe(self) -> str:
        return f"{self.entry}| {self.line}"


@dataclass
class End:
    reason: str  # done | stopped | timeout | interrupted | terminated | failed | closed
    calls: int
    failed: int
    cancelled: int
    late_p50: float | None
    late_p99: float | None
    late_max: float | None
    duration: float
    exit_code: int
    late_p90: float | None = None
    early: int = 0  # calls that ran before their due time (never on asyncio's own loop)
    clock_steps: int = 0
    #: records stdout's slow reader never got (--on-backlog drop); None: the policy keeps all
    dropped: int | None = None


@dataclass
class Backlog:
    """stdout's reader fell ``pending`` bytes behind: past the limit, the policy applies."""

    t: float  # loop time since t0 when it was noticed
    pending: int  # bytes written and not yet taken by the reader
    policy: str  # "block": calls wait for the reader; "drop": records are dropped (counted)

    def describe(self) -> str:
        what = (
            "records are dropped until it catches up (counted in the summary)"
            if self.policy == "drop"
            else "calls wait for it (nothing is lost)"
        )
        return (
            f"stdout's reader is {self.pending / 1048576:.1f} MiB behind "
            f"(noticed at T+{self.t:.6f}): {what}"
        )


Event = Start | CallRecord | Cancelled | ClockStep | Backlog | Decision | Output | End
