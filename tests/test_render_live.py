"""Rich on a terminal during a real run: a display process (or thread) draws."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import (
    TIMERCTL,
    Run,
    clean_env,
    kernel_wait,
    run_virtual,
    signal_pending,
    wait_until,
)

from timerctl.events import Start
from timerctl.render import RenderOptions, display, live
from timerctl.render.rich import RichRenderer

pytestmark = pytest.mark.usefixtures("no_colour_env")


def live_events(run: Run) -> list:  # type: ignore[type-arg]
    """The run's events as a real run's: what makes make() choose the display process."""
    return [dataclasses.replace(e, clock="real") if isinstance(e, Start) else e for e in run.events]


@pytest.mark.parametrize("where", ["process", "thread"])
def test_the_display_draws_what_the_renderer_draws(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Through the display process, or its fallback (a thread of ours): the same output as
    drawing each event as it comes, record for record, summary included."""
    events = live_events(run)
    expected = io.StringIO()
    direct = RichRenderer(expected, RenderOptions(lesson="a lesson"))
    for event in events:
        direct(event)
    if where == "thread":
        monkeypatch.setattr(display.DisplayProcess, "spawn", classmethod(lambda cls, s: None))
    out = tmp_path / "out.txt"
    with open(out, "w") as stream:
        sink = live.LiveRenderer(stream, RenderOptions(lesson="a lesson"))
        assert isinstance(
            sink._display,
            display.DisplayProcess if where == "process" else display.InProcessDisplay,
        )
        for event in events:
            sink(event)
    assert out.read_text() == expected.getvalue()
    assert "run done" in expected.getvalue() and "a lesson" in expected.getvalue()


@pytest.mark.parametrize("where", ["process", "thread"])
def test_the_display_coalesces_what_nobody_can_read_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    run = run_virtual(
        '[[call]]\nname = "fast"\nsoon = true\nevery = 0.00001\ncount = 5000\n'
        'callback = "echo"\nargs = ["x"]\n'
    )  # 5,000 calls in 50 ms
    if where == "thread":
        monkeypatch.setattr(display.DisplayProcess, "spawn", classmethod(lambda cls, s: None))
    out = tmp_path / "out.txt"
    with open(out, "w") as stream:
        sink = live.LiveRenderer(stream, RenderOptions())
        for event in live_events(run):
            sink(event)
    text = out.read_text()
    drawn = [line for line in text.splitlines() if "echo('x')" in line]
    skipped = [int(m) for m in re.findall(r"… (\d+) more calls not drawn", text)]
    assert len(drawn) == live.MAX_LINES_PER_TICK  # one window of 0.1 s: 20 records
    assert sum(skipped) == 5000 - len(drawn)  # the others counted, none lost ...
    assert "│ calls                │ 5000" in text  # ... and all in the summary
    assert text.index("more calls not drawn") < text.index("run done")


def test_rich_on_a_terminal_in_a_real_run_is_a_display_process() -> None:
    code = (
        "import os, sys; from timerctl.render import make, RenderOptions; "
        "m, s = os.openpty(); tty = open(s, 'w'); "
        "r = make('rich', tty, RenderOptions(extra={'clock': 'real'})); "
        "print(type(r).__name__, type(r._display).__name__, 'rich' in sys.modules); "
        "r.close()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=True,
        timeout=20,
    )
    assert out.stdout.split() == ["LiveRenderer", "DisplayProcess", "False"]
    assert out.stderr == ""


def drain(fd: int, into: list[bytes]) -> None:
    """Read a terminal's output until nobody holds it any more (EIO) or it is closed."""
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 65536):
            into.append(chunk)


