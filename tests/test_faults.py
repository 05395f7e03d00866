"""Reliability with real processes: signals, closed and slow pipes, failing callbacks, trust.

Every test runs the installed ``timerctl`` in a child process, as a shell or a script would, with
an environment without PYTHONUNBUFFERED (records must be flushed one by one on their own), and
checks what a user scripts against: the exit code, a stderr without "Traceback", and a jsonl
stream that is complete (start ... end, ``seq`` contiguous from 1, the end's counts matching
the records). Bugs found are ``xfail(strict=True)`` tests whose reason starts with "BUG:".
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import TIMERCTL, clean_env, kernel_wait, signal_pending, wait_until

from timerctl.demos import DEMOS

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and process groups are POSIX")

TRACEBACK = "Traceback"
REPO = Path(__file__).resolve().parent.parent
Obj = dict[str, Any]

#: a plugin with every way a callback can misbehave
PLUGIN = '''
import asyncio
import sys
from pathlib import Path

from timerctl import callback


class Weird(BaseException):
    """Not an Exception: what a careless library may raise."""


class BadStr:
    def __str__(self):
        raise ValueError("no str for you")

    __repr__ = __str__


@callback("boom")
def boom():
    raise RuntimeError("boom")


@callback("bye")
def bye():
    sys.exit(3)


@callback("aboom")
async def aboom():
    await asyncio.sleep(0.01)
    raise ValueError("async boom")


@callback("forever")
async def forever():
    await asyncio.Event().wait()


@callback("stubborn")
async def stubborn():
    """Swallows every cancellation: only a second Ctrl-C ends the run."""
    while True:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            pass


@callback("weird")
def weird():
    raise Weird("weird")


@callback("aweird")
async def aweird():
    raise Weird("async weird")


@callback("kbi")
def kbi():
    raise KeyboardInterrupt


@callback("akbi")
async def akbi():
    raise KeyboardInterrupt


@callback("badstr")
def badstr():
    return BadStr()


@callback("bigint")
def bigint():
    return 10 ** 5000


@callback("cycle")
def cycle():
    loop = []
    loop.append(loop)
    return loop


@callback("touch")
def touch(path):
    Path(path).touch()
    return "touched"
'''


# -- helpers -------------------------------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def env_for(directory: Path) -> dict[str, str]:
    """A clean environment that finds the plugin modules written into ``directory``."""
    return clean_env(PYTHONPATH=str(directory))


@pytest.fixture
def here(tmp_path: Path) -> Path:
    write(tmp_path, "faulty.py", PLUGIN)
    return tmp_path


class Child:
    """A running ``timerctl``: stdout lines arrive on a queue (read by a thread), stderr too.

    Started in its own session, like a job a shell starts: ``interrupt()`` sends SIGINT to its
    whole process group, which is what Ctrl-C on a terminal does.
    """

    def __init__(
        self, args: list[str], cwd: Path, *, preexec_fn: Callable[[], None] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            [TIMERCTL, *args],
            cwd=cwd,
            env=env_for(cwd),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._err: list[bytes] = []
        self._threads = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode()
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self._err.append(self.proc.stderr.read())

    def wait_for(self, pred: Callable[[Obj], bool], timeout: float = 5.0) -> Obj:
        """The first jsonl object (from now on) that satisfies pred."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"never came; got {self.lines[-3:]}"
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, f"stdout ended first; got {self.lines[-3:]}"
            obj = json.loads(line)
            if pred(obj):
                return obj

    def interrupt(self, sig: int = signal.SIGINT) -> tuple[float, float]:
        """Send sig to the whole group; returns (monotonic, wall) times of sending."""
        now = time.monotonic(), time.time()
        os.killpg(self.proc.pid, sig)
        return now

    def wait(self, timeout: float = 5.0) -> int:
        """The exit code, once the process ended and all its output was read."""
        code = self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout)
        return code

    def finish(self, timeout: float = 5.0) -> tuple[int, list[Obj], str]:
        """Exit code, jsonl objects, stderr."""
        code = self.wait(timeout)
        return code, [json.loads(line) for line in self.lines], self.stderr

    @property
    def stderr(self) -> str:
        return b"".join(self._err).decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def spawn(here: Path) -> Iterator[Callable[..., Child]]:
    children: list[Child] = []

    def start(*args: str, preexec_fn: Callable[[], None] | None = None) -> Child:
        child = Child(list(args), here, preexec_fn=preexec_fn)
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()


def run(here: Path, *args: str, timeout: float = 20, **kw: Any) -> subprocess.CompletedProcess[str]:
    """timerctl in ``here``; stdout and stderr captured unless ``stdout`` is given."""
    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [TIMERCTL, *args],
        cwd=here,
        env=env_for(here),
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        **kw,
    )


def jsonl(text: str) -> list[Obj]:
    return [json.loads(line) for line in text.splitlines()]


def calls(records: list[Obj]) -> list[Obj]:
    return [r for r in records if r["event"] == "call"]


def by_entry(records: list[Obj]) -> dict[str, Obj]:
    return {r["entry"]: r for r in calls(records)}


def assert_complete(records: list[Obj]) -> Obj:
    """start first, end last, seq contiguous from 1, and the end's counts add up; the end."""
    assert records, "no output"
    assert records[0]["event"] == "start"
    end = records[-1]
    assert end["event"] == "end", records[-3:]
    assert [r["event"] for r in records].count("end") == 1
    recs = calls(records)
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
    assert end["calls"] == len(recs)
    assert end["failed"] == sum(1 for r in recs if "error" in r and not r.get("cancelled"))
    cancels = [r for r in records if r["event"] == "cancel"]
    assert end["cancelled"] == (
        sum(c["count"] for c in cancels) + sum(1 for r in recs if r.get("cancelled"))
    )
    return end


def assert_contiguous(records: list[Obj]) -> None:
    recs = calls(records)
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))


def ended(pid: int) -> bool:
    """Whether pid ended (a zombie waiting for init to reap it counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] == b"Z"


def pid_gone(pid: int, within: float = 2.0) -> bool:
    """Whether pid ends within a (hang-bounding) deadline."""
    try:
        wait_until(lambda: ended(pid), within)
    except AssertionError:
        return False
    return True


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] != b"Z" and int(fields[2]) == pgid:
            members.append(int(name))
    return members


def session_members(sid: int) -> list[int]:
    """Live (non-zombie) processes of a session."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] != b"Z" and int(fields[3]) == sid:
            members.append(int(name))
    return members


def group_gone(pgid: int, within: float = 2.0) -> bool:
    try:
        wait_until(lambda: not group_members(pgid), within)
    except AssertionError:
        return False
    return True


