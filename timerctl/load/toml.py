"""TOML text -> a document, and where any part of it was written.

The parser is toml_rs (Rust's ``toml`` crate, pinned to TOML 1.0.0), with tomllib as the fallback
where its wheel is missing. Values come from one fast parse; positions only when a problem needs
one (``Locator``): toml_rs's metadata parse costs ~9x its plain parse, so a big file's entries are
located one by one, each from a re-parse of just its own lines, checked against the whole parse.

Before any parser sees the text, its bracket nesting is bounded by timerctl's own limit
(``MAX_NESTING``): the same rule on every Python and parser (tomllib's recursion limit moved in
3.12; toml_rs overflows its stack, a segfault, at some thousands of levels).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import accumulate, repeat
from operator import add
from typing import Any, Final

from ..errors import Problem, ScheduleError
from . import messages
from .source import position

_toml_rs: Any
try:
    import toml_rs as _toml_rs
except ImportError:  # pragma: no cover - the wheel is a dependency; tomllib is the fallback
    _toml_rs = None

#: the TOML version a schedule is read as: toml_rs defaults to 1.1, whose meaning differs
TOML_VERSION: Final = "1.0.0"

#: how deeply arrays and inline tables may nest, as written (counting every [ and { open)
MAX_NESTING = 100

PARSER = "toml_rs" if _toml_rs is not None else "tomllib"

Path = tuple[str | int, ...]  # keys and array indexes from the document's root
Where = tuple[int, int | None]


def _fail(path: str, line: int, col: int | None, message: str) -> ScheduleError:
    return ScheduleError(path, [Problem(path, line, col, messages.one_line(message))])


# -- nesting ----------------------------------------------------------------------------------

# every byte but [ ] { } " ' # and newline: deleted by bytes.translate, which runs in C
_NOT_SPECIAL = bytes(c for c in range(256) if c not in b"[]{}\"'#\n")
# strings and comments, in text reduced to its special characters (their content is gone, but
# the quotes and brackets inside them are still there)
_SKIPPED = re.compile(
    rb'"""(?:[^"]|"(?!""))*"""|\'\'\'(?:[^\']|\'(?!\'\'))*\'\'\'|"[^"\n]*"|\'[^\'\n]*\'|#[^\n]*'
)


def _bracket_depth(data: bytes) -> int:
    """How deeply brackets nest outside strings and comments (more if the text is not valid).

    Done on bytes with C-speed built-ins: a 100,000-entry file in a few milliseconds. Escaped
    quotes go first; after the reduction a string without brackets is two adjacent quotes.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    special = data.translate(None, _NOT_SPECIAL)
    rest = special.replace(b'""', b"").replace(b"''", b"")
    if b'"' in rest or b"'" in rest or b"#" in rest:  # brackets in strings, or comments
        rest = _SKIPPED.sub(b"", special)
    brackets = rest.translate(None, b"\"'#\n")
    depth = 0
    while brackets:
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            # unbalanced (invalid TOML): the parser may still descend into every open left
            return depth + shorter.count(b"[") + shorter.count(b"{")
        brackets, depth = shorter, depth + 1
        if depth > MAX_NESTING:
            return depth
    return depth


_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\''
    r"|#[^\n]*|[\[{]|[\]}]"
)


def _deepest(text: str) -> int:
    """Where the most deeply nested bracket opens (the error path only: a Python loop)."""
    depth = best = where = 0
    for token in _TOKENS.finditer(text):
        c = token.group()[0]
        if c in "[{":
            depth += 1
            if depth > best:
                best, where = depth, token.start()
        elif c in "]}":
            depth = max(0, depth - 1)
    return where


def check_nesting(text: str, path: str, data: bytes | None = None) -> None:
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return  # cannot nest deeper than it has brackets
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    if _bracket_depth(data) > MAX_NESTING:
        line, col = position(text, _deepest(text))
        raise _fail(path, line, col, messages.NESTING)


# -- parsing ----------------------------------------------------------------------------------


def _loads(text: str) -> dict[str, Any]:
    if _toml_rs is not None:
        return _toml_rs.loads(text, toml_version=TOML_VERSION)  # type: ignore[no-any-return]
    import tomllib

    return tomllib.loads(text)


_TOMLLIB_POS = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$", re.DOTALL)


def _decode_error(exc: Exception, text: str, path: str) -> ScheduleError:
    """The parser's complaint, located and on one line."""
    if _toml_rs is not None and isinstance(exc, _toml_rs.TOMLDecodeError):
        # "TOML parse error at line L, column C", the line drawn with a caret, then the reason
        lines = exc.msg.splitlines()
        caret = max((i for i, s in enumerate(lines) if s.lstrip(" |").startswith("^")), default=0)
        reason = "; ".join(s.strip() for s in lines[caret + 1 :] if s.strip()) or lines[-1]
        return _fail(path, exc.lineno, exc.colno, f"invalid TOML: {reason}")
    msg = str(exc)
    m = _TOMLLIB_POS.match(msg)
    if m:
        return _fail(path, int(m.group(2)), int(m.group(3)), f"invalid TOML: {m.group(1)}")
    end = msg.replace(" (at end of document)", "")
    return _fail(path, text.count("\n") + 1, None, f"invalid TOML: {end}")


