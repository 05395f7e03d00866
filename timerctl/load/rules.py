"""The schedule's rules: one row per key, the only place a key's type, range and message live.

A row (``Field``) names the key, how its value is checked and converted (a *kind*: ``seconds``,
``flag``, ``text``...), and where the converted value goes in the model (``into``: an attribute
of ``Call``, or of ``Repeat`` when the key belongs to the ``repeat`` group). A converter returns
the model's value, or raises ``Bad(message)``; it is written to cost a few hundred ns for a
good value (a 100,000-entry schedule runs each ~100,000 times).

Adding a key is adding a row (and, if it is new to the model, its attribute there). Every
duration may be written as text: ``"500ms"``, ``"1m30s"`` (``SECONDS_FROM_TEXT``).
"""

from __future__ import annotations

import enum
import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

from ..durations import parse_duration
from ..registry import suggest
from ..schedule import Kind, LoopImpl, Mode, Overlap
from .messages import choices_text, quoted, show, type_name
from .toml import INT_MAX, MAX_NESTING

# -- bounds ------------------------------------------------------------------------------------

#: numbers above this in ``at`` are Unix timestamps written by mistake (1e8 s is over 3 years)
TIMESTAMP_LIKE = 1e8

#: no duration may exceed this (~31.7 years): 1e300 is a typo, and would overflow the virtual
#: clock's integer nanoseconds and the wall-clock dates of the records
MAX_SECONDS = 1e9

#: the shortest ``every``: one microsecond. Below it a run is all bookkeeping (5e-324 would make
#: a virtual clock's time stand still: it hung forever)
MIN_EVERY = 1e-6

#: what would break a line or drive a terminal, so no name may hold it: C0 and C1 controls (ESC
#: among them, category Cc), line and paragraph separators (Zl, Zp), bidirectional overrides
#: and isolates
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: the parser of durations written as text ("500ms"); None: a duration is a TOML number
SECONDS_FROM_TEXT: Callable[[str], float] | None = parse_duration


