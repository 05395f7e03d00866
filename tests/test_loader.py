"""The loader: TOML text -> Schedule, or every problem of the file with its line and column.

All texts start at line 1 (no leading newline), so the line numbers asserted are the ones an
editor shows. `now` is fixed; wall-clock tests run in a non-UTC zone with DST (Europe/Berlin).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timerctl.errors import Problem, ScheduleError
from timerctl.load import CALL_KEYS, RUN_KEYS, load, load_bytes, load_text, source
from timerctl.schedule import Call, Kind, LoopImpl, Mode, Repeat, RunConfig, Schedule

FIXED_EPOCH = 1_795_694_400.0  # 2026-11-26T12:00:00Z: 13:00 in Berlin (CET, +01:00)

ECHO = 'callback = "echo"\n'


def parse(text: str) -> Schedule:
    return load_text(text, "s.toml", now=FIXED_EPOCH)


def problems(text: str) -> list[tuple[int, int | None, str]]:
    with pytest.raises(ScheduleError) as info:
        parse(text)
    return [(p.line, p.col, p.message) for p in info.value.problems]


def assert_problem(text: str, line: int, col: int | None, fragment: str) -> str:
    """The text has exactly one problem, at line:col, whose message holds fragment."""
    found = problems(text)
    assert len(found) == 1, found
    assert found[0][:2] == (line, col), found
    assert fragment in found[0][2], found
    return found[0][2]


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch):
    """Local time is Europe/Berlin (POSIX rule: needs no tz database; overrides conftest's,
    which names the zone, for the loader's own tests)."""
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# -- valid schedules -------------------------------------------------------------------------------


def test_the_three_kinds_and_default_names_counted_per_kind() -> None:
    s = parse(
        "[[call]]\nsoon = true\n" + ECHO
        + "[[call]]\nlater = 0.5\n" + ECHO
        + "[[call]]\nat = 0.2\n" + ECHO
        + "[[call]]\nsoon = true\n" + ECHO
        + "[[call]]\nlater = 1\n" + ECHO
    )  # fmt: skip
    assert s.names() == ["soon#1", "later#1", "at#1", "soon#2", "later#2"]
    assert [c.kind for c in s.calls] == [Kind.SOON, Kind.LATER, Kind.AT, Kind.SOON, Kind.LATER]
    assert [c.offset for c in s.calls] == [0.0, 0.5, 0.2, 0.0, 1.0]
    assert [c.line for c in s.calls] == [1, 4, 7, 10, 13]
    assert all(c.wall_at is None and c.repeat is None for c in s.calls)
    assert s.run == RunConfig() and s.path == "s.toml"


def test_a_full_entry() -> None:
    s = parse(
        '[run]\nloop = "uvloop"\nplugins = []\n\n'
        '[[call]]\nname = "greet"\nlater = 2\ncallback = "echo"\n'
        'args = [1, "two", 3.5, true, [4]]\nkwargs = { sep = ", " }\n'
        'every = 0.5\ncount = 3\nuntil = 10\nmode = "fixed-delay"\njitter = 0.01\n'
    )
    assert s.run == RunConfig(loop=LoopImpl.UVLOOP, plugins=())
    assert s.calls == (
        Call(
            name="greet",
            kind=Kind.LATER,
            callback="echo",
            args=(1, "two", 3.5, True, [4]),
            kwargs={"sep": ", "},
            offset=2.0,
            repeat=Repeat(every=0.5, count=3, until=10.0, mode=Mode.FIXED_DELAY, jitter=0.01),
            line=5,
        ),
    )


def test_repeat_defaults() -> None:
    (call,) = parse("[[call]]\nsoon = true\nevery = 1\n" + ECHO).calls
    assert call.repeat == Repeat(every=1.0, count=None, until=None, mode=Mode.FIXED_RATE)
    assert not call.repeat.bounded


def test_integers_are_accepted_as_seconds() -> None:
    (call,) = parse("[[call]]\nlater = 3\n" + ECHO).calls
    assert call.offset == 3.0 and isinstance(call.offset, float)


def test_at_zero_and_until_equal_to_the_first_call() -> None:
    (call,) = parse("[[call]]\nlater = 2\nevery = 1\nuntil = 2\n" + ECHO).calls
    assert call.repeat is not None and call.repeat.until == 2.0


def test_dotted_keys_and_sub_tables() -> None:
    s = parse(
        '[[call]]\nsoon = true\ncallback = "echo"\nkwargs.sep = ","\n'
        '[[call]]\nsoon = true\ncallback = "echo"\n[call.kwargs]\nsep = "-"\n'
    )
    assert [c.kwargs for c in s.calls] == [{"sep": ","}, {"sep": "-"}]


def test_inline_array_of_calls() -> None:
    s = parse(
        'call = [\n  { soon = true, callback = "echo" },\n  { later = 1, callback = "echo" },\n]\n'
    )
    assert s.names() == ["soon#1", "later#1"]


def test_seed_callback_with_kwargs() -> None:
    (call,) = parse(
        '[[call]]\nsoon = true\ncallback = "callback"\nargs = [1]\nkwargs = { kwarg = "x" }\n'
    ).calls
    assert call.describe() == "callback(1, kwarg='x')"


def test_cancel_naming_an_entry_defined_later() -> None:
    s = parse(
        '[[call]]\nsoon = true\ncallback = "cancel"\nargs = ["later#1"]\n[[call]]\nlater = 1\n'
        + ECHO
    )
    assert s.names() == ["soon#1", "later#1"]


def test_leading_bom_is_accepted() -> None:
    s = load_bytes(b"\xef\xbb\xbf[[call]]\nsoon = true\n" + ECHO.encode(), "s.toml")
    assert s.names() == ["soon#1"]


def test_crlf_line_endings() -> None:
    assert parse('[[call]]\r\nsoon = true\r\ncallback = "echo"\r\n').names() == ["soon#1"]


# -- wall-clock `at` -------------------------------------------------------------------------------


def test_at_offset_datetime_is_absolute() -> None:
    (call,) = parse("[[call]]\nat = 2026-11-26T13:00:10+01:00\n" + ECHO).calls
    assert call.kind is Kind.AT and call.offset == 0.0
    assert call.wall_at is not None and call.wall_at.timestamp() == FIXED_EPOCH + 10


def test_at_local_datetime_is_in_the_local_zone(berlin: None) -> None:
    (call,) = parse("[[call]]\nat = 2026-11-26T15:00:00\n" + ECHO).calls
    assert call.wall_at == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    assert call.wall_at.utcoffset() == timedelta(hours=1)


def test_at_local_datetime_in_summer_time(berlin: None) -> None:
    (call,) = parse("[[call]]\nat = 2027-07-01T12:00:00\n" + ECHO).calls
    assert call.wall_at == datetime(2027, 7, 1, 10, 0, tzinfo=UTC)


def test_at_time_of_day_later_today(berlin: None) -> None:
    (call,) = parse("[[call]]\nat = 14:30:00\n" + ECHO).calls
    assert call.wall_at is not None and call.wall_at.timestamp() == FIXED_EPOCH + 5400


def test_at_time_of_day_already_past_is_tomorrow(berlin: None) -> None:
    (call,) = parse("[[call]]\nat = 09:00:00\n" + ECHO).calls
    assert call.wall_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_at_time_of_day_exactly_now_is_tomorrow(berlin: None) -> None:
    (call,) = parse("[[call]]\nat = 13:00:00\n" + ECHO).calls
    assert call.wall_at is not None and call.wall_at.timestamp() == FIXED_EPOCH + 86400


def test_at_in_the_past_says_how_far(berlin: None) -> None:
    message = assert_problem(
        "[[call]]\nat = 2026-11-26T10:58:30Z\n" + ECHO, 2, 1, "is 1h1m30s in the past"
    )
    assert message.startswith("'at' = 2026-11-26T10:58:30+00:00 is")
    assert "now is 2026-11-26T13:00:00+01:00" in message


def test_at_days_in_the_past() -> None:
    assert_problem("[[call]]\nat = 2026-11-20T12:00:00Z\n" + ECHO, 2, 1, "is 6d in the past")


def test_until_counts_from_t0_even_for_a_wall_clock_at() -> None:
    text = "[[call]]\nat = 2026-11-26T12:01:00Z\nevery = 1\nuntil = 30\n" + ECHO
    assert_problem(text, 4, 1, "'until' = 30 is before the first call (at 60s)")


# -- errors, one per entry -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "col", "fragment"),
    [
        # unknown keys get a hint
        (
            '[[call]]\nsoon = true\ncallback = "echo"\narg = [1]\n',
            4,
            1,
            "unknown key 'arg' in [[call]] (did you mean 'args'?)",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "echo"\n  evry = 1\n',
            4,
            3,
            "unknown key 'evry' in [[call]] (did you mean 'every'?)",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "echo"\nzzz = 1\n',
            4,
            1,
            "unknown key 'zzz' in [[call]]",
        ),
        (
            '[run]\nloops = "asyncio"\n[[call]]\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "unknown key 'loops' in [run] (did you mean 'loop'?)",
        ),
        (
            'calls = 1\n[[call]]\nsoon = true\ncallback = "echo"\n',
            1,
            1,
            "unknown top-level key 'calls' (did you mean 'call'?)",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "echo"\n[call.kwarg]\nsep = 1\n',
            4,
            7,
            "unknown key 'kwarg' in [[call]] (did you mean 'kwargs'?)",
        ),
        # wrong types
        (  # a string is a duration text ("1" is a second): one that is not says why
            '[[call]]\nlater = "soon"\ncallback = "echo"\n',
            2,
            1,
            "'later' = 'soon' cannot be read at 'soon': expected a number and a unit",
        ),
        (
            '[[call]]\nlater = true\ncallback = "echo"\n',
            2,
            1,
            "'later' must be a number of seconds, not a boolean",
        ),
        (
            '[[call]]\nsoon = true\nevery = false\ncallback = "echo"\n',
            3,
            1,
            "'every' must be a number of seconds, not a boolean",
        ),
        (
            '[[call]]\nat = true\ncallback = "echo"\n',
            2,
            1,
            "'at' must be a number of seconds, not a boolean",
        ),
        (
            '[[call]]\nat = [1]\ncallback = "echo"\n',
            2,
            1,
            "'at' must be a number of seconds, not an array",
        ),
        (
            "[[call]]\nsoon = true\ncallback = 1\n",
            3,
            1,
            "'callback' must be a string, not a number",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "echo"\nargs = { a = 1 }\n',
            4,
            1,
            "'args' must be an array, not a table",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "echo"\nkwargs = "sep"\n',
            4,
            1,
            "'kwargs' must be a table, not a string",
        ),
        (
            '[[call]]\nname = ""\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "'name' must be a non-empty string",
        ),
        (
            '[[call]]\nname = 1\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "'name' must be a non-empty string",
        ),
        (
            '[[call]]\nname = "tab\\there"\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "'name' must not hold control characters: 'tab\\there'",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\ncount = true\ncallback = "echo"\n',
            4,
            1,
            "'count' must be a whole number >= 1, not true",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\ncount = 0\ncallback = "echo"\n',
            4,
            1,
            "'count' must be a whole number >= 1, not 0",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\nmode = 1\ncallback = "echo"\n',
            4,
            1,
            "'mode' must be 'fixed-rate' or 'fixed-delay', not 1",
        ),
        (
            '[run]\nplugins = "mod"\n[[call]]\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "'plugins' must be an array of module names",
        ),
        (
            '[run]\nloop = 1\n[[call]]\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "'loop' must be one of 'asyncio', 'uvloop', not 1",
        ),
        (
            'run = 1\n[[call]]\nsoon = true\ncallback = "echo"\n',
            1,
            1,
            "'run' must be a table ([run])",
        ),
        ("call = 1\n", 1, 1, "'call' must be an array of tables ([[call]] entries)"),
        ("call = [1, 2]\n", 1, 1, "'call' must be an array of tables ([[call]] entries)"),
        # NaN, inf, negative, zero, too large
        ('[[call]]\nlater = nan\ncallback = "echo"\n', 2, 1, "'later' must be finite, not nan"),
        ('[[call]]\nlater = -inf\ncallback = "echo"\n', 2, 1, "'later' must be finite, not -inf"),
        ('[[call]]\nat = +inf\ncallback = "echo"\n', 2, 1, "'at' must be finite, not inf"),
        (
            '[[call]]\nsoon = true\nevery = nan\ncallback = "echo"\n',
            3,
            1,
            "'every' must be finite, not nan",
        ),
        ('[[call]]\nlater = -1\ncallback = "echo"\n', 2, 1, "'later' must be >= 0, not -1"),
        ('[[call]]\nat = -0.5\ncallback = "echo"\n', 2, 1, "'at' must be >= 0, not -0.5"),
        (
            '[[call]]\nsoon = true\nevery = 0\ncallback = "echo"\n',
            3,
            1,
            "'every' must be > 0, not 0",
        ),
        (
            '[[call]]\nsoon = true\nevery = -2\ncallback = "echo"\n',
            3,
            1,
            "'every' must be > 0, not -2",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\nuntil = -1\ncallback = "echo"\n',
            4,
            1,
            "'until' must be >= 0, not -1",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\njitter = -0.1\ncallback = "echo"\n',
            4,
            1,
            "'jitter' must be >= 0, not -0.1",
        ),
        (
            '[[call]]\nlater = 1e300\ncallback = "echo"\n',
            2,
            1,
            "'later' = 1e+300 is too long: at most 1e+09 seconds",
        ),
        ('[[call]]\nlater = 9223372036854775807\ncallback = "echo"\n', 2, 1, "is too long"),
        (
            '[[call]]\nlater = 0x8000000000000000\ncallback = "echo"\n',
            2,
            9,
            "integer too large: TOML integers are 64-bit",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\ncount = 0x8000000000000000\ncallback = "echo"\n',
            4,
            9,
            "integer too large: TOML integers are 64-bit",
        ),
        (
            "[[call]]\nsoon = 0x" + "f" * 300 + '\ncallback = "echo"\n',
            2,
            8,
            "integer too large: TOML integers are 64-bit",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "echo"\n'
            "kwargs = { sep = 0o7777777777777777777777 }\n",
            4,
            18,
            "integer too large: TOML integers are 64-bit",
        ),
        # soon/later/at: exactly one
        (
            '[[call]]\nsoon = true\nat = 1\ncallback = "echo"\n',
            3,
            1,
            "'soon' and 'at' cannot both be given",
        ),
        (
            '[[call]]\nlater = 1\nat = 1\ncallback = "echo"\n',
            3,
            1,
            "'later' and 'at' cannot both be given",
        ),
        (
            '[[call]]\ncallback = "echo"\n',
            1,
            None,
            "[[call]] needs exactly one of: soon = true, later = SECONDS, at = TIME",
        ),
        ('[[call]]\nsoon = false\ncallback = "echo"\n', 2, 1, "'soon' must be true, not false"),
        ('[[call]]\nsoon = "yes"\ncallback = "echo"\n', 2, 1, "'soon' must be true, not 'yes'"),
        ('[[call]]\nsoon = 1\ncallback = "echo"\n', 2, 1, "'soon' must be true, not 1"),
        # callbacks
        (
            "[[call]]\nsoon = true\n",
            1,
            None,
            "[[call]] needs 'callback' (see `timerctl callbacks`)",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "ech"\n',
            3,
            1,
            "unknown callback 'ech' (did you mean 'echo'?)",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "timerctl.builtins.echo"\n',
            3,
            1,
            "unknown callback 'timerctl.builtins.echo'",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "fail"\nargs = [1, 2, 3]\n',
            4,
            1,
            "bad arguments for 'fail': too many positional arguments",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "callback"\n',
            3,
            1,
            "bad arguments for 'callback': missing a required argument: 'arg'",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "callback"\nargs = [1]\nkwargs = { kwargs = 1 }\n',
            5,
            1,
            "bad arguments for 'callback': got an unexpected keyword argument 'kwargs'",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "stop"\nargs = [1]\n',
            4,
            1,
            "bad arguments for 'stop'",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "cancel"\nargs = ["nobody"]\n',
            4,
            1,
            "'cancel' names no entry of this schedule: 'nobody'",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "cancel"\nkwargs = { entry = "soon#2" }\n',
            4,
            1,
            "'cancel' names no entry of this schedule: 'soon#2' (did you mean 'soon#1'?)",
        ),
        (
            '[[call]]\nsoon = true\ncallback = "cancel"\nargs = [[1]]\n',
            4,
            1,
            "'cancel' takes the name of an entry (a string), not an array",
        ),
        # at
        (
            '[[call]]\nat = 1700000000\ncallback = "echo"\n',
            2,
            1,
            "'at' = 1700000000 looks like a Unix timestamp; a number is seconds after the run "
            "starts",
        ),
        (
            '[[call]]\nat = 2026-12-01\ncallback = "echo"\n',
            2,
            1,
            "'at' = 2026-12-01 is a date without a time of day",
        ),
        (
            '[[call]]\nat = "2026-12-01T00:00:00Z"\ncallback = "echo"\n',
            2,
            1,
            "not a string: write it without quotes",
        ),
        ('[[call]]\nat = 2026-11-26T11:59:59Z\ncallback = "echo"\n', 2, 1, "is 1s in the past"),
        # repetition
        (
            '[[call]]\nsoon = true\ncount = 2\ncallback = "echo"\n',
            3,
            1,
            "'count' needs 'every' (it only applies to a repeating call)",
        ),
        ('[[call]]\nsoon = true\nuntil = 2\ncallback = "echo"\n', 3, 1, "'until' needs 'every'"),
        ('[[call]]\nsoon = true\njitter = 2\ncallback = "echo"\n', 3, 1, "'jitter' needs 'every'"),
        (
            '[[call]]\nsoon = true\nmode = "fixed-rate"\ncallback = "echo"\n',
            3,
            1,
            "'mode' needs 'every'",
        ),
        (
            '[[call]]\nlater = 3\nevery = 1\nuntil = 2.5\ncallback = "echo"\n',
            4,
            1,
            "'until' = 2.5 is before the first call (at 3s): it would never run",
        ),
        (
            '[[call]]\nat = 3\nevery = 1\nuntil = 1\ncallback = "echo"\n',
            4,
            1,
            "'until' = 1 is before the first call (at 3s)",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\nmode = "fixed-drift"\ncallback = "echo"\n',
            4,
            1,
            "'mode' must be 'fixed-rate' or 'fixed-delay', not 'fixed-drift' "
            "(did you mean 'fixed-rate'?)",
        ),
        (
            '[[call]]\nsoon = true\nevery = 1\nmode = "fixeddelay"\ncallback = "echo"\n',
            4,
            1,
            "(did you mean 'fixed-delay'?)",
        ),
        # [run]
        (
            '[run]\nloop = "trio"\n[[call]]\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "'loop' must be one of 'asyncio', 'uvloop', not 'trio'",
        ),
        (
            '[run]\nloop = "asyncio "\n[[call]]\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "(did you mean 'asyncio'?)",
        ),
        (
            '[run]\nplugins = ["timerctl_test_no_such_module"]\n'
            '[[call]]\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "cannot import plugin 'timerctl_test_no_such_module': No module named",
        ),
        (
            '[run]\nplugins = [""]\n[[call]]\nsoon = true\ncallback = "echo"\n',
            2,
            1,
            "'plugins' must be an array of module names",
        ),
        (
            'run.loop = "uvlop"\n[[call]]\nsoon = true\ncallback = "echo"\n',
            1,
            5,
            "(did you mean 'uvloop'?)",
        ),
        # the file as a whole
        ("", 1, None, "no [[call]] entries: nothing to schedule"),
        ("# nothing\n\n[run]\n", 1, None, "no [[call]] entries: nothing to schedule"),
        ("call = []\n", 1, 1, "no [[call]] entries: nothing to schedule"),
        (
            '[call]\nsoon = true\ncallback = "echo"\n',
            1,
            2,
            "'call' must be an array of tables: write [[call]], not [call]",
        ),
    ],
)
def test_one_problem(text: str, line: int, col: int | None, fragment: str) -> None:
    assert_problem(text, line, col, fragment)


