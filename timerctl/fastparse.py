"""A fast path for large, machine-written schedules; tomllib decides everything else.

tomllib is pure Python and spends ~5 µs on every key: a 100,000-entry schedule takes seconds.
Generated schedules use a narrow, regular part of TOML: an optional ``[run]`` table first, then
``[[call]]`` tables whose lines are all ``key = value`` with a known key, one space either side of
``=``, and values that are also valid JSON (basic strings, numbers, booleans, arrays). Such a
file is turned into one JSON text with a handful of ``str.replace`` calls and parsed by the C
JSON decoder in one go.

It must never accept a document that tomllib would reject or read differently, so it gives up
(returns None) at the first doubt: any line that does not start with a known key or an exact
table header, JSON-only syntax (``null``, ``NaN``, ``\\/``, objects), control characters,
duplicate keys. A file the fast path gives up on is simply parsed by tomllib. Positions are not
computed here: the loader scans for them only when it has a problem to report.
"""

from __future__ import annotations

import json
import re
from typing import Any

CALL_KEYS = ("name", "soon", "later", "at", "callback", "args", "kwargs", "every", "count",
             "until", "mode", "jitter")
RUN_KEYS = ("loop", "plugins")

# Full-line comments and blank lines carry nothing: dropped before counting lines.
_BLANK = re.compile(r"^[ \t]*(?:#[^\n]*)?\n", re.M)
# Anything JSON reads differently from TOML, or TOML forbids: control characters (tab is
# fine), JSON's \/ escape, UTF-16 surrogates, and null (JSON only; a string saying "null" just
# goes the slow way).
_DOUBT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\\/|\\u[dD][89a-fA-F]|null")
_SENTINEL = " "  # a key no bare TOML key can be: marks the objects this module wrote


class _GiveUp(Exception):
    pass


def _table(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    table = dict(pairs)
    if len(table) != len(pairs) or _SENTINEL not in table:
        raise _GiveUp  # a duplicate key, or a JSON object the user wrote (not TOML)
    del table[_SENTINEL]
    return table


def _constant(_name: str) -> Any:
    raise _GiveUp  # NaN, Infinity: JSON extensions, not TOML


def parse(text: str) -> dict[str, Any] | None:
    """The document as tomllib would read it, or None when tomllib must decide."""
    if _DOUBT.search(text):
        return None
    if not text.endswith("\n"):
        text += "\n"
    body = "\n" + _BLANK.sub("", text)
    has_run = body.startswith("\n[run]\n")
    # Every line must be an exact header or start with a known key and " = ".
    starts = body.count("\n[[call]]\n") + has_run
    starts += sum(body.count(f"\n{k} = ") for k in CALL_KEYS + RUN_KEYS)
    if starts != body.count("\n") - 1 or body.count("\n[run]\n") != has_run:
        return None
    if not has_run and not body.startswith("\n[[call]]\n"):
        return None
    js = body[1:].replace("\n", ",\n")  # every line now ends with a comma
    if has_run:
        js = '{" ":0,"run":{' + js[len("[run],"):]
        js = js.replace("\n[[call]],", '" ":0},"call":[{', 1)
    else:
        js = '{" ":0,"call":[{' + js[len("[[call]],"):]
    for key in CALL_KEYS + RUN_KEYS:
        js = js.replace(f"\n{key} = ", f'\n"{key}":')
    js = js.replace("\n[[call]],", '\n" ":0},{') + '" ":0}]}'
    try:
        doc = json.loads(js, object_pairs_hook=_table, parse_constant=_constant)
    except (_GiveUp, ValueError, RecursionError):
        return None
    if has_run and "call" not in doc:
        return None
    return doc
