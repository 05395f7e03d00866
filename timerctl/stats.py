"""Lateness statistics in bounded memory: exact for ordinary runs, close for endless ones.

A run with an unbounded ``every`` may go on for days; keeping every lateness for the summary's
percentiles would grow by ~32 bytes a call without end. The first EXACT values are kept exactly
(percentiles are then values that really occurred); past that, every value goes into
logarithmic buckets 1% wide, so a percentile is within 1% of the true one and memory is flat.
"""

from __future__ import annotations

import math
from array import array

EXACT = 100_000
_STEP = math.log(1.01)  # bucket width: 1% of the value
_FLOOR = 1e-9  # lateness under a nanosecond counts as zero


class Lateness:
    """Collects lateness values; answers count, early count, max and percentiles."""

    __slots__ = ("_buckets", "_exact", "count", "early", "maximum", "nonpositive")

    def __init__(self) -> None:
        self._exact: array[float] | None = array("d")
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.early = 0
        self.nonpositive = 0  # bucketed values <= 0 (early ones and on-time ones)
        self.maximum: float | None = None

    def add(self, late: float) -> None:
        self.count += 1
        if late < 0:
            self.early += 1
        if self.maximum is None or late > self.maximum:
            self.maximum = late
        exact = self._exact
        if exact is not None:
            exact.append(late)
            if len(exact) > EXACT:
                self._exact = None
                for value in exact:
                    self._bucket(value)
            return
        self._bucket(late)

    def _bucket(self, late: float) -> None:
        if late < _FLOOR:
            self.nonpositive += 1
        else:
            key = math.floor(math.log(late) / _STEP)
            self._buckets[key] = self._buckets.get(key, 0) + 1

    def percentiles(self, *qs: float) -> list[float | None]:
        """Nearest-rank percentiles (exact while the run is short)."""
        if self._exact is not None:
            ordered = sorted(self._exact)
            return [
                ordered[max(1, math.ceil(q / 100 * self.count)) - 1] if ordered else None
                for q in qs
            ]
        return [self.percentile(q) for q in qs]

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile (exact while the run is short)."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q / 100 * self.count))
        if self._exact is not None:
            return sorted(self._exact)[rank - 1]
        if rank <= self.nonpositive:
            return 0.0
        seen = self.nonpositive
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if seen >= rank:
                return min(math.exp((key + 0.5) * _STEP), self.maximum or 0.0)
        return self.maximum
