"""Every format alike: choosing one, data that is not markup, encodings, closed pipes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from helpers import (
    MARKUP,
    WALL,
    Run,
    render,
    run_virtual,
)
from helpers import render_jsonl as jsonl

from timerctl.errors import OutputClosed
from timerctl.events import CallRecord, Cancelled, End, ErrorInfo, Start
from timerctl.render import RENDERERS, RenderOptions, choose, is_terminal, make
from timerctl.render.jsonl import JsonlRenderer
from timerctl.render.plain import PlainRenderer

pytestmark = pytest.mark.usefixtures("no_colour_env")


def test_markup_and_emoji_codes_are_data_in_every_format(run: Run) -> None:
    plain = render("plain", run.events)
    assert f"echo('{MARKUP}')" in plain and plain.count(MARKUP) == 2
    objs = jsonl(run.events)
    greet = next(o for o in objs if o.get("entry") == "greet")
    assert greet["args"] == [MARKUP] and greet["result"] == MARKUP
    rich = render("rich", run.events)
    assert f"echo('{MARKUP}')" in rich and rich.count(MARKUP) == 2
    assert "😄" not in plain + rich


@pytest.mark.parametrize("fmt", ["plain", "rich", "jsonl"])
@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_stdout_that_cannot_encode_the_data_gets_escapes_not_a_crash(
    fmt: str, encoding: str
) -> None:
    run = run_virtual('[[call]]\nsoon = true\ncallback = "echo"\nargs = ["caf\u00e9 \U0001f604"]\n')
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, write_through=True)
    sink = make(fmt, stream, RenderOptions())
    for event in run.events:
        sink(event)
    out = raw.getvalue().decode(encoding)
    if fmt == "jsonl":  # JSON escapes non-ASCII itself: the data survives exactly
        results = [json.loads(line).get("result") for line in out.splitlines()]
        assert "caf\u00e9 \U0001f604" in results
        return
    assert "\\U0001f604" in out
    assert ("café" if encoding == "latin-1" else "caf\\xe9") in out


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
    code = (
        "import io, sys; from timerctl.render import make, RenderOptions; "
        "[make(f, io.StringIO(), RenderOptions()) for f in ('plain', 'jsonl')]; "
        "print('rich' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class ClosedPipe(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def _events() -> Iterator[object]:
    yield Start("s.toml", "asyncio", "virtual", 0.0, WALL, 1e-9, 1)
    yield CallRecord(1, "e", "soon", "echo", ("a",), {}, 1, 0.0, 0.0, 0.0, WALL, 0.0, 0.0, "a")
    yield CallRecord(
        2,
        "f",
        "soon",
        "fail",
        (),
        {},
        1,
        0.0,
        0.0,
        0.0,
        WALL,
        0.0,
        0.0,
        error=ErrorInfo("RuntimeError", "x"),
    )
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
