"""The ``exec`` callback with real processes: results, failures, timeouts, process groups.

The CLI tests run ``python -m timerctl`` as a child and read its jsonl, the way a script would.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_until

from timerctl import execcb, execoutput
from timerctl.execcb import ExecFailed, ExecResult, ExecTimeout, exec_
from timerctl.registry import REGISTRY

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")

PY = sys.executable


def run_exec(*argv: Any, **kwargs: Any) -> Any:
    return asyncio.run(exec_(*argv, **kwargs))


def ended(pid: int) -> bool:
    """Whether pid ended (a zombie waiting for init to reap it counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] == b"Z"


def gone(pid: int, within: float = 2.0) -> bool:
    """Whether pid ends within a (hang-bounding) deadline."""
    try:
        wait_until(lambda: ended(pid), within)
    except AssertionError:
        return False
    return True


def read_pid(path: Path, within: float = 2.0) -> int:
    wait_until(
        lambda: path.exists() and path.read_text().strip() != "", within, f"{path} never got a pid"
    )
    return int(path.read_text())


def spawner(pidfile: Path, *, ignore_term: bool = False) -> list[str]:
    """sh starting a grandchild (sleep 30) in the same group, writing its pid, then waiting."""
    trap = "trap '' TERM; " if ignore_term else ""
    return ["sh", "-c", f"{trap}sleep 30 & echo $! > {pidfile}; wait"]


