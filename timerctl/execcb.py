"""The built-in ``exec`` callback: run an argv as a child process, never through a shell.

The child gets its own session (so its own process group), stdin from /dev/null, stdout captured
(bounded) as the record's result and stderr streamed through to ours. A timeout or the end of the
run ends the whole group -- grandchildren included: SIGTERM, a short grace, then SIGKILL.

Timeouts are real seconds on every clock: a process runs in real time even when the loop's clock
is virtual or scaled by ``--speed``.
"""

import asyncio
import codecs
import contextlib
import functools
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .children import CHILDREN
from .clock import VirtualClockLoop, hold_clock
from .context import CURRENT, current_run
from .signals import start_thread

#: stdout kept as the result; the rest is read and dropped so the child never blocks on a full pipe
STDOUT_LIMIT = 64 * 1024
#: how long a group gets between SIGTERM and SIGKILL
GRACE = 0.5


class ExecFailed(Exception):
    """An ``exec`` command could not start, exited non-zero or was killed by a signal."""

    def __init__(
        self,
        message: str,
        *,
        argv: tuple[str, ...] = (),
        exit_status: int | None = None,
        stdout: str = "",
    ) -> None:
        super().__init__(message)
        self.argv = argv
        #: the exit status; negative -N when killed by signal N (as subprocess reports it)
        self.exit_status = exit_status
        self.stdout = stdout


class ExecTimeout(ExecFailed):
    """An ``exec`` command outlived its ``timeout``; its process group was ended."""


class ExecResult(str):
    """The command's stdout (the record's result), also carrying its exit status."""

    exit_status: int
    truncated: bool

    def __new__(cls, text: str, *, exit_status: int = 0, truncated: bool = False) -> "ExecResult":
        self = super().__new__(cls, text)
        self.exit_status = exit_status
        self.truncated = truncated
        return self