def read_pid(path: Path, within: float = 5.0) -> int:
    wait_until(
        lambda: path.exists() and path.read_text().endswith("\n"), within, f"{path} never got a pid"
    )
    return int(path.read_text())


# -- signals -------------------------------------------------------------------------------------

#: a tick every 0.1 s (unbounded) and three one-shot calls far away: four pending timers
TICKING = """\
[[call]]
name = "tick"
soon = true
every = 0.1
callback = "echo"
args = ["tick"]

[[call]]
name = "far1"
later = 30
callback = "echo"

[[call]]
name = "far2"
at = 40
callback = "echo"

[[call]]
name = "far3"
later = 50
callback = "echo"
"""

SIGNALS = [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]


@pytest.mark.parametrize(("sig", "code", "reason"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_cancels_what_is_pending_and_ends_the_stream(
    here: Path, spawn: Callable[..., Child], sig: int, code: int, reason: str
) -> None:
    write(here, "s.toml", TICKING)
    child = spawn("run", "s.toml", "--format", "jsonl", "--record", "rec.jsonl")
    child.wait_for(lambda o: o["event"] == "call" and o["n"] == 3)
    child.interrupt(sig)
    # far1..far3 are 30-50 s away: ending at all (within finish's hang bound) is ending at once
    exit_code, records, stderr = child.finish()
    assert exit_code == code
    assert TRACEBACK not in stderr and stderr == ""
    end = assert_complete(records)
    assert end["reason"] == reason and end["exit_code"] == code
    # once the pending calls are cancelled, none fires: every call record comes before them
    first_cancel = next(i for i, r in enumerate(records) if r["event"] == "cancel")
    assert all(r["event"] != "call" for r in records[first_cancel:]), "a call fired after it"
    assert [r["n"] for r in calls(records)] == list(range(1, len(calls(records)) + 1))
    cancels = {r["entry"]: r for r in records if r["event"] == "cancel"}
    assert set(cancels) == {"tick", "far1", "far2", "far3"}
    assert all(c["count"] == 1 and c["by"] == reason and c["at_end"] for c in cancels.values())
    assert end["cancelled"] == 4
    # the --record file got the same complete stream
    assert jsonl((here / "rec.jsonl").read_text()) == records


def wait_blocked_reading(pid: int, within: float = 5.0) -> None:
    """Until pid sleeps in a pipe read (past its imports: a Ctrl-C during Python's start-up
    imports is Python's own traceback, not timerctl's)."""
    if not Path(f"/proc/{pid}/wchan").exists():
        pytest.skip("no /proc/PID/wchan to see where the process waits")
    # its only pipe to read is stdin
    wait_until(lambda: "pipe_read" in kernel_wait(pid), within, "a read of stdin")


@pytest.mark.parametrize(
    ("sig", "codes"),
    [(signal.SIGINT, (130,)), (signal.SIGTERM, (143, -signal.SIGTERM))],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_while_the_schedule_is_read_from_stdin(
    here: Path, sig: int, codes: tuple[int, ...]
) -> None:
    """`timerctl run -` waiting for its schedule: Ctrl-C is a quiet 130 (SIGTERM's default
    death is 143 to a shell), nothing on stdout, no traceback."""
    proc = subprocess.Popen(
        [TIMERCTL, "run", "-"],
        cwd=here,
        env=env_for(here),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_blocked_reading(proc.pid)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in codes
    assert out == b""
    assert TRACEBACK.encode() not in err and len(err.splitlines()) <= 1


@pytest.mark.parametrize(("sig", "code", "reason"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_ends_a_running_exec_child(
    here: Path, spawn: Callable[..., Child], sig: int, code: int, reason: str
) -> None:
    pidfile = here / "pid"
    write(
        here,
        "s.toml",
        f"""\
        [[call]]
        name = "child"
        soon = true
        callback = "exec"
        args = ["sh", "-c", "echo $$ > {pidfile}; exec sleep 30"]

        [[call]]
        name = "far"
        later = 30
        callback = "echo"
    """,
    )
    child = spawn("run", "s.toml", "--format", "jsonl")
    pid = read_pid(pidfile)
    child.interrupt(sig)
    exit_code, records, stderr = child.finish()  # the child sleeps 30 s: it was not waited for
    assert exit_code == code
    assert TRACEBACK not in stderr
    assert pid_gone(pid), "the exec child outlived the run"
    end = assert_complete(records)
    assert end["reason"] == reason
    record = by_entry(records)["child"]
    assert record["cancelled"] is True and record["error"]["type"] == "CancelledError"
    assert end["cancelled"] == 2  # far's timer and the running child


def test_a_second_sigint_exits_at_once_and_leaves_no_child(
    here: Path, spawn: Callable[..., Child]
) -> None:
    """The first Ctrl-C starts a shutdown that cannot finish (a callback that swallows its
    cancellation, a child that ignores SIGTERM); the second exits now, killing the child."""
    pidfile = here / "pid"
    write(
        here,
        "s.toml",
        f"""\
        [run]
        plugins = ["faulty"]

        [[call]]
        name = "stubborn"
        soon = true
        callback = "stubborn"

        [[call]]
        name = "child"
        soon = true
        callback = "exec"
        args = ["sh", "-c", "trap '' TERM; echo $$ > {pidfile}; while :; do sleep 0.05; done"]

        [[call]]
        name = "far"
        later = 30
        callback = "echo"
    """,
    )
    child = spawn("run", "s.toml", "--format", "jsonl")
    pgid = read_pid(pidfile)  # the exec child leads its own process group
    child.interrupt()
    # the first one was handled: the pending timer's cancellation is out
    child.wait_for(lambda o: o["event"] == "cancel" and o["entry"] == "far")
    child.interrupt()  # stubborn never returns: ending at all is the second Ctrl-C's doing
    exit_code, records, stderr = child.finish()
    assert exit_code == 130
    assert TRACEBACK not in stderr
    # the stubborn callback held the first Ctrl-C: the run never got to its end record
    assert not [r for r in records if r["event"] == "end"]
    assert group_gone(pgid), f"left behind: {group_members(pgid)}"
    assert_contiguous(records)  # whatever was written is whole lines, in order


def test_a_second_sigint_exits_at_once_while_a_callback_blocks_the_loop(
    here: Path, spawn: Callable[..., Child]
) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "block"
        soon = true
        callback = "sleep"
        args = [30]
    """,
    )
    child = spawn("run", "s.toml", "--format", "jsonl")
    pid = child.proc.pid
    wait_until(lambda: "nanosleep" in kernel_wait(pid), what="inside the sleep")
    child.interrupt()
    wait_until(lambda: not signal_pending(pid, signal.SIGINT), what="the first one delivered")
    child.interrupt()
    # the callback sleeps 30 s: ending within finish's bound, without its record, is not waiting
    exit_code, records, stderr = child.finish()
    assert exit_code == 130
    assert TRACEBACK not in stderr
    assert not calls(records), "the second Ctrl-C waited for the callback"


def test_a_sigint_during_a_blocking_last_call_is_not_lost(
    here: Path, spawn: Callable[..., Child]
) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "block"
        soon = true
        callback = "sleep"
        args = [0.5]
    """,
    )
    child = spawn("run", "s.toml", "--format", "jsonl")
    wait_until(lambda: "nanosleep" in kernel_wait(child.proc.pid), what="inside the sleep")
    child.interrupt()
    exit_code, records, stderr = child.finish()
    assert exit_code == 130
    assert stderr == ""
    end = assert_complete(records)
    assert end["reason"] == "interrupted" and end["exit_code"] == 130


def test_a_run_started_with_sigint_ignored_keeps_ignoring_it(
    here: Path, spawn: Callable[..., Child]
) -> None:
    """`timerctl run s.toml &` in a script: the shell starts it with SIGINT ignored."""
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "tick"
        soon = true
        every = 0.05
        count = 8
        callback = "echo"
        args = ["tick"]
    """,
    )
    child = spawn(
        "run",
        "s.toml",
        "--format",
        "jsonl",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    child.wait_for(lambda o: o["event"] == "call" and o["n"] == 2)
    child.interrupt()
    exit_code, records, stderr = child.finish()
    assert exit_code == 0
    assert stderr == ""
    end = assert_complete(records)
    assert end["reason"] == "done" and end["calls"] == 8 and end["cancelled"] == 0


def test_sigint_in_plain_format_prints_the_summary(here: Path, spawn: Callable[..., Child]) -> None:
    write(here, "s.toml", TICKING)
    child = spawn("run", "s.toml", "--format", "plain")
    wait_until(
        lambda: (
            sum("echo('tick')" in line for line in child.lines) >= 2
            or child.proc.poll() is not None
        ),
        what="two ticks",
    )
    assert child.proc.poll() is None
    child.interrupt()
    assert child.wait() == 130
    assert child.stderr == ""
    assert child.lines[-1].startswith("# interrupted: ")
    assert "exit 130" in child.lines[-1]


def test_sigint_on_the_virtual_clock_stops_a_busy_loop(
    here: Path, spawn: Callable[..., Child]
) -> None:
    """Virtual time never waits: the loop is always busy, and must still hear the signal."""
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "many"
        soon = true
        every = 0.001
        count = 10000000
        callback = "echo"
        args = ["x"]
    """,
    )
    child = spawn("run", "s.toml", "--format", "jsonl", "--clock", "virtual")
    child.wait_for(lambda o: o["event"] == "call" and o["n"] == 50)
    child.interrupt()
    exit_code, records, stderr = child.finish(timeout=10)  # 10,000 s of calls: they never end
    assert exit_code == 130 and stderr == ""
    end = assert_complete(records)
    assert end["reason"] == "interrupted"
    assert end["calls"] + end["cancelled"] == 10_000_000  # every call accounted for


MEMORY_PROBE = """\
import sys

from timerctl import callback


@callback("blocks")
def blocks():
    return sys.getallocatedblocks()
"""


def test_memory_stays_flat_over_a_long_run(here: Path) -> None:
    """18,000 calls between two probes of the interpreter's allocated blocks."""
    write(here, "probe.py", MEMORY_PROBE)
    write(
        here,
        "s.toml",
        """\
        [run]
        plugins = ["probe"]

        [[call]]
        name = "soak"
        soon = true
        every = 0.001
        count = 20000
        callback = "echo"
        args = ["soak"]

        [[call]]
        name = "before"
        at = 2.0005
        callback = "blocks"

        [[call]]
        name = "after"
        at = 19.9995
        callback = "blocks"
    """,
    )
    # stdout is a file, written as each call runs: on a pipe, records a busy reader has not
    # taken yet wait in the writer's queue (by design: memory, not lateness), and the probe
    # would count them (up to 4,672 blocks seen behind a slow reader, against ~740 on a file)
    out = here / "out.jsonl"
    with out.open("w") as stdout:
        proc = run(here, "run", "s.toml", "--clock", "virtual", "--format", "jsonl", stdout=stdout)
    assert proc.returncode == 0, proc.stderr
    got = by_entry(jsonl(out.read_text()))
    growth = got["after"]["result"] - got["before"]["result"]
    assert growth < 2000, f"{growth} more blocks after 18,000 more calls"


# -- pipes ---------------------------------------------------------------------------------------

DENSE = """\
[[call]]
name = "many"
soon = true
every = 0.001
count = 20000
callback = "echo"
args = ["many"]
"""

#: real clock; the reader is long gone before the last record (see the end-record test below)
SLOW = """\
[[call]]
soon = true
callback = "echo"
args = ["first"]

[[call]]
later = 0.1
callback = "echo"
args = ["second"]

[[call]]
later = 0.3
callback = "echo"
args = ["third"]
"""


@pytest.mark.parametrize("fmt", ["jsonl", "plain", "rich"])
@pytest.mark.parametrize(
    ("schedule", "clock"), [(DENSE, "virtual"), (SLOW, "real")], ids=["burst", "slow"]
)
def test_pipe_into_head_1_exits_141_quietly(
    here: Path, fmt: str, schedule: str, clock: str
) -> None:
    """timerctl run s.toml --format FMT | head -1"""
    write(here, "s.toml", schedule)
    writer = subprocess.Popen(
        [TIMERCTL, "run", "s.toml", "--format", fmt, "--clock", clock],
        cwd=here,
        env=env_for(here),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    head = subprocess.Popen(["head", "-1"], stdin=writer.stdout, stdout=subprocess.PIPE)
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.close()  # head holds the only read end, as in a shell pipeline
    first, _ = head.communicate(timeout=10)
    err = writer.stderr.read().decode()
    code = writer.wait(timeout=10)
    assert first.startswith(b'{"event":"start"' if fmt == "jsonl" else b"# timerctl run s.toml")
    assert code == 141
    assert err == ""


#: a plugin that makes stdout a pipe whose reader is gone just before the end record is
#: written: what `| head -N` does when N is the number of lines before the end
CUT_BEFORE_END = """\
import os
import sys

from timerctl.events import End
from timerctl.render import jsonl, plain, rich


def cut_before_end(cls):
    original = cls.__call__

    def __call__(self, event):
        if isinstance(event, End):
            sys.stdout.flush()
            r, w = os.pipe()
            os.close(r)
            os.dup2(w, 1)
            os.close(w)
        return original(self, event)

    cls.__call__ = __call__


for cls in (jsonl.JsonlRenderer, plain.PlainRenderer, rich.RichRenderer):
    cut_before_end(cls)
"""


@pytest.mark.parametrize("fmt", ["jsonl", "plain", "rich"])
@pytest.mark.parametrize("clock", ["real", "virtual"])
def test_the_reader_leaving_just_before_the_end_record_exits_141(
    here: Path, fmt: str, clock: str
) -> None:
    write(here, "cutend.py", CUT_BEFORE_END)
    write(here, "s.toml", '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["only"]\n')
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--format", fmt, "--clock", clock, "--plugin", "cutend"],
        cwd=here,
        env=env_for(here),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=20,
    )
    assert (proc.returncode, proc.stderr) == (141, "")


def closed_stdout(here: Path, *args: str) -> tuple[int, str]:
    """Run with a stdout pipe nobody reads from (`timerctl ... | true`)."""
    proc = subprocess.Popen(
        [TIMERCTL, *args],
        cwd=here,
        env=env_for(here),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=10), err


def _bug(reason: str) -> Any:
    return pytest.mark.xfail(strict=True, reason=f"BUG: {reason}")


@pytest.mark.parametrize(
    "args",
    [
        "run s.toml --format jsonl",
        "run s.toml --format plain",
        "run s.toml --format rich",
        "run s.toml --clock virtual",
        "callbacks",
        "callbacks --format jsonl",
        "check s.toml",
        "demo",
        "demo call-soon --show",
        "demo call-soon --classic",
        "run --help",
        "plan s.toml --format plain",
        "plan s.toml --format jsonl",
        "plan s.toml --format rich",
        "report rec.jsonl",
        "--help",
        "--version",
    ],
)
def test_every_command_exits_141_quietly_when_nobody_reads(here: Path, args: str) -> None:
    write(here, "s.toml", SLOW)
    (here / "rec.jsonl").write_text(
        run(here, "run", "s.toml", "--format", "jsonl", "--clock", "virtual").stdout
    )
    code, err = closed_stdout(here, *args.split())
    assert (code, err) == (141, "")


def test_stdout_on_a_full_disk_is_a_clear_error(here: Path) -> None:
    write(here, "s.toml", DENSE)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [TIMERCTL, "run", "s.toml", "--clock", "virtual", "--format", "jsonl"],
            cwd=here,
            env=env_for(here),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=20,
        )
    assert proc.returncode not in (0, 70, 120)
    assert "No space left on device" in proc.stderr
    assert "internal error" not in proc.stderr
    assert "Exception ignored" not in proc.stderr and TRACEBACK not in proc.stderr


def test_stdout_closed_before_start_is_a_clear_error(here: Path) -> None:
    write(here, "s.toml", SLOW)
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl"],
        cwd=here,
        env=env_for(here),
        stderr=subprocess.PIPE,
        text=True,
        timeout=20,
        preexec_fn=lambda: os.close(1),
    )
    assert proc.returncode not in (0, 70)
    assert "internal error" not in proc.stderr and TRACEBACK not in proc.stderr
    assert "stdout" in proc.stderr


def test_stdin_closed_is_a_clear_error(here: Path) -> None:
    proc = subprocess.run(
        [TIMERCTL, "run", "-"],
        cwd=here,
        env=env_for(here),
        capture_output=True,
        text=True,
        timeout=20,
        preexec_fn=lambda: os.close(0),
    )
    assert proc.returncode == 2
    assert "internal error" not in proc.stderr and TRACEBACK not in proc.stderr
    assert proc.stderr.startswith("<stdin>")


def test_a_closed_stderr_does_not_change_the_exit_code(here: Path) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        soon = true
        callback = "exec"
        args = ["sh", "-c", "for i in 1 2 3 4 5; do echo complaint $i >&2; done; echo fine"]
    """,
    )
    proc = subprocess.Popen(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl"],
        cwd=here,
        env=env_for(here),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    proc.stderr.close()  # `timerctl ... 2>&1 | head -0`, or a log reader that went away
    out, _ = proc.communicate(timeout=10)
    end = assert_complete(jsonl(out.decode()))
    assert end["exit_code"] == 0
    assert proc.returncode == end["exit_code"]


def slow_reader(proc: subprocess.Popen[bytes], every: int, pause: float) -> list[bytes]:
    """Read line by line, stopping ``pause`` seconds every ``every`` lines."""
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if len(lines) % every == 0:
            time.sleep(pause)  # not synchronisation: the slow reader under test
    return lines


@pytest.mark.parametrize(
    ("clock", "count", "every"), [("virtual", 5000, 0.001), ("real", 1000, 0.0002)]
)
def test_a_slow_reader_loses_nothing(here: Path, clock: str, count: int, every: float) -> None:
    """Megabytes through a 64 KiB pipe to a reader that keeps stalling: every record arrives."""
    write(
        here,
        "s.toml",
        f"""\
        [[call]]
        name = "many"
        soon = true
        every = {every}
        count = {count}
        callback = "echo"
        args = ["many"]
    """,
    )
    proc = subprocess.Popen(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl", "--clock", clock],
        cwd=here,
        env=env_for(here),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = slow_reader(proc, every=count // 10, pause=0.03)
        assert proc.stderr is not None
        err = proc.stderr.read()
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0 and err == b""
    assert sum(len(line) for line in lines) > 4 * 65536  # the pipe really filled, many times
    records = [json.loads(line) for line in lines]
    end = assert_complete(records)
    assert end["calls"] == count == len(calls(records))
    assert [r["n"] for r in calls(records)] == list(range(1, count + 1))


def test_a_slow_reader_of_plain_output_loses_nothing(here: Path) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        soon = true
        every = 0.001
        count = 3000
        callback = "echo"
        args = ["tok"]
    """,
    )
    proc = subprocess.Popen(
        [TIMERCTL, "run", "s.toml", "--format", "plain", "--clock", "virtual"],
        cwd=here,
        env=env_for(here),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lines = slow_reader(proc, every=300, pause=0.03)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=10) == 0, err
    text = [line.decode() for line in lines]
    others = [line for line in text if not line.rstrip().endswith("echo('tok')  tok")]
    assert len(text) - len(others) == 3000, others
    assert text[-1].startswith("# done: 3000 calls, 0 failed"), text[-1]


def test_rich_into_a_pipe_keeps_every_record(here: Path) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        soon = true
        every = 0.0005
        count = 1000
        callback = "echo"
        args = ["tok"]
    """,
    )
    proc = run(here, "run", "s.toml", "--format", "rich")
    assert proc.returncode == 0
    assert sum("echo('tok')" in line for line in proc.stdout.splitlines()) == 1000


# -- failing callbacks ---------------------------------------------------------------------------


def test_failing_callbacks_are_recorded_and_the_run_goes_on(here: Path) -> None:
    write(
        here,
        "s.toml",
        """\
        [run]
        plugins = ["faulty"]

        [[call]]
        name = "raises"
        soon = true
        callback = "boom"

        [[call]]
        name = "exits"
        soon = true
        callback = "bye"

        [[call]]
        name = "async-raises"
        soon = true
        callback = "aboom"

        [[call]]
        name = "missing"
        soon = true
        callback = "exec"
        args = ["no-such-program-timerctl-test"]

        [[call]]
        name = "nonzero"
        soon = true
        callback = "exec"
        args = ["sh", "-c", "exit 3"]

        [[call]]
        name = "builtin-fail"
        soon = true
        callback = "fail"
        args = ["on purpose"]

        [[call]]
        name = "after"
        later = 0.1
        callback = "echo"
        args = ["still running"]
    """,
    )
    proc = run(here, "run", "s.toml", "--format", "jsonl")
    assert proc.returncode == 1
    assert TRACEBACK not in proc.stderr
    records = jsonl(proc.stdout)
    end = assert_complete(records)
    assert end["reason"] == "done" and end["failed"] == 6 and end["exit_code"] == 1
    got = {name: r.get("error") for name, r in by_entry(records).items()}
    assert got == {
        "raises": {"type": "RuntimeError", "message": "boom"},
        "exits": {"type": "SystemExit", "message": "exit status 3"},
        "async-raises": {"type": "ValueError", "message": "async boom"},
        "missing": {
            "type": "ExecFailed",
            "message": "no such program: no-such-program-timerctl-test",
        },
        "nonzero": {"type": "ExecFailed", "message": "exit status 3"},
        "builtin-fail": {"type": "RuntimeError", "message": "on purpose"},
        "after": None,
    }
    assert by_entry(records)["after"]["result"] == "still running"
    assert by_entry(records)["nonzero"]["exit_status"] == 3


def test_fail_fast_stops_at_the_first_failure(here: Path) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "bad"
        later = 0.02
        callback = "fail"

        [[call]]
        name = "tick"
        soon = true
        every = 0.01
        callback = "echo"

        [[call]]
        name = "far"
        later = 30
        callback = "echo"
    """,
    )
    proc = run(here, "run", "s.toml", "--format", "jsonl", "--fail-fast")
    # stdout is a pipe: the failure is also one line on stderr, and nothing else is
    assert proc.returncode == 1
    assert proc.stderr == "timerctl: bad call 1 failed: RuntimeError: failed on purpose\n"
    records = jsonl(proc.stdout)
    end = assert_complete(records)
    assert end["reason"] == "failed" and end["failed"] == 1
    assert calls(records)[-1]["entry"] == "bad"  # nothing ran after it
    assert {r["entry"] for r in records if r["event"] == "cancel"} == {"tick", "far"}


