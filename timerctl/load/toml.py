"""TOML text -> a document, or the parser's failure, located and on one line.

The parser is ``parser``'s (toml_rs pinned to TOML 1.0.0, or tomllib); a big text is parsed in
pieces (``pieces``); positions of what the document holds are ``locate``'s.

Before any parser sees the text, its bracket nesting is bounded by timerctl's own limit
(``MAX_NESTING``): the same rule on every Python and parser (tomllib's recursion limit moved in
3.12; toml_rs overflows its stack, a segfault, at some thousands of levels).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Problem, ScheduleError
from . import messages, parser, pieces
from .locate import Locator, Path
from .parser import PARSER, TOML_VERSION
from .source import position

__all__ = ["MAX_NESTING", "PARSER", "TOML_VERSION", "Locator", "parse"]

#: how deeply arrays and inline tables may nest, as written (counting every [ and { open)
MAX_NESTING = 100


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


_TOMLLIB_POS = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$", re.DOTALL)


def _decode_error(exc: Exception, text: str, path: str) -> ScheduleError:
    """The parser's complaint, located and on one line."""
    if parser.toml_rs is not None and isinstance(exc, parser.toml_rs.TOMLDecodeError):
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
    check_nesting(text, path, data)
    try:
        doc = pieces.loads(text)
    except parser.decode_errors() as exc:
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
