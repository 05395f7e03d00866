"""The core's own use of the standard streams, without click: its lines on stderr, and a
stdout whose reader went away made quiet.

``echo_err`` writes the bytes ``click.echo(message, err=True)`` wrote before, so that moving the
core off click changes nothing on stderr: ANSI styles stripped unless stderr is a terminal, one
newline, flushed at once; and where click would not trust the text layer (no encoding, or ASCII,
as with ``PYTHONIOENCODING=ascii``) UTF-8 straight to the binary buffer, as click does.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from typing import IO, Any

#: click's strip_ansi pattern (click/_compat.py): CSI sequences, the styles a message may carry
_ANSI = re.compile(r"\033\[[0-?]*[ -/]*[@-~]")


def _is_tty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except Exception:  # a closed or odd stream is no terminal, as click's isatty() has it
        return False


def _utf8_buffer(stream: IO[Any]) -> IO[bytes] | None:
    """The binary buffer click.echo writes UTF-8 to instead of a text layer it does not trust
    (click's _force_correct_text_writer), or None to write to ``stream`` itself."""
    encoding = getattr(stream, "encoding", None)
    if encoding is not None and getattr(stream, "errors", None) is not None:
        try:
            if codecs.lookup(encoding).name != "ascii":
                return None
        except LookupError:
            return None
    buffer = getattr(stream, "buffer", None)
    return buffer if buffer is not None and _is_binary_writer(buffer) else None


def _is_binary_writer(stream: Any) -> bool:
    try:
        stream.write(b"")
    except Exception:
        try:
            stream.write("")
            return False
        except Exception:
            return True  # (closed, say: click assumes a buffer is binary)
    return True


def echo_err(message: str) -> None:
    """Write one line to stderr, as ``click.echo(message, err=True)`` does."""
    stream = sys.stderr
    if stream is None:  # no stderr at all (pythonw): nowhere to say it
        return
    text = message + "\n"
    if not _is_tty(stream):
        text = _ANSI.sub("", text)
    buffer = _utf8_buffer(stream)
    if buffer is None:
        stream.write(text)
        stream.flush()
    else:
        buffer.write(text.encode("utf-8", "replace"))
        buffer.flush()


def quiet_stdout() -> None:
    """After the reader closed our stdout, point it at /dev/null so exit flushes stay silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
