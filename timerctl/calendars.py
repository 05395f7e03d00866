"""Calendar timing: ``cron = "*/5 * * * *"`` and ``calendar = "Mon..Fri 09:00"``.

A calendar entry names wall-clock moments, not loop-clock offsets: the engine asks for the next
moment after the wall clock's reading when it arms the call, and again after the wall clock
steps or the machine resumes (a loop clock does not count a suspend). The moments come from two
small, well-tested packages rather than a parser of our own:

- cron: ``cronsim`` (Debian cron semantics, DST-correct: a job in a skipped hour runs when the
  gap ends, a fixed-time job in a repeated hour runs once, an interval job runs in both);
- calendar: ``oncalendar`` (systemd.time(7) OnCalendar=, with systemd's DST rules: a moment in
  a gap is skipped, one in a fold runs in both).

Each is in the local time zone, or in ``tz`` (an IANA name, through zoneinfo).
"""

from __future__ import annotations

import enum
import itertools
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any


class RuleKind(enum.Enum):
    CRON = "cron"
    CALENDAR = "calendar"


def local_zone() -> tzinfo:
    """The local zone with its DST rules (not today's fixed offset, which would be wrong for
    half of the year): $TZ, else /etc/localtime, else the fixed offset as a last resort."""
    from zoneinfo import ZoneInfo

    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ValueError, OSError, KeyError):
            pass
    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        zone = datetime.now().astimezone().tzinfo
        assert zone is not None
        return zone


def zone_named(name: str | None) -> tzinfo:
    """``tz`` as given, or the local zone; ValueError naming the problem otherwise."""
    if name is None:
        return local_zone()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as 'Europe/Berlin' or 'UTC')"
        ) from None


@dataclass(frozen=True)
class WallRule:
    """A repeating wall-clock timing: the next moment after a given wall-clock reading.

    ``count`` bounds the calls; ``until`` (seconds after t0) bounds when the last may be due.
    """

    kind: RuleKind
    expr: str
    tz: str | None = None
    count: int | None = None
    until: float | None = None
    _zone: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", zone_named(self.tz))
        if self.count is not None and self.count < 1:
            raise ValueError(f"count must be >= 1, not {self.count!r}")
        self._iterator(datetime.now(self._zone))  # refuse a bad expression now, not at 3 am

    def _iterator(self, start: datetime) -> Any:
        if self.kind is RuleKind.CRON:
            from cronsim import CronSim, CronSimError

            try:
                return CronSim(self.expr, start)
            except CronSimError as exc:
                raise ValueError(f"bad cron expression {self.expr!r}: {exc}") from None
        from oncalendar import OnCalendar, OnCalendarError

        try:
            return OnCalendar(self.expr, start)
        except OnCalendarError as exc:
            raise ValueError(f"bad calendar expression {self.expr!r}: {exc}") from None

    @property
    def zone(self) -> tzinfo:
        return self._zone  # type: ignore[no-any-return]

    def next_after(self, wall: float) -> float | None:
        """The epoch time of the first moment strictly after ``wall`` (None: there is none)."""
        for moment in self.moments(wall, 1):
            return moment.timestamp()
        return None

    def moments(self, wall: float, n: int) -> list[datetime]:
        """The next ``n`` moments after ``wall``, aware, in the rule's zone."""
        start = datetime.fromtimestamp(wall, self._zone)
        it = self._iterator(start)
        out: list[datetime] = []
        for moment in it:
            if moment.timestamp() <= wall:  # both work in whole seconds: skip the current one
                continue
            out.append(moment)
            if len(out) >= n:
                break
        return out

    def within(self, n: int, offset: float) -> bool:
        """As ``Repeat.within``: firing ``n``, due ``offset`` s after t0, inside the bounds."""
        if self.count is not None and n > self.count:
            return False
        return self.until is None or offset <= self.until + 1e-9

    def describe(self) -> str:
        zone = f" in {self.tz}" if self.tz else ""
        return f"{self.kind.value} {self.expr!r}{zone}"


def dst_notes(moments: list[datetime], start: datetime | None = None) -> list[str]:
    """The DST changes among ``moments`` (and since ``start``): when the clocks go forward or
    back, and what that does to the moments, each change said once."""
    points = ([start] if start is not None else []) + moments
    notes = []
    for before, after in itertools.pairwise(points):
        a, b = before.utcoffset(), after.utcoffset()
        if a is None or b is None or a == b:
            continue
        lo, hi = before.timestamp(), after.timestamp()
        while hi - lo > 1:  # the change itself, to the second
            mid = (lo + hi) / 2
            if datetime.fromtimestamp(mid, after.tzinfo).utcoffset() == a:
                lo = mid
            else:
                hi = mid
        when = datetime.fromtimestamp(round(hi), after.tzinfo).isoformat()
        if b > a:
            what = (
                "forward: the wall times of the skipped hour do not exist (cron runs a job "
                "due then when the gap ends; calendar skips it)"
            )
        else:
            what = (
                "back: the wall times of the repeated hour come twice (cron runs a "
                "fixed-time job once and an interval job in both; calendar runs in both)"
            )
        notes.append(
            f"DST: the clocks go {what}; {_offset(a)} -> {_offset(b)} at {when}, "
            f"before the moment {after.isoformat()}"
        )
    return notes


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