def test_an_async_callback_awaiting_forever_is_bounded_by_timeout(here: Path) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "forever"
        soon = true
        callback = "forever"

        [[call]]
        name = "quick"
        soon = true
        callback = "echo"
        args = ["quick"]
    """,
    )
    proc = run(here, "run", "s.toml", "--format", "jsonl", "--plugin", "faulty", "--timeout", "0.3")
    assert proc.returncode == 0  # cut short by the end of the run: cancelled, not failed
    assert proc.stderr == ""
    records = jsonl(proc.stdout)
    end = assert_complete(records)
    assert end["reason"] == "timeout" and end["cancelled"] == 1 and end["failed"] == 0
    record = by_entry(records)["forever"]
    assert record["cancelled"] is True and record["error"]["type"] == "CancelledError"
    assert record["t"] + record["duration"] >= 0.299  # from its start to the timeout
    assert by_entry(records)["quick"]["result"] == "quick"


def write_culprit_then_after(here: Path, callback: str, after_args: str = "") -> None:
    """A schedule: the faulty plugin's ``callback`` first, then an echo that must still run."""
    write(
        here,
        "s.toml",
        f"""\
        [[call]]
        name = "culprit"
        soon = true
        callback = "{callback}"

        [[call]]
        name = "after"
        later = 0.05
        callback = "echo"
        {after_args}
    """,
    )


