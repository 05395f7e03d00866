"""Wall-clock ``at`` values in the local time zone, across daylight-saving changes.

The rules (README "Wall-clock times and daylight saving"):
- a date-time with an offset (``Z``, ``+01:00``) is that instant;
- a local date-time in the hour the clocks repeat (autumn) is its first occurrence (summer
  time); write an offset for the second;
- a local date-time in the hour the clocks skip (spring) does not exist: an error naming the
  gap, rather than a guess;
- a time of day is its next occurrence after now: in the repeated hour that may be the second
  one (the clock shows it again); in a skipped hour the moment the clocks jump past it
  (02:30 in a 02:00 -> 03:00 gap is 03:30 summer time, one hour after 01:30), as mktime does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from .messages import human_duration, show


class Gap(ValueError):
    """A local date-time the clocks skip."""


def _stamps(naive: datetime) -> tuple[float, float]:
    """The instants a local wall-clock reading may mean: (first, second); equal if one."""
    early, late = naive.replace(fold=0).timestamp(), naive.replace(fold=1).timestamp()
    return min(early, late), max(early, late)


def _exists(naive: datetime, stamp: float) -> bool:
    return datetime.fromtimestamp(stamp).replace(fold=0) == naive.replace(fold=0)


def _aware(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC).astimezone()


def _gap_text(naive: datetime) -> str:
    """ "from 02:00 to 03:00 (+01:00 to +02:00)": found by bisection between the two readings."""
    low, high = _stamps(naive)  # in a gap: the reading with the offset after, then before
    while high - low > 1:
        mid = (low + high) / 2
        if _aware(mid).utcoffset() == _aware(low).utcoffset():
            low = mid
        else:
            high = mid
    before, after = _aware(low), _aware(high)
    start = after - (after.utcoffset() or timedelta()) + (before.utcoffset() or timedelta())
    return (
        f"from {start:%H:%M} to {after:%H:%M} "
        f"({before.isoformat()[-6:]} to {after.isoformat()[-6:]})"
    )


def resolve_datetime(value: datetime) -> datetime:
    """The aware moment of a date-time; ``Gap`` when local and skipped by the clocks."""
    if value.tzinfo is not None:
        return value
    first, second = _stamps(value)
    for stamp in (first, second):
        if _exists(value, stamp):
            return _aware(stamp)  # the first occurrence when it occurs twice
    raise Gap(
        f"does not exist in local time: that day the clocks go {_gap_text(value)}; "
        "write a time outside the gap, or an offset"
    )


def next_time(value: dtime, now: float) -> datetime:
    """The next moment after now when the local clock shows this time of day."""
    today = datetime.fromtimestamp(now).date()
    candidates = []
    for days in range(3):
        naive = datetime.combine(today + timedelta(days=days), value)
        first, second = _stamps(naive)
        found = [s for s in (first, second) if _exists(naive, s)]
        # in a gap: the reading with the offset from before the jump, i.e. after it (mktime)
        candidates += found or [naive.replace(fold=0).timestamp()]
    return _aware(min(s for s in candidates if s > now))


def moment_of(value: datetime | dtime, now: float) -> datetime | str:
    """The aware moment of a wall-clock ``at`` value, or why there is none (a schedule's
    message: in a gap, out of range, in the past)."""
    try:
        moment = resolve_datetime(value) if isinstance(value, datetime) else next_time(value, now)
        ahead = moment.timestamp() - now
    except Gap as exc:
        return f"'at' = {show(value)} {exc}"
    except (OverflowError, ValueError, OSError):  # year 1 or 9999 in the local zone
        return f"'at' = {show(value)} is out of range"
    if ahead < 0:
        shown = datetime.fromtimestamp(now).astimezone().isoformat()
        return f"'at' = {show(value)} is {human_duration(-ahead)} in the past (now is {shown})"
    return moment
