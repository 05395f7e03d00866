"""Renderers: plain columns, jsonl keys (SPEC §4), rich without markup, closed pipes."""

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
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import TIMERCTL, Run, clean_env, registry_with, run_virtual

from timerctl.errors import OutputClosed
from timerctl.events import CallRecord, Cancelled, End, ErrorInfo, Start, iso
from timerctl.render import RENDERERS, RenderOptions, choose, is_terminal, live, make
from timerctl.render.jsonl import JsonlRenderer
from timerctl.render.plain import PlainRenderer
from timerctl.render.rich import RichRenderer
from timerctl.render.text import result_text

MARKUP = "[red]x[/red] :smile:"
WALL = 1_800_000_000.0  # 2027-01-15T08:00:00Z

SCHEDULE = f"""
    [[call]]
    name = "greet"
    soon = true
    callback = "echo"
    args = ["{MARKUP}"]

    [[call]]
    name = "seed"
    later = 0.1
    callback = "callback"
    args = [2]
    kwargs = {{ kwarg = "not default" }}

    [[call]]
    name = "boom"
    later = 0.2
    callback = "fail"
    args = ["kaput"]

    [[call]]
    name = "tick"
    later = 0.05
    every = 0.1
    count = 5
    callback = "echo"
    args = ["tick"]

    [[call]]
    name = "killer"
    later = 0.3
    callback = "cancel"
    args = ["tick"]
"""


@pytest.fixture(autouse=True)
def no_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture(scope="module")
def run() -> Run:
    return run_virtual(SCHEDULE, wall_clock=lambda: WALL)


def render(fmt: str, events: list, **options) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    sink = make(fmt, buf, RenderOptions(**options))
    for event in events:
        sink(event)
    return buf.getvalue()


# -- plain ---------------------------------------------------------------------------------------

def test_plain_header_columns_records_summary(run: Run) -> None:
    out = render("plain", run.events, name_width=6, call_width=34)
    lines = out.splitlines()
    assert lines[0].startswith("# timerctl run s.toml · 5 entries · loop asyncio · clock virtual")
    assert lines[1] == f"# t0: loop 0.000000 = wall {iso(WALL)} (simulated)"
    header = lines[2]
    for column in ("T", "loop", "wall (simulated)", "late(ms)", "entry", "call", "result"):
        assert column in header
    records = [line for line in lines[3:] if not line.startswith("#")]
    assert len(records) == len(run.records)
    assert lines[-1] == (
        "# done: 7 calls, 1 failed, 2 cancelled in 0.300s · late p50 0.000ms p99 0.000ms "
        "max 0.000ms · exit 1"
    )


def test_plain_columns_line_up(run: Run) -> None:
    lines = render("plain", run.events, name_width=6, call_width=34).splitlines()
    header = lines[2]
    records = [line for line in lines[3:] if not line.startswith("#")]
    for name in ("entry", "call", "result"):
        col = header.index(name)
        for line in records:
            assert line[col - 1] == " " and line[col] != " ", (name, line)
    wall_col = header.index("wall")
    for line, rec in zip(records, run.records, strict=True):
        assert line[wall_col:].startswith(iso(rec.wall_time))


def test_plain_record_fields(run: Run) -> None:
    lines = render("plain", run.events, name_width=6, call_width=34).splitlines()
    seed = next(line for line in lines if " seed " in line)
    assert seed.split()[:2] == ["0.100000", "0.100000"]
    assert "callback(2, kwarg='not default')" in seed
    assert seed.endswith("callback invoked with 2 and not default")
    boom = next(line for line in lines if " boom " in line)
    assert boom.endswith("! RuntimeError: kaput")
    assert "# cancelled 2 calls of tick (by killer) at T+0.300000" in lines


def test_plain_no_summary(run: Run) -> None:
    out = render("plain", run.events, summary=False)
    assert "# done" not in out and "exit 1" not in out


def test_plain_lesson_lines_are_comments(run: Run) -> None:
    out = render("plain", run.events, lesson="one\ntwo")
    assert out.endswith("# one\n# two\n")