@pytest.mark.parametrize(
    "callback",
    [
        pytest.param("weird"),
        pytest.param("aweird"),
        pytest.param("kbi"),
        pytest.param("akbi"),
    ],
)
def test_a_callback_raising_a_base_exception_is_recorded(here: Path, callback: str) -> None:
    write_culprit_then_after(here, callback)
    proc = run(here, "run", "s.toml", "--format", "jsonl", "--plugin", "faulty", "--timeout", "1.5")
    assert TRACEBACK not in proc.stderr
    assert proc.returncode in (1, 130)
    records = jsonl(proc.stdout)
    end = assert_complete(records)
    assert end["reason"] != "timeout"  # it ended by itself, before the 1.5 s timeout
    assert "error" in by_entry(records)["culprit"]


@pytest.mark.parametrize(
    "callback",
    [
        pytest.param("badstr"),
        pytest.param("bigint"),
        pytest.param("cycle"),
    ],
)
def test_an_unrenderable_result_does_not_end_the_run(here: Path, callback: str) -> None:
    write_culprit_then_after(here, callback, 'args = ["after"]')
    proc = run(here, "run", "s.toml", "--format", "jsonl", "--plugin", "faulty")
    assert proc.returncode in (0, 1)
    assert "internal error" not in proc.stderr and TRACEBACK not in proc.stderr
    records = jsonl(proc.stdout)
    assert_complete(records)
    assert set(by_entry(records)) == {"culprit", "after"}


