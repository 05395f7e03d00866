"""``timerctl report``: a recorded run (recording.py reads it) drawn as summary, lateness
histogram and timeline, with the rich renderer that draws a live run's summary."""

from __future__ import annotations

import sys
from typing import BinaryIO

import click

from .app import check_outputs, export
from .errors import ExitCode, Problem
from .events import Backlog, ClockStep, End, Event, Start
from .recording import EndBuilder, RecordingError, read_events, read_lines
from .safe import escape

#: the clock steps and backlogs a report holds back until every line proved good
MAX_NOTES = 1000


def _open(recording: str) -> tuple[str, BinaryIO]:
    from .load import STDIN, STDIN_NAME

    try:
        if recording == STDIN:
            return STDIN_NAME, sys.stdin.buffer
        return recording, open(recording, "rb")
    except OSError as exc:
        raise _unreadable(recording, exc) from None


def _unreadable(name: str, exc: OSError) -> RecordingError:
    return RecordingError(name, [Problem(name, 0, None, exc.strerror or str(exc))])


class _Replay:
    """Feeds a renderer a recording's events as they are read, in bounded memory: the renderer
    keeps what the summary needs. What it would print before the end (clock steps, backlogs)
    waits until every line proved good."""

    def __init__(self, renderer: object) -> None:
        self.renderer = renderer
        self.notes: list[Event] = []
        self.end: End | None = None
        self.rebuilt = EndBuilder()

    def feed(self, event: Event) -> None:
        if isinstance(event, End):
            self.end = self.end or event
        elif isinstance(event, ClockStep | Backlog):
            if len(self.notes) < MAX_NOTES:
                self.notes.append(event)
        elif isinstance(event, Start) and getattr(self.renderer, "start", None) is not None:
            pass  # a second start (two runs in one file): the first one's
        else:
            self.rebuilt.add(event)
            self.renderer(event)  # type: ignore[operator]

    def finish(self, name: str) -> None:
        for note in self.notes:
            self.renderer(note)  # type: ignore[operator]
        end = self.end
        if end is None:
            end = self.rebuilt.end()
            click.echo(
                f"timerctl: {escape(name)} has no end record (the run did not finish?): "
                "summary computed from its call records",
                err=True,
            )
        self.renderer(end)  # type: ignore[operator]


def report(recording: str, svg: str | None, html: str | None) -> int:
    """Draw RECORDING on stdout (and into --svg/--html); returns the exit code."""
    from .render import RenderOptions, make
    from .safe import escape_fields

    check_outputs([recording], svg=svg, html=html)
    name, stream = _open(recording)
    renderer = make(
        "rich",
        sys.stdout,
        RenderOptions(extra={"show_records": False, "export": bool(svg or html)}),
    )
    replay = _Replay(renderer)
    try:
        # A recording is untrusted input: its strings reach the terminal escaped.
        for event in map(escape_fields, read_events(read_lines(stream, name), name)):
            replay.feed(event)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    replay.finish(name)
    if svg or html:
        return export(renderer, svg, html)
    return ExitCode.OK
