"""The plain renderer: a header, columns that line up, one line a record, the summary."""

from __future__ import annotations

import pytest
from helpers import (
    WALL,
    Run,
    render,
    run_virtual,
)

from timerctl.events import iso

pytestmark = pytest.mark.usefixtures("no_colour_env")


def test_plain_header_columns_records_summary(run: Run) -> None:
    out = render("plain", run.events, name_width=6, call_width=34)
    lines = out.splitlines()
    assert lines[0].startswith("# timerctl run s.toml · 5 entries · loop asyncio · clock virtual")
    assert lines[1] == f"# t0: loop 0.000000 = wall {iso(WALL)} (simulated)"
    header = lines[2]
    for column in ("T", "loop", "wall (simulated)", "late(ms)", "entry", "call", "result"):
        assert column in header
    records = [line for line in lines[3:] if not line.startswith("#")]
    assert len(records) == len(run.records)
    assert lines[-1] == (
        "# done: 7 calls, 1 failed, 2 cancelled in 0.300s · late p50 0.000ms p99 0.000ms "
        "max 0.000ms · exit 1"
    )


def test_plain_columns_line_up(run: Run) -> None:
    lines = render("plain", run.events, name_width=6, call_width=34).splitlines()
    header = lines[2]
    records = [line for line in lines[3:] if not line.startswith("#")]
    for name in ("entry", "call", "result"):
        col = header.index(name)
        for line in records:
            assert line[col - 1] == " " and line[col] != " ", (name, line)
    wall_col = header.index("wall")
    for line, rec in zip(records, run.records, strict=True):
        assert line[wall_col:].startswith(iso(rec.wall_time))


def test_plain_record_fields(run: Run) -> None:
    lines = render("plain", run.events, name_width=6, call_width=34).splitlines()
    seed = next(line for line in lines if " seed " in line)
    assert seed.split()[:2] == ["0.100000", "0.100000"]
    assert "callback(2, kwarg='not default')" in seed
    assert seed.endswith("callback invoked with 2 and not default")
    boom = next(line for line in lines if " boom " in line)
    assert boom.endswith("! RuntimeError: kaput")
    assert "# cancelled 2 calls of tick (by killer) at T+0.300000" in lines


def test_plain_no_summary(run: Run) -> None:
    out = render("plain", run.events, summary=False)
    assert "# done" not in out and "exit 1" not in out


def test_plain_lesson_lines_are_comments(run: Run) -> None:
    out = render("plain", run.events, lesson="one\ntwo")
    assert out.endswith("# one\n# two\n")


def test_plain_control_characters_stay_on_one_line() -> None:
    run = run_virtual('[[call]]\nsoon = true\ncallback = "echo"\nargs = ["a\\nb\\u001b[31mc\\r"]\n')
    out = render("plain", run.events)
    assert "\x1b" not in out and "\r" not in out
    (line,) = [line for line in out.splitlines() if "echo(" in line]
    assert line.endswith("a\\nb\\u001b[31mc\\r")