PLUGIN_FAILURES = {
    "nosuchplugin": None,  # no file at all
    "syntaxerr": "def broken(:\n",
    "raiser": "raise RuntimeError('kaboom at import')\n",
    "exiter": "import sys\nsys.exit(4)\n",
    "needsdep": "import no_such_dependency_timerctl_test\n",
}


@pytest.mark.parametrize("module", list(PLUGIN_FAILURES))
@pytest.mark.parametrize("command", ["run", "check", "plan"])
def test_a_plugin_that_fails_to_import_is_one_clear_line(
    here: Path, module: str, command: str
) -> None:
    source = PLUGIN_FAILURES[module]
    if source is not None:
        write(here, f"{module}.py", source)
    write(here, "s.toml", '[[call]]\nsoon = true\ncallback = "echo"\n')
    proc = run(here, command, "s.toml", "--plugin", module)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("timerctl: ") and f"'{module}'" in lines[0]


def test_a_plugin_named_in_the_schedule_that_fails_is_located(here: Path) -> None:
    write(here, "raiser.py", "raise RuntimeError('kaboom at import')\n")
    write(
        here, "s.toml", '[run]\nplugins = ["raiser"]\n\n[[call]]\nsoon = true\ncallback = "echo"\n'
    )
    proc = run(here, "run", "s.toml")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("s.toml:2") and "'raiser'" in lines[0] and "kaboom" in lines[0]
    assert lines[-1] == "Found 1 error in s.toml"
    assert TRACEBACK not in proc.stderr