def test_duplicate_names() -> None:
    text = (
        '[[call]]\nname = "a"\nsoon = true\n' + ECHO + '\n[[call]]\nname = "a"\nlater = 1\n' + ECHO
    )
    assert_problem(text, 7, 1, "duplicate name 'a' (first used by the [[call]] on line 1)")


def test_an_explicit_name_colliding_with_a_later_default_name() -> None:
    text = '[[call]]\nname = "soon#2"\nsoon = true\n' + ECHO + "[[call]]\nsoon = true\n" + ECHO
    # the second entry's default name is soon#2: reported where that entry starts
    assert_problem(
        text,
        5,
        None,
        "this [[call]]'s default name 'soon#2' is already the name of "
        "the [[call]] on line 1: give one of them a name",
    )


def test_default_names_count_entries_that_have_errors() -> None:
    # the broken first entry is still later#1, so the second one is later#2: names do not shift
    text = "[[call]]\nlater = -1\n" + ECHO + "[[call]]\nlater = 1\n" + ECHO
    text += '[[call]]\nsoon = true\ncallback = "cancel"\nargs = ["later#1"]\n'
    assert_problem(text, 2, 1, "'later' must be >= 0")


def test_an_explicit_name_does_not_consume_a_default_number() -> None:
    s = parse('[[call]]\nname = "x"\nsoon = true\n' + ECHO + "[[call]]\nsoon = true\n" + ECHO)
    assert s.names() == ["x", "soon#2"]


