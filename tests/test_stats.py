"""Lateness statistics: exact for ordinary runs, within 1% and flat in memory for endless ones."""

import random

from timerctl import stats
from timerctl.engine import percentile
from timerctl.stats import Lateness


def test_exact_while_short() -> None:
    values = [0.003, -0.0001, 0.0, 0.25, 0.001, 0.002]
    lat = Lateness()
    for v in values:
        lat.add(v)
    ordered = sorted(values)
    assert lat.percentiles(50, 90, 99) == [percentile(ordered, q) for q in (50, 90, 99)]
    assert (lat.count, lat.early, lat.maximum) == (6, 1, 0.25)


def test_past_the_exact_limit_percentiles_stay_within_one_percent(monkeypatch) -> None:
    monkeypatch.setattr(stats, "EXACT", 1000)
    rng = random.Random(7)
    values = [rng.lognormvariate(-7, 1) for _ in range(20_000)] + [0.0] * 500 + [-1e-5] * 10
    lat = Lateness()
    for v in values:
        lat.add(v)
    assert lat._exact is None and len(lat._buckets) < 2000  # bounded, whatever the count
    ordered = sorted(values)
    for q in (50, 90, 99):
        exact = percentile(ordered, q)
        assert abs(lat.percentile(q) - exact) <= 0.011 * exact
    assert lat.maximum == max(values) and lat.early == 10 and lat.count == len(values)


def test_empty() -> None:
    assert Lateness().percentiles(50, 99) == [None, None]
