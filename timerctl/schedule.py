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
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .calendars import WallRule


class Kind(enum.Enum):
    """Which loop primitive schedules the first call."""

    SOON = "soon"  # loop.call_soon
    LATER = "later"  # due ``delay`` after t0: loop.call_at(t0 + delay) (see Later)
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

    @property
    def timing(self) -> Timing:
        """When this entry's calls are due: one of the timing kinds below.

        Made on demand, not stored: the loader builds a Call's fields directly (a 100,000-entry
        load), and only the engine and plan ask, once per entry.
        """
        return timing_of(self)


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


# -- timing: when an entry's calls are due ---------------------------------------------------------
# One small class per timing kind, each answering "when is the first call due, and the next one?"
# (after apscheduler 4's triggers). The engine arms what they answer on the loop clock; plan lays
# the same answers out as a timeline. Offsets are seconds after t0 on the schedule's own clock
# (a caller running at --speed divides them); wall-clock kinds answer epoch moments.


class Timing:
    """The base: a call due once, ``offset`` seconds after t0 (``first_due``), never again."""

    __slots__ = ()
    #: armed with call_soon: due when the loop starts running the schedule, in file order
    immediate: ClassVar[bool] = False
    #: its moments are on the wall clock: converted at the start, re-armed when it steps
    walled: ClassVar[bool] = False

    def first_due(self, wall_t0: float) -> float | None:
        """Seconds after t0 of the first call (None: it has no call at all)."""
        raise NotImplementedError

    def next_due(
        self, n: int, *, first: float, ended: float, origin: float = 0.0, scale: float = 1.0
    ) -> float | None:
        """When call ``n`` (>= 2) is due, or None: a one-shot entry has no second call."""
        return None

    def firings(self, first: float, wall_t0: float) -> int | None:
        """How many calls the entry makes at most, the first due at ``first`` (None: until
        stopped)."""
        return 1

    def known_firings(self, first: float) -> int | None:
        """The calls a bound promises, without counting moments (None: no such promise)."""
        return None


@dataclass(frozen=True, slots=True)
class Soon(Timing):
    """``soon = true``: loop.call_soon, due when the loop starts running."""

    immediate: ClassVar[bool] = True

    def first_due(self, wall_t0: float) -> float | None:
        return 0.0


@dataclass(frozen=True, slots=True)
class Later(Timing):
    """``later = d``: due ``d`` after t0.

    Every entry is loaded at t0, so ``call_later(d)`` at load time means due at t0 + d; the engine
    arms exactly that, ``call_at(t0 + d)``, so that a ``later = d`` and an ``at = d`` are due at
    the same moment and run in file order (counting d from when this entry's turn came in a
    100,000-entry load would put it behind by however long the entries before it took).
    """

    delay: float

    def first_due(self, wall_t0: float) -> float | None:
        return self.delay


@dataclass(frozen=True, slots=True)
class At(Timing):
    """``at = t``: loop.call_at(t0 + t), ``t`` seconds on the loop clock after t0."""

    offset: float

    def first_due(self, wall_t0: float) -> float | None:
        return self.offset


@dataclass(frozen=True, slots=True)
class WallAt(Timing):
    """``at = <date-time>``: a wall-clock moment, converted to the loop clock at the start
    (and again whenever the wall clock steps). A moment already past is due at once."""

    moment: datetime
    walled: ClassVar[bool] = True

    def first_due(self, wall_t0: float) -> float | None:
        return self.moment.timestamp() - wall_t0  # < 0: past, runs at once (and shows late)


@dataclass(frozen=True, slots=True)
class Every(Timing):
    """A repeating entry: its first call as ``start`` says, then every ``repeat.every`` seconds.

    fixed-rate: call n is due at first + (n-1)*every, whatever happened before (no drift).
    fixed-delay: call n is due ``every`` after call n-1 returned (``ended``): drift accumulates.
    Calls outside ``count`` and ``until`` are not due at all.
    """

    start: Timing
    repeat: Repeat

    @property
    def immediate(self) -> bool:  # type: ignore[override]
        return self.start.immediate and not self.repeat.jitter

    @property
    def walled(self) -> bool:  # type: ignore[override]
        return self.start.walled

    def first_due(self, wall_t0: float) -> float | None:
        return self.start.first_due(wall_t0)

    def next_due(
        self, n: int, *, first: float, ended: float, origin: float = 0.0, scale: float = 1.0
    ) -> float | None:
        """``first``, ``ended`` and the answer on the caller's clock, whose zero is ``origin``
        and which runs ``scale`` times as fast as the schedule's (--speed)."""
        rep = self.repeat
        every = rep.every / scale
        base = first + (n - 1) * every if rep.mode is Mode.FIXED_RATE else ended + every
        return base if rep.within(n, (base - origin) * scale) else None

    def firings(self, first: float, wall_t0: float) -> int | None:
        return self.repeat.firings(first)

    def known_firings(self, first: float) -> int | None:
        return self.repeat.firings(first)


@dataclass(frozen=True, slots=True)
class OnWallClock(Timing):
    """``cron`` / ``calendar``: the moments of an expression on the wall clock, bounded by the
    rule's own count and until. Moments a suspend or a late call passed over are not run one by
    one: the next call is the first moment after the previous one and after the wall clock now."""

    rule: WallRule
    walled: ClassVar[bool] = True
    #: counting the moments up to ``until`` stops here (a plan's "many")
    CAP: ClassVar[int] = 10_000

    def first_moment(self, wall_t0: float) -> float | None:
        """The epoch moment of the first call (None: no moment left, or outside the bounds)."""
        return self.next_moment(1, after=wall_t0, wall_now=wall_t0, wall_t0=wall_t0)

    def next_moment(self, n: int, *, after: float, wall_now: float, wall_t0: float) -> float | None:
        """The epoch moment of call ``n``: the first after ``after`` and after ``wall_now``."""
        moment = self.rule.next_after(max(after, wall_now))
        if moment is None or not self.rule.within(n, moment - wall_t0):
            return None
        return moment

    def first_due(self, wall_t0: float) -> float | None:
        moment = self.first_moment(wall_t0)
        return None if moment is None else moment - wall_t0

    def firings(self, first: float, wall_t0: float) -> int | None:
        """Its count, or its moments up to until (counted, up to CAP; beyond: None)."""
        rule = self.rule
        if rule.until is None or rule.count is not None:
            return rule.count
        n, moment = 0, rule.next_after(wall_t0)
        while moment is not None and rule.within(n + 1, moment - wall_t0) and n < self.CAP:
            n += 1
            moment = rule.next_after(moment)
        return n if n < self.CAP else None

    def known_firings(self, first: float) -> int | None:
        return self.rule.count


def timing_of(call: Call) -> Timing:
    """The timing kind of an entry, from its (already validated) fields."""
    if call.rule is not None:
        return OnWallClock(call.rule)
    start: Timing
    if call.kind is Kind.SOON:
        start = Soon()
    elif call.wall_at is not None:
        start = WallAt(call.wall_at)
    elif call.kind is Kind.LATER:
        start = Later(call.offset)
    else:
        start = At(call.offset)
    return start if call.repeat is None else Every(start, call.repeat)