class Bad(Exception):
    """A value a rule refused, and why (a message naming the key)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Convert = Callable[[Any], Any]  # a TOML value -> the model's value; raises Bad

_SCALARS = frozenset((str, int, float, bool))


# -- kinds: each makes the converter of one key --------------------------------------------------


def _number_problem(key: str, value: Any, least: float, positive: bool, most: float) -> Bad:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Bad(f"'{key}' must be a number of seconds, not {type_name(value)}")
    if not math.isfinite(value):
        raise Bad(f"'{key}' must be finite, not {show(value)}")
    if value < 0 or (positive and value == 0):
        raise Bad(f"'{key}' must be {'>' if positive else '>='} 0, not {show(value)}")
    if value < least:
        raise Bad(f"'{key}' = {show(value)} is too short: at least {least:g} seconds")
    raise Bad(f"'{key}' = {show(value)} is too long: at most {most:g} seconds")


def seconds(
    key: str, *, positive: bool = False, least: float = 0.0, most: float = MAX_SECONDS
) -> Convert:
    """A duration: a finite number in [least, most] (> 0 when positive), as a float."""
    floor = least if least > 0 else (math.ulp(0.0) if positive else 0.0)

    def convert(value: Any) -> Any:
        t = type(value)
        if (t is float or t is int) and floor <= value <= most:  # NaN fails the comparison
            # a float, and -0.0 is 0.0: one zero on every path (a float kept as it is: no copy)
            return value if t is float and value else value + 0.0
        if t is str and SECONDS_FROM_TEXT is not None:
            try:
                value = SECONDS_FROM_TEXT(value)
            except ValueError as exc:  # the text is named once: the reason without it
                raise Bad(f"'{key}' = {quoted(value)} {getattr(exc, 'reason', exc)}") from None
            if floor <= value <= most:
                return value + 0.0
        raise _number_problem(key, value, least, positive, most)

    return convert


def flag(key: str) -> Convert:
    """``soon = true``: the only value; the call is due at once (offset 0)."""

    def convert(value: Any) -> Any:
        if value is True:
            return 0.0
        raise Bad(f"'{key}' must be true, not {show(value)}")

    return convert


def moment(key: str) -> Convert:
    """``at``: seconds after t0, or a wall-clock date-time / time of day (resolved later,
    against the clock, by ``check``)."""
    number = seconds(key, most=sys.float_info.max)

    def convert(value: Any) -> Any:
        t = type(value)
        if t is float or t is int:
            if 0 <= value <= TIMESTAMP_LIKE:
                return value if t is float and value else value + 0.0
            number(value)  # finite and >= 0, else it says so
            # Loop time is not wall time; a Unix timestamp here would mean decades.
            raise Bad(
                f"'{key}' = {show(value)} looks like a Unix timestamp; a number is "
                "seconds after the run starts: write a TOML date-time "
                f"({key} = 2026-11-26T12:00:00Z) instead"
            )
        if t is datetime or t is dtime:
            return value
        if t is date:
            raise Bad(
                f"'{key}' = {show(value)} is a date without a time of day "
                f"(write {value.isoformat()}T00:00:00 for midnight, local time)"
            )
        if t is str:
            raise Bad(
                f"'{key}' must be a number of seconds or a TOML date-time/time, not a "
                f"string: write it without quotes ({key} = 12:30:00, "
                f"{key} = 2026-11-26T12:00:00Z)"
            )
        return number(value)

    return convert


def text(key: str) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is str:
            return value
        raise Bad(f"'{key}' must be a string, not {type_name(value)}")

    return convert


def expression(key: str) -> Convert:
    """``cron`` / ``calendar``: an expression its package accepts, refused at load (not at
    3 am). The zone and the bounds join it in ``check`` (``CALENDARS``)."""
    from ..calendars import RuleKind, WallRule

    kind = RuleKind(key)

    def convert(value: Any) -> Any:
        if type(value) is not str:
            raise Bad(f"'{key}' must be a string, not {type_name(value)}")
        try:
            WallRule(kind, value, "UTC")
        except ValueError as exc:
            raise Bad(f"'{key}': {exc}") from None
        return value

    return convert


def zone(key: str) -> Convert:
    """``tz``: an IANA time zone name zoneinfo knows."""
    from ..calendars import zone_named

    def convert(value: Any) -> Any:
        if type(value) is not str:
            raise Bad(f"'{key}' must be a string, not {type_name(value)}")
        try:
            zone_named(value)
        except ValueError as exc:
            raise Bad(f"'{key}': {exc}") from None
        return value

    return convert


def label(key: str) -> Convert:
    """A name shown in every record: a non-empty line without control characters."""

    def convert(value: Any) -> Any:
        if type(value) is str and value.isprintable() and value and not value.isspace():
            return value  # printable: no control, separator or bidi character (Cc, Z*, Cf)
        if type(value) is not str or not value.strip():
            raise Bad(f"'{key}' must be a non-empty string")
        if CONTROLS.search(value):
            # a name is a column of the output: a newline or an escape sequence would break it
            raise Bad(f"'{key}' must not hold control characters: {quoted(value)}")
        return value

    return convert


def _plain(value: Any, key: str) -> None:
    """Whether nested values nest too deep (walked, not recursed: dotted keys can nest tables
    as deep as the file is long, without a bracket)."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        kind = type(v)
        if kind is list or kind is dict:
            if depth >= MAX_NESTING:
                raise Bad(f"'{key}' nests values more than {MAX_NESTING} levels deep")
            items = v if kind is list else v.values()
            stack.extend((item, depth + 1) for item in items)


def array(key: str) -> Convert:
    """Positional arguments: any TOML values, as a tuple."""

    def convert(value: Any) -> Any:
        if type(value) is not list:
            raise Bad(f"'{key}' must be an array, not {type_name(value)}")
        if not _SCALARS.issuperset(map(type, value)):
            _plain(value, key)
        return tuple(value)

    return convert


def table(key: str) -> Convert:
    """Keyword arguments: a table of any TOML values."""

    def convert(value: Any) -> Any:
        if type(value) is not dict:
            raise Bad(f"'{key}' must be a table, not {type_name(value)}")
        if not _SCALARS.issuperset(map(type, value.values())):
            _plain(value, key)
        return value

    return convert


def whole(key: str) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is int and 1 <= value <= INT_MAX:
            return value
        raise Bad(f"'{key}' must be a whole number >= 1, not {show(value)}")

    return convert


def choice(key: str, options: type[enum.Enum], *, listed: bool = True) -> Convert:
    """One of an enum's values, as the member; a did-you-mean hint otherwise."""
    members = {m.value: m for m in options}
    names = list(members)
    wanted = choices_text(names) if not listed else "one of " + ", ".join(map(repr, names))

    def convert(value: Any) -> Any:
        if type(value) is str and value in members:
            return members[value]
        hint = suggest(value, names) if isinstance(value, str) else ""
        raise Bad(f"'{key}' must be {wanted}, not {show(value)}{hint}")

    return convert


