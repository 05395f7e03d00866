"""A big document parsed a few hundred entries at a time: the same values, less memory.

toml_rs builds its own tree of the whole text before Python's (for a 100,000-entry file, about
100 MB more than the result, and slower for it). A big text is therefore cut before lines that
start with ``[[call]]``, each piece is parsed alone, and the pieces' ``call`` arrays are joined.

Why the joined result is the whole text's meaning. A piece ends with a newline, just before a
line that starts ``[[call]]``. If the piece parses alone, every string, array and expression
it opens closes inside it, because a parser reads a prefix the same whatever follows it. So in
the whole text the next line is at the top level, and it is a real ``[[call]]`` header. That
header starts the next piece, so each following piece starts a new entry of the ``call``
array of tables. Keys and ``[call.x]`` sub-tables under it belong to that piece's own entries.
Two conditions make the joining exact, and both are checked:

- the text before the first cut (the preamble: ``[run]``, comments) does not define ``call``;
- every later piece defines nothing but ``call`` (a ``[run]`` among the entries could clash
  with the preamble's, which only the whole parse can judge).

If a piece fails to parse or breaks a condition, the whole text is parsed as one. A text that
is not TOML therefore gets exactly the whole parser's error.
"""

from __future__ import annotations

from typing import Any

from . import parser

#: texts shorter than this are parsed whole (cutting saves nothing on them)
MIN_CHARS = 1 << 18

#: characters per piece, about: on a 100,000-entry file, pieces of 100 to 1,000 entries parse
#: alike and fastest (one piece per entry costs 1.5x; pieces of 10,000, 1.4x and more memory)
PIECE_CHARS = 1 << 15

_HEADER = "\n[[call]]"


def cuts(text: str, chars: int = PIECE_CHARS) -> list[int]:
    """Where the pieces start: at lines that begin ``[[call]]``, the first of them, then each
    first one at least ``chars`` after the cut before (found by ``str.find``, in C)."""
    if text.startswith(_HEADER[1:]):
        starts = [0]
    else:
        at = text.find(_HEADER)
        if at < 0:
            return []
        starts = [at + 1]
    while (at := text.find(_HEADER, starts[-1] + chars - 1)) >= 0:
        starts.append(at + 1)
    return starts


def loads(text: str, *, min_chars: int = MIN_CHARS, chars: int = PIECE_CHARS) -> dict[str, Any]:
    """What ``parser.loads(text)`` returns, parsed in pieces when the text is big."""
    starts = cuts(text, chars) if len(text) >= min_chars else []
    if len(starts) < 2:
        return parser.loads(text)
    joined = _joined(text, starts)
    return joined if joined is not None else parser.loads(text)


def _joined(text: str, starts: list[int]) -> dict[str, Any] | None:
    """The pieces' documents joined, or None when only a whole parse can say."""
    failed: tuple[type[Exception], ...] = (*parser.decode_errors(), ValueError, RecursionError)
    try:
        doc = parser.loads(text[: starts[0]])
        if "call" in doc:
            return None
        calls: list[Any] = []
        for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
            piece = parser.loads(text[start:end])
            if len(piece) != 1:  # it has "call" (it starts with that header) and more
                return None
            calls += piece["call"]
    except failed:
        return None  # the whole parse says it, and where
    doc["call"] = calls
    return doc
