"""The run as its callbacks and its front end see it: what a callback may ask (``RunControl``:
the time, stop, cancel, block, a line it printed), what a live display reads (``status``), and
how the outside ends a run (a signal, stdout's reader gone, a second Ctrl-C's end record).

``Control`` is the Engine's base: each of these is a small request the engine carries out with
its own parts, which are declared here for the type checker only.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .events import Cancelled, Output
from .tally import Status

if TYPE_CHECKING:
    from .arming import Arming
    from .events import End, Event
    from .interrupts import Interrupts
    from .runner import RunOptions
    from .slots import Entry, Timers
    from .tally import Tally
    from .tasks import Underway
    from .wallclock import Clocks

#: the entry whose callback is running and which of its firings it is (the lines ``--stream``
#: shows say it), in that callback's own context (sync or async): one variable, one set a call
CALL: contextvars.ContextVar[tuple[str, int]] = contextvars.ContextVar(
    "timerctl_call", default=("?", 0)
)


class Control:
    """The requests a run takes from its callbacks and from outside (see the module)."""

    if TYPE_CHECKING:  # the Engine's parts these requests use
        options: RunOptions
        _loop: asyncio.AbstractEventLoop | None
        _reason: str | None
        _signals: Interrupts
        _entries: dict[str, Entry]
        _clocks: Clocks
        _timers: Timers
        _arming: Arming
        _tally: Tally
        _tasks: Underway

        def finish(self, reason: str) -> None: ...
        def _cancel_entry(self, entry: Entry) -> int: ...
        def _emit(self, event: Event, *, defer: bool = False) -> None: ...
        def _maybe_done(self) -> None: ...
        def _end(self) -> End: ...

    @property
    def t0(self) -> float:
        """The loop clock when the run started: records' ``t`` counts from here."""
        return self._clocks.t0

    @property
    def wall_t0(self) -> float:
        return self._clocks.wall_t0

    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    def _rel(self) -> float:
        return self._now() - self.t0

    # -- RunControl (what callbacks may ask of the run) --------------------------------------
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
        self._emit(Cancelled(entry=entry, count=n, by=CALL.get()[0], t=self._rel()), defer=True)
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
            entry, n = CALL.get()
            self._emit(Output(entry=entry, n=n, t=self._rel(), line=line))

    # -- what a live display reads ----------------------------------------------------------
    def status(self) -> Status:
        """A cheap snapshot for a live display (safe from another thread: it reads the
        engine's own next-due view, never the event loop's private timer heap)."""
        head = self._timers.next_due()
        now = self._now()
        tally = self._tally
        return Status(
            calls=tally.seq,
            failed=tally.failed,
            cancelled=tally.cancelled,
            pending=self._arming.pending,
            running=len(self._tasks),
            next_entry=None if head is None else head[0],
            next_in=None if head is None else max(0.0, head[1] - now),
            t=now - self.t0,
        )

    # -- the outside (the handlers are signals.RunSignals, installed by runner.run) ---------
    @property
    def signalled(self) -> bool:
        """A signal (SIGINT, SIGTERM) asked the run to end: nothing may wait for a reader."""
        return self._signals.reason is not None

    def output_closed(self) -> None:
        """(from any thread) stdout's reader went away: end the run, as a failed write would."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.finish, "closed")

    def end_record(self) -> End:
        """The end record as of now (for a run cut short: a second Ctrl-C)."""
        return self._end()

    def add_abort(self, abort: Callable[[], Any]) -> None:
        """Call ``abort`` just before an exit that skips all cleanup (a second Ctrl-C)."""
        self._signals.add_abort(abort)

    def aborts(self) -> list[Callable[[], Any]]:
        """What a second signal does before it exits: kill the children, then the aborts."""
        return self._signals.aborts()

    def on_signal(self, signum: int) -> None:
        """(a signal handler: any moment, even inside a blocking callback) End the run as soon
        as the loop can: no call fires from now on."""
        loop = self._loop
        if self._signals.take(signum) and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._end_by_signal)

    def _end_by_signal(self) -> None:
        reason = self._signals.reason
        assert reason is not None
        if self._reason is None:
            self.finish(reason)
        else:  # already ending (stop, timeout): still say a signal came
            self._reason = reason
