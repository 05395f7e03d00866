"""Arming: each entry's calls put on the loop at the due times its timing kind answers.

The timing kinds (``schedule.Timing``) say when a call is due on the schedule's clock; this
module turns that into loop times (t0, --speed, jitter, the nanosecond grid of the virtual
clock), arms them through ``Timers``, re-arms wall-clock calls when the wall clock steps, and
cancels what an entry has left. ``plan`` lays out the same answers without a loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .schedule import Every, Kind, Mode, OnWallClock, Timing
from .slots import Entry, Slot, Timers
from .wallclock import Clocks

#: how an entry's next call follows its last (Entry.follows): not at all (a one-shot), at a
#: firing (fixed-rate, a calendar's next moment), or when the call returned (fixed-delay)
ONCE, RATE, DELAY, MOMENTS = 0, 1, 2, 3


def _follows(timing: Timing) -> int:
    if isinstance(timing, OnWallClock):
        return MOMENTS
    if isinstance(timing, Every):
        return RATE if timing.repeat.mode is Mode.FIXED_RATE else DELAY
    return ONCE


class Arming:
    """The pending calls of one run, and the rules that arm the next one."""

    __slots__ = (
        "_fire",
        "_jittery",
        "_loop",
        "_rng",
        "_soon",
        "clocks",
        "ended",
        "pending",
        "seed",
        "speed",
        "timers",
    )

    def __init__(
        self,
        timers: Timers,
        clocks: Clocks,
        *,
        speed: float,
        seed: int,
        fire: Callable[[Slot], None],
    ) -> None:
        self.timers = timers
        self.clocks = clocks
        self.speed = speed
        self.seed = seed
        self._fire = fire  # call_soon's callback (a timer's goes through timers)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rng: Any = None  # random.Random, made on first use: most schedules have no jitter
        self._jittery = False  # some entry has jitter (first() says): next() asks jitter()
        self._soon: list[Slot] = []  # call_soon slots: due when the loop starts running
        self.pending = 0  # calls armed and not yet fired or cancelled
        self.ended = False  # the run is ending: nothing more is armed

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.timers.bind(loop)

    def _add(self, entry: Entry, slot: Slot) -> None:
        entry.pending.append(slot)
        self.pending += 1

    def taken(self, slot: Slot) -> None:
        """A call is due now: no longer pending."""
        slot.entry.pending.remove(slot)
        self.pending -= 1

    def queue(self, slot: Slot) -> None:
        """A due call waits for the entry's running one (overlap = queue): still pending,
        counted, and cancelled with the entry."""
        slot.queued = True
        slot.entry.waiting = slot
        self._add(slot.entry, slot)

    # -- first calls -------------------------------------------------------------------------
    def first(self, entry: Entry) -> None:
        """Arm an entry's first call (at the start: every entry is loaded at t0)."""
        loop = self._loop
        assert loop is not None
        call, clocks = entry.call, self.clocks
        timing = call.timing
        follows = _follows(timing)
        if follows:  # it arms more calls: kept (one-shots are most of a 100,000-entry file,
            entry.timing, entry.follows = timing, follows  # and need it no more)
        slot = Slot(entry, 1)
        jitter = self.jitter(entry)
        if call.kind is Kind.SOON and not jitter:
            slot.due = clocks.t0
            slot.handle = loop.call_soon(self._fire, slot)
            self._soon.append(slot)
        elif isinstance(timing, OnWallClock):
            moment = timing.first_moment(clocks.wall_t0)
            if moment is None:
                entry.done = True  # no moment left (an expression's last year, until)
                return
            slot.wall = moment
            slot.due = clocks.exact(clocks.t0 + moment - clocks.wall_t0)
            self.timers.arm(slot)
        else:
            self._first_timed(entry, slot, timing, jitter)
        # (the due time's own float when there is no jitter: 24 bytes an entry less)
        entry.first_due = slot.due - jitter if jitter else slot.due
        entry.pending = [slot]  # (a list of one: Entry's empty one would grow to four)
        self.pending += 1

    def _first_timed(self, entry: Entry, slot: Slot, timing: Timing, jitter: float) -> None:
        clocks = self.clocks
        ahead = timing.first_due(clocks.wall_t0)
        assert ahead is not None
        if timing.walled:
            # Converted here, on the wall clock's reading at the start, and again whenever
            # that clock steps (see rearm_wall): the loop clock and the wall clock differ.
            # A moment that passed since the schedule was loaded runs at once, and shows late.
            assert entry.call.wall_at is not None
            slot.wall = entry.call.wall_at.timestamp()
            slot.due = clocks.exact(clocks.t0 + ahead + jitter)
        else:
            # later = d is due at t0 + d, armed with call_at (see schedule.Later), as is at = d
            slot.due = clocks.exact(clocks.t0 + ahead / self.speed + jitter)
        self.timers.arm(slot)

    def started(self, loop_time: float) -> None:
        """The loop starts running the schedule: a soon call is due now, once every entry is
        on it -- its lateness is the loop's, not start-up's (the header written, 100,000
        entries armed). A bare call_soon is measured the same way."""
        for slot in self._soon:
            slot.due = loop_time
        self._soon.clear()

    def jitter(self, entry: Entry) -> float:
        rep = entry.call.repeat
        if rep is None or not rep.jitter:
            return 0.0
        self._jittery = True  # (first() asks every entry before any call fires)
        if self._rng is None:
            import random

            self._rng = random.Random(self.seed)
        return float(self._rng.uniform(0.0, rep.jitter)) / self.speed

    # -- next calls --------------------------------------------------------------------------
    def following(self, entry: Entry, slot: Slot) -> None:
        """At a firing, arm the next one where it does not wait for this one to end:
        fixed-rate (due at first + n*every whatever this call does; a cancel of its own entry
        from inside the call has set entry.done, and nothing more is armed) and calendars.
        A queued call was followed when it was due. (The engine's _start does this inline.)"""
        if slot.queued:
            return
        follows = entry.follows
        if follows == RATE:
            assert self._loop is not None
            self.next(entry, slot.n + 1, self._loop.time())
        elif follows == MOMENTS and slot.wall is not None:
            assert isinstance(entry.timing, OnWallClock)
            self.next_moment(entry, entry.timing, slot.n + 1, slot.wall)

    def returned(self, entry: Entry, slot: Slot, end: float) -> None:
        """A call returned at ``end``: a fixed-delay repeat's next call is due from then."""
        if entry.follows == DELAY:
            self.next(entry, slot.n + 1, end)

    def next(self, entry: Entry, n: int, ended: float) -> None:
        """Arm call ``n`` of a repeating entry, if its bounds allow it (``ended``: when the
        previous call returned, for fixed-delay). Once per call of a repeating entry."""
        timing = entry.timing
        if timing is None or entry.done or self.ended:
            return
        clocks = self.clocks
        due = timing.next_due(
            n, first=entry.first_due, ended=ended, origin=clocks.t0, scale=self.speed
        )
        if due is None:
            return
        if self._jittery:
            due += self.jitter(entry)
        if clocks.virtual:  # (clocks.exact, inline)
            due = round(due * 1_000_000_000) / 1_000_000_000
        slot = Slot(entry, n, due)
        self.timers.arm(slot)
        entry.pending.append(slot)
        self.pending += 1

    def next_moment(self, entry: Entry, timing: OnWallClock, n: int, after: float) -> None:
        """Arm call ``n`` of a cron/calendar entry: the first moment after ``after`` (the
        previous moment) and after the wall clock's reading now -- moments a suspend or a late
        call passed over are not run one by one."""
        loop, clocks = self._loop, self.clocks
        if entry.done or self.ended or loop is None:
            return
        now = loop.time()
        wall = clocks.wall_at(now)
        moment = timing.next_moment(n, after=after, wall_now=wall, wall_t0=clocks.wall_t0)
        if moment is None:
            return
        slot = Slot(entry, n, due=clocks.exact(now + moment - wall))
        slot.wall = moment
        self.timers.arm(slot)
        self._add(entry, slot)

    def rearm_wall(self, entries: list[Entry], loop_time: float, wall: float) -> None:
        """The wall clock stepped: put each pending wall-clock call at its moment as the wall
        clock now reads (a moment now past runs at once, late by what it missed)."""
        for entry in entries:
            for i, old in enumerate(entry.pending):
                if old.wall is None or old.queued:
                    continue
                self.timers.disarm(old)
                new = Slot(entry, old.n, due=loop_time + old.wall - wall)
                new.wall = old.wall
                self.timers.arm(new)
                entry.pending[i] = new

    # -- the end of an entry -----------------------------------------------------------------
    def cancel(self, entry: Entry) -> int:
        """Cancel what an entry still had to run; returns how many calls that is.

        A bounded repeat counts every call it would still have made, not only the one armed
        now (a calendar: its count); an unbounded one counts its armed call (the rest never
        had a number).
        """
        if entry.done and not entry.pending:
            return 0
        entry.done = True
        entry.waiting = None
        armed = len(entry.pending)
        for slot in entry.pending:
            self.timers.disarm(slot)
        entry.pending.clear()
        self.pending -= armed
        timing = entry.timing or entry.call.timing  # (a one-shot's is made again)
        total = timing.known_firings((entry.first_due - self.clocks.t0) * self.speed)
        return armed if total is None else max(armed, total - entry.fired)