async def exec_(
    *argv: str,
    timeout: float | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run ARGV without a shell; its stdout is the result, a non-zero exit fails the call."""
    argv, environ = _validate(argv, timeout, cwd, env)
    return await _run(argv, timeout, cwd, environ)


def check(args: Any, kwargs: dict[str, Any]) -> str | None:
    """Why an entry's args/kwargs could not run, or None: lets a loader reject them up front."""
    try:
        _validate(tuple(args), kwargs.get("timeout"), kwargs.get("cwd"), kwargs.get("env"))
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def kill_running() -> int:
    """SIGKILL the group of every running ``exec`` child now; returns how many.

    For an exit that skips cleanup (``os._exit`` on a second Ctrl-C): no child outlives us.
    """
    return CHILDREN.kill_all()


# -- validation ------------------------------------------------------------------------------------


def _validate(
    argv: tuple[Any, ...], timeout: Any, cwd: Any, env: Any
) -> tuple[tuple[str, ...], dict[str, str] | None]:
    """Reject what the OS would reject less clearly (or not at all: a bool is not a timeout)."""
    if not argv:
        raise ValueError('exec needs a program to run: args = ["program", "arg", ...]')
    for i, item in enumerate(argv):
        if not isinstance(item, str):
            raise TypeError(
                f"exec args must be strings; args[{i}] is {type(item).__name__} {item!r} (quote it)"
            )
        if "\0" in item:
            raise ValueError(f"exec args[{i}] contains a NUL character")
    if not argv[0]:
        raise ValueError("exec program name is empty")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError(
                f"exec timeout must be a number of seconds, not {type(timeout).__name__}"
            )
        if not math.isfinite(timeout) or timeout <= 0:
            raise ValueError("exec timeout must be a finite number of seconds > 0")
    if cwd is not None and (not isinstance(cwd, str) or not cwd or "\0" in cwd):
        raise TypeError("exec cwd must be a non-empty path string")
    if env is None:
        return argv, None
    if not isinstance(env, dict):
        raise TypeError(f"exec env must be a table of strings, not {type(env).__name__}")
    for key, value in env.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise ValueError(f"exec env: {key!r} is not a valid variable name")
        if not isinstance(value, str) or "\0" in value:
            raise TypeError(
                f"exec env: the value of {key} must be a string, not "
                f"{type(value).__name__} {value!r} (quote it)"
            )
    return argv, {**os.environ, **env}


# -- running ---------------------------------------------------------------------------------------


class _Child:
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
        self._stderr = _StderrForwarder(escape=_escaping())
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
        _set(self.exited)
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        if not self._open_pipes and self.exited.done():
            _set(self.finished)

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


class _Pipe(asyncio.Protocol):
    """One of the child's output pipes (1 stdout, 2 stderr), read by the loop for the _Child."""

    def __init__(self, child: _Child, fd: int) -> None:
        self._child = child
        self._fd = fd

    def data_received(self, data: bytes) -> None:
        self._child.pipe_data_received(self._fd, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._child.pipe_connection_lost(self._fd, exc)


class _StderrForwarder:
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


async def _run(
    argv: tuple[str, ...], timeout: float | None, cwd: str | None, env: dict[str, str] | None
) -> ExecResult:
    loop = asyncio.get_running_loop()
    # Spawned here rather than by loop.subprocess_exec: that one starts the child, then connects
    # its pipes over a few loop turns without telling us the pid. A cancel in that window left
    # asyncio waiting for the pipes to close, which the group (a grandchild) could keep open for
    # ever, and the second Ctrl-C could not see the group. Here the pid is known, and the group
    # registered, before the first await: every way out of this call ends the group.
    CHILDREN.start_watchdog()  # before the first child: whatever kills us, it ends them
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own group: we can end it with everything it started
        )
    except OSError as exc:
        raise ExecFailed(_spawn_error(exc, argv[0], cwd), argv=argv) from None
    pgid = proc.pid
    CHILDREN.add(pgid)
    run = CURRENT.get(None)
    child = _Child(loop, run.output_line if getattr(run, "streaming", False) else None)  # type: ignore[union-attr]
    release = hold_clock(loop)  # a virtual clock waits for the child: it takes no virtual time
    unread = {1: proc.stdout, 2: proc.stderr}  # pipes not yet handed to the loop
    reading: list[asyncio.BaseTransport] = []
    ending = ended = False
    try:
        _reap(loop, proc, child)
        for fd in (1, 2):
            pipe, _ = await loop.connect_read_pipe(functools.partial(_Pipe, child, fd), unread[fd])
            del unread[fd]
            reading.append(pipe)
        if not await _wait_real(child.finished, timeout):
            exited = child.exited.done()
            ending = True
            await _end_group(pgid)
            ended = True
            message = f"timed out after {timeout:g}s"
            if exited:  # the program itself finished; something it started kept its output open
                message += (
                    f" (the program ended with {_describe(child.returncode)}"
                    "; a process it started kept its output open)"
                )
            text, _ = child.output()
            raise ExecTimeout(message, argv=argv, exit_status=child.returncode, stdout=text)
        ended = True
        status = child.returncode
        text, truncated = child.output()
        if status != 0:
            raise ExecFailed(_describe(status), argv=argv, exit_status=status, stdout=text)
        return ExecResult(text, exit_status=0, truncated=truncated)
    except asyncio.CancelledError:
        # The run ended (stop, --timeout, a signal): the group goes with it, then we go.
        if not ending:
            ending = True
            await _end_group(pgid)
            ended = True
        raise
    finally:
        if not ended:  # cancelled (again) while the group was being ended, or failed: no grace
            _signal_group(pgid, signal.SIGKILL)
        try:
            if not child.exited.done():
                await _wait_real(child.exited, 1.0)  # the reaper thread ends with the leader
        finally:
            release()
            CHILDREN.discard(pgid)
            for transport in reading:
                transport.close()  # our end of the pipes: a straggler cannot hold us
            for file in unread.values():
                if file is not None:
                    file.close()


def _reap(loop: asyncio.AbstractEventLoop, proc: subprocess.Popen[bytes], child: _Child) -> None:
    """Wait for the leader to exit in a thread (as asyncio's own child watcher does), then
    tell the child on the loop. The thread ends when the leader does."""

    def wait() -> None:
        try:
            _, status = os.waitpid(proc.pid, 0)
            returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:  # someone else reaped it (a waitpid(-1) watcher): unknown
            returncode = 255  # what asyncio reports then
        proc.returncode = returncode  # reaped: Popen must not wait for it again
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(child.process_exited, returncode)

    start_thread(wait, f"timerctl-exec-{proc.pid}")


def _describe(status: int | None) -> str:
    if status is None:
        return "no exit status"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            return f"killed by signal {-status}"
        return f"killed by signal {-status} ({name})"
    return f"exit status {status}"


def _spawn_error(exc: OSError, program: str, cwd: str | None) -> str:
    if cwd is not None and exc.filename == cwd:  # Popen names the directory it could not enter
        return f"cannot enter cwd {cwd}: {exc.strerror}"
    if isinstance(exc, FileNotFoundError):
        return f"no such program: {program}"
    if isinstance(exc, PermissionError):
        return f"cannot run {program}: permission denied"
    return f"cannot run {program}: {exc.strerror or exc}"


# -- ending a process group ------------------------------------------------------------------------


def _signal_group(pgid: int, sig: int) -> bool:
    """Send sig to the group; False when nobody is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed credentials (setuid): nothing more we can do
        return True
    return True


def _group_alive(pgid: int) -> bool:
    """Whether a member of the group still runs: zombies waiting for init to reap them don't."""
    if not _signal_group(pgid, 0):
        return False
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:  # no procfs: a zombie counts as alive, and costs the grace at worst
        return True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid).encode() and fields[0] != b"Z":
            return True
    return False


def _terminate_group(pgid: int, grace: float) -> None:
    """SIGTERM the group, give it ``grace`` seconds to go, then SIGKILL whoever is left.

    Blocking, on purpose: it runs in a thread, so it finishes even if the awaiting task is
    cancelled again, and it waits real seconds on a virtual clock too.
    """
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    pause = 0.002
    while time.monotonic() < deadline:
        time.sleep(pause)
        if not _group_alive(pgid):
            return
        pause = min(pause * 2, 0.05)
    _signal_group(pgid, signal.SIGKILL)


async def _end_group(pgid: int) -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, _terminate_group, pgid, GRACE)


# -- real-time waiting -----------------------------------------------------------------------------


def _set(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _wait_real(future: asyncio.Future[None], seconds: float | None) -> bool:
    """Wait for future at most ``seconds`` of real time; True if it is done."""
    if seconds is None:
        await asyncio.shield(future)
        return True
    loop = asyncio.get_running_loop()
    deadline: asyncio.Future[None] = loop.create_future()
    cancel = _call_later_real(loop, seconds, lambda: _set(deadline))
    try:
        await asyncio.wait([future, deadline], return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancel()
    return future.done()


def _call_later_real(
    loop: asyncio.AbstractEventLoop, seconds: float, func: Callable[[], None]
) -> Callable[[], None]:
    """Call func after ``seconds`` of real time; returns a canceller.

    A virtual loop jumps its clock to the next timer instead of waiting, which would time a
    real process out at once: there a thread keeps the real time and wakes the loop.
    """
    if not isinstance(loop, VirtualClockLoop):
        return loop.call_later(seconds, func).cancel

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(func)

    timer = threading.Timer(seconds, wake)
    timer.daemon = True
    timer.start()
    return timer.cancel
