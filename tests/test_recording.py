"""A recorded run read back (timerctl/recording.py) and the ``report`` command over it.

The round trip is the contract: what ``run --format jsonl`` writes, and what ``--record`` saves,
read back as the events that made them, and ``timerctl report`` draws one summary from either.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import TIMERCTL, clean_env, registry_with, run_virtual

from timerctl.events import CallRecord, Event
from timerctl.recording import (
    MAX_PROBLEMS,
    EndBuilder,
    RecordingError,
    read_events,
    read_lines,
)
from timerctl.render import RenderOptions, make

WALL = 1_800_000_000.0  # 2027-01-15T08:00:00Z

#: every kind of record a run writes: results, a failure, a cancel, repeats
SCHEDULE = """
    [[call]]
    name = "tick"
    soon = true
    every = 0.5
    count = 6
    callback = "echo"
    args = ["tick", "[b]not markup[/b]"]

    [[call]]
    name = "seed"
    later = 0.25
    callback = "callback"
    args = [2]
    kwargs = { kwarg = "k" }

    [[call]]
    name = "boom"
    later = 1
    callback = "fail"
    args = ["kaput"]

    [[call]]
    name = "killer"
    later = 1.75
    callback = "cancel"
    args = ["tick"]
"""


def as_jsonl(events: list[Event]) -> str:
    buf = io.StringIO()
    sink = make("jsonl", buf, RenderOptions())
    for event in events:
        sink(event)
    return buf.getvalue()


def read_back(text: str, path: str = "rec.jsonl") -> list[Event]:
    return list(read_events(read_lines(io.BytesIO(text.encode()), path), path))


def fields(event: Event) -> tuple[str, dict[str, Any]]:
    # CallRecord compares by identity (eq=False, hot path): compare what it holds
    return type(event).__name__, dataclasses.asdict(event)


def problems(text: str, path: str = "rec.jsonl") -> list[str]:
    with pytest.raises(RecordingError) as info:
        read_back(text, path)
    return [str(p) for p in info.value.problems]


# -- recording.py ------------------------------------------------------------------------------


def test_a_jsonl_stream_reads_back_as_the_events_that_wrote_it() -> None:
    run = run_virtual(SCHEDULE, wall_clock=lambda: WALL)
    kinds = {type(e).__name__ for e in run.events}
    assert kinds == {"Start", "CallRecord", "Cancelled", "End"}
    assert [fields(e) for e in read_back(as_jsonl(run.events))] == [fields(e) for e in run.events]


def test_the_end_rebuilt_from_call_records_is_the_real_one_but_unfinished() -> None:
    """A recording cut short (no end record) gets its summary from the call records."""
    run = run_virtual(SCHEDULE, wall_clock=lambda: WALL)
    rebuilt = EndBuilder()
    for event in read_back(as_jsonl(run.events[:-1])):
        rebuilt.add(event)
    end = rebuilt.end()
    assert end.reason == "unfinished" and run.end.reason == "done"
    assert dataclasses.replace(end, reason="done") == run.end
    assert (end.calls, end.failed, end.cancelled, end.exit_code) == (7, 1, 2, 1)


def test_a_failing_callbacks_error_survives_the_round_trip() -> None:
    def loud() -> None:
        raise RuntimeError("on purpose")

    run = run_virtual(
        '[[call]]\nsoon = true\ncallback = "loud"\n', registry=registry_with(loud=loud)
    )
    (record,) = [e for e in read_back(as_jsonl(run.events)) if isinstance(e, CallRecord)]
    assert record.error is not None and record.error.type == "RuntimeError"
    assert record.error.message == "on purpose" and record.failed


def test_an_event_kind_added_later_is_skipped_not_an_error() -> None:
    run = run_virtual('[[call]]\nsoon = true\ncallback = "echo"\n', wall_clock=lambda: WALL)
    lines = as_jsonl(run.events).splitlines()
    lines.insert(1, json.dumps({"event": "from-the-future", "x": 1}))
    back = read_back("\n".join(lines) + "\n")
    assert [type(e).__name__ for e in back] == ["Start", "CallRecord", "End"]


def test_bad_lines_are_located_all_together() -> None:
    run = run_virtual(SCHEDULE, wall_clock=lambda: WALL)
    lines = as_jsonl(run.events).splitlines()
    lines[2] = lines[2].replace('"seq":2,', '"seq":"2",')
    lines[4] = "{not json"
    assert problems("\n".join(lines) + "\n") == [
        "rec.jsonl:3: error: not a timerctl record: 'seq' must be an integer, not \"2\"",
        "rec.jsonl:5:2: error: not JSON: Expecting property name enclosed in double quotes",
    ]


def test_at_most_so_many_problems_are_told() -> None:
    good = as_jsonl(run_virtual('[[call]]\nsoon = true\ncallback = "echo"\n').events)
    assert len(problems(good + "[]\n" * (MAX_PROBLEMS + 10))) == MAX_PROBLEMS


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("s.toml", '[[call]]\nsoon = true\ncallback = "echo"\n', "this is a schedule (TOML)"),
        ("x.log", "hello\nworld\n", "this is not JSON Lines"),
    ],
)
def test_a_file_that_is_no_recording_at_all_is_said_once(
    path: str, text: str, message: str
) -> None:
    (told,) = problems(text, path)
    assert told.startswith(f"{path}: error: {message}, not a timerctl recording")


def test_a_recording_without_call_records_is_refused() -> None:
    start = as_jsonl(run_virtual('[[call]]\nsoon = true\ncallback = "echo"\n').events[:1])
    assert problems(start) == ["rec.jsonl: error: no call records in this file"]


def test_a_line_without_an_end_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("timerctl.recording.MAX_LINE", 64)
    (told,) = problems("x" * 200)
    assert told.startswith("rec.jsonl:1: error: a line of more than")


# -- report: the round trip through real processes ---------------------------------------------


def timerctl(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TIMERCTL, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One real virtual-clock run: its jsonl stdout, and its --record file beside it."""
    here = tmp_path_factory.mktemp("recorded")
    (here / "s.toml").write_text(SCHEDULE)
    run = timerctl(
        "run",
        "s.toml",
        "--clock",
        "virtual",
        "--format",
        "jsonl",
        "--record",
        "rec.jsonl",
        cwd=here,
    )
    assert run.returncode == 1, run.stderr  # boom failed: SPEC's exit code for that
    return here, run.stdout


