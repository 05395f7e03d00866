"""Where the records go: a text stream over a file descriptor whose writes never make a call late.

A record is written the moment its call ran, but a reader may be slow (``| slow-consumer``),
stopped (Ctrl-S), or gone (``| head -1``). On a pipe, a socket or a terminal, a write that
would block is queued instead, and a thread of its own writes the queue out (``os.write``
releases the GIL, so the loop goes on meanwhile): a slow reader costs memory, not lateness.
When the queue is empty and the descriptor can take the record at once (``poll`` says so, and
a record of at most ``PIPE_BUF`` bytes then fits whole), the loop thread writes it itself,
which is as cheap as a plain write. The same thread watches the descriptor while the run is
idle: a reader that went away (POLLERR/POLLHUP) is noticed at once, not at the next record.

Past ``limit`` bytes queued, the policy says what happens (``--on-backlog``): ``block`` (the
default) waits for the reader and loses nothing; ``drop`` drops records, counting them. Either
way the backlog is told once (``take_notice``), and records written with ``forced()`` (the end,
the backlog notice itself) are never dropped nor held.

Regular files and character devices (``--record FILE``, ``> out.txt``, ``/dev/null``) are
written directly. Every write is whole (``whole.write_all``): a partial write (a disk filling
up) is never taken for a whole one. A stream with no descriptor has a ``Passthrough``.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, Any

from ..errors import OutputClosed, OutputError
from ..signals import start_thread

# (re-exported: the CLI, the app, renderers and exits import them from here)
from .backlog import DEFAULT_LIMIT as DEFAULT_LIMIT
from .backlog import Backlog as Backlog
from .passthrough import Passthrough as Passthrough
from .whole import output_error as output_error
from .whole import whole_stdout as whole_stdout
from .whole import write_all as write_all

#: what a pipe takes whole once poll says it is writable (POSIX's PIPE_BUF, Linux's page)
PIPE_BUF = getattr(select, "PIPE_BUF", 4096)
WAIT_SLICE = 0.05  # seconds between two looks at "should I stop waiting?" while blocked
_GONE = select.POLLERR | select.POLLHUP | getattr(select, "POLLRDHUP", 0)


class Writer:
    """A text stream (``write``/``flush``) over ``fd`` (see the module's docstring)."""

    def __init__(
        self,
        fd: int,
        label: str,
        *,
        encoding: str = "utf-8",
        errors: str = "strict",
        policy: Backlog = Backlog.BLOCK,
        limit: int = DEFAULT_LIMIT,
        stream: IO[str] | None = None,
    ) -> None:
        self.fd = fd
        self.label = label
        self.encoding = encoding
        self.errors = errors
        self.policy = policy
        self.limit = limit
        self.dropped = 0  # records not written (policy drop)
        #: called from the watching thread once the reader is gone (the run ends then)
        self.on_closed: Callable[[], object] | None = None
        #: asked while a write waits (policy block): True stops waiting (a signal came)
        self.stop_waiting: Callable[[], bool] = lambda: False
        self._stream = stream  # what we stand for (isatty, fileno... are asked of it)
        mode = os.fstat(fd).st_mode
        self._queued = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pending: deque[bytes] = deque()
        self._size = 0  # bytes queued or being written by the thread
        self._closed = False
        self._error: OutputError | None = None
        self._forced = 0
        #: bytes behind when the limit was passed, untold (``take_notice``): a plain attribute,
        #: so that a look once per record costs no call
        self.notice: int | None = None
        self._armed = True  # the next pass of the limit is told (again after it drained)
        self._unbounded = False  # a signal came while waiting: never wait again this run
        self._stopping = False
        self._idle = False  # the thread waits in poll (not writing): wake it for new data
        self._thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1
        #: ``write`` then ``flush`` in one call (a renderer's record, once per call): for a file
        #: ``write`` itself, since nothing but a write that raised can fail a file's flush
        self.put: Callable[[str], object] = self._put_queued if self._queued else self.write
        if self._queued:
            self._poll = select.poll()
            self._poll.register(fd, select.POLLOUT)
            self._start()

    # -- the stream
    def write(self, text: str) -> int:
        """Queue or write ``text`` (UnicodeEncodeError as a text stream would raise it).

        Once per record: the two usual cases (a file, and a pipe that can take it now) are
        here; queueing for the thread, and the backlog's policy, are in ``_enqueue``."""
        data = text.encode(self.encoding, self.errors)
        if self._closed or self._error is not None:
            self._check()
        if not self._queued:  # a file: written here and now (one os.write, as a rule)
            try:
                n = os.write(self.fd, data)
                if n != len(data):  # short (a disk filling up): the rest, or the error
                    write_all(self.fd, memoryview(data)[n:])
            except OSError as exc:
                self._fail(exc)
            return len(text)
        with self._lock:
            if not self._size and len(data) <= PIPE_BUF and self._writable():
                try:
                    write_all(self.fd, data)  # whole: poll said a PIPE_BUF fits
                except OSError as exc:
                    self._fail(exc)
            else:
                self._enqueue(data)
        return len(text)

    def _put_queued(self, text: str) -> None:
        self.write(text)
        if self._closed or self._error is not None:  # (flush)
            self._check()

    def _enqueue(self, data: bytes) -> None:
        """(with the lock) Queue ``data`` for the writing thread; past the limit the policy
        applies (drop it, or wait for room), and the first pass of the limit is noted."""
        if not self._size:
            self._check()  # (poll may have seen the reader go)
        elif self._size >= self.limit and not self._forced:
            if self.policy is Backlog.DROP and not self._unbounded:
                self.dropped += 1
                return
            self._wait_for_room()
        self._pending.append(data)
        self._size += len(data)
        if self._size >= self.limit and self._armed:
            self._armed = False
            self.notice = self._size
        if self._idle:
            self._idle = False
            self._wake()

    def flush(self) -> None:
        """Nothing to do: a write is out, or queued for the writing thread."""
        if self._closed or self._error is not None:
            self._check()

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)

    # -- backlog
    @contextlib.contextmanager
    def forced(self) -> Iterator[None]:
        """Writes inside are never dropped nor held back by the limit (the end, a notice)."""
        with self._lock:
            self._forced += 1
        try:
            yield
        finally:
            with self._lock:
                self._forced -= 1

    def take_notice(self) -> int | None:
        """Bytes behind when the backlog passed the limit, once per passing; else None."""
        if self.notice is None:
            return None
        with self._lock:
            notice, self.notice = self.notice, None
        return notice

    @property
    def pending(self) -> int:
        return self._size

    @property
    def closed(self) -> bool:
        """The reader went away (a write failed with EPIPE, or poll said so)."""
        return self._closed

    def close(self, timeout: float | None = None) -> bool:
        """Write out what is queued (for ``timeout`` seconds at most), then stop the thread.
        True when everything was written (or there was nothing to write)."""
        done = True
        if self._thread is not None:
            with self._lock:
                remaining = timeout
                while self._size and not self._closed and self._error is None:
                    if remaining is not None and remaining <= 0:
                        break
                    self._cond.wait(WAIT_SLICE if remaining is None else min(WAIT_SLICE, remaining))
                    if remaining is not None:
                        remaining -= WAIT_SLICE
                done = not self._size
                self._stopping = True
                self._wake()
            if done:
                self._thread.join(1.0)
            if not self._thread.is_alive():
                with self._lock:  # only now: a closed number may be reused by another file
                    for fd in (self._wake_r, self._wake_w):
                        with contextlib.suppress(OSError):
                            os.close(fd)
                    self._wake_r = self._wake_w = -1
        return done

    # -- internals
    def _check(self) -> None:
        if self._closed:
            raise OutputClosed(f"{self.label} closed")
        if self._error is not None:
            raise self._error

    def _fail(self, exc: OSError) -> None:
        if isinstance(exc, BrokenPipeError | ConnectionResetError):
            self._closed = True
            raise OutputClosed(f"{self.label} closed") from None
        self._error = output_error(exc, self.label)
        raise self._error from None

    def _writable(self) -> bool:
        """(with the lock, nothing queued) Can the descriptor take a record now? A reader
        gone away is noticed here too."""
        for _, events in self._poll.poll(0):
            if events & _GONE:
                self._closed = True
                return False
            return bool(events & select.POLLOUT)
        return False

    def _wait_for_room(self) -> None:
        """(with the lock) Policy block: wait until the reader took enough, or a signal
        came (then never again: the run is ending, and must not hang on its reader)."""
        while self._size >= self.limit:
            self._check()
            if self.stop_waiting():
                self._unbounded = True
                return
            self._cond.wait(WAIT_SLICE)

    def _wake(self) -> None:
        """(with the lock) Wake the writing thread from its poll."""
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")

    def _start(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread = start_thread(self._run, f"timerctl-write-{self.label}")

    def _run(self) -> None:
        """The writing thread: write what is queued, else watch the descriptor."""
        watch = select.poll()
        watch.register(self.fd, 0)  # POLLERR and POLLHUP are always reported
        watch.register(self._wake_r, select.POLLIN)
        while True:
            with self._lock:
                if self._closed or self._error is not None:
                    self._cond.notify_all()
                    return
                data = b"".join(self._pending) if self._pending else b""
                self._pending.clear()
                if not data and self._stopping:
                    return
                self._idle = not data  # in poll below: a write must wake it
            if data:
                self._write_out(data)
                continue
            events = dict(watch.poll())
            if events.get(self.fd, 0) & _GONE:
                with self._lock:
                    self._closed = True
                    self._cond.notify_all()
                self._tell_closed()
                return
            with contextlib.suppress(OSError):
                os.read(self._wake_r, 4096)

    def _write_out(self, data: bytes) -> None:
        try:
            write_all(self.fd, data)  # blocks this thread only (the GIL is released)
        except OSError as exc:
            with self._lock:
                if isinstance(exc, BrokenPipeError | ConnectionResetError):
                    self._closed = True
                else:
                    self._error = output_error(exc, self.label)
                self._cond.notify_all()
            if self._closed:
                self._tell_closed()
            return
        with self._lock:
            self._size -= len(data)
            if self._size < self.limit // 2:
                self._armed = True
            self._cond.notify_all()

    def _tell_closed(self) -> None:
        if self.on_closed is not None:
            with contextlib.suppress(Exception):
                self.on_closed()


def writer_for(stream: IO[str], label: str = "stdout", **kw: Any) -> Writer | Passthrough:
    """The writer for ``stream`` (flushed first: what it buffered goes out before us)."""
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
    try:
        fd = stream.fileno()
        os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        return Passthrough(stream, label)
    return Writer(
        fd,
        label,
        encoding=getattr(stream, "encoding", None) or "utf-8",
        errors=getattr(stream, "errors", None) or "strict",
        stream=stream,
        **kw,
    )


def open_writer(path: str) -> Writer:
    """The writer of an output file (``--record``): created or emptied, written directly."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666)
    return Writer(fd, path)
