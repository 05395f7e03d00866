"""Which signals end a run, and the handlers that end it cleanly (SPEC §5).

Three phases, one handler each:

- **before the run** (``install_early``, the first thing the console script does): a signal
  raises ``Signalled`` (a KeyboardInterrupt), which the CLI ends on with one line and 128 + N.
  A Ctrl-C while click imports, or a SIGTERM while a big schedule loads, is a quiet exit.
- **during the run** (``RunSignals``): the first signal is handed to the engine, which stops
  firing calls, cancels what is pending and ends the children; a second one exits at once,
  after the run's ``aborts`` (kill the children, stop the display).
- **after the run's end is decided** (``run_ended``): its end record and exit status stand; a
  first signal is absorbed (the process is about to exit with that status), a second exits at
  once. So the exit status always agrees with the ``end`` record.

Python-level handlers, not ``loop.add_signal_handler``: those only run when the loop gets
control back, so a callback blocking the loop would swallow a second Ctrl-C, and a first one
could lose to a run that ends meanwhile. These run as soon as the signal comes (even inside
``time.sleep``).

Python runs those handlers in the main thread only, but the kernel hands a process-directed
signal to any thread that does not block it: our threads block them (``start_thread``), a
plugin's or the executor's do not. A signal taken there only marks the handler due, and the main
thread, asleep in the loop's ``select`` until the next timer (30 s away, say), would not run it
until then. ``waking`` points Python's wakeup fd at a socket the loop watches, as asyncio does
for ``add_signal_handler``: whichever thread takes the signal, the loop wakes and the handler
runs at once.

A signal the process was started with ignored stays ignored: ``timerctl run s.toml &`` in a
script (SIGINT), ``nohup timerctl ...`` (SIGHUP).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from .errors import ExitCode

if TYPE_CHECKING:  # the console script's first import: only what a signal needs, no asyncio
    import asyncio
    import socket

#: every signal whose default action would kill us and leave the children running: each ends
#: the run cleanly instead. SIGINT is "interrupted"; the others "terminated" (the exit status
#: says which: 128 + N). SIGQUIT does not dump core, SIGUSR1/2 and SIGALRM are not ignored:
#: nothing in timerctl uses them, and dying silently with the children left behind helps nobody.
ENDING: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
)


def reason_of(signum: int) -> str:
    """The ``end`` record's reason for a run ended by ``signum``."""
    return "interrupted" if signum == signal.SIGINT else "terminated"


def exit_code_of(signum: int) -> int:
    return ExitCode.for_signal(signum)


class Signalled(KeyboardInterrupt):
    """A signal that came before a run could handle it: unwinds like Ctrl-C, to a quiet exit."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return exit_code_of(self.signum)

    @property
    def reason(self) -> str:
        return reason_of(self.signum)


def code_of(exc: KeyboardInterrupt) -> tuple[int, str]:
    """(exit status, reason) of an interruption: a plain KeyboardInterrupt is a SIGINT."""
    if isinstance(exc, Signalled):
        return exc.exit_code, exc.reason
    if len(exc.args) == 1 and type(exc.args[0]) is int and exc.args[0] in ENDING:
        return exit_code_of(exc.args[0]), reason_of(exc.args[0])  # __main__'s first handler
    return ExitCode.INTERRUPTED, "interrupted"


#: set by ``run_ended``: the run's end record and exit status are decided
_ended = False
_absorbed = False
#: the last signal ``_early`` raised for: Python ignores an exception raised where it cannot
#: propagate (a weakref callback of the import system: "Exception ignored in ..."), so the signal
#: is also noted, and acted on at the next chance (the run's start, the command's end)
_pending: int | None = None


def _early(signum: int, _frame: FrameType | None) -> None:
    global _absorbed, _pending
    if _ended:  # the run ended: its status stands; a second signal is impatience
        if _absorbed:
            os._exit(exit_code_of(signum))
        _absorbed = True
        return
    _pending = signum
    raise Signalled(signum)


def pending() -> int | None:
    """A signal that came before the run and may have been swallowed, or None."""
    return _pending


def _unraisable(unraisable: Any, _previous: Any = sys.unraisablehook) -> None:
    if isinstance(unraisable.exc_value, Signalled):
        return  # swallowed where it was raised; noted in _pending, acted on later: no message
    _previous(unraisable)


def install_early() -> None:
    """Until a run takes over, a signal unwinds to a one-line exit (main thread only)."""
    sys.unraisablehook = _unraisable
    for sig in ENDING:
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, _early)


def run_ended() -> None:
    """The run's end is decided: from now on a first signal is absorbed (see module doc)."""
    global _ended
    _ended = True