def test_a_plugin_raising_a_base_exception_at_import_is_one_clear_line(here: Path) -> None:
    write(here, "basic.py", "class Weird(BaseException):\n    pass\n\nraise Weird('odd')\n")
    write(here, "s.toml", '[[call]]\nsoon = true\ncallback = "echo"\n')
    proc = run(here, "check", "s.toml", "--plugin", "basic")
    assert proc.returncode == 2
    assert TRACEBACK not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "'basic'" in proc.stderr


#: a plugin that breaks timerctl itself: the only way to meet an internal error on purpose
SABOTEUR = """\
import timerctl.engine

assert hasattr(timerctl.engine, "run")


def broken(*args, **kwargs):
    raise ZeroDivisionError("simulated internal bug")


timerctl.engine.run = broken
"""


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(here: Path) -> None:
    write(here, "saboteur.py", SABOTEUR)
    write(here, "s.toml", '[[call]]\nsoon = true\ncallback = "echo"\n')
    proc = run(here, "run", "s.toml", "--plugin", "saboteur")
    assert proc.returncode == 70
    assert proc.stderr.splitlines() == [
        "timerctl: internal error: ZeroDivisionError: simulated internal bug "
        "(run with --debug for the traceback)"
    ]
    debug = run(here, "--debug", "run", "s.toml", "--plugin", "saboteur")
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr
    assert "ZeroDivisionError: simulated internal bug" in debug.stderr


# -- trust (SPEC §6) -----------------------------------------------------------------------------


def trust_schedule(here: Path) -> list[Path]:
    """A schedule whose every call leaves a marker file; returns the markers."""
    markers = [here / f"MARKER{i}" for i in range(4)]
    write(
        here,
        "s.toml",
        f"""\
        [run]
        plugins = ["faulty"]

        [[call]]
        soon = true
        callback = "touch"
        args = ["{markers[0]}"]

        [[call]]
        later = 0.01
        callback = "exec"
        args = ["touch", "{markers[1]}"]

        [[call]]
        at = 0.02
        every = 0.01
        count = 2
        callback = "touch"
        args = ["{markers[2]}"]

        [[call]]
        soon = true
        callback = "exec"
        args = ["sh", "-c", "touch {markers[3]}"]
        kwargs = {{ timeout = 5 }}
    """,
    )
    return markers


