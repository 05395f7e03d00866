"""The jsonl renderer: SPEC §4's keys and values, one object a line."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from helpers import (
    WALL,
    Run,
    registry_with,
    run_virtual,
)
from helpers import render_jsonl as jsonl

from timerctl.events import CallRecord, iso
from timerctl.render import RenderOptions
from timerctl.render.jsonl import JsonlRenderer

pytestmark = pytest.mark.usefixtures("no_colour_env")


START_KEYS = {
    "event",
    "schedule",
    "loop_impl",
    "clock",
    "loop_t0",
    "wall_t0",
    "clock_resolution",
    "calls",
}


CALL_KEYS = {
    "event",
    "seq",
    "entry",
    "kind",
    "callback",
    "args",
    "kwargs",
    "n",
    "due",
    "loop_time",
    "t",
    "wall_time",
    "late",
    "duration",
}


END_KEYS = {
    "event",
    "reason",
    "calls",
    "failed",
    "cancelled",
    "late_p50",
    "late_p99",
    "late_max",
    "duration",
    "exit_code",
}


ISO_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$")


def test_jsonl_every_line_is_an_object_with_the_published_keys(run: Run) -> None:
    objs = jsonl(run.events)
    assert len(objs) == len(run.events)
    start, *middle, end = objs
    assert start["event"] == "start" and end["event"] == "end"
    # SPEC §4 keys, plus speed, precision and selector (added; a key once published stays)
    assert set(start) == START_KEYS | {"speed", "precision", "selector", "seed"}
    assert set(end) >= END_KEYS
    calls = [o for o in middle if o["event"] == "call"]
    assert len(calls) == len(run.records)
    for call in calls:
        extra = set(call) - CALL_KEYS
        assert set(call) >= CALL_KEYS
        assert extra in ({"result"}, {"error"}), extra  # result XOR error
    assert {o["event"] for o in middle} == {"call", "cancel"}


def test_jsonl_values(run: Run) -> None:
    start, *middle, end = jsonl(run.events)
    assert start["schedule"] == "s.toml" and start["clock"] == "virtual"
    assert start["loop_impl"] == "asyncio" and start["calls"] == 5
    assert start["wall_t0"] == iso(WALL) and ISO_MICROS.match(start["wall_t0"])
    calls = [o for o in middle if o["event"] == "call"]
    assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
    for c in calls:
        assert c["t"] == pytest.approx(c["loop_time"] - start["loop_t0"], abs=1e-12)
        assert c["late"] == pytest.approx(c["loop_time"] - c["due"], abs=1e-9)
        assert ISO_MICROS.match(c["wall_time"])
    seed = next(c for c in calls if c["entry"] == "seed")
    assert seed["args"] == [2] and seed["kwargs"] == {"kwarg": "not default"}
    assert seed["kind"] == "later" and seed["callback"] == "callback"
    assert seed["result"] == "callback invoked with 2 and not default"
    boom = next(c for c in calls if c["entry"] == "boom")
    assert boom["error"] == {"type": "RuntimeError", "message": "kaput"}
    ticks = [c["n"] for c in calls if c["entry"] == "tick"]
    assert ticks == [1, 2, 3]
    (cancel,) = [o for o in middle if o["event"] == "cancel"]
    assert (cancel["entry"], cancel["count"], cancel["by"]) == ("tick", 2, "killer")
    assert (end["reason"], end["calls"], end["failed"], end["cancelled"], end["exit_code"]) == (
        "done",
        7,
        1,
        2,
        1,
    )
    assert end["late_max"] == 0 and end["duration"] == pytest.approx(0.3)


def test_jsonl_values_that_json_cannot_carry_become_strings() -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    def odd(kind: str) -> object:
        return {
            "nan": float("nan"),
            "inf": float("-inf"),
            "set": {1},
            "bytes": b"\xff",
            "thing": Thing(),
            "nested": {1: (1.5, None, True)},
        }[kind]

    reg = registry_with(odd=odd)
    text = "".join(
        f'[[call]]\nsoon = true\ncallback = "odd"\nargs = ["{k}"]\n'
        for k in ("nan", "inf", "set", "bytes", "thing", "nested")
    )
    results = [
        o["result"] for o in jsonl(run_virtual(text, registry=reg).events) if o["event"] == "call"
    ]
    assert results == ["nan", "-inf", "{1}", "b'\\xff'", "a thing", {"1": [1.5, None, True]}]


def test_jsonl_wall_times_in_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        wall = datetime(2030, 1, 15, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
        start, first, _end = jsonl(
            run_virtual(
                '[[call]]\nlater = 0.1\ncallback = "echo"\n', wall_clock=lambda: wall
            ).events
        )
        assert start["wall_t0"] == "2030-01-15T12:00:00.000000+01:00"
        assert first["wall_time"] == "2030-01-15T12:00:00.100000+01:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_jsonl_fast_call_line_is_the_published_form() -> None:
    # the hot path formats call records by hand: it must give exactly what to_dict gives
    import json as _json

    from timerctl.render.jsonl import _dumps, to_dict

    out = io.StringIO()
    renderer = JsonlRenderer(out, RenderOptions())
    for result in ("x", 'q"\n\u00e9', None, 3, 2.5, [1, {"a": (1, 2)}], object()):
        for late in (0.0, -0.0, 1e-7, 123.456789012345, 1e-300):
            r = CallRecord(
                seq=7,
                entry="e[red]",
                kind="later",
                callback="echo",
                args=(1, "a", 2.5),
                kwargs={"sep": ","},
                n=3,
                due=1.1,
                loop_time=1.1 + late,
                t=0.3,
                wall_time=1795732178.763399,
                late=late,
                duration=2e-6,
                result=result,
            )
            out.seek(0)
            out.truncate()
            renderer(r)
            line = out.getvalue()
            assert line == _dumps(to_dict(r)) + "\n"
            assert _json.loads(line)["late"] == late
