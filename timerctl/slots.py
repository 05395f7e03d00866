"""The engine's bookkeeping of pending calls, and the one timer per due moment that fires them.

``Timers`` is also the engine's own next-due view: a live display asks it (from its feeder
thread) which call comes next, instead of walking the event loop's private timer heap.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from typing import Any, NamedTuple

from .registry import CallbackSpec, Registry
from .schedule import Call, Schedule, Timing


class Slot:
    """One pending invocation: the loop time it is due at, and how it is armed.

    Plain classes with slots for the engine's own bookkeeping: one per pending call (a million
    of them in a big run), and free to define at start-up, unlike a dataclass.
    """

    __slots__ = ("cancelled", "due", "entry", "handle", "moment", "n", "queued", "wall")

    def __init__(self, entry: Entry, n: int, due: float = 0.0) -> None:
        self.entry = entry
        self.n = n
        self.due = due
        self.handle: asyncio.Handle | None = None  # call_soon's handle
        self.moment: Moment | None = None  # or the timer moment it shares
        self.cancelled = False
        self.wall: float | None = None  # a wall-clock moment (epoch): re-armed on a step
        self.queued = False  # waits for the entry's running call (overlap = queue)


class Moment:
    """Every call due at one loop time: one timer handle for all, run in the order scheduled.

    asyncio's timer heap does not keep insertion order among equal deadlines, so entries due
    at the same moment would run in an arbitrary order; grouping them keeps file order, the
    FIFO promise call_soon makes, and one heap entry serves them all.
    """

    __slots__ = ("handle", "live", "slots", "when")

    def __init__(self, when: float) -> None:
        self.when = when
        self.slots: list[Slot] = []
        self.live = 0
        self.handle: asyncio.TimerHandle | None = None


class Started(NamedTuple):
    """An async call under way: what its record needs if it is cut short."""

    slot: Slot
    awaitable: Any
    start: float
    wall: float


class Entry:
    """A schedule entry while it runs: its callback, its timing and its pending calls."""

    __slots__ = (
        "call",
        "done",
        "fired",
        "first_due",
        "follows",
        "pending",
        "running",
        "spec",
        "timing",
        "waiting",
    )

    def __init__(self, call: Call, spec: CallbackSpec) -> None:
        self.call = call
        self.spec = spec
        self.timing: Timing | None = None  # a repeating entry's call.timing, once armed
        self.follows = 0  # how its next call follows the last (arming.ONCE, RATE, ...)
        self.first_due = 0.0
        self.fired = 0
        # a list, not a set: an entry has one or two pending calls, and a million entries'
        # empty sets would cost 200 bytes each
        self.pending: list[Slot] = []
        self.done = False  # cancelled or bounded out: schedules nothing more
        #: its async calls under way (made by the first: most entries never have one)
        self.running: list[asyncio.Task[Any]] | None = None
        self.waiting: Slot | None = None  # a call queued behind them (overlap = queue)


def entries_of(schedule: Schedule, registry: Registry) -> dict[str, Entry]:
    """Each entry of the schedule with its callback, by name (one registry lookup a callback)."""
    entries: dict[str, Entry] = {}
    specs: dict[str, CallbackSpec] = {}
    for call in schedule.calls:
        spec = specs.get(call.callback)
        if spec is None:
            spec = registry.get(call.callback)
            if spec is None:  # the loader checked this; a registry changed behind our back
                raise LookupError(call.callback)
            specs[call.callback] = spec
        entries[call.name] = Entry(call, spec)
    return entries


class Timers:
    """One loop timer per due moment, and the heap of those moments for ``next_due``.

    Most moments have one call: the handle then carries the slot itself, and only a second
    call due at the same moment makes it a Moment. ``_at`` maps each armed due time to what
    is armed there; ``_heap`` holds those due times (the very float objects of the slots: 8
    bytes a pending call), and drops the dead ones at its head as timers fire.
    """

    __slots__ = ("_at", "_fire", "_heap", "_loop", "_on_due")

    def __init__(self, fire: Callable[[Slot], None]) -> None:
        self._fire = fire
        #: every handle's callback: one bound method for all, not a new one (56 bytes) each
        self._on_due = self._due
        self._loop: asyncio.AbstractEventLoop | None = None
        self._at: dict[float, Slot | Moment] = {}
        self._heap: list[float] = []

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def arm(self, slot: Slot) -> None:
        """Put a timed call on the loop: call_at its due moment, after those due then already."""
        loop = self._loop
        assert loop is not None
        due = slot.due
        there = self._at.get(due)
        if there is None:
            slot.handle = loop.call_at(due, self._on_due, slot)
            self._at[due] = slot
            heapq.heappush(self._heap, due)
            return
        if type(there) is Slot:  # a second call at this moment: group them, in order
            moment = Moment(due)
            assert there.handle is not None
            there.handle.cancel()  # one handle for the moment, carrying both, in order
            there.handle = None
            moment.handle = loop.call_at(due, self._on_due, moment)
            moment.slots.append(there)
            moment.live = 1
            there.moment = moment
            self._at[due] = moment
            there = moment
        assert type(there) is Moment
        there.slots.append(slot)
        there.live += 1
        slot.moment = there

    def disarm(self, slot: Slot) -> None:
        slot.cancelled = True
        moment = slot.moment
        if moment is None:  # alone at its moment (or a call_soon): its own handle
            if slot.handle is not None:
                slot.handle.cancel()
            if self._at.get(slot.due) is slot:
                del self._at[slot.due]
            return
        moment.live -= 1
        if moment.live == 0 and moment.handle is not None:
            moment.handle.cancel()  # nothing left at that moment: let the loop forget it
            if self._at.get(moment.when) is moment:
                del self._at[moment.when]

    def next_due(self) -> tuple[str, float] | None:
        """(entry, loop time) of the soonest armed call, or None.

        Safe from another thread: it reads a copy of the heap's head (taken in one step under
        the GIL) and the live table with ``dict.get``; it changes nothing.
        """
        best: tuple[str, float] | None = None
        for when in self._heap[:8]:  # the heap's head is the soonest
            what = self._at.get(when)
            if what is None:
                continue  # fired or cancelled since
            if type(what) is Slot:
                live = [] if what.cancelled else [what]
            else:
                assert type(what) is Moment
                live = [s for s in what.slots if not s.cancelled]
            if live and (best is None or when < best[1]):
                best = (live[0].entry.call.name, when)
        return best

    def _due(self, what: Slot | Moment) -> None:
        """A timer fired: its calls run in the order armed (cancelled ones are skipped)."""
        due = what.due if type(what) is Slot else what.when  # type: ignore[union-attr]
        if self._at.get(due) is what:
            del self._at[due]
        heap, at = self._heap, self._at
        while heap and heap[0] not in at:
            heapq.heappop(heap)  # fired or cancelled: the view forgets it
        if type(what) is Slot:
            if not what.cancelled:
                self._fire(what)
            return
        assert type(what) is Moment
        for slot in what.slots:
            if not slot.cancelled:
                self._fire(slot)
