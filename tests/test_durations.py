"""parse_duration: Go's and systemd's spellings, combinations, and clear refusals."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timerctl.durations import UNITS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("1m30s", 90.0),
        ("2h 30min", 9000.0),
        ("250us", 250e-6),
        ("250µs", 250e-6),
        ("250μs", 250e-6),
        ("1.5h", 5400.0),
        ("90", 90.0),
        (" 2.5 ", 2.5),
        ("1 hour 2 minutes 3 seconds", 3723.0),
        ("3 usec", 3e-6),
        ("10msec", 0.01),
        ("1d", 86400.0),
        ("2 weeks", 1209600.0),
        ("1hr", 3600.0),
        ("5 sec", 5.0),
        ("1M", 2629800.0),
        ("1y", 31557600.0),
        ("100ns", 1e-7),
        ("+5s", 5.0),
        (".5s", 0.5),
        ("0", 0.0),
        (3, 3.0),
        (0.25, 0.25),
    ],
)
def test_reads(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5s", "negative"),
        ("-1", "negative"),
        (-1, "negative"),
        ("nan", "not finite"),
        (math.inf, "not finite"),
        (math.nan, "not finite"),
        ("inf", "not finite"),
        ("", "empty"),
        ("   ", "empty"),
        ("5 parsecs", "unknown unit 'parsecs'"),
        ("5mins", "did you mean 'min'?"),
        ("5MS", "did you mean 'ms'?"),
        ("5 secs", "did you mean 'sec'"),
        ("1h30", "30 has no unit"),
        ("1h-30m", "cannot read"),
        ("ms", "cannot read"),
        (True, "not bool"),
        (None, "not NoneType"),
    ],
)
def test_refuses_with_a_clear_message(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("?", r"\?").replace("(", r"\(")):
        parse_duration(text)  # type: ignore[arg-type]


amounts = st.integers(min_value=0, max_value=10_000)


@given(
    st.lists(st.tuples(amounts, st.sampled_from(sorted(UNITS))), min_size=1, max_size=5),
    st.sampled_from(["", " "]),
)
def test_a_combination_is_the_sum_of_its_parts(parts: list[tuple[int, str]], sep: str) -> None:
    text = sep.join(f"{n}{unit}" for n, unit in parts)
    expected = math.fsum(n * UNITS[unit] for n, unit in parts)
    assert parse_duration(text) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_a_bare_number_is_seconds(x: float) -> None:
    assert parse_duration(repr(x)) == x
    assert parse_duration(x) == x


@given(st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False))
def test_negatives_are_refused(x: float) -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_duration(x)


@given(st.text(max_size=12))
def test_any_text_reads_or_says_why(text: str) -> None:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert math.isfinite(value) and value >= 0


@given(
    st.one_of(
        st.integers(min_value=0, max_value=10**7),
        st.floats(min_value=1e-6, max_value=1e7, allow_nan=False),
    )
)
def test_format_reads_back(x: float) -> None:
    assert parse_duration(format_duration(x)) == pytest.approx(x, rel=1e-12)


def test_format_is_short() -> None:
    assert [format_duration(x) for x in (90, 0.5, 3600, 3725, 250e-6, 0, 1.25)] == [
        "1m30s",
        "500ms",
        "1h",
        "1h2m5s",
        "250us",
        "0s",
        "1.25s",
    ]


# -- in a schedule: every key of seconds takes a duration text ---------------------------------


def test_schedule_keys_take_durations() -> None:
    from helpers import schedule

    from timerctl.schedule import Overlap

    sched = schedule("""
    [[call]]
    soon = true
    every = "100ms"
    until = "1m30s"
    jitter = "2ms"
    overlap = "skip"
    late_after = "1s"
    callback = "echo"

    [[call]]
    later = "2h 30min"
    callback = "echo"
    """)
    tick, later = sched.calls
    assert tick.repeat is not None
    assert (tick.repeat.every, tick.repeat.until, tick.repeat.jitter) == (0.1, 90.0, 0.002)
    assert (tick.overlap, tick.late_after) == (Overlap.SKIP, 1.0)
    assert later.offset == 9000.0


def test_a_bad_duration_in_a_schedule_is_located() -> None:
    from helpers import schedule

    from timerctl.errors import ScheduleError

    with pytest.raises(ScheduleError) as caught:
        schedule('[[call]]\nlater = "5 mins"\ncallback = "echo"\n')
    (problem,) = caught.value.problems
    assert problem.line == 2 and "did you mean 'min'?" in problem.message


def test_a_schedules_duration_error_names_the_text_once() -> None:
    """The loader says "'later' = '5 parsecs' has an unknown unit...": the text appears once."""
    from timerctl.durations import DurationError, parse_duration

    for text in ("5 parsecs", "1h30", "-1s", "inf", "2s xs", ""):
        with pytest.raises(DurationError) as caught:
            parse_duration(text)
        assert repr(text) in str(caught.value) or text == ""
        assert repr(text) not in caught.value.reason