def timerctl(tmp_path: Path, toml: str, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    schedule = tmp_path / "s.toml"
    schedule.write_text(toml)
    proc = subprocess.run(
        [PY, "-m", "timerctl", "run", str(schedule), "--format", "jsonl", *extra],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=tmp_path,
    )
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    return proc.returncode, records, proc.stderr


def calls(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["entry"]: r for r in records if r["event"] == "call"}


# -- the callback itself ---------------------------------------------------------------------------


def test_registered_as_async_exec() -> None:
    spec = REGISTRY.get("exec")
    assert spec is not None and spec.is_async and spec.func is exec_
    assert spec.signature.startswith("exec(*argv: str, timeout: float | None = None")


def test_stdout_is_the_result_without_its_trailing_newline() -> None:
    result = run_exec("printf", "hello\\nworld\\n\\n")
    assert result == "hello\nworld\n"
    assert isinstance(result, ExecResult) and result.exit_status == 0 and not result.truncated


def test_no_shell_metacharacters_are_just_text() -> None:
    assert run_exec("echo", "$HOME; rm -rf x | y") == "$HOME; rm -rf x | y"


def test_stdin_is_dev_null() -> None:
    assert run_exec("cat") == ""  # would hang if stdin were inherited


def test_non_zero_exit_fails_with_its_status() -> None:
    with pytest.raises(ExecFailed, match=r"^exit status 3$") as info:
        run_exec("sh", "-c", "echo partial; exit 3")
    assert info.value.exit_status == 3
    assert info.value.stdout == "partial"
    assert type(info.value) is ExecFailed


def test_killed_by_a_signal() -> None:
    with pytest.raises(ExecFailed, match=r"^killed by signal 9 \(SIGKILL\)$") as info:
        run_exec("sh", "-c", "kill -9 $$")
    assert info.value.exit_status == -9


def test_missing_program() -> None:
    with pytest.raises(ExecFailed, match=r"^no such program: no-such-program-xyz$"):
        run_exec("no-such-program-xyz")


def test_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(ExecFailed, match="permission denied"):
        run_exec(str(script))


def test_missing_cwd_is_named() -> None:
    with pytest.raises(ExecFailed, match=r"^cannot enter cwd /no/such/dir: "):
        run_exec("true", cwd="/no/such/dir")


def test_cwd_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMERCTL_INHERITED", "kept")
    result = run_exec(
        "sh", "-c", "pwd; echo $FOO $TIMERCTL_INHERITED", cwd=str(tmp_path), env={"FOO": "bar"}
    )
    assert result == f"{tmp_path.resolve()}\nbar kept"  # env is merged over os.environ


def test_env_overrides_path_lookup(tmp_path: Path) -> None:
    tool = tmp_path / "mytool"
    tool.write_text("#!/bin/sh\necho found me\n")
    tool.chmod(0o755)
    assert run_exec("mytool", env={"PATH": str(tmp_path)}) == "found me"


def test_stdout_is_bounded_and_says_so() -> None:
    result = run_exec(PY, "-c", "import sys; sys.stdout.write('x' * 100_000)")
    assert result.truncated
    kept, note = result.split("\n")
    assert kept == "x" * execoutput.STDOUT_LIMIT
    assert note == f"[stdout truncated: first {execoutput.STDOUT_LIMIT} of 100000 bytes]"


def test_truncation_never_splits_a_character() -> None:
    result = run_exec(PY, "-c", "import sys; sys.stdout.write('é' * 40_000)")
    kept = result.split("\n")[0]
    assert set(kept) == {"é"} and len(kept) == execoutput.STDOUT_LIMIT // 2


def test_bad_utf8_is_replaced() -> None:
    assert run_exec("printf", "\\377ok") == "\ufffdok"


def test_stderr_passes_through(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_exec("sh", "-c", "echo out; echo err >&2") == "out"
    captured = capsys.readouterr()
    assert captured.err == "err\n"
    assert captured.out == ""


def test_stderr_to_a_text_only_stream_is_decoded_incrementally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()  # no .buffer: what rich's live display puts in place of sys.stderr
    monkeypatch.setattr(sys, "stderr", stream)
    forward = execoutput.StderrForwarder()
    data = "héllo\n".encode()
    forward.write(data[:2])  # cut inside "é"
    forward.write(data[2:])
    forward.close()
    assert stream.getvalue() == "héllo\n"


def test_timeout_ends_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    # the grandchild sleeps 30 s: the timeout, not its end, ended the call
    with pytest.raises(ExecTimeout, match=r"^timed out after 0\.3s$") as info:
        run_exec(*spawner(pidfile), timeout=0.3)
    assert isinstance(info.value, ExecFailed)
    assert gone(read_pid(pidfile))


def test_timeout_when_a_background_process_holds_stdout(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    # sh exits at once, but its background child keeps the stdout pipe open
    with pytest.raises(
        ExecTimeout,
        match=r"program ended with exit status 0; a process it "
        r"started kept its output open",
    ) as info:
        run_exec("sh", "-c", f"sleep 30 & echo $! > {pidfile}; echo started", timeout=0.3)
    assert info.value.stdout == "started"
    assert gone(read_pid(pidfile))


def test_sigterm_ignored_means_sigkill_after_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execcb, "GRACE", 0.2)
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(ExecTimeout):
        run_exec(*spawner(pidfile, ignore_term=True), timeout=0.2)
    # the timeout, then the whole grace, then SIGKILL: never sooner (a wait does not end early)
    assert time.monotonic() - started >= 0.4
    assert gone(read_pid(pidfile))


def test_cancel_ends_the_group_and_reraises(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"

    async def main() -> None:
        task = asyncio.ensure_future(exec_(*spawner(pidfile)))
        while not (pidfile.exists() and pidfile.read_text().strip()):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not execcb.CHILDREN

    asyncio.run(main())
    assert gone(read_pid(pidfile), within=0.5)


def test_kill_running_is_the_emergency_stop(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"

    async def main() -> None:
        task = asyncio.ensure_future(exec_(*spawner(pidfile)))
        while not (pidfile.exists() and pidfile.read_text().strip()):
            await asyncio.sleep(0.01)
        assert execcb.kill_running() == 1
        with pytest.raises(ExecFailed, match="killed by signal 9"):
            await task

    asyncio.run(main())
    assert gone(read_pid(pidfile), within=0.5)


class PipesHeld:
    """Holds the loop's connect_read_pipe until released: the child runs, its pipes unread.

    Widens, deterministically, the window between the child's start and its pipes being
    connected, where a cancel used to leave asyncio waiting for pipes a grandchild kept open.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *, fail: bool = False) -> None:
        self.gate = asyncio.Event()
        self.fail = fail
        self._connect = loop.connect_read_pipe
        loop.connect_read_pipe = self._held  # type: ignore[method-assign]  # this loop only

    async def _held(self, *args: Any, **kwargs: Any) -> Any:
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("cannot read that pipe")
        return await self._connect(*args, **kwargs)


def no_reaper_left() -> bool:
    for thread in threading.enumerate():
        if thread.name.startswith("timerctl-exec-"):
            thread.join(2.0)
            if thread.is_alive():
                return False
    return True


@pytest.mark.parametrize("how", ["cancel", "kill_running", "pipe failure"])
def test_child_running_before_its_pipes_are_connected(tmp_path: Path, how: str) -> None:
    """Cancelled, emergency-stopped or failed before its pipes are read: the group still ends,
    the call still ends (it used to hang when cancelled there), and nothing is left behind."""
    pidfile = tmp_path / "pid"

    async def main() -> None:
        held = PipesHeld(asyncio.get_running_loop(), fail=how == "pipe failure")
        task = asyncio.ensure_future(exec_(*spawner(pidfile)))
        try:
            for _ in range(500):
                if pidfile.exists() and pidfile.read_text().strip():
                    break
                await asyncio.sleep(0.01)
            if how == "cancel":
                task.cancel()
            elif how == "kill_running":
                assert execcb.kill_running() == 1
            await asyncio.sleep(0)
            held.gate.set()
            done, _ = await asyncio.wait({task}, timeout=10)
            assert done, "the exec call hung"
        finally:
            if not task.done():  # failed: end the group and the call rather than hang
                held.gate.set()
                with contextlib.suppress(OSError, ValueError):
                    os.killpg(os.getpgid(int(pidfile.read_text())), signal.SIGKILL)
                task.cancel()
                await asyncio.wait({task}, timeout=5)
        if how == "cancel":
            assert task.cancelled()
        elif how == "kill_running":
            with pytest.raises(ExecFailed, match="killed by signal 9"):
                task.result()
        else:
            with pytest.raises(RuntimeError, match="cannot read that pipe"):
                task.result()
        assert not execcb.CHILDREN

    asyncio.run(main())
    assert gone(read_pid(pidfile), within=0.5)
    assert no_reaper_left()


@pytest.mark.parametrize(
    ("argv", "kwargs", "error", "message"),
    [
        ((), {}, ValueError, "needs a program"),
        (("",), {}, ValueError, "program name is empty"),
        (("sleep", 1), {}, TypeError, r"args\[1\] is int 1"),
        (("echo", "a\0b"), {}, ValueError, "NUL"),
        (("true",), {"timeout": True}, TypeError, "timeout must be a number"),
        (("true",), {"timeout": "1"}, TypeError, "timeout must be a number"),
        (("true",), {"timeout": 0}, ValueError, "> 0"),
        (("true",), {"timeout": float("inf")}, ValueError, "finite"),
        (("true",), {"cwd": 3}, TypeError, "cwd"),
        (("true",), {"env": ["A=1"]}, TypeError, "table"),
        (("true",), {"env": {"N": 1}}, TypeError, "value of N must be a string"),
        (("true",), {"env": {"A=B": "x"}}, ValueError, "not a valid variable name"),
    ],
)
def test_bad_arguments_are_clear(
    argv: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        run_exec(*argv, **kwargs)
    assert execcb.check(argv, kwargs) is not None


def test_check_accepts_good_arguments() -> None:
    assert execcb.check(["ls", "-l"], {"timeout": 2, "cwd": "/", "env": {"A": "b"}}) is None


@pytest.mark.parametrize(
    ("argv", "kwargs", "message"),
    [
        # the first problem in parameter order is the one reported, word for word
        ((1, "a\0"), {"timeout": 0}, "exec args must be strings; args[0] is int 1 (quote it)"),
        (("", "a\0"), {}, "exec args[1] contains a NUL character"),
        (
            ("true",),
            {"timeout": "1", "cwd": 3},
            "exec timeout must be a number of seconds, not str",
        ),
        (("true",), {"cwd": "", "env": []}, "exec cwd must be a non-empty path string"),
        (("true",), {"env": ["A=1"]}, "exec env must be a table of strings, not list"),
        (
            ("true",),
            {"env": {"N": 1, "=": "x"}},
            "exec env: the value of N must be a string, not int 1 (quote it)",
        ),
        (("true",), {"env": {"": "x", "N": 1}}, "exec env: '' is not a valid variable name"),
    ],
)
def test_the_first_problem_is_reported_word_for_word(
    argv: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    assert execcb.check(argv, kwargs) == message


@pytest.mark.parametrize(
    "module",
    [
        "timerctl.execcb",
        "timerctl.execargs",
        "timerctl.execoutput",
        "timerctl.procgroup",
        "timerctl.realtime",
    ],
)
def test_each_exec_module_imports_alone_and_never_the_registry(module: str) -> None:
    # registry -> builtins -> execcb -> its parts: nothing of exec reaches back for the registry
    code = f"import sys, {module}; print('timerctl.registry' in sys.modules)"
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- end to end through the CLI --------------------------------------------------------------------


def test_cli_jsonl_records_and_exit_code(tmp_path: Path) -> None:
    code, records, stderr = timerctl(
        tmp_path,
        """
[[call]]
name = "ok"
soon = true
callback = "exec"
args = ["echo", "hello world"]

[[call]]
name = "bad"
later = 0.05
callback = "exec"
args = ["sh", "-c", "echo oops >&2; exit 3"]

[[call]]
name = "missing"
later = 0.05
callback = "exec"
args = ["no-such-program-xyz"]
""",
    )
    assert code == 1
    by = calls(records)
    assert by["ok"]["result"] == "hello world" and "error" not in by["ok"]
    assert by["bad"]["error"] == {"type": "ExecFailed", "message": "exit status 3"}
    assert by["missing"]["error"] == {
        "type": "ExecFailed",
        "message": "no such program: no-such-program-xyz",
    }
    for record in by.values():
        assert record["duration"] > 0 and record["late"] >= 0
    end = records[-1]
    assert end["event"] == "end" and end["failed"] == 2 and end["exit_code"] == 1
    assert "oops\n" in stderr


def test_cli_timeout_record_and_group(tmp_path: Path) -> None:
    code, records, _ = timerctl(
        tmp_path,
        f"""
[[call]]
name = "slow"
soon = true
callback = "exec"
args = {json.dumps(spawner(tmp_path / "pid"))}
kwargs = {{ timeout = 0.3 }}
""",
    )
    assert code == 1
    record = calls(records)["slow"]
    assert record["error"] == {"type": "ExecTimeout", "message": "timed out after 0.3s"}
    assert record["duration"] >= 0.3
    assert gone(read_pid(tmp_path / "pid"))


def test_cli_stop_ends_a_running_exec_group(tmp_path: Path) -> None:
    code, records, _ = timerctl(
        tmp_path,
        f"""
[[call]]
name = "long"
soon = true
callback = "exec"
args = {json.dumps(spawner(tmp_path / "pid"))}

[[call]]
later = 0.3
callback = "stop"
""",
    )
    assert code == 0  # a call cut short by the end of the run did not fail
    record = calls(records)["long"]
    assert record["cancelled"] is True and record["error"]["type"] == "CancelledError"
    assert records[-1]["reason"] == "stopped" and records[-1]["cancelled"] == 1
    assert gone(read_pid(tmp_path / "pid"))


def test_cli_sigterm_streams_stderr_then_ends_the_group(tmp_path: Path) -> None:
    """stderr arrives while the child runs (not at its end); SIGTERM ends the group, exit 143."""
    pidfile = tmp_path / "pid"
    schedule = tmp_path / "s.toml"
    argv = ["sh", "-c", f"echo early >&2; sleep 30 & echo $! > {pidfile}; wait"]
    schedule.write_text(f'[[call]]\nsoon = true\ncallback = "exec"\nargs = {json.dumps(argv)}\n')
    proc = subprocess.Popen(
        [PY, "-m", "timerctl", "run", str(schedule), "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline() == "early\n"  # the child is still running
        grandchild = read_pid(pidfile)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143
    end = json.loads(out.splitlines()[-1])
    assert end["reason"] == "terminated" and end["cancelled"] == 1
    assert gone(grandchild)


def test_cli_virtual_clock_times_out_in_real_seconds(tmp_path: Path) -> None:
    # The virtual clock jumps instead of waiting: a loop timer would time out at once.
    code, records, _ = timerctl(
        tmp_path,
        """
[[call]]
name = "real"
soon = true
callback = "exec"
args = ["sh", "-c", "sleep 0.2; echo done"]
kwargs = { timeout = 5 }
""",
        "--clock",
        "virtual",
    )
    assert code == 0
    assert calls(records)["real"]["result"] == "done"


def test_cli_check_rejects_unknown_kwargs_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    schedule = tmp_path / "s.toml"
    schedule.write_text(f"""
[[call]]
soon = true
callback = "exec"
args = ["touch", "{marker}"]
kwargs = {{ timeot = 1 }}
""")
    proc = subprocess.run(
        [PY, "-m", "timerctl", "check", str(schedule)], capture_output=True, text=True, timeout=20
    )
    assert proc.returncode == 2
    assert "unexpected keyword argument 'timeot'" in proc.stderr
    assert not marker.exists()