class Terminal:
    """``timerctl ARGS`` on a pseudo-terminal (stdin, stdout, stderr), in a session of its own:
    what a person at a terminal runs; ``os.killpg`` is their Ctrl-C."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [TIMERCTL, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=clean_env(COLUMNS="120", LINES="40"),
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.chunks: list[bytes] = []
        self.closed = threading.Event()  # every process holding the terminal has exited
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        drain(self.master, self.chunks)
        self.closed.set()

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def wait_for(self, needle: str, timeout: float = 10) -> None:
        wait_until(lambda: needle in self.text, timeout, f"{needle!r}; got {self.text[-300:]}")

    def finish(self, timeout: float = 10) -> int:
        code = self.proc.wait(timeout)
        assert self.closed.wait(3), "something still holds the terminal: the display process?"
        os.close(self.master)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)


NO_RICH = """\
import atexit, os, sys
atexit.register(lambda: open(os.environ["MARK"], "w").write(str("rich" in sys.modules)))
"""


def test_a_real_run_on_a_terminal(tmp_path: Path) -> None:
    """10,000 calls a second, watched: records, what was not drawn, the footer, the summary,
    every record in --record, and rich never imported by the process that runs the loop."""
    (tmp_path / "s.toml").write_text(
        '[[call]]\nname = "tick"\nsoon = true\nevery = 0.0001\n'
        'count = 5000\ncallback = "echo"\nargs = ["tick"]\n'
    )
    term = Terminal(["run", "s.toml", "--record", "rec.jsonl"], tmp_path)
    try:
        code = term.finish()
    finally:
        term.kill()
    text = term.text
    assert code == 0, text[-500:]
    assert "# timerctl run s.toml" in text and "more calls not drawn" in text
    # the live footer is not asserted here: a loaded machine may finish 0.5 s of calls before the
    # display's first frame; test_ctrl_c_on_a_terminal_still_draws_the_summary waits for it
    assert "run done" in text and "lateness" in text and "timeline" in text
    assert "Traceback" not in text
    records = [json.loads(line) for line in (tmp_path / "rec.jsonl").read_text().splitlines()]
    assert sum(r["event"] == "call" for r in records) == 5000


def test_the_loop_process_does_not_import_rich_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('[[call]]\nsoon = true\ncallback = "echo"\n')
    (tmp_path / "norich.py").write_text(NO_RICH)
    mark = tmp_path / "mark"
    master, slave = pty.openpty()
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--plugin", "norich"],
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        timeout=20,
        env=clean_env(PYTHONPATH=str(tmp_path), MARK=str(mark)),
    )
    os.close(slave)
    os.close(master)
    assert proc.returncode == 0
    assert mark.read_text() == "False"


def test_a_run_on_a_terminal_ends_while_the_machine_is_busy(tmp_path: Path) -> None:
    """Every CPU busy with work of the run's own session (a build started beside it in the same
    shell): the display still gets its share and draws the end. At SCHED_IDLE it got none: the
    run never ended, waiting for the summary. (Not ``Terminal``: its session of its own would be
    scheduled apart from the busy work.)"""
    (tmp_path / "s.toml").write_text('[[call]]\nsoon = true\ncallback = "echo"\n')
    cpus = min(len(os.sched_getaffinity(0)), 8)
    spin = "import os; os.write(1, b'.'); os.close(1)\nwhile True: pass"
    hogs = [
        subprocess.Popen([sys.executable, "-c", spin], stdout=subprocess.PIPE) for _ in range(cpus)
    ]
    master, slave = pty.openpty()
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: drain(master, got), daemon=True)
    try:
        for hog in hogs:  # every one of them spinning before the run starts
            assert hog.stdout is not None and hog.stdout.read() == b"."
        reader.start()
        proc = subprocess.run(
            [TIMERCTL, "run", "s.toml"],
            stdout=slave,
            stderr=slave,
            cwd=tmp_path,
            timeout=20,
            env=clean_env(COLUMNS="120", LINES="40"),
        )
    finally:
        os.close(slave)
        for hog in hogs:
            hog.kill()
            hog.wait()
            assert hog.stdout is not None
            hog.stdout.close()
    reader.join(5)
    os.close(master)
    text = b"".join(got).decode(errors="replace")
    assert proc.returncode == 0, text[-500:]
    assert "run done" in text


def test_ctrl_c_on_a_terminal_still_draws_the_summary(tmp_path: Path) -> None:
    """Ctrl-C reaches the display process too: it ignores it and draws the end it is sent."""
    (tmp_path / "s.toml").write_text(
        '[[call]]\nname = "tick"\nsoon = true\nevery = 0.0002\ncallback = "echo"\nargs = ["tick"]\n'
    )
    term = Terminal(["run", "s.toml"], tmp_path)
    try:
        term.wait_for("Ctrl-C stops")
        os.killpg(term.proc.pid, signal.SIGINT)
        code = term.finish()
    finally:
        term.kill()
    assert code == 130
    assert "run interrupted" in term.text and "exit code" in term.text
    assert "Traceback" not in term.text and "KeyboardInterrupt" not in term.text


def test_a_second_ctrl_c_on_a_terminal_exits_at_once(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(
        '[[call]]\nname = "tick"\nsoon = true\nevery = 0.01\n'
        'callback = "echo"\nargs = ["tick"]\n\n'
        '[[call]]\nname = "block"\nlater = 0.3\n'
        'callback = "sleep"\nargs = [30]\n'
    )
    term = Terminal(["run", "s.toml"], tmp_path)
    try:
        term.wait_for("Ctrl-C stops")
        pid = term.proc.pid
        wait_until(lambda: "nanosleep" in kernel_wait(pid), what="the loop blocked (for 30 s)")
        os.killpg(pid, signal.SIGINT)
        wait_until(lambda: not signal_pending(pid, signal.SIGINT), what="the first delivered")
        os.killpg(pid, signal.SIGINT)
        code = term.finish(timeout=10)  # well before the 30 s the callback still had to go
    finally:
        term.kill()
    assert code == 130
    assert "run interrupted" not in term.text  # it exited at once, not by a finished run
    assert "Traceback" not in term.text


def test_the_display_process_leaves_when_timerctl_is_killed(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(
        '[[call]]\nname = "tick"\nsoon = true\nevery = 0.001\ncallback = "echo"\nargs = ["tick"]\n'
    )
    term = Terminal(["run", "s.toml"], tmp_path)
    try:
        term.wait_for("Ctrl-C stops")
        term.proc.kill()  # SIGKILL to timerctl only: the display reads end-of-file
        term.proc.wait()
        assert term.closed.wait(5), "the display process outlived timerctl"
    finally:
        term.kill()


def test_a_display_started_for_nothing_ends_with_nothing_drawn(tmp_path: Path) -> None:
    """The display starts while the schedule loads; an invalid schedule ends it, unseen."""
    (tmp_path / "bad.toml").write_text('[[call]]\nsoon = true\ncallback = "ecoh"\n')
    term = Terminal(["run", "bad.toml"], tmp_path)
    try:
        code = term.finish()
    finally:
        term.kill()
    assert code == 2
    assert "unknown callback 'ecoh'" in term.text
    assert "\x1b[" not in term.text  # nothing drawn: no colour, no cursor hidden or shown