# -- several problems ------------------------------------------------------------------------------


def test_all_problems_are_reported_together_sorted_by_line() -> None:
    text = (
        "[[call]]\n"  # 1
        'callback = "ecko"\n'  # 2
        "later = -1\n"  # 3
        "\n"
        "[[call]]\n"  # 5
        "soon = true\n"
        'callback = "echo"\n'
        "every = 0\n"  # 8
        'mode = "sometimes"\n'  # 9
        "\n"
        "[run]\n"  # 11
        'loop = "uvlop"\n'  # 12
    )
    with pytest.raises(ScheduleError) as info:
        parse(text)
    exc = info.value
    assert [(p.line, p.col) for p in exc.problems] == [(2, 1), (3, 1), (8, 1), (9, 1), (12, 1)]
    assert str(exc) == "Found 5 errors in s.toml"
    assert [str(p) for p in exc.problems] == [
        "s.toml:2:1: error: unknown callback 'ecko' (did you mean 'echo'?)",
        "s.toml:3:1: error: 'later' must be >= 0, not -1",
        "s.toml:8:1: error: 'every' must be > 0, not 0",
        "s.toml:9:1: error: 'mode' must be 'fixed-rate' or 'fixed-delay', not 'sometimes'",
        "s.toml:12:1: error: 'loop' must be one of 'asyncio', 'uvloop', not 'uvlop' "
        "(did you mean 'uvloop'?)",
    ]


