"""The model: a validated, immutable description of what to call and when.

The loader (``timerctl.load``) builds it from TOML, checking each value against its rule first
and then making the frozen objects without a second check; the engine and ``plan`` only ever see
these objects, never raw dicts, so every later layer can trust that the values are in range.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .calendars import WallRule


class Kind(enum.Enum):
    """Which loop primitive schedules the first call."""

    SOON = "soon"  # loop.call_soon
    LATER = "later"  # loop.call_later(delay)
    AT = "at"  # loop.call_at(t0 + offset) or a wall-clock moment
    CRON = "cron"  # the next moment of a cron expression on the wall clock (``rule``)
    CALENDAR = "calendar"  # the next moment of a systemd OnCalendar expression (``rule``)


class Mode(enum.Enum):
    """How a repeating call finds its next due time."""

    FIXED_RATE = "fixed-rate"  # due at first + k*every: no drift
    FIXED_DELAY = "fixed-delay"  # every after the previous call returned: drift accumulates


class Overlap(enum.Enum):
    """What a call due while the entry's previous (async) call still runs does."""

    ALLOW = "allow"  # start it anyway: both run (the loop's own behaviour)
    SKIP = "skip"  # do not start it; the next due time still holds
    QUEUE = "queue"  # start it when the running one ends (one waits at most)
    KILL = "kill"  # end the running one (its process group, for exec), then start it


class LoopImpl(enum.Enum):
    ASYNCIO = "asyncio"
    UVLOOP = "uvloop"


def _show(value: Any) -> str:
    # TOML dates and times as ISO text, not datetime.datetime(2026, 11, ...)
    if isinstance(value, date | dtime):
        return value.isoformat()
    return repr(value)


def describe_call(callback: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A call as a person would write it in Python: ``echo(1, sep=', ')``."""
    parts = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()]
    return f"{callback}({', '.join(parts)})"


def _finite_nonneg(value: float, what: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, not {value!r}")


@dataclass(frozen=True)
class Repeat:
    """Repetition of a call: ``every`` seconds, bounded by ``count`` calls and/or ``until``."""

    every: float
    count: int | None = None
    until: float | None = None
    mode: Mode = Mode.FIXED_RATE
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.every) or self.every <= 0:
            raise ValueError(f"every must be a finite number > 0, not {self.every!r}")
        if self.count is not None and self.count < 1:
            raise ValueError(f"count must be >= 1, not {self.count!r}")
        if self.until is not None:
            _finite_nonneg(self.until, "until")
        _finite_nonneg(self.jitter, "jitter")

    @property
    def bounded(self) -> bool:
        return self.count is not None or self.until is not None

    def within(self, n: int, offset: float) -> bool:
        """Whether firing ``n``, due ``offset`` seconds after t0, is inside count and until.

        ``until`` is inclusive, with a nanosecond of slack so that 3 * 0.1 counts as 0.3.
        """
        if self.count is not None and n > self.count:
            return False
        return self.until is None or offset <= self.until + 1e-9

    def firings(self, first: float) -> int | None:
        """How many times the entry fires at most, starting at ``first`` (None: until stopped)."""
        bounds = [] if self.count is None else [self.count]
        if self.until is not None:
            bounds.append(max(0, int((self.until + 1e-9 - first) // self.every) + 1))
        return min(bounds) if bounds else None


@dataclass(frozen=True)
class Call:
    """One ``[[call]]`` entry.

    ``offset`` is seconds after t0 for ``later`` and numeric ``at`` (0 for ``soon``); a wall-clock
    ``at`` keeps its moment in ``wall_at`` and is converted to the loop clock when the run starts.
    """

    name: str
    kind: Kind
    callback: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    offset: float = 0.0
    wall_at: datetime | None = None
    repeat: Repeat | None = None
    line: int = 0
    #: cron and calendar entries: their moments on the wall clock (they repeat by nature)
    rule: WallRule | None = None
    #: for a repeating entry whose calls run a while (async, exec): see Overlap
    overlap: Overlap = Overlap.ALLOW
    #: misfire grace: a call starting more than this late is skipped (None: always run late)
    late_after: float | None = None

    def __post_init__(self) -> None:
        _finite_nonneg(self.offset, "delay")
        if self.wall_at is not None and (self.kind is not Kind.AT or self.wall_at.tzinfo is None):
            raise ValueError("wall_at needs kind 'at' and an aware datetime")
        if (self.rule is not None) != (self.kind in (Kind.CRON, Kind.CALENDAR)):
            raise ValueError("a cron or calendar entry needs its rule, and only it has one")
        if self.rule is not None and self.repeat is not None:
            raise ValueError("a cron or calendar entry repeats by its rule, not by every")
        if self.late_after is not None:
            _finite_nonneg(self.late_after, "late_after")

    def describe(self) -> str:
        return describe_call(self.callback, self.args, self.kwargs)


@dataclass(frozen=True)
class RunConfig:
    """The optional ``[run]`` table: defaults that command-line flags override."""

    loop: LoopImpl = LoopImpl.ASYNCIO
    plugins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """A whole, valid schedule file."""

    path: str
    calls: tuple[Call, ...]
    run: RunConfig = RunConfig()

    def names(self) -> list[str]:
        return [c.name for c in self.calls]
