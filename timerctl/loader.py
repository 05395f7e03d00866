"""TOML text -> Schedule, collecting every problem of a file with the line it is on.

tomllib gives values but no positions, so a small scanner (``_Index``) finds where each
``[[call]]`` table (or inline ``{...}`` entry of ``call = [...]``) and each of its keys starts;
validation then reports ``FILE:LINE:COL`` for each problem. Several tomllib failure modes are not
TOMLDecodeError (deep nesting, huge integers, bad UTF-8): each is caught here and located, so no
user input ever ends in a traceback.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from itertools import accumulate, chain, repeat
from operator import add, attrgetter
from typing import Any, BinaryIO

from .columns import build as build_columns
from .errors import PluginError, Problem, ScheduleError
from .limits import (
    CALL_KEYS,
    CONTROLS,
    INT_MAX,
    INT_MIN,
    MAX_SECONDS,
    REPEAT_KEYS,
    RUN_KEYS,
    TIMESTAMP_LIKE,
    TIMING_KEYS,
    TOP_KEYS,
)
from .registry import REGISTRY, Registry, suggest
from .schedule import Call, Kind, LoopImpl, Mode, Repeat, RunConfig, Schedule

STDIN = "-"
STDIN_NAME = "<stdin>"

#: a larger file is refused before it is read
MAX_BYTES = 64 * 1024 * 1024

#: tomllib needs about a second per MiB: a larger text is read only by the fast path (the simple
#: form generated schedules use), else refused, so that any input is answered promptly
TOMLLIB_MAX_CHARS = 1024 * 1024


# -- showing user values in messages --------------------------------------------------------------


def _one_line(text: str) -> str:
    """Escape control characters: one problem stays one line, and cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _q(text: str) -> str:
    """A user-given name, quoted for a message."""
    return f"'{_clip(_one_line(text))}'"