def test_one_error_is_singular() -> None:
    with pytest.raises(ScheduleError) as info:
        parse("")
    assert str(info.value) == "Found 1 error in s.toml"


def test_problem_str() -> None:
    assert str(Problem("s.toml", 3, 7, "bad")) == "s.toml:3:7: error: bad"
    assert str(Problem("s.toml", 3, None, "bad")) == "s.toml:3: error: bad"
    assert str(Problem("s.toml", 0, None, "no such file")) == "s.toml: error: no such file"


# -- locating keys the scanner could mistake -------------------------------------------------------


def test_keys_inside_an_inline_call_array_are_located() -> None:
    text = (
        'call = [\n  { soon = true, callback = "echo" },\n  { later = 1, callback = "ehco" },\n]\n'
    )
    assert_problem(text, 3, 16, "unknown callback 'ehco'")


def test_a_header_lookalike_inside_a_multiline_array_is_not_a_header() -> None:
    text = '[[call]]\ncallback = "echo"\nargs = [\n  [1],\n  [2]\n]\nsoon = 0\n'
    assert_problem(text, 7, 1, "'soon' must be true, not 0")


def test_a_header_inside_a_multiline_string_is_not_a_header() -> None:
    text = "[[call]]\nsoon = true\n" + ECHO + "args = ['''\n[[call]]\nlater = 1\n''']\nlater = 2\n"
    assert_problem(text, 8, 1, "'soon' and 'later' cannot both be given")