def summary_rows(report: str) -> dict[str, str]:
    """The summary table of a report: its row name -> value."""
    rows = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("│").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    return rows


def test_report_of_jsonl_stdout_and_of_the_record_file_is_the_same_summary(
    recorded: tuple[Path, str],
) -> None:
    here, stdout = recorded
    assert (here / "rec.jsonl").read_text() == stdout
    from_file = timerctl("report", "rec.jsonl", cwd=here)
    from_pipe = timerctl("report", "-", cwd=here, stdin=stdout)
    assert (from_file.returncode, from_file.stderr) == (0, "")
    assert (from_pipe.returncode, from_pipe.stderr) == (0, "")
    assert from_pipe.stdout == from_file.stdout
    end = json.loads(stdout.splitlines()[-1])
    assert end["event"] == "end"
    rows = summary_rows(from_file.stdout)
    assert from_file.stdout.startswith("run done\n")
    assert {k: rows[k] for k in ("calls", "failed", "cancelled", "duration", "exit code")} == {
        "calls": str(end["calls"]),
        "failed": str(end["failed"]),
        "cancelled": str(end["cancelled"]),
        "duration": f"{end['duration']:.3f}s",
        "exit code": str(end["exit_code"]),
    }
    assert (end["calls"], end["failed"], end["cancelled"], end["exit_code"]) == (7, 1, 2, 1)
    assert rows["loop"] == "asyncio · clock virtual · resolution 1e-09s"
    # the timeline names every entry that was called, the failure marked
    timeline = from_file.stdout.split("\ntimeline\n", 1)[1].splitlines()
    assert [line.split()[0] for line in timeline[1:5]] == ["tick", "seed", "boom", "killer"]
    assert "✖" in timeline[3]


def test_report_of_a_recording_cut_short_rebuilds_the_summary(recorded: tuple[Path, str]) -> None:
    here, stdout = recorded
    cut = "".join(stdout.splitlines(keepends=True)[:-1])  # the end record lost
    whole, partial = (
        timerctl("report", "-", cwd=here, stdin=stdout),
        timerctl("report", "-", cwd=here, stdin=cut),
    )
    assert partial.returncode == 0
    assert partial.stderr == (
        "timerctl: <stdin> has no end record (the run did not finish?): "
        "summary computed from its call records\n"
    )
    assert partial.stdout.startswith("run unfinished\n")
    assert summary_rows(partial.stdout) == summary_rows(whole.stdout)


def test_report_of_a_schedule_is_a_located_error_with_a_hint(recorded: tuple[Path, str]) -> None:
    here, _ = recorded
    proc = timerctl("report", "s.toml", cwd=here)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "s.toml: error: this is a schedule (TOML), not a timerctl recording: write one with "
        "`timerctl run SCHEDULE --record FILE` (or --format jsonl)",
        "Found 1 error in s.toml",
    ]
