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
from itertools import chain, repeat
from typing import Any

from .limits import CALL_KEYS, RUN_KEYS

_CALL_KEYS, _RUN_KEYS = frozenset(CALL_KEYS), frozenset(RUN_KEYS)

# Full-line comments and blank lines carry nothing: dropped before counting lines.
_BLANK = re.compile(r"^[ \t]*(?:#[^\n]*)?\n", re.M)
# Control characters are invalid anywhere in TOML (tab is fine; CR only in CRLF, left to tomllib).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_STRING = r'"(?:[^"\\\n]|\\.)*+"'
# a string followed by ':' -- the strings of its line read from the line's start, in step,
# each once (possessive: linear even on a line of 10,000 strings)
_JSON_KEY = re.compile(rf'^[^"\n]*+(?:{_STRING}(?![ \t]*:)[^"\n]*+)*+{_STRING}[ \t]*:', re.M)
_ESCAPED_KEY = re.compile(r'^[^"=\n]*\\', re.M)  # a backslash before a line's first '=' or '"'
_CONTROL_BYTES = bytes(0 if _CONTROL.match(chr(b)) else 1 for b in range(256))
# UTF-16 surrogates: JSON decodes "\ud800", TOML forbids it.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
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


def _doubtful(text: str) -> bool:
    """Anything JSON reads differently from TOML, or TOML forbids: control characters, JSON's
    \\/ escape, surrogates, and null (JSON only; a string saying "null" just goes the slow way).
    Plain substring tests first: they run at memory speed."""
    if "null" in text or "\\/" in text:  # (a CR is a control character: found below)
        return True
    # A JSON key written in the text ('"x": 1'): TOML has no such syntax, and it could add a
    # member to a table, or repeat one, unseen by counting lines. (A string that only starts
    # with a colon, '":8080"', is fine: the regex reads each line's strings in step.)
    if ('":' in text or '" :' in text or '"\t:' in text) and _JSON_KEY.search(text):
        return True
    # A backslash in a key: JSON would read an escape there ('lat\u0065r' as 'later').
    if "\\" in text and _ESCAPED_KEY.search(text):
        return True
    if "\\u" in text and _SURROGATE.search(text):
        return True
    if text.isascii():  # its UTF-8 is its characters: a bytes translate is faster than sre
        return b"\0" in text.encode().translate(_CONTROL_BYTES)
    return _CONTROL.search(text) is not None


def parse(text: str) -> dict[str, Any] | None:
    """The document as tomllib would read it, or None when tomllib must decide."""
    if _doubtful(text):
        return None
    if not text.endswith("\n"):
        text += "\n"
    if "#" in text or "\n " in text or "\n\t" in text or text[0] in " \t\n":
        body = "\n" + _BLANK.sub("", text)
    else:  # the generated form: only empty lines to drop, and str.replace does that fastest
        body = "\n" + text
        while "\n\n" in body:
            body = body.replace("\n\n", "\n")
    has_run = body.startswith("\n[run]\n")
    headers = body.count("\n[[call]]\n")
    if body.count("\n[run]\n") != has_run:
        return None
    if not headers or not (has_run or body.startswith("\n[[call]]\n")):
        return None
    pairs = body.count("\n") - 1 - headers - has_run  # lines that must be `key = value`
    inner, single = 0, True
    if "{" in body or "}" in body:  # JSON objects would pass for TOML tables: only kwargs
        converted = _kwargs_tables(body)
        if converted is None:
            doc = _parse_checked(body, has_run)
            return doc if doc is not None and _keys_ok(doc, pairs) else None
        body, inner, single = converted
    # One " = " a line, and none in a string: a string holding one would end at the '"' it
    # becomes, and JSON refuses the ':' that follows (an escaped '"' is why "\\ =" gives up).
    if body.count(" = ") != pairs or "\\ = " in body:
        return None
    js = body.replace(" = ", '": ').replace("\n", ',\n"')  # '"key": value,' on every line
    js = js.replace(',\n"[[call]],\n"', '\n},{\n"')
    if has_run:
        js = '{"run":{"' + js[len(',\n"[run],\n"'):].replace('\n},{\n"', '\n},"call":[{\n"', 1)
    else:
        js = '{"call":[{\n"' + js[len('\n},{\n"'):]  # the first header became '\n},{\n"'
    js = js[:-3] + "}]}"  # the last line's ',\n"'
    try:
        doc = json.loads(js, parse_constant=_constant)
    except (_GiveUp, ValueError, RecursionError):
        return None
    if not _keys_ok(doc, pairs):
        return None
    kwargs = map(dict.get, doc["call"], repeat("kwargs"), repeat(()))
    if not single and sum(map(len, kwargs)) != inner:
        return None  # a key written twice in a kwargs table
    return doc