def test_plain_control_characters_stay_on_one_line() -> None:
    run = run_virtual('[[call]]\nsoon = true\ncallback = "echo"\nargs = ["a\\nb\\u001b[31mc\\r"]\n')
    out = render("plain", run.events)
    assert "\x1b" not in out and "\r" not in out
    (line,) = [line for line in out.splitlines() if "echo(" in line]
    assert line.endswith("a\\nb\\u001b[31mc\\r")


# -- jsonl ---------------------------------------------------------------------------------------

START_KEYS = {"event", "schedule", "loop_impl", "clock", "loop_t0", "wall_t0",
              "clock_resolution", "calls"}
CALL_KEYS = {"event", "seq", "entry", "kind", "callback", "args", "kwargs", "n", "due",
             "loop_time", "t", "wall_time", "late", "duration"}
END_KEYS = {"event", "reason", "calls", "failed", "cancelled", "late_p50", "late_p99",
            "late_max", "duration", "exit_code"}
ISO_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$")


def jsonl(events: list) -> list[dict]:  # type: ignore[type-arg]
    out = render("jsonl", events)
    assert out.endswith("\n")
    return [json.loads(line) for line in out.splitlines()]


def test_jsonl_every_line_is_an_object_with_the_published_keys(run: Run) -> None:
    objs = jsonl(run.events)
    assert len(objs) == len(run.events)
    start, *middle, end = objs
    assert start["event"] == "start" and end["event"] == "end"
    # SPEC §4 keys, plus speed, precision and selector (added; a key once published stays)
    assert set(start) == START_KEYS | {"speed", "precision", "selector", "seed"}
    assert set(end) >= END_KEYS
    calls = [o for o in middle if o["event"] == "call"]
    assert len(calls) == len(run.records)
    for call in calls:
        extra = set(call) - CALL_KEYS
        assert set(call) >= CALL_KEYS
        assert extra in ({"result"}, {"error"}), extra  # result XOR error
    assert {o["event"] for o in middle} == {"call", "cancel"}


def test_jsonl_values(run: Run) -> None:
    start, *middle, end = jsonl(run.events)
    assert start["schedule"] == "s.toml" and start["clock"] == "virtual"
    assert start["loop_impl"] == "asyncio" and start["calls"] == 5
    assert start["wall_t0"] == iso(WALL) and ISO_MICROS.match(start["wall_t0"])
    calls = [o for o in middle if o["event"] == "call"]
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    for c in calls:
        assert c["t"] == pytest.approx(c["loop_time"] - start["loop_t0"], abs=1e-12)
        assert c["late"] == pytest.approx(c["loop_time"] - c["due"], abs=1e-9)
        assert ISO_MICROS.match(c["wall_time"])
    seed = next(c for c in calls if c["entry"] == "seed")
    assert seed["args"] == [2] and seed["kwargs"] == {"kwarg": "not default"}
    assert seed["kind"] == "later" and seed["callback"] == "callback"
    assert seed["result"] == "callback invoked with 2 and not default"
    boom = next(c for c in calls if c["entry"] == "boom")
    assert boom["error"] == {"type": "RuntimeError", "message": "kaput"}
    ticks = [c["n"] for c in calls if c["entry"] == "tick"]
    assert ticks == [1, 2, 3]
    (cancel,) = [o for o in middle if o["event"] == "cancel"]
    assert (cancel["entry"], cancel["count"], cancel["by"]) == ("tick", 2, "killer")
    assert (end["reason"], end["calls"], end["failed"], end["cancelled"], end["exit_code"]) == (
        "done", 7, 1, 2, 1)
    assert end["late_max"] == 0 and end["duration"] == pytest.approx(0.3)


def test_jsonl_values_that_json_cannot_carry_become_strings() -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    def odd(kind: str) -> object:
        return {"nan": float("nan"), "inf": float("-inf"), "set": {1}, "bytes": b"\xff",
                "thing": Thing(), "nested": {1: (1.5, None, True)}}[kind]

    reg = registry_with(odd=odd)
    text = "".join(f'[[call]]\nsoon = true\ncallback = "odd"\nargs = ["{k}"]\n'
                   for k in ("nan", "inf", "set", "bytes", "thing", "nested"))
    results = [o["result"] for o in jsonl(run_virtual(text, registry=reg).events)
               if o["event"] == "call"]
    assert results == ["nan", "-inf", "{1}", "b'\\xff'", "a thing", {"1": [1.5, None, True]}]


