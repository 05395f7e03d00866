"""The column-wise path accepts only what the entry-by-entry checks accept, and builds the same.

Every schedule is loaded twice: as the loader does it (columns first), and with the column
path switched off (every entry checked on its own, which is what words the errors).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timerctl import columns, loader
from timerctl.errors import ScheduleError
from timerctl.loader import load_text
from timerctl.schedule import Schedule


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int | str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml(entries: list[dict[str, Any]]) -> str:
    return "".join(
        "[[call]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in e.items()) + "\n"
        for e in entries)


NUMBERS = [0, 0.0, -0.0, 1, 0.5, 2.5, -1, 1e8, 1e8 + 1, 1e9, 1e9 + 1, 2**63, math.nan, math.inf]
scalar = st.one_of(st.sampled_from([*NUMBERS, True, False, "x", "", "later#1", 2**63 - 1,
                                    -(2**63), -(2**63) - 1]),
                   st.integers(-5, 5), st.text(max_size=3))
value = st.one_of(scalar, st.lists(scalar, max_size=2))
POOL: dict[str, st.SearchStrategy[Any]] = {
    "callback": st.sampled_from(["echo", "echo", "callback", "sleep", "cancel", "stop", "nope"]),
    "soon": st.sampled_from([True, True, False, 1]),
    "later": st.one_of(st.sampled_from(NUMBERS), st.sampled_from(["1", True])),
    "at": st.sampled_from([*NUMBERS, "12:00"]),
    "name": st.sampled_from(["a", "b", "a", "", " ", "x\n", "soon#1", "later#2", 5]),
    "args": st.one_of(st.lists(value, max_size=3), st.sampled_from([5, "a"])),
    "kwargs": st.one_of(
        st.dictionaries(st.sampled_from(["sep", "kwarg", "seconds", "bogus"]), value, max_size=2),
        st.just(5)),
    "every": st.sampled_from([0.5, 1, 0, -0.0, -1, math.nan, True, 1e9 + 1]),
    "count": st.sampled_from([1, 3, 0, 2.0, True, 2**63]),
    "until": st.sampled_from([0, 1.5, 10, -1, math.inf]),
    "mode": st.sampled_from(["fixed-rate", "fixed-delay", "fixed", 1]),
    "jitter": st.sampled_from([0, 0.1, -0.1, math.nan]),
    "bogus": st.just(1),
}
wild = st.fixed_dictionaries({"callback": POOL["callback"]},
                             optional={k: v for k, v in POOL.items() if k != "callback"})
# Mostly valid entries too, so that the column path has something to accept.
valid = st.fixed_dictionaries(
    {"later": st.sampled_from([0, 0.25, 1, 2.5]),
     "callback": st.sampled_from(["echo", "echo", "callback"]),
     "args": st.lists(st.one_of(st.integers(-3, 3), st.sampled_from(["a", 1.5, True])),
                      min_size=1, max_size=2)},
    optional={"name": st.sampled_from(["n1", "n2", "n3"]), "every": st.sampled_from([0.5, 1]),
              "count": st.integers(1, 3), "mode": st.just("fixed-delay"),
              "until": st.just(10), "jitter": st.just(0.01)},
)
# A valid entry with one key set from the wild pool: one thing wrong (or not) at a time.
mutated = st.tuples(valid, st.sampled_from(sorted(POOL)).flatmap(
    lambda k: POOL[k].map(lambda v: (k, v)))).map(lambda t: {**t[0], t[1][0]: t[1][1]})
# Valid entries around one odd one, at any place.
schedules = st.tuples(st.lists(valid, max_size=4), st.one_of(mutated, mutated, wild, valid),
                      st.integers(0, 4)).map(lambda t: [*t[0][:t[2]], t[1], *t[0][t[2]:]])


def entry_by_entry(text: str, monkeypatch: pytest.MonkeyPatch) -> Schedule:
    with monkeypatch.context() as m:
        m.setattr(loader, "build_columns", lambda *a: None)
        return load_text(text, "s.toml", now=0.0)


def check_same(entries: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    text = toml(entries)
    try:
        expected = entry_by_entry(text, monkeypatch)
    except ScheduleError as exc:
        with pytest.raises(ScheduleError) as got:
            load_text(text, "s.toml", now=0.0)
        assert got.value.problems == exc.problems  # the same problems, worded and located alike
        return
    assert repr(load_text(text, "s.toml", now=0.0)) == repr(expected)  # repr: NaN is NaN


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(entries=schedules)
def test_columns_agree_with_entry_by_entry(entries: list[dict[str, Any]],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    check_same(entries, monkeypatch)


def test_the_column_path_takes_a_generated_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = []
    for i in range(50):
        entries += [
            {"later": i / 10, "callback": "echo", "args": ["later", i]},
            {"name": f"n{i}", "at": i / 10, "callback": "callback", "args": [i],
             "kwargs": {"kwarg": f"k{i}"}},
            {"soon": True, "callback": "echo", "args": ["soon"], "kwargs": {"sep": ", "}},
            {"later": 0.5, "every": 0.25, "count": i % 7 + 1, "mode": "fixed-delay",
             "callback": "echo", "args": ["tick"]},
            {"at": 1.0, "every": 0.1, "until": 30, "jitter": 0.01, "callback": "echo",
             "args": ["jit", i, 1.5, True]},
        ]
    built: list[object] = []
    real = columns.build
    monkeypatch.setattr(loader, "build_columns", lambda *a: built.append(real(*a)) or built[-1])
    check_same(entries, monkeypatch)
    assert built and built[0] is not None  # it really was the column path that built it
    schedule = load_text(toml(entries), "s.toml")
    assert [c.name for c in schedule.calls[:5]] == ["later#1", "n0", "soon#1", "later#2", "at#2"]
    assert schedule.calls[3].repeat is schedule.calls[3 + 35].repeat  # equal settings: shared


@pytest.mark.parametrize("entries", [
    [{"later": 1, "callback": "echo"}, {"later": 2, "callback": "echo", "name": "later#1"}],
    [{"soon": True, "callback": "cancel", "args": ["nobody"]}],
    [{"soon": True, "callback": "cancel", "args": ["x"]}, {"name": "x", "later": 1,
                                                           "callback": "stop"}],
    [{"later": 1, "every": 1, "until": 0.5, "callback": "stop"}],
    [{"later": 1, "callback": "sleep", "args": ["x"]}],
    [{"later": 1, "callback": "echo", "args": [2**63]}],
    [{"later": 1, "callback": "echo", "args": [[1, 2]]}],
    [{"later": 1, "callback": "echo", "name": "x\n"}],
    [{"later": 1, "callback": "echo", "name": " "}],
    [{"later": 1, "callback": "echo", "kwargs": {"sep": 1}}],
    [{"later": 1, "every": 1, "count": 2.0, "callback": "stop"}],
    [{"later": 1, "every": 1, "count": True, "callback": "stop"}],
    [{"later": 1, "every": 0, "callback": "stop"}],
    [{"later": 1, "every": 1, "jitter": math.nan, "callback": "stop"}],
    [{"later": 1, "every": 1, "mode": "fixed", "callback": "stop"}],
    [{"at": 1e8 + 1, "callback": "stop"}],
    [{"later": 1, "callback": "stop", "bogus": 1}],
    [{"soon": True, "every": 1, "until": 0.0, "callback": "stop"},  # one Repeat for both: the
     {"soon": True, "every": 1, "until": -0.0, "callback": "stop"}],  # same zero either way
    [{"later": 1, "every": 1, "jitter": -0.0, "callback": "stop"}],
])
def test_edges_agree(entries: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    check_same(entries, monkeypatch)
