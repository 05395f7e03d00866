"""check's fast path (``load/batch.py``, a shape at a time) against its slow one
(``Checker.problems_of``, an entry at a time), the Calls it builds against the model's own
constructors, and ``timerctl check``'s judging without building against loading.

Random documents of entries mixing good and bad keys and values are loaded twice: as they are,
and with the fast path doubting every entry (then the slow path judges each). The problems
must be the same, in the same order. Where there are none, every Call must equal the one built
by ``Call(...)`` and ``Repeat(...)``, which run their own checks, from the entry's values.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timerctl.errors import ScheduleError
from timerctl.load import batch, count_text, load_text
from timerctl.load.rules import CALL_RULES, KIND_OF, TIMING_KEYS
from timerctl.schedule import Call, Mode, Overlap, Repeat

NOW = 1_800_000_000.0  # 2027-01-15: the wall-clock values below are after it

GOOD: dict[str, list[str]] = {
    "name": ['"a"', '"b"', '"later#1"', '"soon#2"', '"x y"'],
    "soon": ["true"],
    "later": ["0", "1", "2.5", '"500ms"', "0.0"],
    "at": [
        "0",
        "3",
        "1.5",
        "2099-01-01T00:00:00Z",
        "2099-06-01T12:00:00+02:00",
        "2000-01-01T00:00:00Z",
    ],
    "cron": ['"*/5 * * * *"'],
    "calendar": ['"Mon..Fri 09:00"'],
    "tz": ['"UTC"', '"Europe/Berlin"'],
    "callback": ['"echo"', '"callback"', '"fail"', '"sleep"'],
    "args": ["[]", '["a"]', "[1, 2]", '["a", "b", "c"]', "[[1], {a = 1}]"],
    "kwargs": ["{}", '{ sep = "-" }', "{ kwarg = 1 }", '{ end = "" }', "{ sep = 1 }"],
    "every": ["0.5", "1", '"2s"'],
    "count": ["1", "3"],
    "until": ["10", "0.5", "1e6"],
    "mode": ['"fixed-rate"', '"fixed-delay"'],
    "jitter": ["0", "0.1"],
    "overlap": ['"allow"', '"skip"', '"queue"'],
    "late_after": ["0.5", "2"],
}
BAD = ["false", "-1", '""', "[1", "nan", "{ a = 1 }", "1e300", '"zz"', "2000-01-01T00:00:00Z"]
BAD = [v for v in BAD if v != "[1"]  # (kept TOML: a value must parse)
KEYS = [*GOOD, "nme", "tiemout"]


@st.composite
def entries(draw: st.DrawFn) -> str:
    """One [[call]] entry: mostly a plausible one (one timing key, a callback), sometimes not."""
    keys = [draw(st.sampled_from(TIMING_KEYS))] if draw(st.integers(0, 9)) else []
    if draw(st.integers(0, 9)):
        keys.append("callback")
    keys += draw(st.lists(st.sampled_from(KEYS), max_size=4))
    lines = []
    for key in dict.fromkeys(keys):
        pool = GOOD.get(key, ["1"])
        value = draw(st.sampled_from(pool if draw(st.integers(0, 7)) else BAD))
        lines.append(f"{key} = {value}")
    return "[[call]]\n" + "\n".join(lines) + "\n"


def outcome(text: str) -> Any:
    try:
        return load_text(text, "s.toml", now=NOW)
    except ScheduleError as exc:
        return [(p.line, p.col, p.message) for p in exc.problems]


def count_outcome(text: str) -> Any:
    """What ``timerctl check`` makes of text: the entries judged, none built."""
    try:
        return count_text(text, "s.toml", now=NOW).entries
    except ScheduleError as exc:
        return [(p.line, p.col, p.message) for p in exc.problems]


def slow_outcome(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(batch, "plan_of", lambda shape: None)  # doubt every entry
        return outcome(text)


def expected_call(values: dict[str, Any], name: str) -> Call:
    """The entry's Call, built with the model's constructors from the rules' converted values."""
    (key,) = [k for k in TIMING_KEYS if k in values]
    offset, wall_at = values[key], None
    if isinstance(offset, datetime):
        offset, wall_at = 0.0, offset
    kwargs = {
        into: values[k]
        for k, into in (("overlap", "overlap"), ("late_after", "late_after"))
        if k in values
    }
    every = None
    if "every" in values:
        every = Repeat(
            every=values["every"],
            count=values.get("count"),
            until=values.get("until"),
            mode=values.get("mode", Mode.FIXED_RATE),
            jitter=values.get("jitter", 0.0),
        )
    return Call(
        name=name,
        kind=KIND_OF[key],  # type: ignore[arg-type]
        callback=values["callback"],
        args=values.get("args", ()),
        kwargs=values.get("kwargs", {}),
        offset=offset,
        wall_at=wall_at,
        repeat=every,
        **kwargs,
    )


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(entries(), min_size=1, max_size=6))
def test_fast_and_slow_paths_agree(monkeypatch: pytest.MonkeyPatch, parts: list[str]) -> None:
    text = "".join(parts)
    fast = outcome(text)
    if isinstance(fast, list):
        assert slow_outcome(text, monkeypatch) == fast
        assert count_outcome(text) == fast
    else:  # the slow path builds no Call: a valid file doubted everywhere is an internal error
        with pytest.raises(AssertionError, match="neither built nor refused"):
            slow_outcome(text, monkeypatch)
        assert count_outcome(text) == len(fast.calls)


