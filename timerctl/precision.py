"""Event loops that keep time to the microsecond: ``--precision normal`` and ``--precision high``.

Why the stock asyncio loop is about 0.6 ms late on every timer (measured in
/work/shared/PRECISION-NOTES.md, and again by ``benchmarks/bench_precision.py``):

- ``selectors.EpollSelector`` and ``PollSelector`` round every wait *up* to a whole millisecond
  (``math.ceil(timeout * 1e3)``): epoll_wait and poll take milliseconds.
- Linux adds "timer slack" to every sleeping wait: 50 µs per thread by default, settable down to
  1 ns with ``prctl(PR_SET_TIMERSLACK)``, plus about 0.1% of the wait for select/poll/epoll.

``normal`` keeps the loop's I/O in an epoll set (no limit on file descriptors) but *waits* with
``select()`` on the epoll descriptor itself, whose timeout is a ``struct timeval`` (µs), and sets
the thread's timer slack to 1 ns while the loop runs. CPU stays low: a little more than the
default loop's, since it wakes for each timer instead of lumping timers into whole milliseconds.

``high`` does the same, but wakes a little before the next timer (a lead of 2 ms + 0.15% of the
wait: the wake-up's own error, see the notes) and then spins on the loop clock, polling I/O with a
zero timeout, until the timer is due: calls fire within a few µs, at the price of a busy core while
a timer is near. While spinning it also takes the due timer off the heap ahead of time, and lets
other Python threads have the GIL (see SPIN_NAP).

Neither mode ever fires early: asyncio runs a timer once ``loop.time() + clock_resolution`` passes
its ``when()``; the kernel never ends a wait early, select() rounds its timeout up, and the spin
returns only once ``loop.time() >= when``.

Which platform selector keeps the I/O, and what if select() cannot take its descriptor:
platform_selector.py. Timer slack is read and set by timerslack.py.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import select
import selectors
import sys
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from .clock import DelegatingSelector
from .platform_selector import make_inner
from .timerslack import get_timer_slack, set_timer_slack

#: ``high``: wake this long before a timer, plus SPIN_LEAD_RATIO of the wait, then spin. A 1 ms
#: lead missed about 5% of deadlines on a loaded VM (the wake-up itself was later than the lead).
SPIN_LEAD = 0.002
SPIN_LEAD_RATIO = 0.0015

#: ``normal``: waits longer than this are made in two steps, the last one SPLIT_LEAD long (see
#: PrecisionSelector.select): the kernel's slack on a wait grows with its length.
SPLIT_AFTER = 0.004
SPLIT_LEAD = 0.002

#: ``high``: while spinning, look at I/O (child processes, signals, other threads) this often.
SPIN_IO_INTERVAL = 50e-6

#: ``high``: other Python threads need the GIL too (asyncio's child watcher, a live display,
#: run_in_executor). A spin that drops it only for an instant poll starves them: CPython asks the
#: holder to hand it over only after a whole switch interval (5 ms) with no release at all. So,
#: when other threads exist, each spin phase naps once (a real wait, the GIL released) while the
#: deadline is further than SPIN_NAP_MARGIN (the nap's own wake-up error cannot make the timer
#: late), and at least once per switch interval whatever the cost to precision.
SPIN_NAP = 50e-6
SPIN_NAP_MARGIN = 0.0005

#: the timer slack the precision loops ask for while they run, in nanoseconds (Linux only)
TIMER_SLACK_NS = 1


class Precision(StrEnum):
    """How hard the real-clock loop tries to fire each timer on time."""

    NORMAL = "normal"  # µs waits + 1 ns timer slack: ~50 µs late, about the default's CPU
    HIGH = "high"  # ... then spin the last 2 ms: a few µs late, a busy core near each timer


# -- the selector --------------------------------------------------------------------------------


class PrecisionSelector(DelegatingSelector):
    """Delegates I/O bookkeeping to the platform selector; waits to the µs, optionally spins.

    Wraps rather than subclasses, like clock.py's ``_JumpSelector``: asyncio only ever calls the
    public selector API, so the loop's own ``_run_once`` still decides what runs when.
    """

    def __init__(
        self,
        *,
        spin: bool = False,
        lead: float = SPIN_LEAD,
        lead_ratio: float = SPIN_LEAD_RATIO,
        kind: str | None = None,
    ) -> None:
        self._inner, self._wait_fd, self.wait_resolution, self.fallback = make_inner(kind)
        self.spin = spin
        self.lead = lead
        self.lead_ratio = lead_ratio
        self._loop: asyncio.BaseEventLoop | None = None
        self._released = 0.0  # loop time of the last real wait (the GIL released for a while)

    @property
    def inner_name(self) -> str:
        """The platform selector doing the I/O bookkeeping (EpollSelector, KqueueSelector...)."""
        return type(self._inner).__name__.lstrip("_")

    @property
    def fine_wait_fd(self) -> int | None:
        """The descriptor waited on with select(), or None if the inner selector waits itself."""
        return self._wait_fd

    def bind(self, loop: asyncio.BaseEventLoop) -> None:
        """The loop whose clock and timer heap the spin reads (set once the loop exists)."""
        self._loop = loop

    # -- waiting -------------------------------------------------------------------------------
    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout <= 0:  # block on I/O alone, or just poll: no clock in it
            return self._inner.select(timeout)
        if self.spin and self._loop is not None:
            return self._wait_then_spin(self._loop, timeout)
        if timeout > SPLIT_AFTER:
            # select() gets slack of 0.1% of its timeout whatever the thread's timer slack (the
            # kernel's select_estimate_accuracy): 100 µs on a 0.1 s wait, 2 ms on 2 s. So wait
            # in two steps: most of the way, then a last short wait whose slack is µs.
            deadline = time.monotonic() + timeout
            ready = self._wait(timeout - SPLIT_LEAD - timeout * SPIN_LEAD_RATIO)
            if ready:
                return ready
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return []
        return self._wait(timeout)

    def _wait(self, timeout: float) -> list[tuple[selectors.SelectorKey, int]]:
        """Wait up to ``timeout`` s for I/O, to the µs: select() on the epoll set's own fd."""
        fd = self._wait_fd
        if fd is None:
            return self._inner.select(timeout)
        try:
            readable, _, _ = select.select((fd,), (), (), timeout)
        except InterruptedError:  # PEP 475 retries; kept for selectors' own contract
            return []
        return self._inner.select(0) if readable else []

    def _wait_then_spin(
        self, loop: asyncio.BaseEventLoop, timeout: float
    ) -> list[tuple[selectors.SelectorKey, int]]:
        clock = loop.time
        now = clock()
        scheduled: list[asyncio.TimerHandle] = getattr(loop, "_scheduled", [])
        head, when = _next_timer(scheduled, now + timeout)
        wait = when - now
        if wait > timeout + 0.001:  # the wait was capped: no timer to spin for this time
            return self._wait(timeout)
        lead = self.lead + self.lead_ratio * wait
        napped = wait > lead
        if napped:
            ready = self._wait(wait - lead)
            self._released = clock()
            if ready:
                return ready
        # Once due, _run_once would pop the head off the heap: log2(n) comparisons by a Python
        # __lt__, ~3 µs of a 2,000-timer heap spent *after* the deadline. Pay for it now, while
        # spinning, and put the handle on the ready queue at its due time, as _run_once would.
        head = _take_head(scheduled, head)
        poll = self._inner.select
        threads = threading.active_count() > 1  # anyone else who may want the GIL (SPIN_NAP)
        switch = sys.getswitchinterval()
        next_poll = clock() + SPIN_IO_INTERVAL
        try:
            while True:
                now = clock()
                if now >= when:  # never early: the same test _run_once applies, less resolution
                    if head is not None:
                        loop._ready.append(head)  # type: ignore[attr-defined]
                        head = None
                    return []
                if now >= next_poll:  # a child's pipe, a signal's wake-up fd, a thread's call
                    if threads and (
                        (not napped and when - now > SPIN_NAP_MARGIN)
                        or now - self._released >= switch
                    ):
                        napped = True
                        ready = self._wait(SPIN_NAP)
                        self._released = clock()
                    else:
                        ready = poll(0)
                    if ready:
                        return ready
                    next_poll = now + SPIN_IO_INTERVAL
        finally:
            if head is not None:  # I/O came first (or an exception): back on the heap, as it was
                head._scheduled = True  # type: ignore[attr-defined]
                heapq.heappush(scheduled, head)


