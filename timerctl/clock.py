"""The virtual-time event loop, and the selector delegation the precision loops share.

The virtual loop's clock jumps straight to the next timer whenever nothing is ready, the way
trio's MockClock autojump and nolar/looptime do: callbacks really run, a one-hour schedule runs
in milliseconds, and every ``late`` is exact. Time is kept as integer nanoseconds so that sums of
delays land exactly where the same sums of floats would put a deadline.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Callable
from typing import Any

NS = 1_000_000_000


def _ticks_for(when: float) -> int:
    """The tick nearest to ``when`` at which asyncio will consider a handle due.

    asyncio runs handles with ``when < time() + clock_resolution``; rounding (not ceiling) keeps
    0.26 + 0.03 at 0.29 instead of creeping up a nanosecond per step.
    """
    ticks = round(when * NS)
    # asyncio tests ``when < time() + 1e-9``. Far from 0 a float step is wider than 1e-9, the
    # sum rounds back to time(), and only a time() past ``when`` will do.
    while not when < ticks / NS + 1e-9:
        ticks += 1
    return ticks


class DelegatingSelector(selectors.BaseSelector):
    """A selector that keeps the I/O bookkeeping of an inner one and changes only how it waits
    (the virtual clock's jumps, the precision loops' µs waits and spin)."""

    _inner: selectors.BaseSelector

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Any:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class _JumpSelector(DelegatingSelector):
    """Wraps the real selector: polls for I/O, and instead of waiting moves the clock."""

    def __init__(self, inner: selectors.BaseSelector, loop: VirtualClockLoop) -> None:
        self._inner = inner
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or (timeout == 0 and self._loop._ready):  # type: ignore[attr-defined]
            return ready
        if timeout is None or self._loop.held:
            # No timer at all, or real work (a child process) in progress: only real I/O can
            # wake us, and virtual time stands still until it does.
            return self._inner.select(timeout)
        self._loop.jump_to_next_timer()
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector loop whose ``time()`` is virtual and advances only by jumps and ``advance``."""

    #: what asyncio rounds due times with: the ticks are whole nanoseconds
    RESOLUTION = 1e-9

    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self._ticks = round(start * NS)
        self._holds = 0
        self._clock_resolution = self.RESOLUTION
        self._selector = _JumpSelector(self._selector, self)  # type: ignore[has-type]

    def time(self) -> float:
        return self._ticks / NS

    def advance(self, seconds: float) -> None:
        """Move the clock forward, as a blocking callback would on a real loop."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("can only advance by a finite number of seconds >= 0")
        self._ticks += round(seconds * NS)

    @property
    def held(self) -> bool:
        return self._holds > 0

    def hold(self) -> Callable[[], None]:
        """Stop jumping until released: real work in progress takes no virtual time."""
        self._holds += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._holds -= 1

        return release

    def jump_to_next_timer(self) -> None:
        # _run_once pops cancelled handles off the heap before it selects, so the head is live.
        # Also called with a timeout of 0 and nothing ready: the head is due by the clock but
        # not by asyncio's float test (far from 0), and a few nanoseconds more settle it.
        scheduled = self._scheduled  # type: ignore[attr-defined]
        if scheduled:
            self._ticks = max(self._ticks, _ticks_for(scheduled[0].when()))


def hold_clock(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Hold a virtual clock while real work runs; a no-op on a real loop. Returns the release."""
    hold = getattr(loop, "hold", None)
    return hold() if hold is not None else (lambda: None)