def test_a_valid_file_is_only_ever_built_by_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry the fast path doubts and the slow one finds nothing wrong with would be lost:
    the loader says so instead of dropping it."""
    text = '[[call]]\nlater = 1\ncallback = "echo"\n'
    with pytest.raises(AssertionError, match="neither built nor refused"):
        slow_outcome(text, monkeypatch)


@settings(max_examples=300, deadline=None)
@given(st.lists(entries(), min_size=1, max_size=6))
def test_every_call_is_what_the_model_builds(parts: list[str]) -> None:
    assert_calls_are_the_models("".join(parts))


def assert_calls_are_the_models(text: str) -> None:
    import tomllib

    loaded = outcome(text)
    if isinstance(loaded, list):
        return
    counters: dict[str, int] = {}
    for call, raw in zip(loaded.calls, tomllib.loads(text)["call"], strict=True):
        values = {k: CALL_RULES[k](v) for k, v in raw.items()}
        if "cron" in values or "calendar" in values:
            assert call.rule is not None and call.repeat is None
            continue
        (key,) = [k for k in TIMING_KEYS if k in values]
        counters[key] = counters.get(key, 0) + 1
        name = values.get("name", f"{key}#{counters[key]}")
        assert call == dataclasses.replace(expected_call(values, name), line=call.line)


def test_wall_clock_entries_resolve_alike() -> None:
    text = '[[call]]\nat = 2099-01-01T00:00:00Z\ncallback = "echo"\n'
    (call,) = load_text(text, "s.toml", now=NOW).calls
    assert call.wall_at == datetime(2099, 1, 1, tzinfo=UTC) and call.offset == 0.0


def test_overlap_and_late_after_reach_the_call() -> None:
    text = '[[call]]\nlater = 1\nevery = 1\noverlap = "skip"\nlate_after = 0.5\ncallback = "echo"\n'
    (call,) = load_text(text, "s.toml", now=NOW).calls
    assert call.overlap is Overlap.SKIP and call.late_after == 0.5


E = 'callback = "echo"\n'
CASES = {
    "until before the first call": "[[call]]\nlater = 2\nevery = 1\nuntil = 1\n" + E,
    "until before a wall-clock first call": "[[call]]\nat = 2099-01-01T00:00:00Z\nevery = 1\n"
    "until = 5\n" + E,
    "a callback's own check": "[[call]]\nsoon = true\nkwargs = { sep = 1 }\n" + E,
    "a moment in the past": "[[call]]\nat = 2000-01-01T00:00:00Z\n" + E,
    "default names across shapes": "[[call]]\nlater = 1\n"
    + E
    + '[[call]]\nlater = 1\nargs = ["x"]\n'
    + E
    + "[[call]]\nlater = 2\n"
    + E
    + '[[call]]\nname = "n"\nlater = 1\n'
    + E
    + '[[call]]\nlater = 3\nargs = ["y"]\n'
    + E,
    "a default name taken by a name": '[[call]]\nname = "later#2"\nsoon = true\n'
    + E
    + "[[call]]\nlater = 1\n"
    + E
    + "[[call]]\nlater = 1\nargs = [1]\n"
    + E,
    "two callbacks of one shape, each its own check": '[[call]]\nsoon = true\ncallback = "sleep"\n'
    'args = [0]\n[[call]]\nsoon = true\ncallback = "echo"\nargs = ["a"]\n',
    "cancel naming an entry": '[[call]]\nname = "x"\nlater = 5\n'
    + E
    + '[[call]]\nsoon = true\ncallback = "cancel"\nargs = ["x"]\n',
    "cancel naming no entry": '[[call]]\nsoon = true\ncallback = "cancel"\nargs = ["nope"]\n',
    "too many arguments": '[[call]]\nsoon = true\ncallback = "fail"\nargs = [1, 2]\n',
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_the_paths_agree_on(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = outcome(text)
    assert count_outcome(text) == (fast if isinstance(fast, list) else len(fast.calls))
    if "cancel" in text:  # whether it names an entry is checked on Calls: the slow path has none
        assert isinstance(fast, list) == ("nope" in text)
    elif isinstance(fast, list):
        assert slow_outcome(text, monkeypatch) == fast
    else:  # the slow path finds nothing wrong either, and the Calls are the model's
        with pytest.raises(AssertionError, match="neither built nor refused"):
            slow_outcome(text, monkeypatch)
        assert_calls_are_the_models(text)


def test_default_names_count_every_entry_of_the_kind_in_file_order() -> None:
    calls = load_text(CASES["default names across shapes"], "s.toml", now=NOW).calls
    assert [c.name for c in calls] == ["later#1", "later#2", "later#3", "n", "later#5"]