def test_escaped_quotes_in_multiline_strings() -> None:
    text = (
        '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["""a\\"""\nlater = 1\n"""]\nlater = 2\n'
    )
    assert parse(text.replace("later = 2\n", "")).calls[0].args == ('a"""\nlater = 1\n',)
    assert_problem(text, 7, 1, "'soon' and 'later' cannot both be given")


def test_quoted_keys_with_escapes_are_located() -> None:
    text = '[[call]]\nsoon = true\ncallback = "echo"\n"\\u0061rgs" = 5\n'
    assert_problem(text, 4, 1, "'args' must be an array, not a number")


def test_unicode_line_separators_do_not_shift_lines() -> None:
    text = "# \u2028 \x85 \u2029\n[[call]]\nsoon = 2\n" + ECHO
    assert_problem(text, 3, 1, "'soon' must be true, not 2")


def test_control_characters_in_messages_are_escaped() -> None:
    text = '[[call]]\nsoon = true\ncallback = "echo\\u001b[2J\\nx"\n'
    message = assert_problem(text, 3, 1, "unknown callback 'echo\\x1b[2J\\nx'")
    assert message.isprintable()


def test_names_may_hold_any_printable_text() -> None:
    name = "[red]x[/red] :smile: a\u00a0b 👨\u200d👩\u200d👧 ünïcode"
    s = parse(f'[[call]]\nname = "{name}"\nsoon = true\n' + ECHO)
    assert s.names() == [name]


