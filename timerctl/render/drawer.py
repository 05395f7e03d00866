"""The display process of a rich run on a terminal (see ``live.py``): all the drawing, none of
the timing.

Started by the loop's process with our stdin a socket to it, stdout and stderr its terminal,
and SIGINT and SIGTERM blocked: Ctrl-C reaches the whole foreground process group, and the
loop's process decides when the run ends. Reads lists of messages, draws them (``Painter``)
until the end, then writes one word back on the socket -- ``ok``, ``closed`` (the terminal went
away), ``error\\tMESSAGE`` or ``bug\\tMESSAGE`` -- and exits. End-of-file without an end (the
loop's process died) gives the cursor back and exits; SIGUSR1 (a second Ctrl-C) clears the
footer and exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import sys
from collections.abc import Iterator
from typing import Any

_FRAME = struct.Struct("<Q")  # as display._FRAME: each pickled list is preceded by its length


class _Abort(BaseException):
    """SIGUSR1: the loop's process is exiting at once (a second Ctrl-C)."""


def _abort(_signum: int, _frame: Any) -> None:
    raise _Abort


def _frames(fd: int) -> Iterator[list[Any]]:
    """Each time the socket has something: the complete lists of messages it brought."""
    import pickle

    buf = bytearray()
    while chunk := os.read(fd, 1 << 20):
        buf += chunk
        got = []
        while len(buf) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(buf)
            end = _FRAME.size + size
            if len(buf) < end:
                break
            got.append(pickle.loads(memoryview(buf)[_FRAME.size : end]))
            del buf[:end]
        if got:
            yield got


def main() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, _abort)
    painter = None
    report = "ok"
    try:
        # rich first, while the loop's process is still loading the schedule
        from ..errors import OutputClosed, OutputError
        from .painter import Painter

        frames = _frames(0)
        first = next(frames, None)
        if first is None:  # the loop's process gave up before the run
            os._exit(0)
        painter = Painter(sys.stdout, first[0][0])
        batches = first[1:]
        try:
            while not painter.ended:
                for batch in batches:
                    painter.take(batch)
                    if painter.ended:
                        break
                else:
                    painter.refresh()
                    more = next(frames, None)
                    if more is None:  # end-of-file without an end: it died
                        painter.orphaned()
                        break
                    batches = more
            sys.stdout.flush()
        except OutputClosed:
            report = "closed"
        except OutputError as exc:
            report = f"error\t{exc}"
    except _Abort:
        if painter is not None:
            painter.abort()
        _leave(None, 0)
    except BaseException as exc:  # a bug: said by the loop's process (one line, exit 70)
        if painter is not None:
            painter.abort()
        report = f"bug\t{type(exc).__name__}: {exc}"
    _leave(report, 0)


def _leave(report: str | None, code: int) -> None:
    """Say how it went, and exit without the interpreter's clean-up (nothing left to do)."""
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # an abort now: leave, silently
    with contextlib.suppress(OSError):
        if report is not None:
            os.write(0, report.encode())
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    os._exit(code)
