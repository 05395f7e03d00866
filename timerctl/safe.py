"""The one escaping of untrusted text on its way to a terminal.

A schedule's file name, a recording's fields, a callback's result: any of them may hold bytes a
terminal obeys (``ESC ] 0 ; title BEL`` retitles the window, OSC 52 writes the clipboard, the
C1 byte U+009B is a CSI on its own, U+202E reverses what follows). Each such character is shown
as a visible escape instead, in JSON's spelling (``\\u001b``, ``\\n``), so one value stays on one
line and reads the same as in jsonl output. Other text is left alone (a tab is escaped too:
it would break the columns).
"""

from __future__ import annotations

import re
from typing import TypeVar

#: C0 controls and DEL, C1 controls, the bidi embeddings, overrides, isolates and marks, and the
#: Unicode line and paragraph separators (a terminal or a viewer may break the line there)
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape_one(match: re.Match[str]) -> str:
    import json  # only when there is something to escape: start-up stays lean

    return json.dumps(match.group())[1:-1]


def escape(text: str) -> str:
    """``text`` with every character a terminal could act on shown as a visible escape."""
    if not UNSAFE.search(text):  # the common case: one scan, no copy
        return text
    return UNSAFE.sub(_escape_one, text)


E = TypeVar("E")


def escape_fields(event: E) -> E:
    """A copy of a dataclass (an Event read from an untrusted recording) with every string field
    escaped; the same object when none needs it."""
    import dataclasses

    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        return event
    changes: dict[str, object] = {}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if isinstance(value, str):
            shown = escape(value)
            if shown is not value:
                changes[field.name] = shown
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            shown_value = escape_fields(value)
            if shown_value is not value:
                changes[field.name] = shown_value
    return dataclasses.replace(event, **changes) if changes else event