@pytest.mark.parametrize("char", ["\\n", "\\u001b", "\\u0085", "\\u2028", "\\u202e", "\\t"])
def test_names_may_not_hold_controls(char: str) -> None:
    text = f'[[call]]\nname = "a{char}b"\nsoon = true\n' + ECHO
    message = assert_problem(text, 2, 1, "'name' must not hold control characters: 'a\\")
    assert message.isprintable()


def test_long_names_are_clipped_in_messages() -> None:
    message = assert_problem(f'[[call]]\nsoon = true\ncallback = "{"x" * 500}"\n', 3, 1, "unknown")
    assert len(message) < 120


# -- what tomllib does with hostile bytes ----------------------------------------------------------


def byte_problems(data: bytes) -> list[tuple[int, int | None, str]]:
    with pytest.raises(ScheduleError) as info:
        load_bytes(data, "s.toml", now=FIXED_EPOCH)
    return [(p.line, p.col, p.message) for p in info.value.problems]


def test_invalid_utf8_is_located_by_character_column() -> None:
    # é is two bytes but one column
    (problem,) = byte_problems(b'[[call]]\nsoon = true\ncallback = "\xc3\xa9\xe9"\n')
    assert problem == (3, 14, "invalid UTF-8 (byte 0xe9); a schedule must be UTF-8 text")


def test_invalid_utf8_after_a_bom_is_located_after_the_bom() -> None:
    assert byte_problems(b"\xef\xbb\xbf#\xff\n")[0][:2] == (1, 2)


def test_truncated_utf8_at_the_end() -> None:
    assert byte_problems(b"[[call]]\n#\xe2\x82")[0][:2] == (2, 2)


def test_utf16_gets_a_hint() -> None:
    (problem,) = byte_problems("[[call]]\n".encode("utf-16"))
    assert (
        problem[2] == "this is UTF-16 text (it starts with a UTF-16 BOM); a schedule must be UTF-8"
    )


def test_nul_byte() -> None:
    assert byte_problems(b"[[call]]\nsoon = true\x00\n") == [
        (2, 12, "NUL byte: a schedule must be text, not binary data")
    ]


@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ("{a = ", "}")])
def test_deep_nesting_is_an_error_not_a_recursion_error(open_: str, close: str) -> None:
    text = "[[call]]\nsoon = true\n" + ECHO + "args = " + open_ * 1000 + "1" + close * 1000 + "\n"
    ((line, col, message),) = problems(text)
    assert (line, message) == (4, "nesting too deep for the TOML parser")
    assert col == 8 + len(open_) * 999


def test_nesting_tomllib_can_handle_is_fine() -> None:
    text = "[[call]]\nsoon = true\n" + ECHO + "args = " + "[" * 50 + "]" * 50 + "\n"
    assert len(parse(text).calls) == 1


@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ("{a = ", "}")])
def test_the_nesting_limit_is_timerctls_own(open_: str, close: str) -> None:
    """At most MAX_NESTING brackets deep, on every Python and parser (issue 16)."""
    from timerctl.load import MAX_NESTING

    def text(depth: int) -> str:  # args holds the array: one bracket more than depth
        inner = open_ * (depth - 1) + "1" + close * (depth - 1)
        return "[[call]]\nsoon = true\n" + ECHO + "args = [" + inner + "]\n"

    assert len(parse(text(MAX_NESTING)).calls) == 1
    ((line, col, message),) = problems(text(MAX_NESTING + 1))
    assert (line, col) == (4, 8 + 1 + len(open_) * (MAX_NESTING - 1))
    assert message == "nesting too deep for the TOML parser"