def _keys_ok(doc: dict[str, Any], pairs: int) -> bool:
    """Exactly one key a line (``later = 1, "x": 2`` is two), each a known key (so TOML reads
    it the same: no dotted, quoted or odd key), none twice in a table (JSON keeps the last,
    TOML refuses): the keys are counted against the lines."""
    calls, run = doc["call"], doc.get("run", {})
    return (sum(map(len, calls)) + len(run) == pairs
            and _CALL_KEYS.issuperset(chain.from_iterable(calls)) and _RUN_KEYS.issuperset(run))


# A kwargs line in the strict form: `{ key = value, ... }`, one space apart, values JSON-like
# atoms or strings with no '=' nor brace. Possessive quantifiers: ten times faster in sre.
_VALUE = r"""(?:"(?:[^"\\={}\n]++|\\.)*+"|[A-Za-z0-9_.+-]++)"""
_PAIR = rf"[A-Za-z0-9_-]++ = {_VALUE}"
_KWARGS_TABLE = re.compile(rf"\n(kwargs = \{{(?: {_PAIR}(?:, {_PAIR})*+)? ?\}})(?=\n)")
_INNER_KEY = re.compile(r"([{,] )([A-Za-z0-9_-]+) = ")


def _kwargs_tables(body: str) -> tuple[str, int, bool] | None:
    """``kwargs = { sep = ", ", n = 1 }`` lines as ``kwargs = {"sep": ", ", "n": 1}``, all at
    once; the body, how many keys the tables hold, whether each holds one. None unless every
    brace is such a table's and its strings hold no '=' nor brace (no key can hide in one).
    Splits and joins, not ``re.sub``: Python 3.11 expands a template in Python, per match."""
    n = body.count("\nkwargs = ")
    if body.count("{") != n or body.count("}") != n:
        return None
    parts = _KWARGS_TABLE.split(body)  # text, table, text, table, ..., text
    if len(parts) != 2 * n + 1:
        return None
    tables = "\n".join(parts[1::2])
    pieces = _INNER_KEY.split(tables)  # text, "{ " or ", ", key, text, ...
    pieces[2::3] = map('"{}": '.format, pieces[2::3])
    parts[1::2] = "".join(pieces).split("\n")  # a table is one line
    parts[1::2] = map("\n".__add__, parts[1::2])  # the newline the split took
    keys = len(pieces) // 3
    # One key in every table (none empty) cannot be a key twice; else the caller counts them.
    single = keys == n and "{}" not in tables and "{ }" not in tables
    return "".join(parts), keys, single


_KWARGS_LINE = re.compile(r"^kwargs = (\{.*\})$", re.M)
_TOKEN = re.compile(
    r'[ \t]*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<key>[A-Za-z0-9_-]+)[ \t]*=(?!=)'
    r'|(?P<punct>[{},\[\]])|(?P<atom>[^ \t,{}\[\]"=]+))'
)


def _inline_table(m: re.Match[str]) -> str:
    """``kwargs = { sep = ", ", n = 1 }`` as JSON, marked like the tables this module writes.

    Tokens, not text substitution: a string holding ``, x =`` stays a string. A strict little
    state machine (key, value, comma, in turn); one level only: a table or an array inside it,
    or anything unexpected, gives up. The values are then judged by the JSON decoder.
    """
    text, pos, out = m.group(1), 0, []
    state = "open"  # open -> key -> value -> sep -> key ... -> closed
    while pos < len(text):
        tok = _TOKEN.match(text, pos)
        if tok is None or tok.end() == pos:
            raise _GiveUp
        pos = tok.end()
        kind = tok.lastgroup
        value = tok.group(kind or 0)
        if state == "open" and value == "{":
            out.append('{" ":0')
            state = "first"
        elif state in ("first", "key") and kind == "key":
            out.append(f',"{value}":')
            state = "value"
        elif state == "value" and kind in ("str", "atom"):
            out.append(value)
            state = "sep"
        elif state == "sep" and value == ",":
            state = "key"
        elif state in ("first", "sep") and value == "}":
            out.append("}")
            state = "closed"
        else:
            raise _GiveUp
    if state != "closed":
        raise _GiveUp
    return "kwargs = " + "".join(out)


def _parse_checked(body: str, has_run: bool) -> dict[str, Any] | None:
    """The same, with every JSON object checked: user-written objects and duplicates give up."""
    if "\nkwargs = {" in body:
        try:
            body = _KWARGS_LINE.sub(_inline_table, body)
        except _GiveUp:
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
        return json.loads(js, object_pairs_hook=_table, parse_constant=_constant)
    except (_GiveUp, ValueError, RecursionError):
        return None