def test_jsonl_wall_times_in_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        wall = datetime(2030, 1, 15, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
        start, first, _end = jsonl(run_virtual('[[call]]\nlater = 0.1\ncallback = "echo"\n',
                                               wall_clock=lambda: wall).events)
        assert start["wall_t0"] == "2030-01-15T12:00:00.000000+01:00"
        assert first["wall_time"] == "2030-01-15T12:00:00.100000+01:00"
    finally:
        monkeypatch.undo()
        time.tzset()


# -- data verbatim -------------------------------------------------------------------------------

def test_markup_and_emoji_codes_are_data_in_every_format(run: Run) -> None:
    plain = render("plain", run.events)
    assert f"echo('{MARKUP}')" in plain and plain.count(MARKUP) == 2
    objs = jsonl(run.events)
    greet = next(o for o in objs if o.get("entry") == "greet")
    assert greet["args"] == [MARKUP] and greet["result"] == MARKUP
    rich = render("rich", run.events)
    assert f"echo('{MARKUP}')" in rich and rich.count(MARKUP) == 2
    assert "😄" not in plain + rich


def test_rich_keeps_data_verbatim_even_with_colour(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = render("rich", run.events)
    assert "\x1b[" in out  # styled ...
    assert out.count(MARKUP) == 2 and "😄" not in out  # ... but the data is not markup


def test_rich_recorded_console_text(run: Run) -> None:
    sink = RichRenderer(io.StringIO(), RenderOptions(extra={"export": True}))
    for event in run.events:
        sink(event)
    text = sink.console.export_text()
    assert text.count(MARKUP) == 2
    assert "callback invoked with 2 and not default" in text
    assert "! RuntimeError: kaput" in text


def test_rich_on_a_non_terminal_writes_no_ansi(run: Run) -> None:
    out = render("rich", run.events)
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0].startswith("# timerctl run s.toml")
    assert "run done" in out and "exit code" in out and "lateness" in out


def test_rich_records_are_not_wrapped(run: Run) -> None:
    long = "x" * 300
    extra = run_virtual(f'[[call]]\nsoon = true\ncallback = "echo"\nargs = ["{long}"]\n')
    out = render("rich", extra.events)
    assert any(line.endswith(long) for line in out.splitlines())


@pytest.mark.parametrize("fmt", ["plain", "rich", "jsonl"])
@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_stdout_that_cannot_encode_the_data_gets_escapes_not_a_crash(
    fmt: str, encoding: str
) -> None:
    run = run_virtual('[[call]]\nsoon = true\ncallback = "echo"\nargs = ["caf\u00e9 \U0001F604"]\n')
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, write_through=True)
    sink = make(fmt, stream, RenderOptions())
    for event in run.events:
        sink(event)
    out = raw.getvalue().decode(encoding)
    if fmt == "jsonl":  # JSON escapes non-ASCII itself: the data survives exactly
        results = [json.loads(line).get("result") for line in out.splitlines()]
        assert "caf\u00e9 \U0001F604" in results
        return
    assert "\\U0001f604" in out
    assert ("café" if encoding == "latin-1" else "caf\\xe9") in out


# -- choosing ------------------------------------------------------------------------------------

def test_auto_is_plain_off_a_terminal() -> None:
    assert choose("auto", io.StringIO()) == "plain"
    assert choose("jsonl", io.StringIO()) == "jsonl"
    assert isinstance(make("auto", io.StringIO(), RenderOptions()), PlainRenderer)
    assert isinstance(make("jsonl", io.StringIO(), RenderOptions()), JsonlRenderer)
    assert set(RENDERERS) == {"plain", "jsonl", "rich"}


def test_auto_is_rich_on_a_terminal_unless_term_is_dumb(monkeypatch: pytest.MonkeyPatch) -> None:
    master, slave = os.openpty()
    try:
        with open(slave, "w", closefd=False) as tty:
            assert is_terminal(tty) and choose("auto", tty) == "rich"
            monkeypatch.setenv("TERM", "dumb")
            assert not is_terminal(tty) and choose("auto", tty) == "plain"
    finally:
        os.close(master)
        os.close(slave)


