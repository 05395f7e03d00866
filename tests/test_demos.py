"""The demos replay the seed's three programs; --classic prints the seed's lines exactly."""

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from timerctl.cli import cli
from timerctl.demos import DEMOS

NUM = r"[0-9.e+-]+"

CLASSIC = {
    "call-soon": [
        "entering event loop",
        "registering callbacks",
        "callback invoked with 1 and default",
        "callback invoked with 2 and not default",
        "closing event loop",
    ],
    "call-later": [
        "entering event loop",
        "registering callbacks",
        "callback 3 invoked",
        "callback 2 invoked",
        "callback 1 invoked",
        "closing event loop",
    ],
    "call-at": [
        "entering event loop",
        f"clock time: {NUM}",
        f"loop time: {NUM}",
        "registering callbacks",
        f"callback 3 invoked at {NUM}",
        f"callback 2 invoked at {NUM}",
        f"callback 1 invoked at {NUM}",
        "closing event loop",
    ],
}


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("name", sorted(CLASSIC))
def test_classic_prints_the_seed_lines(name: str) -> None:
    code, out = invoke("demo", name, "--classic", "--clock", "virtual")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(CLASSIC[name])
    for line, pattern in zip(lines, CLASSIC[name], strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_classic_call_at_times_are_the_loop_clock() -> None:
    _, out = invoke("demo", "call-at", "--classic", "--clock", "virtual")
    lines = out.splitlines()
    loop_t0 = float(lines[2].split(": ")[1])
    times = [float(line.rsplit(" ", 1)[1]) for line in lines[4:7]]
    assert [round(t - loop_t0, 9) for t in times] == [0.0, 0.1, 0.2]
    # the wall clock is not the loop clock: the seed's point
    assert float(lines[1].split(": ")[1]) != loop_t0


def test_classic_on_the_real_clock_keeps_the_order() -> None:
    code, out = invoke("demo", "call-later", "--classic")
    assert code == 0
    assert out.splitlines()[2:5] == [
        "callback 3 invoked",
        "callback 2 invoked",
        "callback 1 invoked",
    ]


def test_demo_list_names_every_demo() -> None:
    code, out = invoke("demo")
    assert code == 0
    for name in DEMOS:
        assert re.search(rf"^{name}\s+\S", out, re.M)


def test_unknown_demo_is_a_usage_error_with_hint() -> None:
    code, out = invoke("demo", "call-latr")
    assert code == 2
    assert "did you mean 'call-later'" in out


def jsonl_calls(out: str) -> list[dict]:
    return [r for r in map(json.loads, out.splitlines()) if r["event"] == "call"]


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_demo_runs_and_show_round_trips(name: str) -> None:
    code, direct = invoke("demo", name, "--clock", "virtual", "--format", "jsonl")
    assert code == 0
    shown = subprocess.run(
        [sys.executable, "-m", "timerctl", "demo", name, "--show"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    piped = subprocess.run(
        [sys.executable, "-m", "timerctl", "run", "-", "--clock", "virtual", "--format", "jsonl"],
        input=shown,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0, piped.stderr

    def key(r: dict) -> tuple:
        return (r["entry"], r["n"], r["t"], r["callback"], r["args"], r["kwargs"], r["result"])

    assert [key(r) for r in jsonl_calls(direct)] == [key(r) for r in jsonl_calls(piped.stdout)]


def test_demo_orders_on_the_virtual_clock() -> None:
    _, out = invoke("demo", "call-later", "--clock", "virtual", "--format", "jsonl")
    assert [(r["result"], r["t"]) for r in jsonl_calls(out)] == [
        ("callback 3 invoked", 0.0),
        ("callback 2 invoked", 0.1),
        ("callback 1 invoked", 0.2),
    ]


def test_lesson_in_human_formats_only() -> None:
    _, plain = invoke("demo", "call-soon", "--clock", "virtual", "--format", "plain")
    assert "run in the order they were scheduled" in plain
    _, jsonl = invoke("demo", "call-soon", "--clock", "virtual", "--format", "jsonl")
    assert "order they were scheduled" not in jsonl


def test_drift_demo_fixed_delay_drifts_fixed_rate_holds() -> None:
    _, out = invoke("demo", "drift", "--clock", "virtual", "--format", "jsonl")
    calls = jsonl_calls(out)
    rate = [r["t"] for r in calls if r["entry"] == "rate"]
    delay = [r["t"] for r in calls if r["entry"] == "delay"]
    assert rate == [round(0.1 * k, 9) for k in range(10)]
    assert delay == [round(0.13 * k, 9) for k in range(10)]


def test_blocking_demo_makes_the_ticks_late() -> None:
    _, out = invoke("demo", "blocking", "--clock", "virtual", "--format", "jsonl")
    late = {r["n"]: r["late"] for r in jsonl_calls(out) if r["entry"] == "tick"}
    assert late[3] == 0.0
    assert [round(late[n], 9) for n in (4, 5, 6, 7)] == [0.17, 0.12, 0.07, 0.02]
    assert late[8] == 0.0


def test_show_calls_nothing(tmp_path) -> None:
    code, out = invoke("demo", "call-at", "--show")
    assert code == 0
    assert out.startswith("# The seed's call_at program")
    assert "callback 1 invoked" not in out