def run_has_ended() -> bool:
    return _ended


def hold_for_exit() -> None:
    """Block the ending signals until the process is gone, once a run's end is decided.

    Python's finalization puts every handler back to SIG_DFL: a signal in those last
    milliseconds killed the process after an end record saying done/0. Blocked, it is never
    delivered, and the exit status stays the end record's. Only after a run: otherwise the
    default death is as good an answer as any.
    """
    if _ended:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)


def start_thread(target: Callable[[], Any], name: str) -> threading.Thread:
    """Start a daemon thread that never takes the ending signals: the main thread does.

    A process-directed signal goes to any thread that does not block it. Once the main thread
    blocks them (``hold_for_exit``), a worker that did not would take one after finalization
    reset the handlers, and die of it. Blocked while the thread starts, so it inherits the mask
    from its first instruction on.
    """
    thread = threading.Thread(target=target, name=name, daemon=True)
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    except (ValueError, OSError):
        thread.start()
        return thread
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return thread


class RunSignals:
    """The handlers of a run: ``on_signal(signum)`` for the first signal, ``aborts`` and an
    immediate exit for the second. A context manager; leaving it restores what was there."""

    def __init__(
        self, on_signal: Callable[[int], None], aborts: Callable[[], Iterable[Callable[[], Any]]]
    ) -> None:
        self._on_signal = on_signal
        self._aborts = aborts
        self._count = 0
        self._previous: list[tuple[int, Any]] = []

    def __enter__(self) -> RunSignals:
        for sig in ENDING:
            try:
                previous = signal.getsignal(sig)
                if previous is signal.SIG_IGN:
                    continue  # started with it ignored: keep ignoring it
                signal.signal(sig, self._handle)
            except (ValueError, OSError):  # not the main thread: the caller's business
                continue
            self._previous.append((sig, previous))
        if _pending is not None:  # came before, and its exception was swallowed: act on it now
            self._handle(_pending, None)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, previous in self._previous:
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self._count += 1
        if self._count > 1:  # the second: exit now, but leave no child behind
            for abort in self._aborts():
                with contextlib.suppress(Exception):
                    abort()
            os._exit(exit_code_of(signum))
        self._on_signal(signum)


@contextlib.contextmanager
def waking(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While the run's loop runs: a signal taken by any thread wakes it (see module doc).

    Left alone when a wakeup fd is already set (whoever set it, a loop like uvloop, reads it)
    or outside the main thread, where Python refuses one.
    """
    import socket  # here: the first handler is installed before anything heavier is imported

    reader, writer = socket.socketpair()
    with reader, writer:
        reader.setblocking(False)
        writer.setblocking(False)
        try:
            previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        except ValueError:  # not the main thread
            yield
            return
        if previous != -1:  # somebody else's already: theirs stays
            signal.set_wakeup_fd(previous)
            yield
            return
        loop.add_reader(reader.fileno(), _drain, reader)
        try:
            yield
        finally:
            signal.set_wakeup_fd(-1)
            loop.remove_reader(reader.fileno())


def _drain(reader: socket.socket) -> None:
    """The wakeup bytes: their only job was to wake the loop, whose thread then runs the
    handler."""
    with contextlib.suppress(OSError):
        while reader.recv(4096):
            pass