def _next_timer(
    scheduled: list[asyncio.TimerHandle], otherwise: float
) -> tuple[asyncio.TimerHandle | None, float]:
    """The head of the loop's timer heap and its due time (none: ``otherwise``).

    _run_once pops cancelled handles off the heap before it selects: the head is live and is
    the timer this timeout was computed from (unless capped at MAXIMUM_SELECT_TIMEOUT).
    """
    head = scheduled[0] if scheduled else None
    return head, head.when() if head is not None else otherwise


def _take_head(
    scheduled: list[asyncio.TimerHandle], head: asyncio.TimerHandle | None
) -> asyncio.TimerHandle | None:
    """Pop ``head`` off the heap ahead of its due time; None if it is no longer the live head.

    (A Python-level signal handler may have changed the heap during the wait: re-check.)
    """
    if head is not None and scheduled and scheduled[0] is head and not head.cancelled():
        heapq.heappop(scheduled)
        head._scheduled = False  # type: ignore[attr-defined]
        return head
    return None


# -- the loop ------------------------------------------------------------------------------------


class PrecisionEventLoop(asyncio.SelectorEventLoop):
    """A SelectorEventLoop with µs waits, 1 ns timer slack while it runs, and (high) a spin."""

    def __init__(
        self,
        mode: Precision | str = Precision.NORMAL,
        *,
        lead: float = SPIN_LEAD,
        lead_ratio: float = SPIN_LEAD_RATIO,
        selector_kind: str | None = None,
    ) -> None:
        self.precision = Precision(mode)
        selector = PrecisionSelector(
            spin=self.precision is Precision.HIGH,
            lead=lead,
            lead_ratio=lead_ratio,
            kind=selector_kind,
        )
        super().__init__(selector)
        selector.bind(self)
        self._precision_selector = selector
        self._timer_slack: int | None = None  # what was in force the last time the loop ran

    def run_forever(self) -> None:
        # Timer slack is per thread: set it on the thread that runs the loop, for as long as
        # it runs, and give the thread its own value back (a test runner, a benchmark's baseline).
        previous = set_timer_slack(TIMER_SLACK_NS)
        self._timer_slack = get_timer_slack() if previous is not None else None
        try:
            super().run_forever()
        finally:
            if previous is not None:
                set_timer_slack(previous)

    def describe(self) -> dict[str, Any]:
        """Which precision mode, selector and timer slack this loop runs with.

        While the loop runs, call it from the loop's thread: timer slack is per thread.
        """
        slack = get_timer_slack() if self.is_running() else self._timer_slack
        return _describe(self.precision, self._precision_selector, slack)