def either(key: str, options: type[enum.Enum]) -> Convert:
    """``choice`` of two, said as "'a' or 'b'"."""
    return choice(key, options, listed=False)


def modules(key: str) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is list and all(type(v) is str and v for v in value):
            return tuple(value)
        raise Bad(f"'{key}' must be an array of module names")

    return convert


# -- the table ----------------------------------------------------------------------------------

CALL, REPEAT, RUN = "call", "repeat", "run"


@dataclass(frozen=True)
class Field:
    """One key of a table of the schedule."""

    key: str
    kind: Callable[..., Convert]  # the key (and ``options``) -> its converter
    into: str  # the model attribute the value becomes
    part: str = CALL  # CALL or REPEAT (a Call's attribute, or its Repeat's), or RUN
    timing: Kind | None = None  # a timing key: exactly one per entry, and its Kind
    needs: str | None = None  # another key this one is meaningless without
    options: Any = None  # the kind's argument (an enum for ``choice``)

    def converter(self) -> Convert:
        return self.kind(self.key) if self.options is None else self.kind(self.key, self.options)


def _every(key: str) -> Convert:
    return seconds(key, positive=True, least=MIN_EVERY)


CALL_FIELDS: tuple[Field, ...] = (
    Field("name", label, "name"),
    Field("soon", flag, "offset", timing=Kind.SOON),
    Field("later", seconds, "offset", timing=Kind.LATER),
    Field("at", moment, "offset", timing=Kind.AT),
    Field("cron", expression, "rule", timing=Kind.CRON),
    Field("calendar", expression, "rule", timing=Kind.CALENDAR),
    Field("tz", zone, "tz", needs="cron"),  # (or calendar: see CALENDARS)
    Field("callback", text, "callback"),
    Field("args", array, "args"),
    Field("kwargs", table, "kwargs"),
    Field("every", _every, "every", REPEAT),
    Field("count", whole, "count", REPEAT, needs="every"),
    Field("until", seconds, "until", REPEAT, needs="every"),
    Field("mode", either, "mode", REPEAT, needs="every", options=Mode),
    Field("jitter", seconds, "jitter", REPEAT, needs="every"),
    Field("overlap", choice, "overlap", options=Overlap),
    Field("late_after", seconds, "late_after"),
)

RUN_FIELDS: tuple[Field, ...] = (
    Field("loop", choice, "loop", RUN, options=LoopImpl),
    Field("plugins", modules, "plugins", RUN),
)

TOP_KEYS = ("run", "call")


def _keys(fields: Iterable[Field]) -> tuple[str, ...]:
    return tuple(f.key for f in fields)


CALL_KEYS = _keys(CALL_FIELDS)
RUN_KEYS = _keys(RUN_FIELDS)
TIMING_KEYS = _keys(f for f in CALL_FIELDS if f.timing is not None)
REPEAT_KEYS = _keys(f for f in CALL_FIELDS if f.part == REPEAT)
KIND_OF = {f.key: f.timing for f in CALL_FIELDS if f.timing is not None}
KEY_OF = {kind: key for key, kind in KIND_OF.items()}  # a Kind -> its timing key
NEEDS = {f.key: f.needs for f in CALL_FIELDS if f.needs is not None}

#: key -> its converter: what the checker calls once per key of each entry
CALL_RULES: dict[str, Convert] = {f.key: f.converter() for f in CALL_FIELDS}
RUN_RULES: dict[str, Convert] = {f.key: f.converter() for f in RUN_FIELDS}

#: the check builds a Call's name, kind, callback, args, kwargs, offset (from the timing key)
#: itself; a row naming any other attribute of Call is copied there as it is
_BUILT = frozenset(("name", "callback", "args", "kwargs", "offset", "rule", "tz"))
CALL_EXTRAS = tuple((f.key, f.into) for f in CALL_FIELDS if f.part == CALL and f.into not in _BUILT)
EXTRA_KEYSET = frozenset(key for key, _ in CALL_EXTRAS)  # most entries have none of them
REPEAT_INTO = tuple((f.key, f.into) for f in CALL_FIELDS if f.part == REPEAT)
RUN_INTO = {f.key: f.into for f in RUN_FIELDS}

#: the timing keys whose entries repeat by their expression, on the wall clock: ``tz`` and the
#: bounds count and until go with them; every, mode and jitter do not
CALENDARS = frozenset(f.key for f in CALL_FIELDS if f.timing in (Kind.CRON, Kind.CALENDAR))
NOT_FOR_CALENDARS = frozenset(("every", "mode", "jitter"))
