"""Schedule bytes: read with a size bound, then decoded as UTF-8 text (an optional BOM).

Everything here is about bytes, before any TOML: what cannot be text is refused with its
position, so the parser only ever sees a str it can read.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

from ..errors import Problem, ScheduleError

STDIN = "-"
STDIN_NAME = "<stdin>"

#: a larger file is refused before it is read (a schedule of 100,000 entries is ~6 MB)
MAX_BYTES = 64 * 1024 * 1024


def _fail(path: str, message: str, line: int = 0, col: int | None = None) -> ScheduleError:
    return ScheduleError(path, [Problem(path, line, col, message)])


def _too_big(path: str, size: int) -> ScheduleError:
    return _fail(path, f"file is over {MAX_BYTES} bytes ({size}); a schedule that large is refused")


def _read_limited(stream: BinaryIO, path: str) -> bytes:
    # Bounded: /dev/zero, or an endless pipe, has no size to check beforehand.
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _too_big(path, len(data))
    return data


def read_source(path: str) -> tuple[bytes, str]:
    """The bytes of a schedule and the name to show for it (``-`` is stdin)."""
    if path == STDIN:
        if sys.stdin is None:  # started with <&-
            raise _fail(STDIN_NAME, "stdin is closed")
        return _read_limited(sys.stdin.buffer, STDIN_NAME), STDIN_NAME
    try:
        if os.path.isdir(path):
            raise _fail(path, "is a directory, not a schedule")
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise _too_big(path, size)
        with open(path, "rb") as f:
            return _read_limited(f, path), path
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except OSError as exc:
        raise _fail(path, exc.strerror or str(exc)) from None
    except ValueError as exc:  # a NUL in the path (from the API; argv cannot hold one)
        raise _fail(path, str(exc)) from None


def position(text: str, offset: int) -> tuple[int, int]:
    """Line and column (both from 1, columns in characters) of an offset into text."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def decode(data: bytes, path: str) -> str:
    """UTF-8 text without its BOM; a located error for bytes that are not, or for a NUL."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # positions below are then those an editor shows, after the BOM
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            msg = "this is UTF-16 text (it starts with a UTF-16 BOM); a schedule must be UTF-8"
            raise _fail(path, msg, 1, 1) from None
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        # a column counts characters; everything before exc.start is valid UTF-8
        col = len(data[line_start : exc.start].decode("utf-8")) + 1
        msg = f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); a schedule must be UTF-8 text"
        raise _fail(path, msg, line, col) from None
    return text


def check_text(text: str, path: str) -> None:
    """A NUL means binary data: say so, rather than the parser's "invalid boolean"."""
    nul = text.find("\x00")
    if nul >= 0:
        line, col = position(text, nul)
        raise _fail(path, "NUL byte: a schedule must be text, not binary data", line, col)
