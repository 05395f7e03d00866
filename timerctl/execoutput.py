"""An ``exec`` child's output: stdout kept (bounded) as the result and, with ``--stream``,
passed on line by line; stderr written through to ours as it arrives.

The loop reads both pipes (``Pipe``) into one ``Child``, which also tells when the child is
completely done: its leader reaped and both pipes closed.
"""

from __future__ import annotations

import asyncio
import codecs
import sys
from collections.abc import Callable

from .context import current_run
from .realtime import settle

#: stdout kept as the result; the rest is read and dropped so the child never blocks on a full pipe
STDOUT_LIMIT = 64 * 1024


class Child:
    """Collects stdout (bounded), streams stderr, and tells when the child is completely done."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, lines: Callable[[str], None] | None = None
    ) -> None:
        self.exited: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[None] = loop.create_future()  # exited and both pipes closed
        #: as subprocess reports it (-N: killed by signal N); None until the leader is reaped
        self.returncode: int | None = None
        self.stdout = bytearray()
        self.stdout_total = 0
        self._open_pipes = {1, 2}
        self._stderr = StderrForwarder(escape=_escaping())
        #: --stream: each complete stdout line goes here as it arrives
        self._lines = lines
        self._partial = b""

    def _stream(self, data: bytes, final: bool = False) -> None:
        assert self._lines is not None
        *complete, self._partial = (self._partial + data).split(b"\n")
        if final and self._partial:
            complete.append(self._partial)
            self._partial = b""
        for line in complete:
            self._lines(line.removesuffix(b"\r").decode("utf-8", "replace"))

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            if self._lines is not None:
                self._stream(data)
            room = STDOUT_LIMIT - len(self.stdout)
            if room > 0:
                self.stdout += data[:room]
            self.stdout_total += len(data)
        elif fd == 2:
            self._stderr.write(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 2:
            self._stderr.close()
        elif fd == 1 and self._lines is not None:
            self._stream(b"", final=True)
        self._open_pipes.discard(fd)
        self._maybe_finished()

    def process_exited(self, returncode: int) -> None:
        self.returncode = returncode
        settle(self.exited)
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        if not self._open_pipes and self.exited.done():
            settle(self.finished)

    def output(self) -> tuple[str, bool]:
        """Stdout as text: UTF-8 (bad bytes replaced), one trailing newline dropped."""
        truncated = self.stdout_total > len(self.stdout)
        # A cut can split a multi-byte character: decode incrementally and drop the fragment.
        text = codecs.getincrementaldecoder("utf-8")("replace").decode(
            bytes(self.stdout), final=not truncated
        )
        if truncated:
            return (
                f"{text}\n[stdout truncated: first {len(self.stdout)} of {self.stdout_total} bytes]"
            ), True
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        return text, False


def _escaping() -> bool:
    """Whether the run this exec belongs to shows children's stderr escaped."""
    try:
        return bool(current_run().escape_stderr)
    except (RuntimeError, AttributeError):  # outside a run (a test, a library caller)
        return False


class Pipe(asyncio.Protocol):
    """One of the child's output pipes (1 stdout, 2 stderr), read by the loop for the Child."""

    def __init__(self, child: Child, fd: int) -> None:
        self._child = child
        self._fd = fd

    def data_received(self, data: bytes) -> None:
        self._child.pipe_data_received(self._fd, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._child.pipe_connection_lost(self._fd, exc)


class StderrForwarder:
    """The child's stderr, written through to ours as it arrives (never buffered whole).

    Verbatim by default (a child's colours and progress bars work); with ``escape``
    (``--escape-stderr``) as text whose terminal controls are shown escaped (``safe.escape``),
    line by line, for commands whose output you do not trust.
    """

    def __init__(self, escape: bool = False) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._escape = escape

    def _text(self, text: str) -> str:
        if not self._escape:
            return text
        from .safe import escape

        return "\n".join(escape(part) for part in text.split("\n"))

    def write(self, data: bytes) -> None:
        # Looked up each time: a renderer (rich's live display) may have replaced sys.stderr.
        stream = sys.stderr
        if stream is None:
            return
        try:
            buffer = getattr(stream, "buffer", None)
            if buffer is not None and not self._escape:  # bytes verbatim, after pending text
                stream.flush()
                buffer.write(data)
                buffer.flush()
            else:
                stream.write(self._text(self._decoder.decode(data)))
                stream.flush()
        except (OSError, ValueError):
            pass  # our stderr is gone: the child's diagnostics cannot fail its call

    def close(self) -> None:
        tail = self._decoder.decode(b"", final=True)
        if tail and sys.stderr is not None:
            try:
                sys.stderr.write(self._text(tail))
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
