"""How user values appear in messages: one line, short, never able to drive a terminal."""

from __future__ import annotations

from datetime import date, datetime
from datetime import time as dtime
from typing import Any


def one_line(text: str) -> str:
    """Escape control characters: one problem stays one line, and cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def quoted(text: str) -> str:
    """A user-given name, quoted for a message."""
    return f"'{clip(one_line(text))}'"


def show(value: Any) -> str:
    """A value as it was written in TOML (short), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # str() refuses over 4300 digits; such a number means nothing to a reader anyway
        return str(value) if value.bit_length() <= 256 else "a huge integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    return type_name(value)


def type_name(value: Any) -> str:
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


def human_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g}s"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes else []
    parts += [f"{secs}s"] if secs or not parts else []
    return "".join(parts)


def choices_text(choices: list[str]) -> str:
    """'a' or 'b'; 'a', 'b' or 'c'."""
    return " or ".join(filter(None, [", ".join(map(repr, choices[:-1])), repr(choices[-1])]))


# -- the messages of whole entries (the per-key ones are with their rules in rules.py) ---------

NO_TIMING = (
    "[[call]] needs exactly one of: soon = true, later = SECONDS, at = TIME, "
    "cron = EXPRESSION, calendar = EXPRESSION"
)
NO_CALLBACK = "[[call]] needs 'callback' (see `timerctl callbacks`)"
NO_CALLS = "no [[call]] entries: nothing to schedule"
CALL_NOT_ARRAY = "'call' must be an array of tables ([[call]] entries)"
CALL_IS_TABLE = "'call' must be an array of tables: write [[call]], not [call]"
RUN_NOT_TABLE = "'run' must be a table ([run])"
NESTING = "nesting too deep for the TOML parser"
BIG_INTEGER = "integer too large: TOML integers are 64-bit (up to 9223372036854775807)"


def two_timings(first: str, second: str) -> str:
    return (
        f"'{first}' and '{second}' cannot both be given: use exactly one of soon, later, "
        "at, cron, calendar"
    )


def needs(key: str, other: str) -> str:
    return f"'{key}' needs '{other}' (it only applies to a repeating call)"


def unknown_key(key: str, where: str, hint: str) -> str:
    return f"unknown key {quoted(key)} in {where}{hint}"


def unknown_top_key(key: str, hint: str) -> str:
    return f"unknown top-level key {quoted(key)}{hint} (a schedule has [run] and [[call]] tables)"


def duplicate_name(name: str, first_line: int) -> str:
    return f"duplicate name {quoted(name)} (first used by the [[call]] on line {first_line})"


def default_name_taken(name: str, first_line: int) -> str:
    return (
        f"this [[call]]'s default name {quoted(name)} is already the name of the "
        f"[[call]] on line {first_line}: give one of them a name"
    )


def not_for_calendar(key: str, timing: str) -> str:
    return (
        f"'{key}' does not apply to a {timing} entry: it repeats by its expression "
        "(count and until bound it)"
    )


def tz_needs_calendar() -> str:
    return "'tz' needs 'cron' or 'calendar' (it is their time zone)"
