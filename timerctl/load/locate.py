"""Where a part of a schedule was written: ``("call", 3, "later")`` -> line and column.

Positions are wanted only when there are problems, and toml_rs's metadata parse costs ~9x its
plain parse: so a big file's problem entries are located one by one, each from a re-parse of
just its own lines, checked against the whole parse (``Locator``).
"""

from __future__ import annotations

import re
from itertools import accumulate, repeat
from operator import add
from typing import Any

from . import parser
from .source import position

Path = tuple[str | int, ...]  # keys and array indexes from the document's root
Where = tuple[int, int | None]

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
        if self._meta is None and parser.toml_rs is not None:
            self._meta = parser.metadata(self.text).meta
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
        if parser.toml_rs is None or i in self._segments:
            return self._segments.get(i)
        starts = self.header_starts()
        found = None
        if starts is not None and len(self.wanted) <= _ONE_BY_ONE:
            start = starts[i]
            end = starts[i + 1] if i + 1 < len(starts) else len(self.text)
            try:
                doc = parser.metadata(self.text[start:end])
            except (parser.toml_rs.TOMLDecodeError, ValueError):
                doc = None
            if doc is not None and doc.value.get("call") == [self.entries[i]]:
                found = (doc.meta["nodes"]["call"]["value"][0], self.text.count("\n", 0, start))
        self._segments[i] = found
        return found

    def _node(self, path: Path) -> tuple[Any, int]:
        """The metadata node of path and a line shift; None when it has none."""
        node, shift, rest = self._root(path)
        for step in rest if node is not None else ():
            node = _step(node, step)
            if node is None:
                break
        return (node, shift) if node is not None else (None, 0)

    def _root(self, path: Path) -> tuple[Any, int, Path]:
        """Where to start looking for path: its entry's own segment when it has one (with that
        segment's line shift and the rest of the path), else the whole file's metadata."""
        if len(path) >= 2 and path[0] == "call" and isinstance(path[1], int):
            segment = self._segment(path[1])
            if segment is not None:
                return segment[0], segment[1], path[2:]
        meta = self.meta()
        return (meta["nodes"] if meta is not None else None), 0, path  # a table: its keys' nodes

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


def _step(node: Any, step: str | int) -> Any:
    """The node one step down (a key, an array index), None when there is none."""
    # a key's node and an array element's hold their value; a table is its keys
    located = isinstance(node, dict) and ("key_line" in node or "value_line" in node)
    inner = node.get("value") if located else node
    if isinstance(step, int):
        return inner[step] if isinstance(inner, list) and step < len(inner) else None
    return inner.get(step) if isinstance(inner, dict) else None


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
