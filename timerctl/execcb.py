"""The built-in ``exec`` callback: run an argv as a child process, never through a shell.

The child gets its own session (so its own process group), stdin from /dev/null, stdout captured
(bounded) as the record's result and stderr streamed through to ours. A timeout or the end of the
run ends the whole group -- grandchildren included: SIGTERM, a short grace, then SIGKILL.

Timeouts are real seconds on every clock: a process runs in real time even when the loop's clock
is virtual or scaled by ``--speed``.

This module runs one call from spawn to reaping; its parts have modules of their own: the
arguments (``execargs``), the child's output (``execoutput``), ending its group (``procgroup``)
and waiting real seconds (``realtime``).
"""

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
from collections.abc import Iterable
from typing import IO, Any

from .children import CHILDREN
from .clock import hold_clock
from .context import CURRENT
from .execargs import validate
from .execoutput import Child, Pipe
from .procgroup import end_group, signal_group
from .realtime import wait_real
from .signals import start_thread

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
    argv, environ = validate(argv, timeout, cwd, env)
    return await _run(argv, timeout, cwd, environ)


def check(args: Any, kwargs: dict[str, Any]) -> str | None:
    """Why an entry's args/kwargs could not run, or None: lets a loader reject them up front."""
    try:
        validate(tuple(args), kwargs.get("timeout"), kwargs.get("cwd"), kwargs.get("env"))
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def kill_running() -> int:
    """SIGKILL the group of every running ``exec`` child now; returns how many.

    For an exit that skips cleanup (``os._exit`` on a second Ctrl-C): no child outlives us.
    """
    return CHILDREN.kill_all()


# -- running ---------------------------------------------------------------------------------------


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
    proc = _spawn(argv, cwd, env)
    pgid = proc.pid
    CHILDREN.add(pgid)
    run = CURRENT.get(None)
    child = Child(loop, run.output_line if getattr(run, "streaming", False) else None)  # type: ignore[union-attr]
    release = hold_clock(loop)  # a virtual clock waits for the child: it takes no virtual time
    unread = {1: proc.stdout, 2: proc.stderr}  # pipes not yet handed to the loop
    reading: list[asyncio.BaseTransport] = []
    ending = ended = False
    try:
        _reap(loop, proc, child)
        for fd in (1, 2):
            pipe, _ = await loop.connect_read_pipe(functools.partial(Pipe, child, fd), unread[fd])
            del unread[fd]
            reading.append(pipe)
        if not await wait_real(child.finished, timeout):
            exited = child.exited.done()
            ending = True
            await end_group(pgid, GRACE)
            ended = True
            raise _timed_out(argv, timeout, child, exited)
        ended = True
        return _result(argv, child)
    except asyncio.CancelledError:
        # The run ended (stop, --timeout, a signal): the group goes with it, then we go.
        if not ending:
            ending = True
            await end_group(pgid, GRACE)
            ended = True
        raise
    finally:
        if not ended:  # cancelled (again) while the group was being ended, or failed: no grace
            signal_group(pgid, signal.SIGKILL)
        try:
            if not child.exited.done():
                await wait_real(child.exited, 1.0)  # the reaper thread ends with the leader
        finally:
            release()
            CHILDREN.discard(pgid)
            _close(reading, unread.values())


def _spawn(
    argv: tuple[str, ...], cwd: str | None, env: dict[str, str] | None
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
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


def _timed_out(
    argv: tuple[str, ...], timeout: float | None, child: Child, exited: bool
) -> ExecTimeout:
    """The error of a call whose group was ended at its timeout (``exited``: the program had
    finished before then)."""
    message = f"timed out after {timeout:g}s"
    if exited:  # the program itself finished; something it started kept its output open
        message += (
            f" (the program ended with {_describe(child.returncode)}"
            "; a process it started kept its output open)"
        )
    text, _ = child.output()
    return ExecTimeout(message, argv=argv, exit_status=child.returncode, stdout=text)


def _result(argv: tuple[str, ...], child: Child) -> ExecResult:
    """The call's result once the child is completely done; a non-zero exit raises."""
    status = child.returncode
    text, truncated = child.output()
    if status != 0:
        raise ExecFailed(_describe(status), argv=argv, exit_status=status, stdout=text)
    return ExecResult(text, exit_status=0, truncated=truncated)


def _close(reading: list[asyncio.BaseTransport], unread: Iterable[IO[bytes] | None]) -> None:
    """Our ends of the pipes: a straggler holding the other end cannot hold us."""
    for transport in reading:
        transport.close()
    for file in unread:
        if file is not None:
            file.close()


def _reap(loop: asyncio.AbstractEventLoop, proc: subprocess.Popen[bytes], child: Child) -> None:
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