def test_brackets_in_strings_and_comments_do_not_nest() -> None:
    deep = "[" * 150
    closing = "}" * 150
    text = (
        "[[call]]\nsoon = true\n" + ECHO
        + f'args = ["{deep}", \'{deep}\', """{deep}\n""", "\\"{deep}"] # {deep}\n'
        + f"kwargs = {{ sep = '''{closing}''' }}\n"
    )  # fmt: skip
    call = parse(text).calls[0]
    assert call.args == (deep, deep, deep + "\n", '"' + deep)
    assert call.kwargs == {"sep": closing}


def test_tables_nested_by_dotted_keys_are_bounded_too() -> None:
    text = "[[call]]\nsoon = true\n" + ECHO + "kwargs." + ".".join(["a"] * 150) + " = 1\n"
    assert_problem(text, 4, None, "'kwargs' nests values more than 100 levels deep")


def test_without_toml_rs_tomllib_reads_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback where the wheel is missing: the same values; problems still reported."""
    from timerctl.load import parser

    monkeypatch.setattr(parser, "toml_rs", None)
    s = parse("[[call]]\nlater = 1\n" + ECHO + "[[call]]\nsoon = true\n" + ECHO)
    assert [(c.name, c.line) for c in s.calls] == [("later#1", 1), ("soon#1", 4)]
    assert problems("[[call]]\nlater = -1\n" + ECHO)[0][2] == "'later' must be >= 0, not -1"
    assert problems("[[call]]\nlater = [1,\n")[0][2].startswith("invalid TOML: ")


def test_a_5000_digit_integer_is_an_error_not_a_value_error() -> None:
    text = "[[call]]\nsoon = true\n" + ECHO + "args = [1, -" + "9" * 5000 + "]\n"
    assert_problem(text, 4, 12, "integer too large: TOML integers are 64-bit")


def test_a_5000_digit_integer_with_underscores() -> None:
    text = "[[call]]\nlater = " + "1_" * 5000 + "1\n" + ECHO
    assert_problem(text, 2, 9, "integer too large")


def test_toml_syntax_error_position_comes_from_the_parser() -> None:
    assert_problem(
        "[[call]]\nsoon = true\ncallback = echo\n",
        3,
        12,
        "invalid TOML: string values must be quoted",
    )


def test_toml_error_at_end_of_document() -> None:
    ((line, _, message),) = problems("[[call]]\nargs = [1,")
    assert (line, message.startswith("invalid TOML:")) == (2, True)
    assert "\n" not in message


def test_duplicate_key_is_a_toml_error() -> None:
    assert_problem("[[call]]\nsoon = true\nsoon = true\n", 3, 1, "invalid TOML: duplicate key")


# -- reading files ---------------------------------------------------------------------------------


def test_load_reads_a_file(tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf[[call]]\nsoon = true\n" + ECHO.encode())
    schedule = load(str(path))
    assert schedule.path == str(path) and schedule.names() == ["soon#1"]


def test_load_missing_file_and_directory(tmp_path) -> None:
    for path, message in [(tmp_path / "nope.toml", "no such file"), (tmp_path, "is a directory")]:
        with pytest.raises(ScheduleError) as info:
            load(str(path))
        (problem,) = info.value.problems
        assert (problem.path, problem.line, problem.col) == (str(path), 0, None)
        assert message in problem.message
        assert str(problem).startswith(f"{path}: error: ")


def test_load_unreadable_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 does not stop root: make opening fail the way it fails for everyone else
    path = tmp_path / "s.toml"
    path.write_text("")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("timerctl.load.source.open", refuse, raising=False)
    with pytest.raises(ScheduleError) as info:
        load(str(path))
    assert [str(p) for p in info.value.problems] == [f"{path}: error: permission denied"]


def test_load_refuses_a_file_over_the_limit(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_BYTES", 1000)
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * 1001)
    with pytest.raises(ScheduleError) as info:
        load(str(path))
    assert [str(p) for p in info.value.problems] == [
        f"{path}: error: file is over 1000 bytes (1001); a schedule that large is refused"
    ]
    path.write_bytes(b"[[call]]\nsoon = true\n" + ECHO.encode() + b"#" * (1000 - 40))
    assert load(str(path)).names() == ["soon#1"]


def generated(n: int, broken: int | None = None) -> str:
    """A schedule in the form generators write: the fast path reads it."""
    lines = ['[run]\nloop = "asyncio"\n']
    for i in range(n):
        later = -1 if i == broken else i / 1000
        lines.append(f'[[call]]\nname = "c{i}"\nlater = {later}\ncallback = "echo"\nargs = [{i}]\n')
    return "".join(lines)


def test_a_big_schedule_is_read_in_full_and_its_lines_counted() -> None:
    text = generated(30_000)
    s = parse(text)
    assert len(s.calls) == 30_000
    assert s.calls[-1] == Call(
        name="c29999", kind=Kind.LATER, callback="echo", args=(29999,), offset=29.999, line=149_998
    )


def test_problems_in_a_big_schedule_are_located() -> None:
    text = generated(2_000, broken=1_500)
    assert_problem(text, 3 + 5 * 1_500 + 2, 1, "'later' must be >= 0, not -1")


def test_every_form_of_the_same_schedule_means_the_same() -> None:
    text = generated(3)
    assert parse(text) == parse(text.replace(" = ", "="))


# -- the property: bytes in, Schedule or ScheduleError out -----------------------------------------

FRAGMENTS = [
    b"[[call]]\n", b"[call]\n", b"[run]\n", b"soon = true\n", b'callback = "echo"\n', b"later = ",
    b"at = ", b"every = ", b"1", b"-1", b"1e999", b"nan", b"12:30:00", b"2026-11-26T12:00:00Z",
    b"1979-05-27", b"0x" + b"f" * 40, b"9" * 30, b'"', b"'''", b'"""', b"[", b"]", b"{", b"}",
    b"=", b",", b".", b"\n", b"\r\n", b"#", b"\xff", b"\x00", b"\xef\xbb\xbf", b"\xc3",
    "\u2028".encode(),
    b'name = "', b"args = [", b"kwargs = {", b'callback = "cancel"\n', b"call = [{",
]  # fmt: skip