def parse(text: str, path: str, data: bytes | None = None) -> dict[str, Any]:
    """The document, or ScheduleError with the parser's located failure (``data``: the text
    as UTF-8, when the caller has it)."""
    import tomllib

    check_nesting(text, path, data)
    errors: tuple[type[Exception], ...] = (tomllib.TOMLDecodeError,)
    if _toml_rs is not None:
        errors += (_toml_rs.TOMLDecodeError,)
    try:
        doc = _loads(text)
    except errors as exc:
        raise _decode_error(exc, text, path) from None
    except RecursionError:  # pragma: no cover - the nesting bound comes first
        raise _fail(path, 1, None, messages.NESTING) from None
    except ValueError:  # tomllib's int() refuses integers of more than 4300 digits
        raise _fail(path, 1, None, messages.BIG_INTEGER) from None
    if _maybe_big(text, data):
        big = _big_integer(doc)
        if big is not None:
            calls = doc.get("call")
            locator = Locator(text, len(calls) if isinstance(calls, list) else 0)
            locator.entries = calls if isinstance(calls, list) else []
            line, col = locator.where(big, value=True)
            raise _fail(path, line, col, messages.BIG_INTEGER)
    return doc


#: TOML integers are 64-bit: "if an integer cannot be represented losslessly, an error must be
#: thrown". Both parsers return any size. One out of range is written with 16 or more digits
#: and underscores in a row, or in hex, octal or binary: only then is the document walked.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_DIGITS = bytes(48 if c in b"0123456789_" else 32 for c in range(256))  # digits -> "0"


def _maybe_big(text: str, data: bytes | None) -> bool:
    if data is None:
        data = text.encode("utf-8", "surrogatepass")
    if b"0x" in data or b"0o" in data or b"0b" in data:
        return True
    return data.translate(_DIGITS).find(b"0" * 16) >= 0


def _big_integer(doc: dict[str, Any]) -> Path | None:
    """The path of the first integer out of TOML's range (walked, not recursed)."""
    stack: list[tuple[Any, Path]] = [(doc, ())]
    while stack:
        value, where = stack.pop()
        kind = type(value)
        if kind is int:
            if not INT_MIN <= value <= INT_MAX:
                return where
        elif kind is dict:
            stack.extend((v, (*where, k)) for k, v in reversed(value.items()))
        elif kind is list:
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(value))))
    return None


# -- locating ---------------------------------------------------------------------------------

#: a line that may open a [[call]] table (a real one always matches; one inside a multi-line
#: string may too: then the count is off, and the metadata parse decides)
_CALL_HEADER = re.compile(r"""^[ \t]*\[\[[ \t]*(?:call|"call"|'call')[ \t]*\]\]""", re.M)

#: more entries with problems than this are located from one metadata parse of the whole file
_ONE_BY_ONE = 200


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, tuple) else value)


