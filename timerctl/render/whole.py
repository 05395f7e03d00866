"""Writes that are whole: a short write (a disk filling up, a pipe whose reader left mid-write)
is retried until every byte is out or the real error shows, never taken for a whole one.

``write_all`` is the loop every output of a run goes through (see ``writer``); ``WholeWrites``
gives an unbuffered sys.stdout the same promise (``plan`` prints through print()).
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any

from ..errors import OutputError


def write_all(fd: int, data: bytes | memoryview) -> None:
    """``os.write`` until every byte is written: a short write is retried, never ignored
    (the next attempt then reports the real error, ENOSPC for a full disk)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:  # no progress and no error: do not spin
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        view = view[n:]


def output_error(exc: OSError, label: str = "stdout") -> OutputError:
    """The one message for an output that cannot be written: what, and why."""
    return OutputError(f"cannot write to {label}: {exc.strerror or exc}")


class WholeWrites(io.RawIOBase):
    """A raw stdout whose every write is whole: under PYTHONUNBUFFERED, sys.stdout writes
    straight to a FileIO, whose short count (a disk filling up, a pipe whose reader left
    mid-write) TextIOWrapper drops on the floor: ``plan`` then "succeeded" with 64 KiB of
    10 MB written."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw
        self._fd: int = raw.fileno()

    def write(self, data: Any) -> int:
        write_all(self._fd, memoryview(data).cast("B"))
        return len(memoryview(data).cast("B"))

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return bool(self._raw.isatty())

    @property
    def name(self) -> Any:
        return getattr(self._raw, "name", "<stdout>")


def whole_stdout() -> None:
    """Make sys.stdout's writes whole when it is unbuffered (see ``WholeWrites``); a buffered
    one already retries a short write (BufferedWriter does)."""
    stdout = sys.stdout
    raw = getattr(stdout, "buffer", None)
    if not isinstance(raw, io.RawIOBase) or isinstance(raw, WholeWrites):
        return
    try:
        raw.fileno()
    except (OSError, ValueError):
        return
    sys.stdout = io.TextIOWrapper(
        WholeWrites(raw),
        encoding=stdout.encoding,
        errors=stdout.errors,
        line_buffering=bool(stdout.line_buffering),
        write_through=True,
    )