def test_plain_and_jsonl_do_not_import_rich() -> None:
    code = ("import io, sys; from timerctl.render import make, RenderOptions; "
            "[make(f, io.StringIO(), RenderOptions()) for f in ('plain', 'jsonl')]; "
            "print('rich' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# -- a reader that went away ---------------------------------------------------------------------

class ClosedPipe(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def _events() -> Iterator[object]:
    yield Start("s.toml", "asyncio", "virtual", 0.0, WALL, 1e-9, 1)
    yield CallRecord(1, "e", "soon", "echo", ("a",), {}, 1, 0.0, 0.0, 0.0, WALL, 0.0, 0.0, "a")
    yield CallRecord(2, "f", "soon", "fail", (), {}, 1, 0.0, 0.0, 0.0, WALL, 0.0, 0.0,
                     error=ErrorInfo("RuntimeError", "x"))
    yield Cancelled("e", 1, "stopped", 0.0, at_end=True)
    yield End("stopped", 2, 1, 1, 0.0, 0.0, 0.0, 0.0, 1)


@pytest.mark.parametrize("fmt", ["plain", "jsonl", "rich"])
@pytest.mark.parametrize("which", range(5))
def test_broken_pipe_becomes_output_closed(fmt: str, which: int) -> None:
    event = list(_events())[which]
    sink = make(fmt, ClosedPipe(), RenderOptions())
    with pytest.raises(OutputClosed):
        sink(event)


def test_rich_closed_pipe_leaves_the_real_stdout_alone() -> None:
    # rich's default on_broken_pipe would dup2 /dev/null onto fd 1 and raise SystemExit(1)
    before = os.fstat(1)
    sink = make("rich", ClosedPipe(), RenderOptions())
    with pytest.raises(OutputClosed):
        sink(next(_events()))
    after = os.fstat(1)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


def test_jsonl_fast_call_line_is_the_published_form() -> None:
    # the hot path formats call records by hand: it must give exactly what to_dict gives
    import json as _json

    from timerctl.events import CallRecord
    from timerctl.render import RenderOptions
    from timerctl.render.jsonl import JsonlRenderer, _dumps, to_dict

    renderer = JsonlRenderer(io.StringIO(), RenderOptions())
    for result in ("x", 'q"\n\u00e9', None, 3, 2.5, [1, {"a": (1, 2)}], object()):
        for late in (0.0, -0.0, 1e-7, 123.456789012345, 1e-300):
            r = CallRecord(seq=7, entry="e[red]", kind="later", callback="echo",
                           args=(1, "a", 2.5), kwargs={"sep": ","}, n=3, due=1.1,
                           loop_time=1.1 + late, t=0.3, wall_time=1795732178.763399,
                           late=late, duration=2e-6, result=result)
            line = renderer.call_line(r)
            assert line == _dumps(to_dict(r)) + "\n"
            assert _json.loads(line)["late"] == late


# -- rich on a terminal during a real run: a display process draws -------------------------------

def test_the_fast_plain_record_is_the_rich_record_as_text(run: Run) -> None:
    # into a file a rich record is written without building a Text: the same characters
    sink = RichRenderer(io.StringIO(), RenderOptions(name_width=6, call_width=34))
    sink(run.start)
    for r in run.records:
        parts = sink.parts(r.t, r.loop_time, r.wall_time, r.late, r.entry, r.describe(),
                           result_text(r), r.failed)
        assert "".join(p for p, _ in parts) == sink.record(r).plain


def live_events(run: Run) -> list:  # type: ignore[type-arg]
    """The run's events as a real run's: what makes make() choose the display process."""
    return [dataclasses.replace(e, clock="real") if isinstance(e, Start) else e
            for e in run.events]


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
        monkeypatch.setattr(live._Process, "spawn", classmethod(lambda cls, s: None))
    out = tmp_path / "out.txt"
    with open(out, "w") as stream:
        sink = live.LiveRenderer(stream, RenderOptions(lesson="a lesson"))
        assert isinstance(sink._display, live._Process if where == "process" else live._InProcess)
        for event in events:
            sink(event)
    assert out.read_text() == expected.getvalue()
    assert "run done" in expected.getvalue() and "a lesson" in expected.getvalue()


@pytest.mark.parametrize("where", ["process", "thread"])
def test_the_display_coalesces_what_nobody_can_read_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    run = run_virtual('[[call]]\nname = "fast"\nsoon = true\nevery = 0.00001\ncount = 5000\n'
                      'callback = "echo"\nargs = ["x"]\n')  # 5,000 calls in 50 ms
    if where == "thread":
        monkeypatch.setattr(live._Process, "spawn", classmethod(lambda cls, s: None))
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
    code = ("import os, sys; from timerctl.render import make, RenderOptions; "
            "m, s = os.openpty(); tty = open(s, 'w'); "
            "r = make('rich', tty, RenderOptions(extra={'clock': 'real'})); "
            "print(type(r).__name__, type(r._display).__name__, 'rich' in sys.modules); "
            "r.close()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=clean_env(), check=True, timeout=20)
    assert out.stdout.split() == ["LiveRenderer", "_Process", "False"]
    assert out.stderr == ""


class Terminal:
    """``timerctl ARGS`` on a pseudo-terminal (stdin, stdout, stderr), in a session of its own:
    what a person at a terminal runs; ``os.killpg`` is their Ctrl-C."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen([TIMERCTL, *args], stdin=slave, stdout=slave, stderr=slave,
                                     cwd=cwd, env=clean_env(COLUMNS="120", LINES="40"),
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.chunks: list[bytes] = []
        self.closed = threading.Event()  # every process holding the terminal has exited
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: nobody holds the terminal any more
                break
            if not chunk:
                break
            self.chunks.append(chunk)
        self.closed.set()

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def wait_for(self, needle: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert time.monotonic() < deadline, f"never came: {needle!r}; got {self.text[-300:]}"
            time.sleep(0.02)

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
    (tmp_path / "s.toml").write_text('[[call]]\nname = "tick"\nsoon = true\nevery = 0.0001\n'
                                     'count = 5000\ncallback = "echo"\nargs = ["tick"]\n')
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
    proc = subprocess.run([TIMERCTL, "run", "s.toml", "--plugin", "norich"], stdout=slave,
                          stderr=slave, cwd=tmp_path, timeout=20,
                          env=clean_env(PYTHONPATH=str(tmp_path), MARK=str(mark)))
    os.close(slave)
    os.close(master)
    assert proc.returncode == 0
    assert mark.read_text() == "False"


def test_ctrl_c_on_a_terminal_still_draws_the_summary(tmp_path: Path) -> None:
    """Ctrl-C reaches the display process too: it ignores it and draws the end it is sent."""
    (tmp_path / "s.toml").write_text('[[call]]\nname = "tick"\nsoon = true\nevery = 0.0002\n'
                                     'callback = "echo"\nargs = ["tick"]\n')
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
    (tmp_path / "s.toml").write_text('[[call]]\nname = "tick"\nsoon = true\nevery = 0.01\n'
                                     'callback = "echo"\nargs = ["tick"]\n\n'
                                     '[[call]]\nname = "block"\nlater = 0.3\n'
                                     'callback = "sleep"\nargs = [30]\n')
    term = Terminal(["run", "s.toml"], tmp_path)
    try:
        term.wait_for("Ctrl-C stops")
        time.sleep(0.5)  # the loop is blocked by now (for 30 s)
        os.killpg(term.proc.pid, signal.SIGINT)
        time.sleep(0.2)
        sent = time.monotonic()
        os.killpg(term.proc.pid, signal.SIGINT)
        code = term.finish(timeout=5)
    finally:
        term.kill()
    assert code == 130
    assert time.monotonic() - sent < 2
    assert "Traceback" not in term.text


def test_the_display_process_leaves_when_timerctl_is_killed(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('[[call]]\nname = "tick"\nsoon = true\nevery = 0.001\n'
                                     'callback = "echo"\nargs = ["tick"]\n')
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
