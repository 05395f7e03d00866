"""examples.toml and the README's samples run as documented."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "timerctl", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
    )


def test_examples_toml_is_valid() -> None:
    result = run("check", "examples.toml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "examples.toml: ok (11 entries)"


def test_examples_toml_runs_on_the_virtual_clock() -> None:
    result = run("run", "examples.toml", "--clock", "virtual", "--format", "jsonl", "--seed", "1")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    calls = [e for e in events if e["event"] == "call"]
    end = events[-1]
    assert end["event"] == "end" and end["reason"] == "stopped" and end["failed"] == 0
    assert [c["n"] for c in calls if c["entry"] == "tick"] == [1, 2, 3, 4]  # cut at 0.62
    assert {c["entry"] for c in calls} >= {
        "hello",
        "soon#2",
        "later#1",
        "at#1",
        "poll",
        "heartbeat",
        "cut",
        "child",
        "at#4",
        "at#5",
    }
    assert max(c["t"] for c in calls) == 1.2
    child = next(c for c in calls if c["entry"] == "child")
    assert child["result"] == "hello from a child process" and child["exit_status"] == 0
    cancels = [e for e in events if e["event"] == "cancel"]
    assert [(c["entry"], c["by"]) for c in cancels] == [("tick", "cut"), ("heartbeat", "stopped")]


def test_examples_toml_on_the_real_clock_ends_by_its_stop_at_1_2_s() -> None:
    result = run("run", "examples.toml", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    start, end = events[0], events[-1]
    assert end["reason"] == "stopped"
    last = [e for e in events if e["event"] == "call"][-1]
    assert last["callback"] == "stop"
    assert last["due"] - start["loop_t0"] == pytest.approx(1.2)
