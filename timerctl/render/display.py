"""The display of a live rich run: a process of its own, or (the fallback) a thread of ours.

``DisplayProcess`` starts ``drawer.py`` with our terminal as its stdout and a socket as its
stdin, and sends it pickled lists of messages. It ignores Ctrl-C and SIGTERM (they reach the
whole foreground process group): the loop's process decides when the run ends and sends the
end; the display draws it, reports how its writing went, and exits before the loop's process
does. A second Ctrl-C stops it at once (SIGUSR1); if the loop's process dies, the display reads
end-of-file and leaves.

``InProcessDisplay`` draws the same messages with the same code (``painter.Painter``) on the
feeder thread, when the display process cannot be started or has died: rich then competes with
the loop for the GIL. Either way this module does not import rich until it has to: the loop's
process never does while a display process draws.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from typing import IO, Any

from ..errors import OutputClosed, OutputError
from . import RenderOptions
from .samples import END

SWITCH_INTERVAL = 0.0002  # drawing in this process: hand the GIL back to the loop within 0.2 ms
ABORT_GRACE = 0.5  # seconds the display gets to leave on a second Ctrl-C before SIGKILL

_FRAME = struct.Struct("<Q")  # each pickled list of messages is preceded by its length
#: the display's program: this very timerctl (wherever it was imported from: an installed
#: one, a source tree), whatever sys.path would find first; the package's __init__ is not run
#: (it loads the callback registry, which drawing does not need)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CHILD = (
    "import importlib.util as u, sys\n"
    f"s = u.spec_from_file_location('timerctl', {os.path.join(_PACKAGE, '__init__.py')!r}, "
    f"submodule_search_locations=[{_PACKAGE!r}])\n"
    "sys.modules['timerctl'] = u.module_from_spec(s)\n"
    "from timerctl.render.drawer import main\n"
    "main()\n"
)


def fileno(stream: IO[str]) -> int | None:
    """The file descriptor under ``stream``, if it has one."""
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


class DisplayGone(Exception):
    """The display process went away: ``error`` is what it reported (None: it was killed)."""

    def __init__(self, error: Exception | None) -> None:
        super().__init__(str(error))
        self.error = error


class DisplayProcess:
    """The display process, and the socket it reads our messages from (its stdin)."""

    def __init__(self, proc: subprocess.Popen[bytes], sock: socket.socket, fd: int) -> None:
        self.proc = proc
        self.sock = sock
        self.fd = fd  # its stdout: our file descriptor it was given
        self.lock = threading.Lock()  # the feeder and an abort may both want the socket

    @classmethod
    def spawn(cls, stream: IO[str]) -> DisplayProcess | None:
        """Start the display with our terminal as its stdout, or None when that cannot be."""
        fd = fileno(stream)
        if fd is None:
            return None
        try:
            stream.flush()
        except (OSError, ValueError):
            return None
        if not sys.executable or not os.path.exists(os.path.join(_PACKAGE, "__init__.py")):
            return None  # nothing to start the display with (an embedded or zipped Python)
        ours, theirs = socket.socketpair()
        # Blocked in the child from its first instruction on: a Ctrl-C while it starts up
        # must not kill it (and a handler set once it runs would come too late). Blocked here
        # meanwhile, so that one coming now waits until the child is ours to end at exit.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            # -P: no cwd on sys.path (a rich.py there must not be the display's rich)
            proc = subprocess.Popen(
                [sys.executable, "-P", "-c", _CHILD],
                stdin=theirs.fileno(),
                stdout=fd,
                close_fds=True,
            )
            display = cls(proc, ours, fd)
            atexit.register(display.discard)  # a no-op once it has been waited for
        except (OSError, ValueError):
            ours.close()
            return None
        finally:
            theirs.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        _yield_cpu(proc.pid)
        return display

    def send(self, batch: list[Any]) -> None:
        """Hand one list of messages over; DisplayGone (with what it reported) if it left."""
        import pickle

        data = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
        try:
            with self.lock:
                self.sock.sendall(_FRAME.pack(len(data)) + data)
        except OSError:  # EPIPE, ECONNRESET: it is gone; what did it say?
            raise DisplayGone(self.finish()) from None

    def finish(self) -> Exception | None:
        """No more messages: wait until the display has drawn them all and left; what it
        reported (a closed terminal, an error), as the exception this process should raise."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
        report = b""
        with contextlib.suppress(OSError):
            while chunk := self.sock.recv(4096):
                report += chunk
        self.proc.wait()
        self.sock.close()
        kind, _, text = report.decode(errors="replace").partition("\t")
        if kind == "ok" or (not kind and self.proc.returncode == 0):
            return None
        if kind == "closed":
            return OutputClosed("stdout closed")
        if kind == "error":
            return OutputError(text)
        if kind == "bug":
            return RuntimeError(f"in the display process: {text}")
        return None  # killed by someone: nothing it could not write; drawing goes on here

    def abort(self) -> None:
        """Stop drawing now (a second Ctrl-C): the display restores the terminal and leaves."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.send_signal(signal.SIGUSR1)
            try:
                self.proc.wait(ABORT_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.close()

    def discard(self) -> None:
        """Never used (the run did not start): it has drawn nothing, end it at once."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.kill()
            self.proc.wait()
        self.sock.close()

    def close(self) -> None:
        """Leaving without an end (an error before or during the run): the display clears
        its footer and leaves; we wait for it, briefly. (End-of-file alone means that this
        process died: the display then only gives the cursor back, and draws nothing over
        what the shell prints next.)"""
        if self.proc.poll() is None:
            import pickle

            data = pickle.dumps([(END, None, None)])
            if self.lock.acquire(timeout=ABORT_GRACE):
                try:
                    self.sock.settimeout(ABORT_GRACE)
                    self.sock.sendall(_FRAME.pack(len(data)) + data)
                    self.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                finally:
                    self.lock.release()
            try:
                self.proc.wait(1.0)
            except subprocess.TimeoutExpired:
                self.abort()
        self.sock.close()


def _yield_cpu(pid: int) -> None:
    """Mark the display as batch work (Linux's SCHED_BATCH): waking, it never preempts a running
    loop, and it still gets its fair share of a busy machine, so it always draws the end.

    Not SCHED_IDLE: that only runs on CPU time nothing else in the group wants, so a busy
    machine (a build in the same shell) starved the display and the run never ended (it waited
    for the summary); an unprivileged process cannot lift a process out of SCHED_IDLE again.
    Measured on this machine (benchmarks/bench_render.py, a 10 ms tick on a terminal with 0-3
    CPU hogs), the loop's lateness is the same with either."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux: the default priority
        os.sched_setscheduler(pid, os.SCHED_BATCH, os.sched_param(0))


class InProcessDisplay:
    """The fallback: the feeder thread draws, in this process (rich holds the GIL meanwhile)."""

    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        from .painter import Painter

        self.painter = Painter(stream, options)
        self._switch = sys.getswitchinterval()
        # Hand the GIL back to the loop thread within 0.2 ms, not CPython's default 5 ms:
        # drawing must not hold a due call back.
        sys.setswitchinterval(min(self._switch, SWITCH_INTERVAL))

    def send(self, batch: list[Any]) -> None:
        try:
            self.painter.paint(batch)
        except (OutputClosed, OutputError) as exc:
            raise DisplayGone(exc) from None

    def finish(self) -> Exception | None:
        sys.setswitchinterval(self._switch)
        return None

    def abort(self) -> None:
        self.painter.abort()

    def close(self) -> None:
        sys.setswitchinterval(self._switch)
        self.painter.abort()
