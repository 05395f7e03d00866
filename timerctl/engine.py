"""Schedule + running loop -> a stream of Events. The only module that calls call_soon/later/at.

Each scheduled handle wraps the user's callback in ``_fire``, which reads the loop clock and the
wall clock at the same moment, invokes, and emits one CallRecord. The run ends when nothing is
pending (no timer, no running async callback), or on stop/timeout/fail-fast/signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import inspect
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import signals
from .children import CHILDREN
from .context import CURRENT
from .errors import ExitCode, OutputClosed
from .events import (
    CallRecord,
    Cancelled,
    ClockStep,
    Decision,
    End,
    ErrorInfo,
    Event,
    Output,
    Start,
)
from .registry import REGISTRY, CallbackSpec, Registry
from .schedule import Call, Kind, Mode, Overlap, Schedule
from .stats import Lateness

Sink = Callable[[Event], None]

#: the entry whose callback is running, in that callback's own context (sync or async)
_ENTRY: contextvars.ContextVar[str] = contextvars.ContextVar("timerctl_entry", default="?")
#: and which of its firings it is (for the lines ``--stream`` shows)
_FIRING: contextvars.ContextVar[int] = contextvars.ContextVar("timerctl_firing", default=0)

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



@dataclass(frozen=True)
class RunOptions:
    timeout: float | None = None  # seconds of loop time
    fail_fast: bool = False
    seed: int | None = None
    speed: float = 1.0
    handle_signals: bool = False  # only the CLI's main thread should take signals (signals.py)
    loop_impl: str = "asyncio"
    precision: str = "normal"  # for the real asyncio loop: "normal" | "high"
    escape_stderr: bool = False  # exec children's stderr shown escaped (safe.escape)
    timeout_exit: int | None = None  # exit code of a run ended by ``timeout`` (None: as usual)
    stream: bool = False  # emit each line an exec prints as an Output event, as it comes


class _Slot:
    """One pending invocation: the loop time it is due at, and how it is armed.

    Plain classes with slots for the engine's own bookkeeping: one per pending call (a million
    of them in a big run), and free to define at start-up, unlike a dataclass.
    """

    __slots__ = ("cancelled", "due", "entry", "handle", "killed", "moment", "n", "queued",
                 "wall")

    def __init__(self, entry: _Entry, n: int, due: float = 0.0) -> None:
        self.entry = entry
        self.n = n
        self.due = due
        self.handle: asyncio.Handle | None = None  # call_soon's handle
        self.moment: _Moment | None = None  # or the timer moment it shares
        self.cancelled = False
        self.wall: float | None = None  # a wall-clock moment (epoch): re-armed on a step
        self.queued = False  # waits for the entry's running call (overlap = queue)
        self.killed = 0  # the firing whose overlap = kill ended this call


class _Moment:
    """Every call due at one loop time: one timer handle for all, run in the order scheduled.

    asyncio's timer heap does not keep insertion order among equal deadlines, so entries due
    at the same moment would run in an arbitrary order; grouping them keeps file order, the
    FIFO promise call_soon makes, and one heap entry serves them all.
    """

    __slots__ = ("handle", "live", "slots", "when")

    def __init__(self, when: float) -> None:
        self.when = when
        self.slots: list[_Slot] = []
        self.live = 0
        self.handle: asyncio.TimerHandle | None = None


class _Started(NamedTuple):
    """An async call under way: what its record needs if it is cut short."""

    slot: _Slot
    awaitable: Any
    start: float
    wall: float


class _Entry:
    """A schedule entry while it runs: its callback and its pending calls."""

    __slots__ = ("call", "done", "fired", "first_due", "pending", "running", "spec", "waiting")

    def __init__(self, call: Call, spec: CallbackSpec) -> None:
        self.call = call
        self.spec = spec
        self.first_due = 0.0
        self.fired = 0
        # a list, not a set: an entry has one or two pending calls, and a million entries'
        # empty sets would cost 200 bytes each
        self.pending: list[_Slot] = []
        self.done = False  # cancelled or bounded out: schedules nothing more
        self.running: list[asyncio.Task[Any]] = []  # its async calls under way
        self.waiting: _Slot | None = None  # a call queued behind them (overlap = queue)


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


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: a value that really occurred, not an interpolation."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class Engine:
    """Runs one schedule on the current event loop and reports through ``sink``."""

    def __init__(
        self,
        schedule: Schedule,
        sink: Sink,
        *,
        registry: Registry = REGISTRY,
        options: RunOptions | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.schedule = schedule
        self.sink = sink
        self.options = options or RunOptions()
        self._wall = wall_clock
        self._rng: Any = None  # random.Random, made on first use: most schedules have no jitter
        #: the jitter's seed, chosen when none was given: the start record says it, and
        #: --seed with it replays the same jitter
        self.seed = (self.options.seed if self.options.seed is not None
                     else int.from_bytes(os.urandom(4), "big"))
        self._soon: list[_Slot] = []  # call_soon slots: due when the loop starts running
        self._entries: dict[str, _Entry] = {}
        specs: dict[str, CallbackSpec] = {}
        for call in schedule.calls:
            spec = specs.get(call.callback)
            if spec is None:
                spec = registry.get(call.callback)
                if spec is None:  # the loader checked this; a registry changed behind our back
                    raise LookupError(call.callback)
                specs[call.callback] = spec
            self._entries[call.name] = _Entry(call, spec)
        self._tasks: dict[asyncio.Task[Any], _Started] = {}
        self._moments: dict[float, _Slot | _Moment] = {}
        self._seq = 0
        self._lateness = Lateness()
        self._failed = 0
        self._cancelled = 0
        self._reason: str | None = None
        self._closed = False
        self._done: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.t0 = 0.0
        self.wall_t0 = 0.0
        self._virtual = False
        self._running: str | None = None  # the entry whose sync callback is running now
        self._deferred: list[Event] = []
        self._npending = 0  # timers scheduled and not yet fired or cancelled
        self._signal_reason: str | None = None  # set by a signal handler, at any moment
        self._signum = 0
        self._end_decided = False  # from then on a signal changes nothing (signals.py)
        self._aborts: list[Callable[[], Any]] = []
        self._sink_error: Exception | None = None
        self._offset = 0.0  # wall clock minus loop clock, as of the last reading
        self._steps = 0
        self._walled = [e for e in self._entries.values()
                        if e.call.rule is not None or e.call.wall_at is not None]
        self._watch: asyncio.TimerHandle | None = None

    # -- RunControl (what callbacks may ask of the run) ------------------------------------------
    def time(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def stop(self) -> None:
        self.finish("stopped")

    def cancel(self, entry: str) -> int:
        target = self._entries.get(entry)
        if target is None:
            raise KeyError(f"no entry named {entry!r}")
        n = self._cancel_entry(target)
        self._emit(Cancelled(entry=entry, count=n, by=_ENTRY.get(), t=self._rel()),
                   defer=True)
        self._maybe_done()
        return n

    @property
    def escape_stderr(self) -> bool:
        return self.options.escape_stderr

    def block(self, seconds: float) -> None:
        seconds /= self.options.speed
        advance = getattr(self._loop, "advance", None)
        if advance is not None:
            advance(seconds)
        else:
            time.sleep(seconds)

    @property
    def streaming(self) -> bool:
        return self.options.stream

    def output_line(self, line: str) -> None:
        """A line the running call printed (exec, with ``stream``): shown as it comes."""
        if self.options.stream and self._reason is None:
            self._emit(Output(entry=_ENTRY.get(), n=_FIRING.get(), t=self._rel(), line=line))

    def status(self) -> Status:
        """A cheap snapshot for a live display (safe to call between callbacks)."""
        loop = self._loop
        next_entry, next_due = None, None
        if loop is not None:
            for handle in getattr(loop, "_scheduled", ())[:8]:  # the heap's head is the soonest
                args = getattr(handle, "_args", None)
                if not args or handle.cancelled():
                    continue
                what = args[0]
                if type(what) is _Slot:
                    live, when = ([what] if not what.cancelled else []), what.due
                elif type(what) is _Moment:
                    live, when = [s for s in what.slots if not s.cancelled], what.when
                else:
                    continue
                if live and (next_due is None or when < next_due):
                    next_entry, next_due = live[0].entry.call.name, when
        now = self._now()
        return Status(
            calls=self._seq,
            failed=self._failed,
            cancelled=self._cancelled,
            pending=self._npending,
            running=len(self._tasks),
            next_entry=next_entry,
            next_in=None if next_due is None else max(0.0, next_due - now),
            t=now - self.t0,
        )

    # -- running ---------------------------------------------------------------------------------
    async def run(self) -> End:
        loop = self._loop = asyncio.get_running_loop()
        self._virtual = hasattr(loop, "advance")
        self._done = loop.create_future()
        CURRENT.set(self)  # copied into every handle scheduled from here
        if self._virtual:
            # Simulated wall times are wall_t0 + elapsed: start them on a whole microsecond so
            # that they print exactly.
            self.t0, self.wall_t0 = loop.time(), round(self._wall(), 6)
        else:
            self.t0, self.wall_t0, _ = self._pair(loop)
        self._offset = self.wall_t0 - self.t0
        self._emit(
            Start(
                schedule=self.schedule.path,
                loop_impl=self.options.loop_impl,
                clock="virtual" if self._virtual else "real",
                loop_t0=self.t0,
                wall_t0=self.wall_t0,
                clock_resolution=_resolution(loop),
                calls=len(self._entries),
                speed=self.options.speed,
                seed=self.seed,
                **_precision_of(loop),
            )
        )
        if self._signal_reason is not None:  # a signal came while the loop started
            self.finish(self._signal_reason)
        timeout_handle = None
        try:
            if self._reason is None:
                # What the schedule built lives as long as the run: out of the cyclic
                # collector's way, or every collection walks 100,000 entries again.
                gc.freeze()
                for entry in self._entries.values():
                    self._schedule_first(entry)
                # A soon call is due when the loop starts running the schedule, once every
                # entry is on it: its lateness is the loop's, not start-up's (the header
                # written, 100,000 entries armed). A bare call_soon is measured the same way.
                started = loop.time()
                for slot in self._soon:
                    slot.due = started
                self._soon.clear()
                if self.options.timeout is not None:
                    timeout_handle = loop.call_at(
                        self.t0 + self.options.timeout, self.finish, "timeout"
                    )
                if self._walled and not self._virtual:
                    self._watch = loop.call_later(WALL_WATCH, self._watch_wall)
                self._maybe_done()
            await self._done
            await self._drain_cancelled_tasks()
        finally:
            gc.unfreeze()  # collectable again (a library caller may run many schedules)
            if timeout_handle is not None:
                timeout_handle.cancel()
            if self._watch is not None:
                self._watch.cancel()
        end = self._end()
        self._emit(end)
        if self._sink_error is not None:
            raise self._sink_error
        return end

    def finish(self, reason: str) -> None:
        """End the run: cancel what is pending (counted) and wake ``run``."""
        if self._reason is not None:
            return
        if self._signal_reason is not None:  # a signal came while the last call ran
            reason = self._signal_reason
        self._reason = reason
        for entry in self._entries.values():
            n = self._cancel_entry(entry)
            if n:
                self._emit(
                    Cancelled(entry=entry.call.name, count=n, by=reason, t=self._rel(),
                              at_end=True),
                    defer=True,
                )
        for task in list(self._tasks):
            task.cancel()
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    # -- scheduling ------------------------------------------------------------------------------
    def _schedule_first(self, entry: _Entry) -> None:
        loop = self._loop
        assert loop is not None
        call = entry.call
        speed = self.options.speed
        slot = _Slot(entry, 1)
        jitter = self._jitter(entry)
        if call.kind is Kind.SOON and not jitter:
            slot.due = self.t0
            slot.handle = loop.call_soon(self._fire, slot)
            self._soon.append(slot)
        elif call.kind is Kind.LATER or call.kind is Kind.SOON:
            # call_later(d) at load time, and every entry is loaded at t0: due at t0 + d, as
            # plan shows. (Counting d from when this entry's turn came would put it behind an
            # `at = d` of the same schedule by however long the entries before it took.)
            slot.due = self._exact(self.t0 + call.offset / speed + jitter)
            self._arm(slot)
        elif call.rule is not None:
            moment = call.rule.next_after(self.wall_t0)
            if moment is None or not call.rule.within(1, moment - self.wall_t0):
                entry.done = True  # no moment left (an expression's last year, until)
                return
            slot.wall = moment
            slot.due = self._exact(self.t0 + moment - self.wall_t0)
            self._arm(slot)
        elif call.wall_at is not None:
            # Converted here, on the wall clock's reading at the start, and again whenever
            # that clock steps (see _rearm_wall): the loop clock and the wall clock differ.
            # A moment that passed since the schedule was loaded runs at once, and shows late.
            slot.wall = call.wall_at.timestamp()
            ahead = slot.wall - self.wall_t0
            slot.due = self._exact(self.t0 + ahead + jitter)
            self._arm(slot)
        else:
            slot.due = self._exact(self.t0 + call.offset / speed + jitter)
            self._arm(slot)
        entry.first_due = slot.due - jitter
        entry.pending.append(slot)
        self._npending += 1

    def _arm(self, slot: _Slot) -> None:
        """Put a timed call on the loop: call_at its due moment, after those due then already.

        One timer per moment. Most moments have one call: the handle then carries the slot
        itself, and only a second call due at the same moment makes it a _Moment.
        """
        due = slot.due
        there = self._moments.get(due)
        if there is None:
            assert self._loop is not None
            slot.handle = self._loop.call_at(due, self._fire_moment, slot)
            self._moments[due] = slot
            return
        if type(there) is _Slot:  # a second call at this moment: group them, in order
            moment = _Moment(due)
            assert there.handle is not None and self._loop is not None
            there.handle.cancel()  # one handle for the moment, carrying both, in order
            there.handle = None
            moment.handle = self._loop.call_at(due, self._fire_moment, moment)
            moment.slots.append(there)
            moment.live = 1
            there.moment = moment
            self._moments[due] = there = moment
        there.slots.append(slot)  # type: ignore[union-attr]
        there.live += 1  # type: ignore[union-attr]
        slot.moment = there  # type: ignore[assignment]

    def _fire_moment(self, what: _Slot | _Moment) -> None:
        due = what.due if type(what) is _Slot else what.when  # type: ignore[union-attr]
        if self._moments.get(due) is what:
            del self._moments[due]
        if type(what) is _Slot:
            if not what.cancelled:
                self._fire(what)
            return
        for slot in what.slots:  # type: ignore[union-attr]
            if not slot.cancelled:
                self._fire(slot)

    def _disarm(self, slot: _Slot) -> None:
        slot.cancelled = True
        moment = slot.moment
        if moment is None:  # alone at its moment (or a call_soon): its own handle
            if slot.handle is not None:
                slot.handle.cancel()
            if self._moments.get(slot.due) is slot:
                del self._moments[slot.due]
            return
        moment.live -= 1
        if moment.live == 0 and moment.handle is not None:
            moment.handle.cancel()  # nothing left at that moment: let the loop forget it
            if self._moments.get(moment.when) is moment:
                del self._moments[moment.when]

    def _jitter(self, entry: _Entry) -> float:
        rep = entry.call.repeat
        if rep is None or not rep.jitter:
            return 0.0
        if self._rng is None:
            import random

            self._rng = random.Random(self.seed)
        return self._rng.uniform(0.0, rep.jitter) / self.options.speed

    def _schedule_next(self, entry: _Entry, n: int, after: float | None) -> None:
        """Schedule firing ``n`` of a repeating entry, if its bounds allow it.

        fixed-rate: due at first + (n-1)*every, whatever happened before (no drift).
        fixed-delay: due ``every`` after ``after`` (when the previous call returned).
        """
        rep = entry.call.repeat
        loop = self._loop
        if rep is None or entry.done or self._reason is not None or loop is None:
            return
        speed = self.options.speed
        every = rep.every / speed
        if rep.mode is Mode.FIXED_RATE:
            base = entry.first_due + (n - 1) * every
        else:
            base = (after if after is not None else loop.time()) + every
        if not rep.within(n, (base - self.t0) * speed):
            return
        slot = _Slot(entry, n, due=self._exact(base + self._jitter(entry)))
        self._arm(slot)
        entry.pending.append(slot)
        self._npending += 1

    def _schedule_rule(self, entry: _Entry, n: int, after: float) -> None:
        """Arm firing ``n`` of a cron/calendar entry: the first moment after ``after`` (the
        previous moment) and after the wall clock's reading now -- moments a suspend or a late
        call passed over are not run one by one."""
        rule = entry.call.rule
        loop = self._loop
        if rule is None or entry.done or self._reason is not None or loop is None:
            return
        now = loop.time()
        wall = self._wall_now(now)
        moment = rule.next_after(max(after, wall))
        if moment is None or not rule.within(n, moment - self.wall_t0):
            return
        slot = _Slot(entry, n, due=self._exact(now + moment - wall))
        slot.wall = moment
        self._arm(slot)
        entry.pending.append(slot)
        self._npending += 1

    def _wall_now(self, loop_time: float) -> float:
        if self._virtual:
            return self.wall_t0 + (loop_time - self.t0)
        return self._wall()

    def _watch_wall(self) -> None:
        """Read the wall clock now and then while wall-clock entries wait (see WALL_WATCH)."""
        if self._reason is not None or self._loop is None:
            return
        self._clocks(self._loop)  # a step re-arms them
        self._watch = self._loop.call_later(WALL_WATCH, self._watch_wall)

    def _rearm_wall(self, loop_time: float, wall: float) -> None:
        """The wall clock stepped: put each pending wall-clock call at its moment as the wall
        clock now reads (a moment now past runs at once, late by what it missed)."""
        for entry in self._walled:
            for i, old in enumerate(entry.pending):
                if old.wall is None or old.queued:
                    continue
                self._disarm(old)
                new = _Slot(entry, old.n, due=loop_time + old.wall - wall)
                new.wall = old.wall
                self._arm(new)
                entry.pending[i] = new

    def _cancel_entry(self, entry: _Entry) -> int:
        """Cancel what an entry still had to run; returns how many calls that is.

        A bounded repeat counts every call it would still have made, not only the one armed
        now; an unbounded one counts its armed call (the rest never had a number).
        """
        if entry.done and not entry.pending:
            return 0
        entry.done = True
        entry.waiting = None
        armed = len(entry.pending)
        for slot in entry.pending:
            self._disarm(slot)
        entry.pending.clear()
        self._npending -= armed
        n = armed
        rep = entry.call.repeat
        if rep is not None:
            total = rep.firings((entry.first_due - self.t0) * self.options.speed)
            if total is not None:
                n = max(armed, total - entry.fired)
        elif entry.call.rule is not None and entry.call.rule.count is not None:
            n = max(armed, entry.call.rule.count - entry.fired)
        self._cancelled += n
        return n

    # -- invoking --------------------------------------------------------------------------------
    def _fire(self, slot: _Slot) -> None:
        entry = slot.entry
        entry.pending.remove(slot)
        self._npending -= 1
        if self._signal_reason is not None and self._reason is None:
            self.finish(self._signal_reason)  # no call fires once a signal came
            self._cancelled += 1  # this one included
        if self._reason is not None:
            return
        loop = self._loop
        assert loop is not None
        entry.fired = slot.n
        rep = entry.call.repeat
        call = entry.call
        if (call.late_after is not None or entry.running) and self._decline(entry, slot):
            return
        func, args, kwargs = entry.spec.func, call.args, call.kwargs
        result: Any = None
        error: ErrorInfo | None = None
        status: int | None = None
        self._running = call.name
        _ENTRY.set(call.name)  # each handle runs in its own copy of the context
        _FIRING.set(slot.n)
        # The clocks are read last, right before the call: what a record says is when the
        # callback really started, not when the bookkeeping before it did.
        now, wall = self._clocks(loop)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt...: the callback's own
            error, status = _error_info(exc), _exit_status(exc)
        finally:
            self._running = None
        if not slot.queued:
            self._schedule_following(entry, slot)
        if error is None and inspect.isawaitable(result):
            task = loop.create_task(self._finish_async(slot, result, now, wall))
            self._tasks[task] = _Started(slot, result, now, wall)
            entry.running.append(task)
            return
        end = loop.time()
        self._record(slot, now, wall, end - now, result, error,
                     exit_status=status if error else _exit_status(result))
        if rep is not None and rep.mode is Mode.FIXED_DELAY:
            self._schedule_next(entry, slot.n + 1, end)
        self._maybe_done()

    def _schedule_following(self, entry: _Entry, slot: _Slot) -> None:
        """At a firing, arm the next one where it does not wait for this one to end:
        fixed-rate (due at first + n*every whatever this call does; a cancel of its own entry
        from inside the call has set entry.done, and nothing more is armed) and calendars."""
        rep = entry.call.repeat
        if rep is not None and rep.mode is Mode.FIXED_RATE:
            self._schedule_next(entry, slot.n + 1, None)
        elif entry.call.rule is not None and slot.wall is not None:
            self._schedule_rule(entry, slot.n + 1, slot.wall)

    def _decline(self, entry: _Entry, slot: _Slot) -> bool:
        """Apply late_after and overlap to a due call; True when it does not start now.

        Each decision is one event, never a stream of warnings: a call skipped every 100 ms
        for a day is one record per skipped call, like the calls it replaces.
        """
        call, loop = entry.call, self._loop
        assert loop is not None
        late = loop.time() - slot.due
        action = why = None
        if call.late_after is not None and late > call.late_after / self.options.speed:
            action, why = "skip", "late"
        elif entry.running and call.overlap is not Overlap.ALLOW:
            why = "overlap"
            action = call.overlap.value
            if call.overlap is Overlap.QUEUE and entry.waiting is not None:
                action = "skip"  # one waits at most: a queue that grows is a backlog
        if action is None:
            return False
        self._emit(Decision(entry=call.name, n=slot.n, action=action, why=why or "",
                            t=self._rel(), late=late))
        if action == "kill":
            for task in entry.running:
                started = self._tasks.get(task)
                if started is not None:
                    started.slot.killed = slot.n
                task.cancel()
            return False
        if not slot.queued:
            self._schedule_following(entry, slot)
        if action == "queue":
            slot.queued = True
            entry.waiting = slot
            entry.pending.append(slot)  # still to run: counted, and cancelled with the entry
            self._npending += 1
        else:
            self._maybe_done()
        return True

    async def _finish_async(self, slot: _Slot, awaitable: Any, start: float, wall: float) -> None:
        loop = self._loop
        assert loop is not None
        result: Any = None
        error: ErrorInfo | None = None
        cancelled = False
        status: int | None = None
        _ENTRY.set(slot.entry.call.name)
        try:
            result = await awaitable
            status = _exit_status(result)
        except asyncio.CancelledError:
            cancelled = True
            error = ErrorInfo("CancelledError", f"cancelled: the run ended ({self._reason})")
        except BaseException as exc:  # (our signals never raise: this is the callback's)
            error, status = _error_info(exc), _exit_status(exc)
        finally:
            task = asyncio.current_task()
            self._tasks.pop(task, None)  # type: ignore[arg-type]
            with contextlib.suppress(ValueError):
                slot.entry.running.remove(task)  # type: ignore[arg-type]
        end = loop.time()
        if cancelled and slot.killed:
            error = ErrorInfo("CancelledError",
                              f"killed: call {slot.killed} was due (overlap = kill)")
        if cancelled:
            self._cancelled += 1
        self._record(slot, start, wall, end - start, result, error, cancelled=cancelled,
                     exit_status=status)
        rep = slot.entry.call.repeat
        if rep is not None and rep.mode is Mode.FIXED_DELAY:
            self._schedule_next(slot.entry, slot.n + 1, end)
        waiting = slot.entry.waiting
        if waiting is not None and not slot.entry.running and self._reason is None:
            slot.entry.waiting = None
            self._fire(waiting)  # its turn: it starts now, as late as it waited
        self._maybe_done()

    async def _drain_cancelled_tasks(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # A task cancelled before its first step never ran _finish_async: its call started
        # all the same, so it still gets its one record (cancelled), and its coroutine is closed.
        for started in self._tasks.values():
            if inspect.iscoroutine(started.awaitable):
                started.awaitable.close()
            self._cancelled += 1
            error = ErrorInfo("CancelledError", f"cancelled: the run ended ({self._reason})")
            self._record(started.slot, started.start, started.wall, 0.0, None, error,
                         cancelled=True)
        self._tasks.clear()

    def _record(
        self,
        slot: _Slot,
        now: float,
        wall: float,
        duration: float,
        result: Any,
        error: ErrorInfo | None,
        *,
        cancelled: bool = False,
        exit_status: int | None = None,
    ) -> None:
        call = slot.entry.call
        self._seq += 1
        late = now - slot.due
        if self._virtual:  # both sides are on the nanosecond grid, give or take a float step
            late = round(late, 9) + 0.0
        record = CallRecord(
            seq=self._seq,
            entry=call.name,
            kind=call.kind.value,
            callback=call.callback,
            args=call.args,
            kwargs=call.kwargs,
            n=slot.n,
            due=slot.due,
            loop_time=now,
            t=now - self.t0,
            wall_time=wall,
            late=late,
            duration=duration,
            result=None if error else result,
            error=error,
            cancelled=cancelled,
            exit_status=exit_status,
        )
        self._lateness.add(late)  # a call cut short still started: its lateness is real
        if record.failed:
            self._failed += 1
        self._emit(record)
        while self._deferred:
            self._emit(self._deferred.pop(0))
        if record.failed and self.options.fail_fast:
            self.finish("failed")

    def _maybe_done(self) -> None:
        if self._reason is not None or self._tasks:
            return
        if self._npending:
            return
        self.finish("done")

    # -- output ----------------------------------------------------------------------------------
    def _emit(self, event: Event, *, defer: bool = False) -> None:
        if defer and self._running is not None:
            # Caused by the running callback: written after that callback's own record.
            self._deferred.append(event)
            return
        if self._closed:
            return
        try:
            self.sink(event)
        except OutputClosed:
            # The sink keeps being called: a tee may still have a live part (--record).
            self.finish("closed")
        except Exception as exc:
            # A renderer bug must not hang the run inside a loop callback: stop writing,
            # end the run, and let run() raise it once the loop is clean.
            self._closed = True
            self._sink_error = exc
            self.finish("failed")

    @property
    def signalled(self) -> bool:
        """A signal (SIGINT, SIGTERM) asked the run to end: nothing may wait for a reader."""
        return self._signal_reason is not None

    def output_closed(self) -> None:
        """(from any thread) stdout's reader went away: end the run, as a failed write would."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.finish, "closed")

    def end_record(self) -> End:
        """The end record as of now (for a run cut short: a second Ctrl-C)."""
        return self._end()

    def _end(self) -> End:
        # Decided first, read second: a signal from now on is absorbed (the end it would
        # change may already be on its way out); one before is this end's reason.
        self._end_decided = True
        reason = self._signal_reason or self._reason or "done"
        if self._signal_reason is not None:
            code: int = signals.exit_code_of(self._signum)
        elif reason == "closed":
            code = ExitCode.PIPE
        elif reason == "timeout" and self.options.timeout_exit is not None:
            code = self.options.timeout_exit
        elif self._failed:
            code = ExitCode.CALLBACK_FAILED
        else:
            code = ExitCode.OK
        p50, p90, p99 = self._lateness.percentiles(50, 90, 99)
        return End(
            reason=reason,
            calls=self._seq,
            failed=self._failed,
            cancelled=self._cancelled,
            late_p50=p50,
            late_p99=p99,
            late_max=self._lateness.maximum,
            late_p90=p90,
            early=self._lateness.early,
            clock_steps=self._steps,
            duration=self._now() - self.t0,
            exit_code=int(code),
        )

    # -- clocks and signals ----------------------------------------------------------------------
    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    def _exact(self, due: float) -> float:
        """On the virtual clock, a due time on the nanosecond grid: 0.05 + 0.1 is due at 0.15."""
        return round(due * 1_000_000_000) / 1_000_000_000 if self._virtual else due

    def _rel(self) -> float:
        return self._now() - self.t0

    def _pair(self, loop: asyncio.AbstractEventLoop) -> tuple[float, float, bool]:
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

    def _clocks(self, loop: asyncio.AbstractEventLoop) -> tuple[float, float]:
        """The loop clock and the wall clock at a call's start; a wall clock step is told."""
        if self._virtual:  # simulated: the wall clock advances with virtual time
            now = loop.time()
            return now, self.wall_t0 + (now - self.t0)
        now, wall, tight = self._pair(loop)
        if not tight:  # this pair cannot tell a step from a preemption: no verdict
            return now, wall
        offset = wall - now
        if abs(offset - self._offset) > CLOCK_STEP:
            # Told, not hidden: the record shows the wall clock as it really reads.
            step, self._offset = offset - self._offset, offset
            self._steps += 1
            self._emit(ClockStep(t=now - self.t0, step=step, wall_time=wall))
            if self._walled:
                self._rearm_wall(now, wall)
        return now, wall

    # -- signals (the handlers are signals.RunSignals, installed by run() below) -----------------
    def add_abort(self, abort: Callable[[], Any]) -> None:
        """Call ``abort`` just before an exit that skips all cleanup (a second Ctrl-C)."""
        self._aborts.append(abort)

    def aborts(self) -> list[Callable[[], Any]]:
        """What a second signal does before it exits: kill the children first (nothing may
        outlive us), then the run's own aborts (the display)."""
        return [CHILDREN.kill_all, *self._aborts]

    def on_signal(self, signum: int) -> None:
        """(a signal handler: any moment, even inside a blocking callback) End the run as soon
        as the loop can: no call fires from now on."""
        if self._end_decided:
            return  # the end record is decided: it and the exit status stand
        self._signum = signum
        self._signal_reason = signals.reason_of(signum)
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._end_by_signal)

    def _end_by_signal(self) -> None:
        reason = self._signal_reason
        assert reason is not None
        if self._reason is None:
            self.finish(reason)
        else:  # already ending (stop, timeout): still say a signal came
            self._reason = reason