def precise_loop_factory(mode: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """A loop factory for ``asyncio.Runner`` giving a fresh precision loop (``normal``/``high``).

    Raises ValueError for another mode, at once rather than when the run starts.
    """
    try:
        precision = Precision(mode)
    except ValueError:
        choices = ", ".join(p.value for p in Precision)
        raise ValueError(f"unknown precision mode {mode!r} (choose from {choices})") from None
    return functools.partial(PrecisionEventLoop, precision)


def describe(mode: str, loop: asyncio.AbstractEventLoop | None = None) -> dict[str, Any]:
    """What ``mode`` runs with: selector, wait resolution, timer slack, spin lead.

    Pass the running loop (the engine's Start record does) to get what is actually in force:
    the timer slack is read back from the kernel. Without a loop, the figures are those a fresh
    loop of that mode would use on this machine (``timer_slack_ns``: what it would set, or None
    where timer slack cannot be set).
    """
    if isinstance(loop, PrecisionEventLoop):
        return loop.describe()
    precision = Precision(mode)
    if loop is not None:  # some other loop (uvloop, the virtual clock): precision does not apply
        selector = getattr(loop, "_selector", None)
        return {
            "precision": None,
            "selector": type(selector).__name__ if selector is not None else type(loop).__name__,
            "wait": None,
            "wait_resolution": None,
            "timer_slack_ns": get_timer_slack(),
            "spin": False,
            "spin_lead": None,
            "spin_lead_ratio": None,
            "fallback": None,
        }
    sel = PrecisionSelector(spin=precision is Precision.HIGH)
    try:
        return _describe(precision, sel, TIMER_SLACK_NS if get_timer_slack() is not None else None)
    finally:
        sel.close()


def _describe(precision: Precision, sel: PrecisionSelector, slack: int | None) -> dict[str, Any]:
    return {
        "precision": precision.value,
        "selector": sel.inner_name,
        "wait": "select" if sel.fine_wait_fd is not None else sel.inner_name,
        "wait_resolution": sel.wait_resolution,
        "timer_slack_ns": slack,
        "spin": sel.spin,
        "spin_lead": sel.lead if sel.spin else None,
        "spin_lead_ratio": sel.lead_ratio if sel.spin else None,
        "fallback": sel.fallback or None,
    }


__all__ = [
    "Precision",
    "PrecisionEventLoop",
    "PrecisionSelector",
    "describe",
    "get_timer_slack",
    "precise_loop_factory",
    "set_timer_slack",
]