class Locator:
    """Where a path of the document (``("call", 3, "later")``) was written.

    A key is located at its name; an array element or a ``[[call]]`` entry at its value (a
    ``[[call]]`` header by its line alone, an inline ``{...}`` entry with its column).
    """

    def __init__(self, text: str, n_calls: int) -> None:
        self.text = text
        self.n_calls = n_calls
        self._meta: Any = None
        self._starts: list[int] | None = None
        self._segments: dict[int, Any] = {}
        self.wanted: set[int] = set()  # entries that have problems: located one by one if few
        self.entries: list[Any] = []  # the parsed entries (to check a segment against)

    # the whole file's metadata: exact, and slow for a big file ---------------------------------
    def meta(self) -> Any:
        if self._meta is None and _toml_rs is not None:
            self._meta = _toml_rs.load_with_metadata(self.text, toml_version=TOML_VERSION).meta
        return self._meta

    # [[call]] headers by a line scan, trusted only when it finds as many as the parser did -----
    def header_starts(self) -> list[int] | None:
        if self._starts is None:
            starts = [m.start() for m in _CALL_HEADER.finditer(self.text)]
            self._starts = starts if len(starts) == self.n_calls else []
        return self._starts or None

    def call_lines(self) -> list[int]:
        """The line of every entry, in order (``Call.line``), as cheaply as they can be had.

        Generated files write each header as ``[[call]]`` at the start of a line: splitting on
        that, and counting newlines per piece, runs in C. Any other way of writing them makes
        the count differ from the parser's, and the slower ways decide.
        """
        pieces = ("\n" + self.text).split("\n[[call]]")
        if len(pieces) == self.n_calls + 1:
            newlines = accumulate(map(str.count, pieces[:-1], repeat("\n")))
            return list(map(add, newlines, range(1, self.n_calls + 1)))
        starts = self.header_starts()
        if starts is not None:
            counts = map(self.text.count, repeat("\n"), [0, *starts[:-1]], starts)
            return list(map(add, accumulate(counts), repeat(1)))
        return [self.where(("call", i))[0] for i in range(self.n_calls)]

    def _segment(self, i: int) -> tuple[Any, int] | None:
        """Entry i's own metadata from a parse of its lines alone, and their first line; None
        when the lines do not parse to the very entry the whole parse gave."""
        if _toml_rs is None or i in self._segments:
            return self._segments.get(i)
        starts = self.header_starts()
        found = None
        if starts is not None and len(self.wanted) <= _ONE_BY_ONE:
            start = starts[i]
            end = starts[i + 1] if i + 1 < len(starts) else len(self.text)
            try:
                doc = _toml_rs.load_with_metadata(self.text[start:end], toml_version=TOML_VERSION)
            except (_toml_rs.TOMLDecodeError, ValueError):
                doc = None
            if doc is not None and doc.value.get("call") == [self.entries[i]]:
                found = (doc.meta["nodes"]["call"]["value"][0], self.text.count("\n", 0, start))
        self._segments[i] = found
        return found

    def _node(self, path: Path) -> tuple[Any, int]:
        """The metadata node of path and a line shift; None when it has none."""
        shift = 0
        node: Any = None
        rest = path
        if len(path) >= 2 and path[0] == "call" and isinstance(path[1], int):
            segment = self._segment(path[1])
            if segment is not None:
                node, shift = segment
                rest = path[2:]
        if node is None:
            meta = self.meta()
            if meta is None:
                return None, 0
            node = meta["nodes"]  # a table: its keys' nodes by name
        for step in rest:
            # a key's node and an array element's hold their value; a table is its keys
            located = isinstance(node, dict) and ("key_line" in node or "value_line" in node)
            inner = node.get("value") if located else node
            if isinstance(step, int):
                if not isinstance(inner, list) or step >= len(inner):
                    return None, 0
            elif not isinstance(inner, dict) or step not in inner:
                return None, 0
            node = inner[step]
        return node, shift

    def where(self, path: Path, *, value: bool = False) -> Where:
        """Line and column of path: of its key, or of its value when asked (or it has no key);
        a table (which has no position of its own) by its [header], else its first key."""
        if not path:
            return 1, None
        node, shift = self._node(path)
        found = _own_position(node, value=value)
        if found is None and node is not None:
            header = self._header(path)
            if header is not None:
                return header
            found = _first_key(node)
            if found is not None:  # a table of dotted keys: the line its first key is on
                found = found[0], None
        if found is None:
            return self.where(path[:-1]) if len(path) > 1 else (1, None)
        return found[0] + shift, found[1]

    def _header(self, path: Path) -> Where | None:
        """Where a table's ``[header]`` names it: a top-level table, or an entry's sub-table
        (``[call.kwargs]``, searched among that entry's lines)."""
        keys = [k for k in path if isinstance(k, str)]
        start, end = 0, len(self.text)
        if len(path) == 3 and isinstance(path[1], int):
            starts = self.header_starts()
            if starts is not None:
                start = starts[path[1]]
                end = starts[path[1] + 1] if path[1] + 1 < len(starts) else end
            else:
                line = self.where(path[:2])[0]
                for _ in range(line - 1):
                    start = self.text.index("\n", start) + 1
        elif len(path) != 1:
            return None
        dot = r"[ \t]*\.[ \t]*"
        names = dot.join(rf"""(?:{re.escape(k)}|"{re.escape(k)}"|'{re.escape(k)}')""" for k in keys)
        pattern = re.compile(rf"^[ \t]*\[\[?[ \t]*({names})[ \t]*[\].]", re.M)
        m = pattern.search(self.text, start, end)
        if m is None:
            return None
        line, col = position(self.text, m.start(1))
        if len(keys) > 1:  # the column of the last part: [call.kwarg] points at kwarg
            col += m.group(1).rfind(keys[-1]) if keys[-1] in m.group(1) else 0
        return line, col


def _own_position(node: Any, *, value: bool) -> Where | None:
    if not isinstance(node, dict):
        return None
    if "key_line" in node and not value:
        return _first(node["key_line"]), _first(node["key_col"])
    if "value_line" in node:
        raw = node.get("value_raw", "")
        col = None if isinstance(raw, str) and raw.startswith("[[") else _first(node["value_col"])
        return _first(node["value_line"]), col
    if "key_line" in node:
        return _first(node["key_line"]), _first(node["key_col"])
    return None


def _first_key(node: Any) -> Where | None:
    """Where the first key of a table node is (walked, not recursed)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        found = _own_position(current, value=False)
        if found is not None:
            return found
        stack.extend(reversed(list(current.values())))
    return None


Resolve = Callable[[Path], Where]
