"""The rich format on a terminal during a real run: drawn by another process, never late.

A rich print costs ~160 µs of the GIL, so drawing in the loop's process, even from a thread of
its own, makes calls late. Here the loop thread only does what a jsonl line costs, or less: it
keeps the few numbers the summary needs of every call (``Samples``) and queues the records a
person can read, at most ``MAX_LINES_PER_TICK`` a tick; the others it counts. A feeder thread
hands the queue to a display process through a socket, with a snapshot of where the run stands
for the live footer: ten times a second, or once a second while the loop is busy (each hand-over
costs the loop a little, and nobody reads a screen that scrolls faster). The display process
(``drawer.py``) does all the rich work -- the records, the "… N more calls not drawn" lines,
the footer, the summary -- as batch work (SCHED_BATCH: it never preempts the loop, yet is never
starved of its share of a busy machine); the loop's process never imports rich. It inherits our
stdout and stderr, and our own stderr writes (an ``exec`` child's complaints) go through it, in
order with the records.

How the display process is started, fed and ended, and the fallback when it cannot be (the
feeder thread draws in this process itself, with the same code), is ``display.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from ..errors import OutputError
from ..events import CallRecord, End, Event, Start
from ..signals import start_thread
from . import RenderOptions, is_terminal
from .display import DisplayGone, DisplayProcess, InProcessDisplay, fileno
from .samples import END, ERR, EVENT, REC, SKIP, STATUS, Samples
from .text import oneline, result_text

TICK = 0.1  # seconds between two hand-overs to the display (and redraws of the footer)
MAX_LINES_PER_TICK = 20  # records shown per tick (200 a second: more than anyone reads)
#: a busy loop (more calls a second than this) gets one hand-over a second, of 20 records:
#: each costs the loop a little (the feeder takes the GIL; the display and the terminal take
#: CPU, and this machine may have only two), and nobody reads a screen scrolling faster anyway
BUSY_RATE = 200
BUSY_TICK = 1.0
BACKLOG = 2000  # messages the display has not taken yet, beyond which records are only counted


def rich_renderer(stream: IO[str], options: RenderOptions) -> Any:
    """The rich format: a display process on a terminal during a real-clock run (where
    drawing would compete with due calls); otherwise drawn as events come (rich.RichRenderer)."""
    extra = options.extra
    if (
        extra.get("clock") == "real"
        and is_terminal(stream)
        and not extra.get("export")
        and extra.get("show_records", True)
    ):
        return LiveRenderer(stream, options)
    from .rich import RichRenderer

    return RichRenderer(stream, options)


_early: DisplayProcess | None = None


def start_early(stream: IO[str]) -> None:
    """Start the display process now, if a rich run is to be drawn on ``stream``: its Python
    and rich start up while this process loads the schedule, not after (the renderer made for
    the same stream takes it; one never taken is ended at exit, having drawn nothing)."""
    global _early
    if _early is None and is_terminal(stream):
        _early = DisplayProcess.spawn(stream)


def _display_for(stream: IO[str], options: RenderOptions) -> DisplayProcess | None:
    """The display process for ``stream`` (the early one, if it was started for it), told how
    to draw; None if none can be had."""
    global _early
    display, _early = _early, None
    if display is not None and display.fd != fileno(stream):
        display.discard()
        display = None
    display = display or DisplayProcess.spawn(stream)
    if display is not None:
        try:
            display.send([options])  # the first message: how to draw
        except DisplayGone:
            display.close()
            return None
    return display


class LiveRenderer:
    """The loop's side of a rich run on a terminal: cheap per call, never blocks (see above)."""

    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.stream = stream
        self.options = options
        self.samples = Samples()
        self.status: Callable[[], Any] | None = None
        self.live_wanted = bool(options.extra.get("live"))
        # the queue and the counts, shared by the loop thread and the feeder (re-entrant: a
        # result's __str__ may write to stderr, which comes here too)
        self._lock = threading.RLock()
        self._queue: list[tuple[Any, ...]] = []
        self._skipped = 0
        self._shown = 0
        self._window = TICK  # records shown per window: BUSY_TICK when the loop is busy
        self._window_end = float("-inf")
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._gone: Exception | None = None  # what the display reported when it left
        self._start: Start | None = None
        self._stderr: _StderrToDisplay | None = None
        self._released = False
        self._aborted = False
        display = _display_for(stream, options)
        self._display: DisplayProcess | InProcessDisplay = display or InProcessDisplay(
            stream, options
        )
        atexit.register(self.close)

    def bind_status(self, status: Callable[[], Any]) -> None:
        """Give the live footer a way to ask the engine where the run stands."""
        self.status = status

    # -- the loop thread
    def __call__(self, event: Event) -> None:
        if type(event) is CallRecord:
            self.samples.add(event)
            if self._gone is not None:
                raise self._gone
            with self._lock:
                t = event.loop_time
                if t >= self._window_end:
                    self._window_end = t + self._window
                    self._shown = 0
                if self._shown >= MAX_LINES_PER_TICK or len(self._queue) >= BACKLOG:
                    self._skipped += 1
                    return
                self._shown += 1
                self._put_skipped()
                self._queue.append(
                    (
                        REC,
                        event.t,
                        t,
                        event.wall_time,
                        event.late,
                        oneline(event.entry),
                        oneline(event.describe()),
                        result_text(event),
                        event.failed or event.cancelled,
                    )
                )
            return
        if isinstance(event, End):
            self._end(event)
            return
        if self._gone is not None:
            raise self._gone
        with self._lock:
            self._put_skipped()
            self._queue.append((EVENT, event))
        if isinstance(event, Start) and self._thread is None:
            self._start = event
            if isinstance(self._display, DisplayProcess):
                self._stderr = _StderrToDisplay(self, sys.stderr)
                sys.stderr = self._stderr
            self._thread = start_thread(self._feed, "timerctl-feed")

    def _put_skipped(self) -> None:
        """(with the lock) Say how many records were not drawn, before what comes after them."""
        if self._skipped:
            self._queue.append((SKIP, self._skipped))
            self._skipped = 0

    def put_err(self, text: str) -> None:
        with self._lock:
            self._put_skipped()
            self._queue.append((ERR, text))

    def _end(self, event: End) -> None:
        with self._lock:
            self._put_skipped()
            self._queue.append((END, event, self.samples))
        try:
            self._wake.set()
            if self._thread is not None:
                self._thread.join()
            else:
                self._feed_once(final=True)
            error = self._gone or self._display.finish()
        except BaseException:  # a second Ctrl-C while the end is drawn: stop at once
            self.abort()
            raise
        finally:
            self._release()
        if error is not None:
            raise error

    # -- the feeder thread
    def _feed(self) -> None:
        tick, calls = TICK, 0
        while not self._wake.wait(tick):
            if not self._feed_once(final=False):
                return
            calls, before = self.samples.count, calls
            tick = BUSY_TICK if calls - before > BUSY_RATE * tick else TICK
            self._window = tick
        self._feed_once(final=True)

    def _feed_once(self, *, final: bool) -> bool:
        """Hand what the loop queued to the display; False once it is gone for good."""
        with self._lock:
            if not final:
                self._put_skipped()
            batch, self._queue = self._queue, []
        if self.live_wanted and self.status is not None and not final:
            with contextlib.suppress(Exception):  # a footer is not worth a failed run
                batch.append((STATUS, self.status()._asdict()))
        if not batch or self._gone is not None:
            return self._gone is None
        try:
            self._display.send(batch)
        except DisplayGone as gone:
            if self._aborted:
                return False
            if gone.error is not None:  # it could not write: the loop thread raises it
                self._gone = gone.error
                self._restore_stderr()
                return False
            self._replace_display(batch)
        return True

    def _replace_display(self, batch: list[tuple[Any, ...]]) -> None:
        """The display process died (killed?): draw here from now on, and say so."""
        self._restore_stderr()
        try:
            display = InProcessDisplay(self.stream, self.options)
            display.painter.resume(
                self._start, "the display process ended: drawing goes on in timerctl's own process"
            )
            self._display = display
            display.send(batch)
        except DisplayGone as gone:
            self._gone = gone.error
        except Exception as exc:  # nothing left to draw with
            self._gone = OutputError(f"cannot draw: {exc}")

    # -- leaving
    def abort(self) -> None:
        """Stop the display now: a second Ctrl-C, just before the process exits (the CLI
        hands this to the run as one of its aborts)."""
        self._aborted = True
        self._display.abort()

    def close(self) -> None:
        """Leave without an end (an error stopped the run): clear the footer, reap the child."""
        if self._released:
            return
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(1.0)
        self._display.close()
        self._release()

    def _release(self) -> None:
        self._released = True
        self._restore_stderr()
        atexit.unregister(self.close)

    def _restore_stderr(self) -> None:
        proxy, self._stderr = self._stderr, None
        if proxy is not None and sys.stderr is proxy:
            sys.stderr = proxy.real


class _StderrToDisplay:
    """Our stderr while the display draws: text goes to it, in order with the records (and
    above its footer), instead of cutting through the terminal on its own."""

    buffer = None  # no way around it: bytes written there would cut through the footer

    def __init__(self, renderer: LiveRenderer, real: IO[str]) -> None:
        self.renderer = renderer
        self.real = real

    def write(self, text: str) -> int:
        if text:
            self.renderer.put_err(text)
        return len(text)

    def flush(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)