@pytest.mark.parametrize(
    "args",
    [
        ["check", "s.toml"],
        ["check", "s.toml", "--plugin", "faulty"],
        ["plan", "s.toml"],
        ["plan", "s.toml", "--format", "jsonl"],
        ["plan", "s.toml", "--format", "rich", "--plugin", "faulty"],
    ],
)
def test_check_and_plan_call_nothing_and_start_nothing(here: Path, args: list[str]) -> None:
    markers = trust_schedule(here)
    # in a session of its own: whatever it might start (even in a process group of its own)
    # stays in that session, so once the session is empty every touch there was is done
    proc = subprocess.Popen(
        [TIMERCTL, *args],
        cwd=here,
        env=env_for(here),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    wait_until(lambda: not session_members(proc.pid), what="every process it started ended")
    assert [m.name for m in markers if m.exists()] == []


def test_run_of_the_trust_schedule_does_touch_the_markers(here: Path) -> None:
    """The other side of the test above: the markers are what running the schedule does."""
    markers = trust_schedule(here)
    proc = run(here, "run", "s.toml", "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    assert all(m.exists() for m in markers)


#: runs timerctl.cli.main with tripwires: any process start, any registered callback entered,
#: or an import of a module named in $TRIPWIRE_NO_IMPORT (a schedule's plugins), exits 99 at once
TRIPWIRE = """\
import os, sys

from timerctl.registry import REGISTRY
import timerctl.builtins, timerctl.execcb  # the built-ins, registered

SPAWNS = ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork", "os.forkpty",
          "os.system", "os.spawn", "os.startfile", "pty.spawn")


NO_IMPORT = set(filter(None, os.environ.get("TRIPWIRE_NO_IMPORT", "").split(",")))


class NoImport:  # first on sys.meta_path: asked for every module an import looks for

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name in NO_IMPORT:
            os.write(2, f"TRIPPED: import {name}\\n".encode())
            os._exit(99)
        return None


sys.meta_path.insert(0, NoImport)


def audit(event, args):
    if event in SPAWNS:
        os.write(2, f"TRIPPED: {event} {args!r}\\n".encode())
        os._exit(99)


CODES = {getattr(spec.func, "__code__", None) for spec in REGISTRY.specs()}
CODES.discard(None)


def profile(frame, event, arg):
    if event == "call" and frame.f_code in CODES:
        os.write(2, f"TRIPPED: callback {frame.f_code.co_name}\\n".encode())
        os._exit(99)


sys.addaudithook(audit)
sys.setprofile(profile)
sys.argv = ["timerctl", *sys.argv[1:]]
from timerctl.cli import main
main()
"""


def tripwire(here: Path, *args: str, no_import: str = "") -> subprocess.CompletedProcess[str]:
    (here / "tripwire.py").write_text(TRIPWIRE)
    env = {**env_for(here), "TRIPWIRE_NO_IMPORT": no_import}
    return subprocess.run(
        [sys.executable, str(here / "tripwire.py"), *args],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )


@pytest.mark.parametrize(
    "args", [["check", "s.toml"], ["plan", "s.toml"], ["plan", "s.toml", "--format", "jsonl"]]
)
def test_check_and_plan_do_not_import_the_plugins_a_schedule_names(
    here: Path, args: list[str]
) -> None:
    """SPEC §6 (issue 15): what ``[run] plugins`` names is read, not run, by check and plan."""
    trust_schedule(here)  # plugins = ["faulty"], whose callbacks it calls
    proc = tripwire(here, *args, no_import="faulty")
    assert proc.returncode == 0, proc.stderr
    write(
        here,
        "venv.toml",
        '[run]\nplugins = ["venv.__main__"]\n\n[[call]]\nsoon = true\ncallback = "echo"\n',
    )
    proc = tripwire(here, args[0], "venv.toml", no_import="venv,venv.__main__")
    assert proc.returncode == 0, proc.stderr


def test_the_import_tripwire_trips_on_a_run_and_on_an_explicit_plugin(here: Path) -> None:
    trust_schedule(here)
    proc = tripwire(here, "run", "s.toml", no_import="faulty")
    assert proc.returncode == 99 and "TRIPPED: import faulty" in proc.stderr
    proc = tripwire(here, "check", "s.toml", "--plugin", "faulty", no_import="faulty")
    assert proc.returncode == 99 and "TRIPPED: import faulty" in proc.stderr


def test_the_tripwire_trips_on_a_run(here: Path) -> None:
    """The tripwire works: a real run enters a callback (and, with exec, starts a process)."""
    proc = tripwire(here, "run", str(REPO / "examples.toml"), "--clock", "virtual")
    assert proc.returncode == 99 and "TRIPPED: callback" in proc.stderr
    write(here, "x.toml", '[[call]]\nsoon = true\ncallback = "exec"\nargs = ["true"]\n')
    # exec_ is a coroutine function: the profile hook sees it when it starts, the audit hook
    # the spawn; either way the run is stopped before anything runs
    proc = tripwire(here, "run", "x.toml")
    assert proc.returncode == 99 and "TRIPPED:" in proc.stderr


@pytest.mark.parametrize("args", [["check"], ["plan"], ["plan", "--format", "jsonl"]])
def test_check_and_plan_of_the_examples_pass_the_tripwire(here: Path, args: list[str]) -> None:
    """examples.toml has an exec entry and every built-in: nothing may run or start."""
    proc = tripwire(here, *args, str(REPO / "examples.toml"))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", list(DEMOS))
def test_demo_show_and_its_check_and_plan_pass_the_tripwire(here: Path, name: str) -> None:
    shown = tripwire(here, "demo", name, "--show")
    assert shown.returncode == 0, shown.stderr
    assert "[[call]]" in shown.stdout
    (here / f"{name}.toml").write_text(shown.stdout)
    for command in ("check", "plan"):
        proc = tripwire(here, command, f"{name}.toml")
        assert proc.returncode == 0, (command, proc.stderr)


@pytest.mark.parametrize(
    "name",
    [
        "os:system",
        "os.system",
        "subprocess:run",
        "builtins.eval",
        "timerctl.builtins:echo",
        "timerctl.builtins.echo",
        "__import__",
        "exec()",
    ],
)
@pytest.mark.parametrize("command", ["check", "run", "plan"])
def test_no_schedule_can_name_an_import_path(here: Path, name: str, command: str) -> None:
    marker = here / "PWNED"
    write(
        here,
        "s.toml",
        f"""\
        [[call]]
        soon = true
        callback = "{name}"
        args = ["touch {marker}"]
    """,
    )
    proc = run(here, command, "s.toml")
    assert proc.returncode == 2
    assert f"unknown callback '{name}'" in proc.stderr
    assert TRACEBACK not in proc.stderr
    assert not marker.exists()


def test_exec_never_goes_through_a_shell(here: Path) -> None:
    marker = here / "PWNED"
    write(
        here,
        "s.toml",
        f"""\
        [[call]]
        name = "sneaky"
        soon = true
        callback = "exec"
        args = ["true; touch {marker}"]

        [[call]]
        name = "quoted"
        soon = true
        callback = "exec"
        args = ["echo", "$(touch {marker})", "`touch {marker}`"]
    """,
    )
    proc = run(here, "run", "s.toml", "--format", "jsonl")
    assert proc.returncode == 1
    got = by_entry(jsonl(proc.stdout))
    assert got["sneaky"]["error"]["type"] == "ExecFailed"
    assert got["quoted"]["result"] == f"$(touch {marker}) `touch {marker}`"
    assert not marker.exists()


@pytest.mark.parametrize("args", ["plan s.toml", "callbacks", "demo", "--help", "--version"])
def test_any_command_onto_a_full_disk_says_so(here: Path, args: str) -> None:
    write(here, "s.toml", SLOW)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [TIMERCTL, *args.split()],
            cwd=here,
            env=env_for(here),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=20,
        )
    assert proc.returncode == 74
    assert proc.stderr == "timerctl: cannot write to stdout: No space left on device\n"


# -- every ending signal, our own death, and the moment the run ends (issue 15) ------------------

#: an exec whose shell leads its group and starts a grandchild: both must go
GRANDCHILD = """\
    [[call]]
    name = "child"
    soon = true
    callback = "exec"
    args = ["sh", "-c", "echo $$ > {pidfile}; sleep 30 & sleep 30"]

    [[call]]
    name = "far"
    later = 30
    callback = "echo"
"""

ENDING = [
    (signal.SIGHUP, 129, "terminated"),
    (signal.SIGQUIT, 131, "terminated"),
    (signal.SIGUSR1, 138, "terminated"),
    (signal.SIGUSR2, 140, "terminated"),
    (signal.SIGALRM, 142, "terminated"),
    (signal.SIGTERM, 143, "terminated"),
    (signal.SIGINT, 130, "interrupted"),
]


@pytest.mark.parametrize(("sig", "code", "reason"), ENDING, ids=[s.name for s, _, _ in ENDING])
def test_every_ending_signal_ends_the_run_and_its_process_groups(
    here: Path, spawn: Callable[..., Child], sig: int, code: int, reason: str
) -> None:
    """SIGHUP (the terminal closed), SIGQUIT, SIGUSR1/2, SIGALRM: each left the exec child and
    its grandchild running (41 s more); now each ends the run like SIGTERM, exit 128 + N."""
    pidfile = here / "pid"
    write(here, "s.toml", GRANDCHILD.format(pidfile=pidfile))
    child = spawn("run", "s.toml", "--format", "jsonl")
    pgid = read_pid(pidfile)
    child.interrupt(sig)
    exit_code, records, stderr = child.finish()
    assert exit_code == code
    assert TRACEBACK not in stderr
    assert group_gone(pgid, within=1.0), f"left behind: {group_members(pgid)}"
    end = assert_complete(records)
    assert end["reason"] == reason and end["exit_code"] == code
    assert by_entry(records)["child"]["cancelled"] is True


#: a plugin whose thread takes a SIGTERM once the main thread sleeps in the loop's select: where
#: the kernel puts a process-directed signal when another thread does not block it
SIDE_THREAD = """\
    import signal, threading, time
    from pathlib import Path
    from timerctl import callback

    def _signal_me() -> None:
        wchan = Path(f"/proc/self/task/{threading.main_thread().native_id}/wchan")
        # the callback returned, and the loop sleeps in its selector (epoll, or select/poll)
        while not any(w in wchan.read_text() for w in ("epoll", "poll_schedule")):
            time.sleep(0.001)  # (a spin would starve the main thread of the GIL)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    @callback
    def side_signal() -> str:
        threading.Thread(target=_signal_me, daemon=True).start()
        return "started"
"""


def test_a_signal_taken_by_another_thread_ends_the_run_at_once(
    here: Path, spawn: Callable[..., Child]
) -> None:
    """Python runs handlers in the main thread only: a signal taken by a plugin's thread waited
    for the loop's next timer (30 s here). Now it wakes the loop (signals.waking)."""
    if not Path("/proc/self/wchan").exists():
        pytest.skip("no /proc/PID/wchan to see where the main thread waits")
    write(here, "sideplug.py", SIDE_THREAD)
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "send"
        soon = true
        callback = "side_signal"

        [[call]]
        name = "far"
        later = 30
        callback = "echo"
    """,
    )
    child = spawn("run", "s.toml", "--format", "jsonl", "--plugin", "sideplug")
    exit_code, records, stderr = child.finish()
    assert exit_code == 143, stderr
    end = assert_complete(records)
    assert end["reason"] == "terminated" and end["cancelled"] == 1


def test_children_do_not_outlive_a_killed_timerctl(here: Path, spawn: Callable[..., Child]) -> None:
    """SIGKILL cannot be handled: the watchdog ends the groups when timerctl is gone."""
    pidfile = here / "pid"
    write(
        here,
        "s.toml",
        GRANDCHILD.format(pidfile=pidfile)
        + """
    [[call]]
    name = "after"
    later = 0.1
    callback = "echo"
    """,
    )
    child = spawn("run", "s.toml", "--format", "jsonl")
    pgid = read_pid(pidfile)
    # a record after the spawn: the loop has moved on, so the group has been handed over
    child.wait_for(lambda o: o["event"] == "call" and o["entry"] == "after")
    assert group_members(pgid), "the child should be running"
    os.kill(child.proc.pid, signal.SIGKILL)
    child.wait()
    assert group_gone(pgid, within=5.0), f"left behind: {group_members(pgid)}"


def test_a_run_started_under_nohup_keeps_ignoring_sighup(
    here: Path, spawn: Callable[..., Child]
) -> None:
    write(
        here,
        "s.toml",
        """\
        [[call]]
        name = "tick"
        soon = true
        every = 0.05
        count = 6
        callback = "echo"
    """,
    )
    child = spawn(
        "run",
        "s.toml",
        "--format",
        "jsonl",
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    child.wait_for(lambda o: o["event"] == "call" and o["n"] == 2)
    child.interrupt(signal.SIGHUP)
    exit_code, records, _ = child.finish()
    assert exit_code == 0 and assert_complete(records)["calls"] == 6


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
@pytest.mark.parametrize("after", ["call", "end"])
def test_a_signal_as_the_run_ends_agrees_with_the_end_record(
    here: Path, sig: int, after: str
) -> None:
    """Sent as the last record (or the end record) comes out: the process used to die of the
    signal after an end record saying done/0, or print "Exception ignored ... KeyboardInterrupt".
    Whatever the moment, the exit status is the end record's."""
    write(here, "s.toml", '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["last"]\n')
    for _ in range(6):
        proc = subprocess.Popen(
            [TIMERCTL, "run", "s.toml", "--format", "jsonl"],
            cwd=here,
            env=env_for(here),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        lines = []
        while line := proc.stdout.readline():
            lines.append(line)
            if json.loads(line)["event"] == after:
                proc.send_signal(sig)
                break
        lines.append(proc.stdout.read())  # what the reader above buffered, and the rest
        err = proc.stderr.read()
        proc.wait(timeout=10)
        records = jsonl("".join(lines))
        assert TRACEBACK not in err and "Exception ignored" not in err, err
        end = assert_complete(records)
        assert proc.returncode == end["exit_code"], (proc.returncode, end)
        if after == "end":
            assert end["reason"] == "done"


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
def test_a_signal_during_start_up_is_one_line_never_a_traceback(here: Path, sig: int) -> None:
    """While Python imports click and the rest (the first ~50-150 ms): a quiet 128 + N."""
    write(here, "s.toml", TICKING)
    code = 128 + sig
    for delay in (0.015, 0.03, 0.045, 0.06, 0.08, 0.1, 0.12, 0.15):
        proc = subprocess.Popen(
            [TIMERCTL, "run", "s.toml", "--format", "jsonl"],
            cwd=here,
            env=env_for(here),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)  # not synchronisation: a sample of moments during start-up
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
        if proc.returncode == -sig or "init_import_site" in err:
            continue  # Python's own start-up (site, .pth files), before any timerctl code
        assert TRACEBACK not in err and "Exception ignored" not in err, (delay, err)
        assert proc.returncode == code, (delay, proc.returncode, err)
        if out:  # the run had started: its end says so
            assert assert_complete(jsonl(out))["exit_code"] == code


def test_sigterm_while_the_schedule_loads_is_said(here: Path) -> None:
    proc = subprocess.Popen(
        [TIMERCTL, "run", "-"],
        cwd=here,
        env=env_for(here),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_blocked_reading(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143
    assert out == b"" and err == b"timerctl: terminated\n"


#: a signal that arrives while Python runs a weakref callback (the import system has them): the
#: handler's exception is "ignored" there, and the signal was lost (the run went on for ever)
SWALLOWED = """\
import os, signal, sys, weakref
from timerctl import signals
from timerctl.__main__ import main

signals.install_early()


class A:
    pass


a = A()
r = weakref.ref(a, lambda _: os.kill(os.getpid(), signal.SIGHUP))
del a
sys.argv = ["timerctl", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("command", [["run", "s.toml", "--format", "jsonl"], ["check", "s.toml"]])
def test_a_signal_swallowed_before_the_run_is_still_acted_on(
    here: Path, command: list[str]
) -> None:
    write(here, "s.toml", TICKING)
    write(here, "swallow.py", SWALLOWED)
    proc = subprocess.run(
        [sys.executable, "swallow.py", *command],
        cwd=here,
        env=env_for(here),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert proc.returncode == 129
    assert "Exception ignored" not in proc.stderr and TRACEBACK not in proc.stderr
    if command[0] == "run":
        end = assert_complete(jsonl(proc.stdout))
        assert end["reason"] == "terminated" and end["exit_code"] == 129
    else:
        assert proc.stderr == "timerctl: terminated\n"


def test_the_first_handler_covers_the_ending_signals() -> None:
    from timerctl import __main__ as entry
    from timerctl import signals

    assert tuple(getattr(signal, n) for n in entry.FIRST_HANDLED) == signals.ENDING
