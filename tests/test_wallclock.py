"""Wall-clock ``at`` across daylight-saving changes, in Europe/Berlin with an injected now.

2026's changes there: 29 March 02:00 CET -> 03:00 CEST (an hour skipped), 25 October 03:00 CEST
-> 02:00 CET (02:00-03:00 shown twice). Rules: README "Wall-clock times and daylight saving".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from timerctl.errors import ScheduleError
from timerctl.load import load_text

ECHO = 'callback = "echo"\n'
CET, CEST = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))


pytestmark = pytest.mark.usefixtures("berlin")  # conftest.py: local time is Europe/Berlin


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def moment(at: str, now: float) -> datetime:
    (call,) = load_text(f"[[call]]\nat = {at}\n" + ECHO, "s.toml", now=now).calls
    assert call.wall_at is not None
    return call.wall_at


def problem(at: str, now: float) -> tuple[int, int | None, str]:
    with pytest.raises(ScheduleError) as info:
        load_text(f"[[call]]\nat = {at}\n" + ECHO, "s.toml", now=now)
    ((_, line, col, message),) = info.value.problems
    return line, col, message


NOW = utc(2026, 1, 1)


def test_a_local_date_time_the_clocks_skip_is_refused_naming_the_gap() -> None:
    # it used to be planned an hour early, at 01:30+01:00
    assert problem("2099-03-29T02:30:00", NOW) == (
        2,
        1,
        "'at' = 2099-03-29T02:30:00 does not exist in local time: that day the clocks go "
        "from 02:00 to 03:00 (+01:00 to +02:00); write a time outside the gap, or an offset",
    )


def test_the_same_moment_with_an_offset_is_fine() -> None:
    assert moment("2099-03-29T02:30:00+01:00", NOW).timestamp() == utc(2099, 3, 29, 1, 30)


def test_around_the_gap_local_times_are_what_the_clock_shows() -> None:
    assert moment("2099-03-29T01:59:59", NOW) == datetime(2099, 3, 29, 1, 59, 59, tzinfo=CET)
    assert moment("2099-03-29T03:00:00", NOW) == datetime(2099, 3, 29, 3, 0, tzinfo=CEST)


def test_a_repeated_local_time_is_its_first_occurrence() -> None:
    first = moment("2099-10-25T02:30:00", NOW)
    assert first == datetime(2099, 10, 25, 2, 30, tzinfo=CEST)
    assert first.utcoffset() == timedelta(hours=2)
    assert moment("2099-10-25T02:30:00+01:00", NOW).timestamp() == first.timestamp() + 3600


def test_a_time_of_day_in_the_repeated_hour_is_its_next_showing() -> None:
    # 02:10 summer time, the first pass: 02:05 summer time is gone, 02:05 winter time is next
    now = utc(2026, 10, 25, 0, 10)
    assert moment("02:05:00", now).timestamp() == utc(2026, 10, 25, 1, 5)  # not tomorrow
    # 02:10 winter time, the second pass: 02:20 is in 10 minutes
    now = utc(2026, 10, 25, 1, 10)
    assert moment("02:20:00", now).timestamp() - now == 600
    # and a time of day already shown twice today is tomorrow's
    assert moment("02:05:00", now).timestamp() == utc(2026, 10, 26, 1, 5)


def test_a_time_of_day_in_the_skipped_hour_is_when_the_clocks_pass_it() -> None:
    now = utc(2026, 3, 29, 0, 59)  # 01:59 winter time; 02:30 would be in 31 minutes
    due = moment("02:30:00", now)  # it used to be "in the past" (or tomorrow)
    assert due == datetime(2026, 3, 29, 3, 30, tzinfo=CEST)
    assert due.timestamp() - now == 31 * 60


def test_a_time_of_day_is_never_in_the_past() -> None:
    now = utc(2026, 6, 1, 10, 0)  # 12:00 summer time
    assert moment("11:59:59", now) == datetime(2026, 6, 2, 11, 59, 59, tzinfo=CEST)
    assert moment("12:00:01", now).timestamp() - now == 1


def test_a_past_date_time_is_still_an_error() -> None:
    line, col, message = problem("2026-01-01T00:00:00", utc(2026, 6, 1))
    assert (line, col) == (2, 1)
    assert message.startswith("'at' = 2026-01-01T00:00:00 is 151d1h in the past (now is 2026-06")


# -- the shortest every (it used to hang a virtual run: 5e-324 s steps never move its clock) --


@pytest.mark.parametrize("every", ["5e-324", "1e-7", "9.99e-7"])
def test_every_below_a_microsecond_is_refused(every: str) -> None:
    with pytest.raises(ScheduleError) as info:
        load_text(f"[[call]]\nsoon = true\nevery = {every}\n" + ECHO, "s.toml")
    ((_, line, col, message),) = info.value.problems
    assert (line, col) == (3, 1)
    assert message == f"'every' = {float(every)!r} is too short: at least 1e-06 seconds"


def test_every_of_a_microsecond_is_fine() -> None:
    (call,) = load_text("[[call]]\nsoon = true\nevery = 1e-6\ncount = 3\n" + ECHO, "s.toml").calls
    assert call.repeat is not None and call.repeat.every == 1e-6


def test_a_virtual_run_with_a_tiny_every_ends_at_once(tmp_path) -> None:
    from click.testing import CliRunner

    from timerctl.cli import cli

    (tmp_path / "s.toml").write_text("[[call]]\nsoon = true\nevery = 5e-324\n" + ECHO)
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "s.toml"), "--clock", "virtual"])
    assert result.exit_code == 2
    assert "'every' = 5e-324 is too short: at least 1e-06 seconds" in result.stderr