def _show(value: Any) -> str:
    """A value as it was written in TOML (short), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # str() refuses over 4300 digits; such a number means nothing to a reader anyway
        return str(value) if value.bit_length() <= 256 else "a huge integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _q(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    return _type_name(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, dtime):
        return "a time"
    return type(value).__name__


_QUICK_KEYS = frozenset(("name", "soon", "later", "at", "callback", "args", "kwargs"))
_UNCHECKED = object()
_NO_ARGS: list[Any] = []
_NO_KWARGS: dict[str, Any] = {}
def _out_of_range(value: Any) -> bool:
    """Whether an integer outside TOML's 64-bit range is anywhere in value (walked, not recursed:
    arrays may be nested as deep as the parser allows)."""
    stack = [value]
    while stack:
        v = stack.pop()
        kind = type(v)  # exact types: the parsers make no subclasses, and bool is not int here
        if kind is int:
            if not INT_MIN <= v <= INT_MAX:
                return True
        elif kind is list:
            stack.extend(v)
        elif kind is dict:
            stack.extend(v.values())
    return False


# -- locating keys ---------------------------------------------------------------------------

_PART = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
_KEY = re.compile(rf"[ \t]*({_PART})[ \t]*[.=]")
_HEADER = re.compile(rf"[ \t]*(\[\[?)[ \t]*({_PART}(?:[ \t]*\.[ \t]*{_PART})*)[ \t]*\]")
_PARTS = re.compile(_PART)
# What moves the scanner's state within a line; everything else is skipped in bulk.
_TOKENS = r"""(?P<ml>\"\"\"|''')|(?P<str>"(?:[^"\\\n]|\\.)*"|'[^'\n]*')|(?P<comment>\#)"""
_TOKEN = re.compile(_TOKENS + r"|(?P<open>[\[{])|(?P<close>[\]}])")
_TOKEN_COMMA = re.compile(_TOKENS + r"|(?P<open>[\[{])|(?P<close>[\]}])|(?P<comma>,)")


def _unquote(key: str) -> str:
    if key[:1] == '"' and "\\" in key:  # escapes: let tomllib read them as it did the file
        import tomllib

        try:
            return next(iter(tomllib.loads(f"{key} = 0")))
        except (tomllib.TOMLDecodeError, ValueError):
            return key[1:-1]
    return key[1:-1] if key[:1] in "\"'" else key


def _ml_end(line: str, start: int, quote: str) -> int:
    """Where the multi-line string closed by ``quote`` ends in line (from start), or -1."""
    pos = start
    while True:
        i = line.find(quote, pos)
        if i < 0:
            return -1
        backslashes = 0
        while quote == '"""' and i - backslashes - 1 >= start and line[i - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2:  # an escaped quote: keep looking
            pos = i + 1
            continue
        end = i + 3
        extra = 0  # up to two more quotes belong to the content: """a""""
        while extra < 2 and end < len(line) and line[end] == quote[0]:
            end, extra = end + 1, extra + 1
        return end


@dataclass
class _Table:
    line: int
    col: int | None = None
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)

    def at(self, key: str) -> tuple[int, int | None]:
        return self.keys.get(key, (self.line, self.col))

    @property
    def where(self) -> tuple[int, int | None]:
        return (self.line, self.col)


class _LazyTable(_Table):
    """A table whose line is known, and whose keys are found only when a problem needs them.

    ``entry`` is the index of a ``[[call]]``, or None for ``[run]``.
    """

    def __init__(self, line: int, checker: _Checker, entry: int | None) -> None:
        super().__init__(line)
        self._checker = checker
        self._entry = entry

    def _table(self) -> _Table:
        index = self._checker.index
        if self._entry is None:
            return index.run or _Table(index.top.at("run")[0])
        if self._entry < len(index.calls):
            return index.calls[self._entry]
        return _Table(self.line)

    def at(self, key: str) -> tuple[int, int | None]:
        return self._table().at(key)

    @property
    def where(self) -> tuple[int, int | None]:
        return self._table().where


def _header_lines(text: str) -> list[int]:
    """The lines of ``[[call]]`` headers written alone on a line, as generated files have them
    (two headers on consecutive lines count as one: the caller checks how many it got).

    Counted per stretch between headers, not per line: a 100,000-entry file has 600,000 lines.
    """
    shift = 0 if text.startswith("\n") else -1  # the header on line 1 has no "\n" before it
    stretches = ("\n" + text if shift else text).split("\n[[call]]\n")[:-1]
    newlines = accumulate(map(str.count, stretches, repeat("\n")))
    # header k (from 1) follows k-1 headers' two newlines each, and its own: on line n + 2k
    return list(map(add, newlines, range(2 + shift, 2 * len(stretches) + 2 + shift, 2)))


def _header_lines_counted(text: str, sizes: list[int]) -> list[int] | None:
    """The lines of the ``[[call]]`` headers of a fast-path file, from how many keys each entry
    has (one a line), when its only blank lines are one before each header or none at all
    (as generators write them); None otherwise. No split: counts over the text, in C."""
    first = 0 if text.startswith("[[call]]\n") else text.find("\n[[call]]\n") + 1
    if first == 0 and not text.startswith("[[call]]\n"):
        return None
    n, blanks = len(sizes), text.count("\n\n", first)
    lines = text.count("\n", first) + (not text.endswith("\n"))  # from the first header on
    if lines != n + sum(sizes) + blanks or "\n\n\n" in text:
        return None  # comment or whitespace lines, or blank lines in a row
    if blanks and (blanks != n - 1 or text.count("\n\n[[call]]\n", first) != blanks):
        return None  # a blank line somewhere else than before a header
    step = 2 if blanks else 1  # a header, then its keys, then (maybe) a blank line
    line = text.count("\n", 0, first) + 1
    return list(accumulate(chain((line,), map(add, sizes[:-1], repeat(step)))))


@dataclass
class _Index:
    """Where things are in the text: good enough for messages, never used for values.

    Lines are split on "\\n" only, as TOML (and tomllib's line numbers) count them.
    """

    top: _Table
    run: _Table | None
    calls: list[_Table]
    deepest: tuple[int, int]  # where the most deeply nested [ or { opens

    @classmethod
    def scan(cls, text: str) -> _Index:
        top = _Table(1)
        run: _Table | None = None
        calls: list[_Table] = []
        current: _Table | None = top  # the table whose keys start lines now
        in_ml: str | None = None  # the closing quotes of the multi-line string we are in
        # open [ and {, each with the call table it is (an element of an inline `call = [...]`),
        # or "call" for that array itself
        stack: list[tuple[str, _Table | str | None]] = []
        deepest, depth_max = (1, 1), 0
        expect_call_array = False
        expect_key = False  # just after `{` or `,` of an inline call table
        for lineno, line in enumerate(text.split("\n"), 1):
            line = line.removesuffix("\r")
            pos = 0
            if in_ml:
                end = _ml_end(line, 0, in_ml)
                if end < 0:
                    continue
                in_ml, pos = None, end
            elif not stack:
                header = _HEADER.match(line)
                if header:
                    found = list(_PARTS.finditer(line, header.start(2), header.end(2)))
                    parts = [_unquote(p.group()) for p in found]
                    first = (lineno, found[0].start() + 1)
                    second = (lineno, found[1].start() + 1) if len(found) > 1 else first
                    current = None  # keys of a sub-table belong to it, not to the call
                    if parts == ["call"] and header.group(1) == "[[":
                        current = _Table(lineno)
                        calls.append(current)
                    elif parts[0] == "call" and calls and len(parts) > 1:
                        calls[-1].keys.setdefault(parts[1], second)  # [call.kwargs]
                    elif parts[0] == "run" and header.group(1) == "[":
                        top.keys.setdefault("run", first)
                        run = run or _Table(lineno)
                        if len(parts) == 1:
                            current = run
                        else:
                            run.keys.setdefault(parts[1], second)  # [run.x]
                    else:
                        top.keys.setdefault(parts[0], first)
                    pos = header.end()
                else:
                    key = _KEY.match(line)
                    if key:
                        name = _unquote(key.group(1))
                        if current is not None:
                            current.keys.setdefault(name, (lineno, key.start(1) + 1))
                        expect_call_array = current is top and name == "call"
                        pos = key.end()
            while True:
                owner = stack[-1][1] if stack else None
                if expect_key and isinstance(owner, _Table):
                    key = _KEY.match(line, pos)
                    if key:
                        owner.keys.setdefault(_unquote(key.group(1)), (lineno, key.start(1) + 1))
                        pos = key.end()
                expect_key = False
                # commas matter only between the keys of an inline call table
                token = (_TOKEN_COMMA if isinstance(owner, _Table) else _TOKEN).search(line, pos)
                if token is None or token.lastgroup == "comment":
                    break
                pos = token.end()
                kind = token.lastgroup
                if kind == "ml":
                    end = _ml_end(line, pos, token.group())
                    if end < 0:
                        in_ml = token.group()
                        break
                    pos = end
                elif kind == "open":
                    owner = None
                    if token.group() == "[" and not stack and expect_call_array:
                        owner = "call"
                    elif token.group() == "{" and len(stack) == 1 and stack[0][1] == "call":
                        owner = _Table(lineno, token.start() + 1)
                        calls.append(owner)
                        expect_key = True
                    stack.append((token.group(), owner))
                    if len(stack) > depth_max:
                        depth_max, deepest = len(stack), (lineno, token.start() + 1)
                elif kind == "close":
                    if stack:
                        stack.pop()
                elif kind == "comma":
                    expect_key = True
                expect_call_array = False
            expect_call_array = False  # a value starts on its key's line
        return cls(top, run, calls, deepest)


# -- reading and parsing ---------------------------------------------------------------------


def _too_big(path: str, size: int) -> ScheduleError:
    msg = f"file is over {MAX_BYTES} bytes ({size}); a schedule that large is refused"
    return ScheduleError(path, [Problem(path, 0, None, msg)])


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
            raise ScheduleError(STDIN_NAME, [Problem(STDIN_NAME, 0, None, "stdin is closed")])
        return _read_limited(sys.stdin.buffer, STDIN_NAME), STDIN_NAME
    try:
        if os.path.isdir(path):
            raise ScheduleError(path, [Problem(path, 0, None, "is a directory, not a schedule")])
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise _too_big(path, size)
        with open(path, "rb") as f:
            return _read_limited(f, path), path
    except FileNotFoundError:
        raise ScheduleError(path, [Problem(path, 0, None, "no such file")]) from None
    except PermissionError:
        raise ScheduleError(path, [Problem(path, 0, None, "permission denied")]) from None
    except OSError as exc:
        raise ScheduleError(path, [Problem(path, 0, None, exc.strerror or str(exc))]) from None
    except ValueError as exc:  # a NUL in the path (from the API; argv cannot hold one)
        raise ScheduleError(path, [Problem(path, 0, None, str(exc))]) from None


def _decode(data: bytes, path: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # positions below are then those an editor shows, after the BOM
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            msg = "this is UTF-16 text (it starts with a UTF-16 BOM); a schedule must be UTF-8"
            raise ScheduleError(path, [Problem(path, 1, 1, msg)]) from None
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        # a column counts characters, like tomllib's; everything before exc.start is valid UTF-8
        col = len(data[line_start : exc.start].decode("utf-8")) + 1
        msg = f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); a schedule must be UTF-8 text"
        raise ScheduleError(path, [Problem(path, line, col, msg)]) from None


_TOML_POS = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$", re.DOTALL)
_BIG_INT = re.compile(r"(?<![\w.])[+-]?[0-9](?:_?[0-9]){4000,}")


def _position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _parse_toml(text: str, path: str) -> tuple[dict[str, Any], bool]:
    """The document, and whether the fast path read it (else tomllib did)."""
    from .fastparse import parse as fast_parse

    nul = text.find("\x00")
    if nul >= 0:  # tomllib would say "Expected newline": name the real cause
        line, col = _position(text, nul)
        problem = Problem(path, line, col, "NUL byte: a schedule must be text, not binary data")
        raise ScheduleError(path, [problem])
    doc = fast_parse(text)
    if doc is not None:
        return doc, True
    if len(text) > TOMLLIB_MAX_CHARS:
        msg = (
            f"schedule of {len(text)} characters: one over {TOMLLIB_MAX_CHARS} must be in the "
            "simple generated form ([run], then [[call]] tables of one `key = value` line each, "
            "JSON-compatible values), and this one is not"
        )
        raise ScheduleError(path, [Problem(path, 0, None, msg)])
    return _tomllib(text, path), False


def _tomllib(text: str, path: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = _one_line(str(exc))
        m = _TOML_POS.match(msg)
        if m:
            problem = Problem(path, int(m.group(2)), int(m.group(3)), f"invalid TOML: {m.group(1)}")
        else:
            end = msg.replace(" (at end of document)", "")
            problem = Problem(path, text.count("\n") + 1, None, f"invalid TOML: {end}")
        raise ScheduleError(path, [problem]) from None
    except RecursionError:
        line, col = _Index.scan(text).deepest
        problem = Problem(path, line, col, "nesting too deep for the TOML parser")
        raise ScheduleError(path, [problem]) from None
    except ValueError:  # int() refuses integers of more than 4300 digits
        m = _BIG_INT.search(text)
        line, col = _position(text, m.start()) if m else (1, None)
        msg = "integer too large: TOML integers are 64-bit (up to 9223372036854775807)"
        raise ScheduleError(path, [Problem(path, line, col, msg)]) from None


# -- validation --------------------------------------------------------------------------------


def _human_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g}s"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes else []
    parts += [f"{secs}s"] if secs or not parts else []
    return "".join(parts)


class _Checker:
    """Validates one parsed document; records problems instead of stopping at the first."""

    def __init__(self, path: str, text: str, registry: Registry, now: float, *, fast: bool) -> None:
        self.path = path
        self.text = text
        # Positions cost a scan of the text; a big generated schedule read by the fast path is
        # scanned only when there is a problem to report.
        self._index = None if fast else _Index.scan(text)
        self.registry = registry
        self.now = now
        self.problems: list[Problem] = []
        self.plugin_failed = False  # then unknown callbacks are most likely its own
        self.arg_checks: dict[tuple[str, int, tuple[str, ...]], str | None] = {}
        self.specs: dict[str, Any] = {}  # callback name -> spec, for the quick path

    @property
    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index.scan(self.text)
        return self._index

    def call_tables(self, raw: list[dict[str, Any]]) -> list[_Table] | list[int]:
        """Where each entry of ``call`` is, in order."""
        n = len(raw)
        if self._index is None:
            # The fast path's form: every [[call]] header is a line of its own, nothing else is.
            lines = _header_lines_counted(self.text, list(map(len, raw)))
            if lines is None:
                lines = _header_lines(self.text)
            if len(lines) == n:
                return lines  # line numbers: a table object is made only where it is needed
        tables = self.index.calls
        if len(tables) != n:  # the scanner lost track: point at `call =` for all
            return [_Table(self.index.top.at("call")[0]) for _ in range(n)]
        return tables

    def error(self, where: tuple[int, int | None], message: str) -> None:
        self.problems.append(Problem(self.path, where[0], where[1], _one_line(message)))

    def number(
        self, table: _Table, key: str, value: Any, *, minimum: float = 0.0, strict: bool = False
    ) -> float | None:
        """A finite number >= minimum (> when strict), or None after recording why not."""
        why = None
        if isinstance(value, bool) or not isinstance(value, int | float):
            why = f"'{key}' must be a number of seconds, not {_type_name(value)}"
        elif isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            why = f"'{key}' = {_show(value)} is out of range: TOML integers are 64-bit"
        elif not math.isfinite(value):
            why = f"'{key}' must be finite, not {_show(value)}"
        elif value < minimum or (strict and value == minimum):
            op = ">" if strict else ">="
            why = f"'{key}' must be {op} {minimum:g}, not {_show(value)}"
        elif value > MAX_SECONDS and not (key == "at" and value > TIMESTAMP_LIKE):
            why = f"'{key}' = {_show(value)} is too long: at most {MAX_SECONDS:g} seconds"
        if why:
            self.error(table.at(key), why)  # located only now: finding keys costs a scan
            return None
        return float(value) + 0.0  # -0.0 is 0.0: one zero, on every path

    # [run] ------------------------------------------------------------------------------------
    def run_config(self, raw: Any) -> RunConfig:
        table = _LazyTable(0, self, None)
        if not isinstance(raw, dict):
            self.error(self.index.top.at("run"), "'run' must be a table ([run])")
            return RunConfig()
        for key in raw:
            if key not in RUN_KEYS:
                self.error(table.at(key), f"unknown key {_q(key)} in [run]{suggest(key, RUN_KEYS)}")
        loop = LoopImpl.ASYNCIO
        if "loop" in raw:
            value = raw["loop"]
            choices = [e.value for e in LoopImpl]
            if isinstance(value, str) and value in choices:
                loop = LoopImpl(value)
            else:
                hint = suggest(value, choices) if isinstance(value, str) else ""
                self.error(
                    table.at("loop"),
                    f"'loop' must be one of {', '.join(map(repr, choices))}, "
                    f"not {_show(value)}{hint}",
                )
        plugins: tuple[str, ...] = ()
        if "plugins" in raw:
            value = raw["plugins"]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                self.error(table.at("plugins"), "'plugins' must be an array of module names")
            else:
                plugins = tuple(value)
                for module in plugins:
                    try:
                        self.registry.load_plugin(module)
                    except PluginError as exc:
                        self.plugin_failed = True
                        self.error(table.at("plugins"), str(exc) + self.plugin_hint(module))
        return RunConfig(loop=loop, plugins=plugins)

    def plugin_hint(self, module: str) -> str:
        """Where a plugin beside the schedule is, and why it was not found there."""
        folder = os.path.dirname(os.path.abspath(self.path))
        candidate = os.path.join(folder, *module.split("."))
        if os.path.exists(candidate + ".py") or os.path.isdir(candidate):
            return (f" (it is in the schedule's folder, which is not on the import path: "
                    f"run with PYTHONPATH={folder})")
        return ""

    # [[call]] ---------------------------------------------------------------------------------
    def calls(self, raw: Any) -> list[Call]:
        if raw is None:
            self.error((1, None), "no [[call]] entries: nothing to schedule")
            return []
        if isinstance(raw, dict):
            self.error(
                self.index.top.at("call"),
                "'call' must be an array of tables: write [[call]], not [call]",
            )
            return []
        if not isinstance(raw, list) or not set(map(type, raw)) <= {dict}:  # parsers make dicts
            self.error(
                self.index.top.at("call"), "'call' must be an array of tables ([[call]] entries)"
            )
            return []
        if not raw:
            self.error(self.index.top.at("call"), "no [[call]] entries: nothing to schedule")
            return []
        tables = self.call_tables(raw)
        lines = tables if type(tables[0]) is int else [t.line for t in tables]  # type: ignore
        by_columns = build_columns(raw, lines, self.registry)
        if by_columns is not None:  # all valid: only names that entries refer to are left
            calls, referring = by_columns
            if referring:
                self.entry_references(
                    [(c, t if type(t) is not int else _LazyTable(t, self, i))
                     for i, (c, t) in enumerate(zip(calls, tables, strict=True))
                     if c.callback in referring],
                    list(map(attrgetter("name"), calls)))
            return calls
        counters: dict[str, int] = {}
        seen: dict[str, int] = {}
        built: list[tuple[Call, _Table]] = []
        quick = self.quick
        for i, (entry, line) in enumerate(zip(raw, tables, strict=True)):
            call = quick(entry, line if type(line) is int else line.line, counters)
            table: _Table | None = None  # made only when a message needs it
            if call is not None:
                name = call.name
            else:
                table = line if type(line) is not int else _LazyTable(line, self, i)
                name, call = self.call(entry, table, counters)
            if name is None:
                continue
            if name in seen:
                if table is None:
                    table = _LazyTable(call.line, self, i)  # type: ignore[union-attr]
                if "name" in entry:
                    msg = (f"duplicate name {_q(name)} (first used by the [[call]] on line "
                           f"{seen[name]})")
                else:
                    msg = (f"this [[call]]'s default name {_q(name)} is already the name of the "
                           f"[[call]] on line {seen[name]}: give one of them a name")
                self.error(table.at("name"), msg)
                continue
            seen[name] = call.line if table is None else table.line  # type: ignore[union-attr]
            if call is not None:
                built.append((call, table))  # type: ignore[arg-type]
        self.entry_references(built, list(seen))
        return [c for c, _ in built]

    def quick(self, d: dict[str, Any], line: int, counters: dict[str, int]) -> Call | None:
        """The common entry, checked fast: one-shot soon/later/at-seconds, a plain callback,
        scalar arguments. None for anything else (then ``call`` checks it in full and says
        what is wrong): it accepts only what ``call`` would accept, and builds the same Call.
        A 100,000-entry schedule runs this 100,000 times: it is written for speed.
        """
        if not d.keys() <= _QUICK_KEYS:
            return None
        get = d.get
        soon, later, at = get("soon"), get("later"), get("at")
        if soon is not None:
            if soon is not True or later is not None or at is not None:
                return None
            kind, prefix, offset = Kind.SOON, "soon#", 0.0
        else:
            if later is not None:
                if at is not None:
                    return None
                kind, prefix, value = Kind.LATER, "later#", later
            elif at is not None:
                kind, prefix, value = Kind.AT, "at#", at
            else:
                return None
            t = type(value)
            if (t is not float and t is not int) or not 0 <= value <= MAX_SECONDS:  # NaN fails
                return None
            if kind is Kind.AT and value > TIMESTAMP_LIKE:
                return None
            offset = float(value) + 0.0  # -0.0 is 0.0 (as `call` has it)
        callback = get("callback")
        if type(callback) is not str:
            return None
        spec = self.specs.get(callback)
        if spec is None:
            spec = self.specs[callback] = self.registry.get(callback)
            if spec is None:
                return None
        if spec.entry_params:
            return None
        args = get("args", _NO_ARGS)
        kwargs = get("kwargs", _NO_KWARGS)
        if type(args) is not list or type(kwargs) is not dict:
            return None
        for value in (*args, *kwargs.values()) if kwargs else args:  # plain values only
            t = type(value)
            if t is not str and t is not float and t is not bool and (
                    t is not int or not INT_MIN <= value <= INT_MAX):
                return None
        targs = tuple(args)
        shape = (spec.name, len(targs), tuple(kwargs) if kwargs else ())
        why = self.arg_checks.get(shape, _UNCHECKED)
        if why is _UNCHECKED:
            why = self.arg_checks[shape] = spec.bind_error(args, kwargs)
        if why is not None or (spec.validate is not None
                               and spec.validate(targs, kwargs) is not None):
            return None
        name = get("name")
        if name is None:
            n = counters[kind.value] = counters.get(kind.value, 0) + 1
            name = prefix + str(n)
        else:
            if type(name) is not str or not name.strip() or CONTROLS.search(name):
                return None
            counters[kind.value] = counters.get(kind.value, 0) + 1
        call = Call.trusted(name, kind, spec.name, targs, dict(kwargs) if kwargs else {},
                            offset, line)
        return call

    def call(
        self, d: dict[str, Any], table: _Table, counters: dict[str, int]
    ) -> tuple[str | None, Call | None]:
        """The entry's name (when it has one, valid or not) and the Call (when valid)."""
        before = len(self.problems)
        for key in d:
            if key not in CALL_KEYS:
                hint = suggest(key, CALL_KEYS)
                self.error(table.at(key), f"unknown key {_q(key)} in [[call]]{hint}")

        timing = [k for k in TIMING_KEYS if k in d]
        kind: Kind | None = None
        offset = first = 0.0
        wall_at: datetime | None = None
        if not timing:
            self.error(
                table.where,
                "[[call]] needs exactly one of: soon = true, later = SECONDS, at = TIME",
            )
        elif len(timing) > 1:
            self.error(
                table.at(timing[1]),
                f"'{timing[0]}' and '{timing[1]}' cannot both be given: "
                "use exactly one of soon, later, at",
            )
        else:
            kind = Kind(timing[0])
            value = d[timing[0]]
            if kind is Kind.SOON:
                if value is not True:
                    self.error(table.at("soon"), f"'soon' must be true, not {_show(value)}")
            elif kind is Kind.LATER:
                offset = first = self.number(table, "later", value) or 0.0
            else:
                offset, wall_at = self.at(table, value)
                first = offset if wall_at is None else max(0.0, wall_at.timestamp() - self.now)

        spec = self.callback(d, table)

        args = d.get("args", [])
        if not isinstance(args, list):
            self.error(table.at("args"), f"'args' must be an array, not {_type_name(args)}")
            args = []
        elif _out_of_range(args):
            self.error(table.at("args"), "'args' holds an integer out of TOML's 64-bit range")
            args = []
        kwargs = d.get("kwargs", {})
        if not isinstance(kwargs, dict):
            self.error(table.at("kwargs"), f"'kwargs' must be a table, not {_type_name(kwargs)}")
            kwargs = {}
        elif _out_of_range(kwargs):
            self.error(table.at("kwargs"), "'kwargs' holds an integer out of TOML's 64-bit range")
            kwargs = {}
        if spec is not None:
            # Binding depends only on how many arguments and which keywords: checked once per
            # shape, not once per entry of a 100,000-entry schedule.
            shape = (spec.name, len(args), tuple(kwargs))
            if shape not in self.arg_checks:
                self.arg_checks[shape] = spec.bind_error(args, kwargs)
            why = self.arg_checks[shape] or spec.value_error(args, kwargs)
            if why:
                key = "kwargs" if "kwargs" in d else "args" if "args" in d else "callback"
                self.error(table.at(key), f"bad arguments for '{spec.name}': {why}")

        repeat = self.repeat(d, table, first)

        name = d.get("name")
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                self.error(table.at("name"), "'name' must be a non-empty string")
                name = None
            elif CONTROLS.search(name):
                # a name is a column of the output: a newline or an escape sequence would break it
                self.error(table.at("name"), f"'name' must not hold control characters: {_q(name)}")
        if kind is not None:
            counters[kind.value] = counters.get(kind.value, 0) + 1
            if name is None:
                name = f"{kind.value}#{counters[kind.value]}"
        if len(self.problems) > before or kind is None or spec is None or name is None:
            return name, None
        call = Call(
            name=name,
            kind=kind,
            callback=spec.name,
            args=tuple(args),
            kwargs=dict(kwargs),
            offset=offset,
            wall_at=wall_at,
            repeat=repeat,
            line=table.line,
        )
        return name, call

    def callback(self, d: dict[str, Any], table: _Table) -> Any:
        """The CallbackSpec the entry names, or None after recording why not."""
        name = d.get("callback")
        if name is None:
            self.error(table.where, "[[call]] needs 'callback' (see `timerctl callbacks`)")
            return None
        if not isinstance(name, str):
            self.error(table.at("callback"), f"'callback' must be a string, not {_type_name(name)}")
            return None
        try:
            spec = self.registry.get(name)
        except PluginError as exc:
            self.error(table.at("callback"), str(exc))
            return None
        if spec is None:
            if self.plugin_failed:
                return None  # most likely the failed plugin's: its error says enough
            if name.isprintable() and len(name) <= 60:
                message = self.registry.unknown_message(name)
            else:
                message = f"unknown callback {_q(name)}{suggest(name, self.registry.names())}"
            self.error(table.at("callback"), message)
        return spec

    def at(self, table: _Table, value: Any) -> tuple[float, datetime | None]:
        """A numeric ``at`` is seconds after t0; a date-time is a wall-clock moment."""
        if isinstance(value, str):
            self.error(
                table.at("at"),
                "'at' must be a number of seconds or a TOML date-time/time, not a string: "
                "write it without quotes (at = 12:30:00, at = 2026-11-26T12:00:00Z)",
            )
            return 0.0, None
        if isinstance(value, datetime | dtime):
            try:
                moment = self._moment(value)
            except (OverflowError, ValueError, OSError):  # year 1 or 9999 in the local zone
                self.error(table.at("at"), f"'at' = {_show(value)} is out of range")
                return 0.0, None
        elif isinstance(value, date):
            self.error(
                table.at("at"),
                f"'at' = {_show(value)} is a date without a time of day "
                f"(write {value.isoformat()}T00:00:00 for midnight, local time)",
            )
            return 0.0, None
        else:
            number = self.number(table, "at", value)
            if number is not None and number > TIMESTAMP_LIKE:
                # Loop time is not wall time; a Unix timestamp here would mean decades.
                self.error(
                    table.at("at"),
                    f"'at' = {_show(value)} looks like a Unix timestamp; a number is seconds "
                    "after the run starts: write a TOML date-time (at = 2026-11-26T12:00:00Z) "
                    "instead",
                )
                return 0.0, None
            return number or 0.0, None
        ahead = moment.timestamp() - self.now
        if ahead < 0:
            self.error(
                table.at("at"),
                f"'at' = {_show(value)} is {_human_duration(-ahead)} in the past "
                f"(now is {datetime.fromtimestamp(self.now).astimezone().isoformat()})",
            )
            return 0.0, None
        return 0.0, moment

    def _moment(self, value: datetime | dtime) -> datetime:
        """The aware wall-clock moment an ``at`` date-time or time of day means."""
        if isinstance(value, datetime):
            return value if value.tzinfo else value.astimezone()  # naive: local time zone
        # TOML has no time of day with an offset: this is a local time, next occurrence
        today = datetime.fromtimestamp(self.now).astimezone().date()
        moment = datetime.combine(today, value).astimezone()
        if moment.timestamp() <= self.now:
            moment = datetime.combine(today + timedelta(days=1), value).astimezone()
        return moment

    def repeat(self, d: dict[str, Any], table: _Table, first: float) -> Repeat | None:
        present = [k for k in REPEAT_KEYS if k in d]
        if "every" not in d:
            for key in present:
                self.error(table.at(key),
                           f"'{key}' needs 'every' (it only applies to a repeating call)")
            return None
        every = self.number(table, "every", d["every"], strict=True)
        count = None
        if "count" in d:
            value = d["count"]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT_MAX:
                self.error(
                    table.at("count"), f"'count' must be a whole number >= 1, not {_show(value)}"
                )
            else:
                count = value
        until = self.number(table, "until", d["until"]) if "until" in d else None
        if until is not None and until < first:
            self.error(
                table.at("until"),
                f"'until' = {until:g} is before the first call (at {first:g}s): it would never run",
            )
        mode = Mode.FIXED_RATE
        if "mode" in d:
            value = d["mode"]
            choices = [m.value for m in Mode]
            if isinstance(value, str) and value in choices:
                mode = Mode(value)
            else:
                hint = suggest(value, choices) if isinstance(value, str) else ""
                self.error(
                    table.at("mode"),
                    f"'mode' must be 'fixed-rate' or 'fixed-delay', not {_show(value)}{hint}",
                )
        jitter = self.number(table, "jitter", d["jitter"]) if "jitter" in d else 0.0
        if every is None or jitter is None:
            return None
        return Repeat(every=every, count=count, until=until, mode=mode, jitter=jitter)

    def entry_references(self, built: list[tuple[Call, _Table]], names: list[str]) -> None:
        """Arguments that name entries (``cancel``'s) must name one that exists."""
        for call, table in built:
            spec = self.registry.get(call.callback)
            if spec is None or not spec.entry_params:
                continue
            try:
                bound = inspect.signature(spec.func).bind(*call.args, **call.kwargs)
            except (TypeError, ValueError):
                continue
            for param in spec.entry_params:
                if param not in bound.arguments:
                    continue
                target = bound.arguments[param]
                key = "kwargs" if param in call.kwargs else "args"
                if not isinstance(target, str):
                    self.error(
                        table.at(key),
                        f"'{call.callback}' takes the name of an entry (a string), "
                        f"not {_show(target)}",
                    )
                elif target not in names:
                    self.error(
                        table.at(key),
                        f"'{call.callback}' names no entry of this schedule: "
                        f"{_q(target)}{suggest(target, names)}",
                    )


def load_text(
    text: str,
    path: str,
    *,
    registry: Registry = REGISTRY,
    now: float | None = None,
) -> Schedule:
    """Validate TOML text into a Schedule, or raise ScheduleError with every problem found."""
    import gc

    # Loading builds an object or more per entry and frees none: the cyclic collector would
    # walk them all again and again (a third of a 100,000-entry load) for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_text(text, path, registry=registry, now=now)
    finally:
        if was_enabled:
            gc.enable()


def _load_text(text: str, path: str, *, registry: Registry, now: float | None) -> Schedule:
    doc, fast = _parse_toml(text, path)
    checker = _Checker(path, text, registry, time.time() if now is None else now, fast=fast)
    for key in doc:
        if key not in TOP_KEYS:
            checker.error(
                checker.index.top.at(key),
                f"unknown top-level key {_q(key)}{suggest(key, TOP_KEYS)} "
                "(a schedule has [run] and [[call]] tables)",
            )
    run = checker.run_config(doc["run"]) if "run" in doc else RunConfig()
    calls = checker.calls(doc.get("call"))
    if checker.problems:
        raise ScheduleError(path, checker.problems)
    return Schedule(path=path, calls=tuple(calls), run=run)


def load_bytes(data: bytes, path: str, **kw: Any) -> Schedule:
    """Decode (UTF-8, an optional BOM) and validate a schedule; ScheduleError if invalid."""
    return load_text(_decode(data, path), path, **kw)


def load(path: str, *, plugins: Iterable[str] = (), **kw: Any) -> Schedule:
    """Read and validate a schedule file (``-`` is stdin)."""
    registry: Registry = kw.get("registry", REGISTRY)
    for module in plugins:
        registry.load_plugin(module)
    data, name = read_source(path)
    return load_bytes(data, name, **kw)
