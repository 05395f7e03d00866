"""The loop clock and the wall clock read as one moment, and the wall clock's steps noticed.

A record says both when a call started on the loop clock and what the wall clock read then; a
wall clock that moves against the loop clock (NTP, a suspend, a person) is a step, told once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

#: a wall clock moving more than this against the loop clock between two calls is a step
CLOCK_STEP = 0.001
#: the two clocks are read as one moment only if reading them took at most this long: a
#: preemption between the two reads (a loaded machine) looks like a step, and then like a step
#: back at the next call. Each reading of a pair this tight is off by at most CLOCK_STEP / 4, so
#: two of them cannot make a false step.
CLOCK_PAIR = CLOCK_STEP / 4
#: how often a pair is read again when it was not tight, before giving up on it
CLOCK_PAIR_TRIES = 3
#: how often a run with wall-clock entries (cron, calendar, a wall-clock at) reads the wall
#: clock to notice a step or a resume: the loop clock does not count a suspend, so a timer
#: armed for 03:00 would fire as late as the machine slept
WALL_WATCH = 1.0


class Clocks:
    """Both clocks of one run. On the virtual clock the wall clock is simulated: it advances
    with virtual time from ``wall_t0``, and never steps."""

    __slots__ = ("_offset", "_wall", "steps", "t0", "virtual", "wall_t0")

    def __init__(self, wall_clock: Callable[[], float]) -> None:
        self._wall = wall_clock
        self.virtual = False
        self.t0 = 0.0
        self.wall_t0 = 0.0
        self._offset = 0.0  # wall clock minus loop clock, as of the last reading
        self.steps = 0  # wall clock steps seen

    def start(self, loop: asyncio.AbstractEventLoop, virtual: bool) -> None:
        """Read t0 on both clocks."""
        self.virtual = virtual
        if virtual:
            # Simulated wall times are wall_t0 + elapsed: start them on a whole microsecond so
            # that they print exactly.
            self.t0, self.wall_t0 = loop.time(), round(self._wall(), 6)
        else:
            self.t0, self.wall_t0, _ = self.pair(loop)
        self._offset = self.wall_t0 - self.t0

    def exact(self, due: float) -> float:
        """On the virtual clock, a due time on the nanosecond grid: 0.05 + 0.1 is due at 0.15."""
        return round(due * 1_000_000_000) / 1_000_000_000 if self.virtual else due

    def wall_at(self, loop_time: float) -> float:
        """The wall clock now (``loop_time`` is the loop clock now)."""
        if self.virtual:
            return self.wall_t0 + (loop_time - self.t0)
        return self._wall()

    def pair(self, loop: asyncio.AbstractEventLoop) -> tuple[float, float, bool]:
        """(loop time, wall time, tight): the two clocks read as one moment, read again when a
        preemption came between them (see CLOCK_PAIR)."""
        now = loop.time()
        wall = self._wall()
        after = loop.time()
        for _ in range(CLOCK_PAIR_TRIES - 1):
            if after - now <= CLOCK_PAIR:
                break
            now = after
            wall = self._wall()
            after = loop.time()
        return now, wall, after - now <= CLOCK_PAIR

    def read(self, loop: asyncio.AbstractEventLoop) -> tuple[float, float, float | None]:
        """(loop time, wall time, step): the clocks at a call's start, and the wall clock's
        step since the last reading (None: no step, or a pair too loose to tell)."""
        if self.virtual:
            now = loop.time()
            return now, self.wall_t0 + (now - self.t0), None
        now, wall, tight = self.pair(loop)
        if not tight:  # this pair cannot tell a step from a preemption: no verdict
            return now, wall, None
        offset = wall - now
        if abs(offset - self._offset) > CLOCK_STEP:
            step, self._offset = offset - self._offset, offset
            self.steps += 1
            return now, wall, step
        return now, wall, None
