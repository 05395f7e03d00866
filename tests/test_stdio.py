"""stdio.py: the core's stderr lines, byte for byte what ``click.echo(..., err=True)`` wrote."""

from __future__ import annotations

import io
import os
import select
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

import click
import pytest

from timerctl.stdio import echo_err

MESSAGES = [
    "timerctl: boom call 1 failed: RuntimeError: on purpose",
    "timerctl: x call 2 failed: E: \x1b[31mred\x1b[0m and \x1b[1;4mbold\x1b[m",  # styles
    "timerctl: \x1b]0;title\x07 an OSC is no style: kept",
    "timerctl: héllo ✖ \udcff",  # non-ASCII, and a lone surrogate (a bytes path's)
    "",
]


def pipe_stream(encoding: str) -> tuple[IO[str], Callable[[], bytes]]:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="backslashreplace")
    return stream, raw.getvalue


def tty_stream() -> Iterator[tuple[IO[str], Callable[[], bytes]]]:
    if not hasattr(os, "openpty"):
        pytest.skip("no pseudo-terminals here")
    master, slave = os.openpty()
    stream = open(slave, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115

    def read() -> bytes:
        # Every line written ends in a newline (the terminal's \r\n): read until it is there,
        # since the terminal may hand the bytes over in more than one piece.
        out = b""
        while not out.endswith(b"\n") and select.select([master], [], [], 10)[0]:
            out += os.read(master, 65536)
        return out

    try:
        yield stream, read
    finally:
        stream.close()
        os.close(master)


def written(
    say: Callable[[str], Any], message: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> bytes:
    if kind == "tty":
        streams = tty_stream()
        stream, read = next(streams)
    elif kind == "stringio":
        stream = io.StringIO()

        def read() -> bytes:
            return stream.getvalue().encode("utf-8", "surrogateescape")
    else:
        stream, read = pipe_stream(kind)
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", stream)
        say(message)
    out = read()
    if kind == "tty":
        next(streams, None)
    return out


@pytest.mark.parametrize("kind", ["utf-8", "ascii", "latin-1", "stringio", "tty"])
@pytest.mark.parametrize("message", MESSAGES)
def test_echo_err_writes_what_click_echo_wrote(
    kind: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = written(echo_err, message, kind, monkeypatch)
    clicks = written(lambda m: click.echo(m, err=True), message, kind, monkeypatch)
    assert ours == clicks


def test_styles_are_stripped_off_a_pipe_kept_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = "a \x1b[31mred\x1b[0m word"
    assert written(echo_err, message, "utf-8", monkeypatch) == b"a red word\n"
    if hasattr(os, "openpty"):
        assert written(echo_err, message, "tty", monkeypatch).startswith(b"a \x1b[31mred")


def test_no_stderr_at_all_is_nowhere_to_say_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", None)
    echo_err("lost")  # no AttributeError
