"""A shape of entry (its keys, in order) and what its keys alone decide (``Plan``).

Entries with the same shape get the same verdicts on their keys: which timing key, whether it is
a calendar, whether the entry repeats. ``batch`` decides them once per shape, with this.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schedule import Kind
from .rules import (
    CALENDARS,
    CALL_EXTRAS,
    CALL_KEYS,
    KIND_OF,
    NOT_FOR_CALENDARS,
    REPEAT_INTO,
    TIMING_KEYS,
)

_CALL_KEYSET = frozenset(CALL_KEYS)
_TIMING_KEYSET = frozenset(TIMING_KEYS)
_REPEAT_KEYSET = frozenset(key for key, _ in REPEAT_INTO)


@dataclass(frozen=True)
class Plan:
    """What a shape's keys decide for every entry of that shape."""

    key: str  # the timing key
    kind: Kind
    calendar: bool
    repeat_keys: tuple[str, ...]  # the repeat keys present, in ``REPEAT_INTO``'s order
    repeat: tuple[str, ...]  # the Repeat attributes they go into
    extras: tuple[tuple[str, str], ...]  # keys set straight on the Call (``CALL_EXTRAS``)


def _timing_key(keys: frozenset[str]) -> str | None:
    """The one timing key of a shape whose keys can make a valid entry, else None."""
    timing = keys & _TIMING_KEYSET
    if not keys <= _CALL_KEYSET or len(timing) != 1 or "callback" not in keys:
        return None
    (key,) = timing
    if key in CALENDARS:
        return key if keys.isdisjoint(NOT_FOR_CALENDARS) else None
    if "tz" in keys or ("every" not in keys and not keys.isdisjoint(_REPEAT_KEYSET)):
        return None
    return key


def plan_of(shape: tuple[str, ...]) -> Plan | None:
    """The verdicts of a shape, or None when its keys alone make an entry wrong."""
    keys = frozenset(shape)
    key = _timing_key(keys)
    if key is None:
        return None
    calendar = key in CALENDARS
    into_repeat = [] if calendar else [(k, into) for k, into in REPEAT_INTO if k in keys]
    return Plan(
        key=key,
        kind=KIND_OF[key],
        calendar=calendar,
        repeat_keys=tuple(k for k, _ in into_repeat),
        repeat=tuple(into for _, into in into_repeat),
        extras=tuple((k, into) for k, into in CALL_EXTRAS if k in keys),
    )
