"""What the loop's process hands the display: the message kinds, and the summary's numbers.

Its own module so that the loop side (``live``) and the drawing side (``rich``, ``drawer``)
share it without importing each other.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator

from ..events import CallRecord

#: what the feeder sends: lists of messages, each a tuple starting with one of these
REC, SKIP, EVENT, STATUS, ERR, END = range(6)
#: (REC, t, loop_time, wall_time, late, entry, call, result, failed): a record, as text
#: (SKIP, n): n records not drawn · (EVENT, Start | Cancelled | ClockStep) · (STATUS, dict)
#: (ERR, text): written to our stderr · (END, End, Samples), or (END, None, None): stop now


#: the lateness histogram's upper bucket edges (<10µs, <100µs, ..., >=100ms)
LATE_EDGES = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, float("inf"))
TIMELINE_ROWS = 12  # entries the timeline shows a row for (the first ones to run)
EXACT_POINTS = 100_000  # calls whose every point the timeline keeps; past it, bins
TIME_BINS = 1024  # the timeline's bins past EXACT_POINTS (its width is at most 100 columns)


class Samples:
    """What the summary needs of every call, in memory that stays flat on an endless run.

    The histogram is counted as calls come. The timeline keeps the time, lateness and entry of
    the first EXACT_POINTS calls (20 bytes each); past that, TIME_BINS bins of equal width
    hold the worst lateness of all entries and of each shown entry, and which bins saw a
    failure, and two neighbours merge into one whenever the run outgrows them.
    """

    def __init__(self) -> None:
        self.t: array[float] | None = array("d")
        self.late: array[float] | None = array("d")
        self.entry: array[int] | None = array("i")
        self.failed: set[int] = set()  # indices of the failed points
        self.failed_bins: set[tuple[int, int]] = set()  # (entry, bin) where a call failed
        self.names: dict[str, int] = {}
        self.count = 0
        self.t_max = 0.0
        self.early = 0
        self.histogram = [0] * len(LATE_EDGES)
        self.width = 0.0  # seconds a bin covers (binned only)
        self.worst: array[float] | None = None  # per bin, over every entry (-inf: no call)
        self.rows: list[array[float]] = []  # per shown entry, per bin

    def add(self, r: CallRecord) -> None:
        idx = self.names.setdefault(r.entry, len(self.names))
        late, t = r.late, r.t
        self.count += 1
        if t > self.t_max:
            self.t_max = t
        if late < 0:
            self.early += 1
        else:
            self.histogram[bisect_right(LATE_EDGES, late)] += 1
        times = self.t
        if times is not None:
            if r.failed:
                self.failed.add(len(times))
            times.append(t)
            self.late.append(late)  # type: ignore[union-attr]
            self.entry.append(idx)  # type: ignore[union-attr]
            if len(times) >= EXACT_POINTS:
                self._bin()
            return
        self._put(t, late, idx, r.failed)

    def points(self) -> Iterator[tuple[float, float, int, bool]]:
        """(time, lateness, entry index, failed) of every call, or of every bin's worst."""
        if self.t is not None:
            failed = self.failed
            assert self.late is not None and self.entry is not None
            for k, (t, late, idx) in enumerate(zip(self.t, self.late, self.entry, strict=True)):
                yield t, late, idx, k in failed
            return
        assert self.worst is not None
        w = self.width
        for b, late in enumerate(self.worst):
            if late != _NONE:
                yield b * w, late, -1, False
        for idx, row in enumerate(self.rows):
            for b, late in enumerate(row):
                if late != _NONE:
                    yield b * w, late, idx, (idx, b) in self.failed_bins

    def _bin(self) -> None:
        """Past EXACT_POINTS: from every point to bins (and flat memory from here on)."""
        t, late, entry, failed = self.t, self.late, self.entry, self.failed
        assert t is not None and late is not None and entry is not None
        self.t = self.late = self.entry = None
        self.failed = set()
        self.width = max(self.t_max, 1e-9) / (TIME_BINS // 2)
        self.worst = array("d", [_NONE]) * TIME_BINS
        self.rows = [
            array("d", [_NONE]) * TIME_BINS for _ in range(min(TIMELINE_ROWS, len(self.names)))
        ]
        for k in range(len(t)):
            self._put(t[k], late[k], entry[k], k in failed)

    def _put(self, t: float, late: float, idx: int, failed: bool) -> None:
        b = int(t / self.width)
        while b >= TIME_BINS:
            self._halve()
            b = int(t / self.width)
        worst = self.worst
        assert worst is not None
        if late > worst[b]:
            worst[b] = late
        if idx < TIMELINE_ROWS:
            while idx >= len(self.rows):
                self.rows.append(array("d", [_NONE]) * TIME_BINS)
            row = self.rows[idx]
            if late > row[b]:
                row[b] = late
            if failed:
                self.failed_bins.add((idx, b))

    def _halve(self) -> None:
        self.width *= 2
        for bins in [self.worst, *self.rows]:
            assert bins is not None
            for b in range(TIME_BINS // 2):
                bins[b] = max(bins[2 * b], bins[2 * b + 1])
            for b in range(TIME_BINS // 2, TIME_BINS):
                bins[b] = _NONE
        self.failed_bins = {(i, b // 2) for i, b in self.failed_bins}


_NONE = float("-inf")  # a bin no call fell in
