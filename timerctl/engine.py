"""Schedule + running loop -> a stream of Events. The only module that invokes the callbacks.

Each due call goes through ``_fire`` (may it start?) and ``_start``, which reads the loop clock
and the wall clock at the same moment, invokes, and emits one CallRecord: the hot path, once per
call. The run ends when nothing is pending (no timer, no running async callback), or on
stop/timeout/fail-fast/signal. Its parts, one job each: what callbacks and the front end may
ask of a run (``control``, the Engine's base), arming (``arming``: due times from the timing
kinds of ``schedule``; ``slots``: the timers and the next-due view), the policies a due call
meets (``policies``), the two clocks (``wallclock``), the counts and records (``tally``), async
calls under way (``tasks``), a signal's request (``interrupts``), and the entry point with its
options (``runner``).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import time
from collections.abc import Callable
from typing import Any

from .arming import DELAY, MOMENTS, RATE, Arming
from .context import CURRENT
from .control import CALL, Control
from .errors import OutputClosed
from .events import Cancelled, ClockStep, Decision, End, ErrorInfo, Event
from .interrupts import Interrupts
from .policies import decide
from .registry import REGISTRY, Registry
from .runinfo import error_info, exit_status, percentile, start_record
from .runner import RunOptions, Sink, run
from .schedule import Call, Schedule
from .slots import Entry, Slot, Started, Timers, entries_of
from .tally import Status, Tally
from .tasks import Underway
from .wallclock import WALL_WATCH, Clocks

__all__ = ["Engine", "RunOptions", "Sink", "Status", "percentile", "run"]

#: what a callback returns as a rule: never awaitable, and no exit status (``runinfo``)
_PLAIN = frozenset({str, int, float, bool, bytes, tuple, list, dict, type(None)})


class Engine(Control):
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
        #: the jitter's seed, chosen when none was given: the start record says it, and
        #: --seed with it replays the same jitter
        self.seed = (
            self.options.seed
            if self.options.seed is not None
            else int.from_bytes(os.urandom(4), "big")
        )
        self._entries = entries_of(schedule, registry)
        self._clocks = Clocks(wall_clock)
        self._timers = Timers(self._fire)
        self._arming = Arming(
            self._timers, self._clocks, speed=self.options.speed, seed=self.seed, fire=self._fire
        )
        self._tally = Tally()
        self._tasks = Underway()
        self._reason: str | None = None
        self._closed = False
        self._done: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: str | None = None  # the entry whose sync callback is running now
        self._deferred: list[Event] = []
        self._signals = Interrupts()
        self._sink_error: Exception | None = None
        self._walled = [
            e
            for e in self._entries.values()
            if e.call.rule is not None or e.call.wall_at is not None
        ]
        self._watch: asyncio.TimerHandle | None = None
        self._fail_fast = self.options.fail_fast  # (read once a call)

    # -- running ---------------------------------------------------------------------------------
    async def run(self) -> End:
        loop = self._loop = asyncio.get_running_loop()
        virtual = self._tally.virtual = hasattr(loop, "advance")
        self._done = loop.create_future()
        CURRENT.set(self)  # copied into every handle scheduled from here
        self._clocks.start(loop, virtual)
        self._tally.t0 = self._clocks.t0
        self._arming.bind(loop)
        self._emit(start_record(self, loop, virtual))
        if self._signals.reason is not None:  # a signal came while the loop started
            self.finish(self._signals.reason)
        timeout_handle = None
        try:
            if self._reason is None:
                # What the schedule built lives as long as the run: out of the cyclic
                # collector's way, or every collection walks 100,000 entries again.
                gc.freeze()
                for entry in self._entries.values():
                    self._arming.first(entry)
                self._arming.started(loop.time())
                if self.options.timeout is not None:
                    timeout_handle = loop.call_at(
                        self.t0 + self.options.timeout, self.finish, "timeout"
                    )
                if self._walled and not virtual:
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
        if self._signals.reason is not None:  # a signal came while the last call ran
            reason = self._signals.reason
        self._reason = reason
        self._arming.ended = True
        for entry in self._entries.values():
            n = self._cancel_entry(entry)
            if n:
                self._emit(
                    Cancelled(
                        entry=entry.call.name, count=n, by=reason, t=self._rel(), at_end=True
                    ),
                    defer=True,
                )
        self._tasks.cancel_all()
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    # -- arming (arming.Arming: the due times; here what the run does around them) -----------
    def _watch_wall(self) -> None:
        """Read the wall clock now and then while wall-clock entries wait (see WALL_WATCH)."""
        if self._reason is not None or self._loop is None:
            return
        now, wall, step = self._clocks.read(self._loop)
        if step is not None:
            self._clock_stepped(now, wall, step)  # (and re-armed)
        self._watch = self._loop.call_later(WALL_WATCH, self._watch_wall)

    def _cancel_entry(self, entry: Entry) -> int:
        """Cancel what an entry still had to run (counted): see Arming.cancel."""
        n = self._arming.cancel(entry)
        self._tally.cancelled += n
        return n

    # -- invoking --------------------------------------------------------------------------------
    def _fire(self, slot: Slot) -> None:
        """A call is due: it starts now (``_start``), unless the run is ending or a policy
        (late_after, overlap) says otherwise. Once per call of the run, as is ``_start``."""
        entry = slot.entry
        entry.pending.remove(slot)  # (arming.taken, inline)
        self._arming.pending -= 1
        if self._reason is not None or self._signals.reason is not None:
            self._not_fired()
            return
        entry.fired = slot.n
        call = entry.call
        if (call.late_after is not None or entry.running) and self._decline(entry, slot):
            return
        self._start(slot, entry, call)

    def _start(self, slot: Slot, entry: Entry, call: Call) -> None:
        """Invoke a due call and record it (an async one is recorded once it is done)."""
        loop, arming, n = self._loop, self._arming, slot.n
        assert loop is not None
        func, args, kwargs = entry.spec.func, call.args, call.kwargs
        self._running = call.name
        CALL.set((call.name, n))  # each handle runs in its own copy of the context
        # The clocks are read last, right before the call: what a record says is when the
        # callback really started, not when the bookkeeping before it did.
        now, wall, step = self._clocks.read(loop)
        if step is not None:
            self._clock_stepped(now, wall, step)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt...: the callback's own
            self._running = None
            self._raised(slot, exc, now, wall)
            return
        self._running = None
        follows = entry.follows
        if follows == RATE and not slot.queued:  # (arming.following, inline)
            arming.next(entry, n + 1, now)
        elif follows == MOMENTS:
            arming.following(entry, slot)
        if type(result) in _PLAIN:  # no awaitable, no exit status: decided without a look
            status = None
        elif inspect.isawaitable(result):
            started = Started(slot, result, now, wall)
            self._tasks.start(loop, self._finish_async(slot, result, now, wall), started)
            return
        else:
            status = exit_status(result)
        end = loop.time()
        self._record(slot, now, wall, end - now, result, None, False, status)
        if follows == DELAY:  # (arming.returned, inline)
            arming.next(entry, n + 1, end)
        if not arming.pending:
            self._maybe_done()

    def _not_fired(self) -> None:
        """A call came due while the run ends: it does not start (one a signal came before
        is counted cancelled, and ends the run)."""
        reason = self._signals.reason
        if self._reason is None and reason is not None:
            self.finish(reason)  # no call fires once a signal came
            self._tally.cancelled += 1  # this one included

    def _raised(self, slot: Slot, exc: BaseException, now: float, wall: float) -> None:
        """The rest of ``_fire`` for a callback that raised: its record says so."""
        assert self._loop is not None
        entry = slot.entry
        self._arming.following(entry, slot)
        end = self._loop.time()
        self._record(slot, now, wall, end - now, None, error_info(exc), False, exit_status(exc))
        self._arming.returned(entry, slot, end)
        self._maybe_done()

    def _decline(self, entry: Entry, slot: Slot) -> bool:
        """Apply late_after and overlap (policies.decide) to a due call; True when it does not
        start now.

        Each decision is one event, never a stream of warnings: a call skipped every 100 ms
        for a day is one record per skipped call, like the calls it replaces.
        """
        assert self._loop is not None
        late = self._loop.time() - slot.due
        verdict = decide(
            entry.call,
            late,
            running=bool(entry.running),
            waiting=entry.waiting is not None,
            speed=self.options.speed,
        )
        if verdict is None:
            return False
        self._emit(
            Decision(
                entry=entry.call.name,
                n=slot.n,
                action=verdict.action,
                why=verdict.why,
                t=self._rel(),
                late=late,
            )
        )
        if verdict.action == "kill":
            self._tasks.kill(entry, slot)
            return False
        self._arming.following(entry, slot)
        if verdict.action == "queue":
            self._arming.queue(slot)
        else:
            self._maybe_done()
        return True

    async def _finish_async(self, slot: Slot, awaitable: Any, start: float, wall: float) -> None:
        assert self._loop is not None
        entry = slot.entry
        CALL.set((entry.call.name, slot.n))
        out = await self._tasks.settle(self._loop, slot, awaitable, lambda: self._reason)
        if out.cancelled:
            self._tally.cancelled += 1
        self._record(
            slot, start, wall, out.end - start, out.result, out.error, out.cancelled, out.status
        )
        end = out.end
        self._arming.returned(entry, slot, end)
        waiting = entry.waiting
        if waiting is not None and not entry.running and self._reason is None:
            entry.waiting = None
            self._fire(waiting)  # its turn: it starts now, as late as it waited
        self._maybe_done()

    async def _drain_cancelled_tasks(self) -> None:
        # A task cancelled before its first step never ran _finish_async: its call started
        # all the same, so it still gets its one record (cancelled).
        for started in await self._tasks.drain():
            self._tally.cancelled += 1
            error = ErrorInfo("CancelledError", f"cancelled: the run ended ({self._reason})")
            self._record(started.slot, started.start, started.wall, 0.0, None, error, True, None)

    def _record(
        self,
        slot: Slot,
        now: float,
        wall: float,
        duration: float,
        result: Any,
        error: ErrorInfo | None,
        cancelled: bool,
        exit_status: int | None,
    ) -> None:
        """Emit a call's record, then what its callback caused (see ``_emit``'s defer)."""
        record = self._tally.record(
            slot, now, wall, duration, result, error, cancelled, exit_status
        )
        if not self._closed:  # (_emit, inline)
            try:
                self.sink(record)
            except Exception as exc:
                self._sink_failed(exc)
        while self._deferred:
            self._emit(self._deferred.pop(0))
        if self._fail_fast and error is not None and not cancelled:
            self.finish("failed")

    def _maybe_done(self) -> None:
        if self._reason is None and not self._arming.pending and not self._tasks:
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
        except Exception as exc:
            self._sink_failed(exc)

    def _sink_failed(self, exc: Exception) -> None:
        if isinstance(exc, OutputClosed):
            # The sink keeps being called: a tee may still have a live part (--record).
            self.finish("closed")
            return
        # A renderer bug must not hang the run inside a loop callback: stop writing, end the
        # run, and let run() raise it once the loop is clean.
        self._closed = True
        self._sink_error = exc
        self.finish("failed")

    def _end(self) -> End:
        # Decided first, read second: a signal from now on is absorbed (the end it would
        # change may already be on its way out); one before is this end's reason.
        self._signals.decided = True
        reason = self._signals.reason or self._reason or "done"
        code = self._tally.exit_code(reason, self._signals.exit_signum(), self.options.timeout_exit)
        return self._tally.end(
            reason, code, clock_steps=self._clocks.steps, duration=self._now() - self.t0
        )

    # -- clocks ----------------------------------------------------------------------------------

    def _clock_stepped(self, now: float, wall: float, step: float) -> None:
        """The wall clock stepped (read at a call's start, or by the watch): told (the records
        show the wall clock as it really reads), and wall-clock calls re-armed."""
        self._emit(ClockStep(t=now - self.t0, step=step, wall_time=wall))
        if self._walled:
            self._arming.rearm_wall(self._walled, now, wall)