KEYS = [*CALL_KEYS, *RUN_KEYS, "plugins", "bogus", '"a\\nb"', "kwargs.sep", "call"]
VALUES = [
    "true", "false", "0", "1", "-1", "0.25", "nan", "inf", "1e300", "1700000000", "0x" + "f" * 30,
    '"echo"', '"cancel"', '"fail"', '"callback"', '"stop"', '"x"', '"soon#1"', '"fixed-delay"',
    '"uvloop"', '"no_such_module_xyz"', "[]", "{}", "[1, 2]", '["soon#1"]', "[[1]]",
    '{ sep = "," }',
    "{ entry = 1 }", "12:30:00", "2026-11-26T12:00:10Z", "2026-11-27T12:00:00", "1979-05-27",
    "2000-01-01T00:00:00", '"\\u001b[2J"',
]  # fmt: skip
# documents made of plausible lines reach the checker, not just the TOML parser
LINES = st.one_of(
    st.sampled_from(["[[call]]\n", "[run]\n", "[call]\n", "[call.kwargs]\n", "\n"]),
    st.builds("{} = {}\n".format, st.sampled_from(KEYS), st.sampled_from(VALUES)),
)


@settings(
    max_examples=1000,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(b"".join),
        st.lists(LINES, max_size=25).map(lambda lines: "".join(lines).encode()),
    )
)
def test_any_bytes_give_a_schedule_or_a_schedule_error(data: bytes) -> None:
    try:
        schedule = load_bytes(data, "s.toml", now=FIXED_EPOCH)
    except ScheduleError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert 1 <= problem.line <= data.count(b"\n") + 1
            assert problem.message.isprintable()
    else:
        assert isinstance(schedule, Schedule) and schedule.calls


def test_a_wall_clock_at_is_aware() -> None:
    (call,) = parse("[[call]]\nat = 2026-11-26T12:00:01-05:00\n" + ECHO).calls
    assert call.wall_at is not None
    assert call.wall_at.tzinfo == timezone(timedelta(hours=-5))


def test_argument_values_are_checked_for_every_entry_not_once_per_shape() -> None:
    # the signature check is shared by entries of the same shape; a callback's own value check
    # is not: a good first entry must not vouch for a bad second one, nor a bad one for a good
    text = "".join(
        f'[[call]]\nsoon = true\ncallback = "sleep"\nargs = [{v}]\n'
        for v in ("0.01", '"y"', "-5", "0.02")
    )
    with pytest.raises(ScheduleError) as info:
        load_text(text, "s.toml")
    assert [
        (p.line, "not 'y'" in p.message or "not -5" in p.message) for p in info.value.problems
    ] == [(8, True), (12, True)]


def test_problems_are_located_alike_entry_by_entry_and_from_the_whole_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A few problem entries are located from re-parses of their own lines; many, from one
    metadata parse of the file: the same lines and columns either way."""
    from timerctl.load import locate

    entries = []
    for i in range(60):
        body = [f'name = "e{i}"', "later = 1", 'callback = "echo"', "args = [1]"]
        if i % 7 == 3:
            body[1] = "later = -1"
        if i % 11 == 5:
            body.append("nme = 2")
        if i % 13 == 6:
            body.append("kwargs = { sep = 1 }")
        if i % 17 == 8:
            body[0] = 'name = "e0"'
        entries.append("[[call]]  # entry\n" + "\n".join(body) + "\n\n[call.x]\n" * (i == 40))
    text = '# a comment\n[run]\nloop = "asyncio"\n\n' + "\n".join(entries)
    one_by_one = problems(text)
    monkeypatch.setattr(locate, "_ONE_BY_ONE", 0)
    assert problems(text) == one_by_one
    assert len(one_by_one) > 10
    header = text.count("\n", 0, text.index("[call.x]")) + 1
    found = [(ln, c, m[:27]) for ln, c, m in one_by_one]
    assert (header, 7, "unknown key 'x' in [[call]]") in found
