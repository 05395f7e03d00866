"""The rich renderer off a terminal: data verbatim (never markup), unwrapped records."""

from __future__ import annotations

import io

import pytest
from helpers import (
    MARKUP,
    Run,
    render,
    run_virtual,
)

from timerctl.render import RenderOptions
from timerctl.render.rich import RichRenderer
from timerctl.render.text import result_text

pytestmark = pytest.mark.usefixtures("no_colour_env")


def test_rich_keeps_data_verbatim_even_with_colour(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = render("rich", run.events)
    assert "\x1b[" in out  # styled ...
    assert out.count(MARKUP) == 2 and "😄" not in out  # ... but the data is not markup


def test_rich_recorded_console_text(run: Run) -> None:
    sink = RichRenderer(io.StringIO(), RenderOptions(extra={"export": True}))
    for event in run.events:
        sink(event)
    text = sink.console.export_text()
    assert text.count(MARKUP) == 2
    assert "callback invoked with 2 and not default" in text
    assert "! RuntimeError: kaput" in text


def test_rich_on_a_non_terminal_writes_no_ansi(run: Run) -> None:
    out = render("rich", run.events)
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0].startswith("# timerctl run s.toml")
    assert "run done" in out and "exit code" in out and "lateness" in out


def test_rich_records_are_not_wrapped(run: Run) -> None:
    long = "x" * 300
    extra = run_virtual(f'[[call]]\nsoon = true\ncallback = "echo"\nargs = ["{long}"]\n')
    out = render("rich", extra.events)
    assert any(line.endswith(long) for line in out.splitlines())


def test_the_fast_plain_record_is_the_rich_record_as_text(run: Run) -> None:
    # into a file a rich record is written without building a Text: the same characters
    sink = RichRenderer(io.StringIO(), RenderOptions(name_width=6, call_width=34))
    sink(run.start)
    for r in run.records:
        parts = sink.parts(
            r.t, r.loop_time, r.wall_time, r.late, r.entry, r.describe(), result_text(r), r.failed
        )
        assert "".join(p for p, _ in parts) == sink.record(r).plain