def _precision_of(loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    """Which precision mode and selector the loop runs with (None where it does not apply)."""
    describe = getattr(loop, "describe", None)  # a PrecisionEventLoop's
    if describe is None:
        if hasattr(loop, "advance"):
            return {"precision": None, "selector": "virtual: jumps to the next timer"}
        if type(loop).__module__.startswith("uvloop"):
            return {"precision": None, "selector": "libuv (1 ms resolution)"}
        return {"precision": None, "selector": type(getattr(loop, "_selector", loop)).__name__}
    info = describe()
    selector = f"{info.get('selector')}, {info.get('wait')}() waits ({info.get('wait_resolution')})"
    if info.get("timer_slack_ns") is not None:
        selector += f", timer slack {info['timer_slack_ns']}ns"
    if info.get("spin"):
        selector += ", spins the last ms"
    if info.get("fallback"):
        selector += f", fallback: {info['fallback']}"
    return {"precision": info.get("precision"), "selector": selector}


def _resolution(loop: asyncio.AbstractEventLoop) -> float:
    if type(loop).__module__.startswith("uvloop"):
        return 0.001  # libuv keeps loop time in whole milliseconds
    return float(getattr(loop, "_clock_resolution", time.get_clock_info("monotonic").resolution))


def _exit_status(obj: object) -> int | None:
    """The exit status a callback's result or exception carries (``exec``'s), if any."""
    status = getattr(obj, "exit_status", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _error_info(exc: BaseException) -> ErrorInfo:
    if isinstance(exc, SystemExit):
        return ErrorInfo("SystemExit", f"exit status {exc.code}")
    output = getattr(exc, "stdout", "")
    return ErrorInfo(type(exc).__name__, str(exc), output if isinstance(output, str) else "")


def run(
    schedule: Schedule,
    sink: Sink,
    *,
    options: RunOptions | None = None,
    virtual: bool = False,
    registry: Registry = REGISTRY,
    wall_clock: Callable[[], float] = time.time,
    on_engine: Callable[[Engine], None] | None = None,
) -> End:
    """Run a schedule to its end on a fresh event loop of the requested kind.

    ``on_engine`` sees the engine before it starts (a live view binds ``status`` through it).
    """
    from .loops import loop_factory

    options = options or RunOptions()
    factory = loop_factory(options.loop_impl, virtual=virtual, precision=options.precision)
    engine = Engine(schedule, sink, registry=registry, options=options, wall_clock=wall_clock)
    if on_engine is not None:
        on_engine(engine)
    if not options.handle_signals:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(engine.run())
    # The handlers stay until the end record is written and the loop is closed: a signal
    # meanwhile is this run's end reason, or (once that is decided) absorbed, never the
    # default death after an end record saying "done".
    with signals.RunSignals(engine.on_signal, engine.aborts):
        with asyncio.Runner(loop_factory=factory) as runner:
            end = runner.run(engine.run())
        signals.run_ended()
    return end
