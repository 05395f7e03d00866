"""Durations as people write them: ``"500ms"``, ``"1m30s"``, ``"2h 30min"``, ``90``.

One parser for every place a number of seconds goes (flags today, schedule keys once the loader's
rule table takes them). The units are Go's ``time.ParseDuration`` (ns, us/µs, ms, s, m, h) and
systemd.time(7)'s time-span spellings (usec, msec, sec, min, hr, day, week, month, year and
their plurals), so a value copied from a Go flag or a ``.timer`` unit means the same here.
Units are case-sensitive, as in both: ``M`` is a month, ``m`` a minute.
"""

from __future__ import annotations

import difflib
import math
import re

#: seconds per unit: Go's units first, then systemd.time(7)'s list, in its order
UNITS: dict[str, float] = {
    "ns": 1e-9,
    "nsec": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "usec": 1e-6,  # µ is U+00B5 (Go) or U+03BC (Greek mu)
    "ms": 1e-3,
    "msec": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
    # systemd: a month is 30.44 days, a year 365.25 days
    "M": 2629800.0,
    "month": 2629800.0,
    "months": 2629800.0,
    "y": 31557600.0,
    "year": 31557600.0,
    "years": 31557600.0,
}

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_BARE = re.compile(rf"\s*\+?{_NUMBER}(?:[eE][+-]?\d+)?\s*")  # 1e-06, as repr writes it
_PART = re.compile(rf"\s*({_NUMBER})\s*([^\d\s.+-]*)\s*")

SPELLINGS = "ns, us, ms, s, m, h, d, w (or usec, msec, sec, min, hour, day, week...)"


class DurationError(ValueError):
    """Text that is not a duration. The message names it (``duration '5 parsecs': unknown
    unit...``); ``reason`` says why without naming it, for a message that already does."""

    def __init__(self, shown: str, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"duration {shown} {reason}")
        self.reason = reason


def parse_duration(text: str | int | float) -> float:
    """Seconds in ``text``: a number, or number-unit pairs (``"1m30s"``, ``"2h 30min"``).

    A bare number is seconds. Raises DurationError (a ValueError), with a message fit for a
    user, for anything negative, not finite, empty, or with an unknown unit (naming the nearest
    known one).
    """
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        why = f'a duration is a number of seconds or a text like "1m30s", not {type(text).__name__}'
        raise DurationError(repr(text), why, why)
    if isinstance(text, int | float):
        return _checked(float(text), repr(text))
    shown = repr(text)
    if _BARE.fullmatch(text):
        return _checked(float(text), shown)
    body = text.strip()
    if not body:
        why = f"write seconds or a number with a unit ({SPELLINGS})"
        raise DurationError(shown, f"is empty: {why}", f"empty duration: {why}")
    if body[0] == "-":
        raise DurationError(shown, "is negative: it must be >= 0")
    if body[0] == "+":
        body = body[1:]
    lowered = body.lower()
    if lowered in ("nan", "inf", "infinity", "+inf"):
        raise DurationError(shown, "is not finite")
    total, pos = 0.0, 0
    while pos < len(body):
        m = _PART.match(body, pos)
        if m is None or m.end() == pos:
            why = f"expected a number and a unit ({SPELLINGS})"
            raise DurationError(
                shown,
                f"cannot be read at {body[pos:]!r}: {why}",
                f"cannot read duration {shown} at {body[pos:]!r}: {why}",
            )
        number, unit = m.group(1), m.group(2)
        if not unit:
            raise DurationError(
                shown,
                f"has {number} with no unit "
                "(a number alone is seconds only when it is the whole value)",
                f"duration {shown}: {number} has no unit "
                "(a number alone is seconds only when it is the whole value)",
            )
        scale = UNITS.get(unit)
        if scale is None:
            why = f"unknown unit {unit!r}{_nearest(unit)}"
            raise DurationError(shown, f"has an {why}", f"duration {shown}: {why}")
        total += float(number) * scale
        pos = m.end()
    return _checked(total, shown)


def _checked(seconds: float, shown: str) -> float:
    if math.isnan(seconds) or math.isinf(seconds):
        raise DurationError(shown, "is not finite")
    if seconds < 0:
        raise DurationError(shown, "is negative: it must be >= 0")
    return seconds


def _nearest(unit: str) -> str:
    """A "did you mean" for a unit: case first (``MS`` -> ``ms``), then spelling."""
    for known in UNITS:
        if known.lower() == unit.lower():
            return f"; did you mean {known!r}?"
    close = difflib.get_close_matches(unit, list(UNITS), n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known units: {SPELLINGS}"


def format_duration(seconds: float) -> str:
    """A short text ``parse_duration`` reads back as ``seconds`` (``"1m30s"``, ``"500ms"``).

    For showing a duration back to a person (the comment ``--show`` writes): whole hours,
    minutes and seconds; a whole number of ms or µs; else positional seconds.
    """
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"not a duration: {seconds!r}")
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    rest = seconds
    if seconds == int(seconds):
        whole = int(seconds)
        for unit, size in (("h", 3600), ("m", 60)):
            if whole >= size:
                parts.append(f"{whole // size}{unit}")
                whole %= size
        if whole or not parts:
            parts.append(f"{whole}s")
        return "".join(parts)
    for small, scale in (("ms", 1e-3), ("us", 1e-6)):
        scaled = rest / scale
        if rest < 1 and abs(scaled - round(scaled)) < 1e-9 * max(1.0, scaled):
            return f"{round(scaled)}{small}"
    from decimal import Decimal

    return f"{Decimal(repr(rest)):f}s"  # positional: 6.1e-05 would read as a unit 'e'
