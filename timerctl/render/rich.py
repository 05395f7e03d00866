"""Rich: coloured records, a live footer on a terminal, and a summary people read at a glance.

Data (entry names, arguments, results) is always passed as ``Text``: never parsed as markup or
emoji codes, so a ``[red]`` in an argument is shown as typed.

``RichRenderer`` draws each event as it comes: into a pipe or a file (where there is no colour,
a record is written as plain text, about as fast as the plain format), on the virtual clock, in
an export and in ``report``. On a terminal during a real run, drawing would make calls late (a
rich print costs ~160 µs): there ``live.LiveRenderer`` hands the records a person can read to a
``painter.Painter`` in a display process of its own (``drawer.py``), which draws them with a
``RichRenderer`` above a live footer ten times a second (once while the loop is busy); past
what a person can read, records are coalesced into one line that says how many were skipped
(``--record`` keeps them all). The summary at the end is drawn by ``summary.py``.
"""

from __future__ import annotations

import os
from typing import IO, Any, cast

from rich.console import Console, Group
from rich.text import Text

from ..errors import OutputClosed
from ..events import (
    Backlog,
    CallRecord,
    Cancelled,
    ClockStep,
    Decision,
    End,
    Event,
    Output,
    Start,
    iso,
)
from . import RenderOptions, is_terminal
from .samples import Samples
from .summary import late_style
from .summary import summary as run_summary
from .text import TolerantStream, header_lines, oneline, result_text
from .writer import output_error, write_all

RESULT_ROOM = 36  # columns a record keeps for its result on a narrow terminal
FOOTER_ROOM = 4  # columns the live footer leaves free at its end (for the echoed ^C)


class _Console(Console):
    """A Console that reports a closed reader as OutputClosed, like the other renderers.

    rich's own ``on_broken_pipe`` points the process's stdout at /dev/null and raises
    ``SystemExit(1)``: the wrong exit status (a closed stdout is 141), and the wrong stream
    when this console writes somewhere else.
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more to draw: the reader is gone
        raise OutputClosed("stdout closed")


class RichRenderer:
    """Draws each event as it comes (see the module's docstring for where; ``Painter`` draws
    with its methods in a display process)."""

    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.options = options
        export = bool(options.extra.get("export"))
        self._out = TolerantStream(stream)
        self.console = _Console(
            # TolerantStream forwards every other IO[str] attribute to the stream it wraps
            file=cast("IO[str]", self._out),
            markup=False,
            highlight=False,
            emoji=False,
            # on screen a long record runs on (the terminal wraps it, --record keeps it); in an
            # export it wraps at the export's width rather than being cut off
            soft_wrap=not export,
            record=export,
            width=options.extra.get("width"),
        )
        # On a terminal a record is one line that fits: narrower terminals drop the loop
        # column, then shorten the wall clock, then cut the line with an ellipsis.
        self.fit = is_terminal(stream) and not export  # a real one: FORCE_COLOR is no terminal
        # no colour to draw (a pipe, a file, NO_COLOR): a record is its text, written directly
        self.plain_records = self.console.color_system is None and not export and not self.fit
        self.show_loop = self.full_wall = self.show_wall = True
        self.call_w = options.call_width
        self.simulated = False
        self.start: Start | None = None
        self.samples = Samples()
        self.show_records = options.extra.get("show_records", True)
        self.status: Any = None  # a callable for the live footer: where the run stands
        self._named: dict[str, tuple[str, str]] = {}  # entry -> its name and call, as shown

    # -- the sink
    def bind_status(self, status: Any) -> None:
        """Give the live footer a way to ask the engine where the run stands."""
        self.status = status

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallRecord):
            self.samples.add(event)
            if self.show_records:
                self._draw_record(event)
        elif isinstance(event, End):
            self.draw_end(event)
        else:
            self.draw(event)

    # -- drawing
    def print(self, *renderables: object) -> None:
        """Print on the console (above the live footer, if any); a closed reader: OutputClosed."""
        try:
            self.console.print(*renderables)  # a Live draws its footer below what is printed
        except BrokenPipeError:
            raise OutputClosed("stdout closed") from None

    def _record_parts(self, r: CallRecord) -> list[tuple[str, str | None]]:
        named = self._named.get(r.entry)
        if named is None:
            named = oneline(r.entry), oneline(r.describe())
            if r.n > 1:  # a repeating entry: its next calls read the same (one-shots never do)
                self._named[r.entry] = named
        return self.parts(
            r.t, r.loop_time, r.wall_time, r.late, *named, result_text(r), r.failed or r.cancelled
        )

    def _draw_record(self, r: CallRecord) -> None:
        parts = self._record_parts(r)
        if not self.plain_records:
            self.print(self.text(parts))
            return
        try:  # the hot path of a run into a file: no Text, no console
            self._out.write("".join([p for p, _ in parts]) + "\n")
            self._out.flush()
        except BrokenPipeError:
            raise OutputClosed("stdout closed") from None

    def begin(self, start: Start) -> None:
        """Lay the records out for this run (its clock, the terminal's width)."""
        self.start = start
        self.simulated = start.clock == "virtual"
        self.layout()

    def draw(self, event: Event) -> None:
        """Draw an event other than a record or the end."""
        if isinstance(event, Start):
            self.begin(event)
            if self.show_records:
                for line in header_lines(event):
                    self.print(self.fitted(Text(line, style="bold")))
                self.print(self.columns())
        elif isinstance(event, Cancelled) and self.show_records:
            self.print(self.fitted(Text(f"✂ {event.describe()}", style="yellow")))
        elif isinstance(event, ClockStep | Backlog):
            self.print(Text(f"⚠ {event.describe()}", style="bold yellow"))
        elif isinstance(event, Decision) and self.show_records:
            self.print(self.fitted(Text(f"⏭ {event.describe()}", style="yellow")))
        elif isinstance(event, Output) and self.show_records:
            self.print(Text(event.describe(), style="dim"))

    def draw_end(self, event: End) -> None:
        """The summary and a demo's lesson."""
        if self.options.summary:
            self.print(self.summary(event))
        if self.options.lesson:
            try:  # prose: wrapped at word boundaries, unlike a record
                self.console.print(Text(self.options.lesson, style="italic"), soft_wrap=False)
            except BrokenPipeError:
                raise OutputClosed("stdout closed") from None

    def layout(self) -> None:
        o = self.options
        width = self.console.width
        # The result matters most (a demo is its results): it keeps RESULT_ROOM columns; then
        # the loop column goes, then the date, then the wall clock, then the call is shortened.
        self.call_w = o.call_width
        fixed = 11 + 12 + o.name_width + 1 + o.call_width + 1 + RESULT_ROOM
        self.show_loop = not self.fit or width >= fixed + 34 + 15
        self.full_wall = not self.fit or width >= fixed + 34
        self.show_wall = not self.fit or width >= fixed + 17
        if self.fit and not self.show_wall:
            self.call_w = max(12, min(o.call_width, o.call_width + width - fixed))

    def fitted(self, text: Text) -> Text:
        """On a terminal, one line that fits (cut with an ellipsis)."""
        if self.fit:
            text.truncate(self.console.width, overflow="ellipsis")
        return text

    def columns(self) -> Text:
        o = self.options
        wall = "wall (~ simulated)" if self.simulated else "wall"
        head = f"{'T':>10} " + (f"{'loop':>14} " if self.show_loop else "")
        if self.show_wall:
            head += f"{wall:<33} " if self.full_wall else f"{wall[:4]:<16} "
        head += f"{'late':>11} {'entry':<{o.name_width}} {'call':<{self.call_w}} result"
        return self.fitted(Text(head, style="dim"))

    def record(self, r: CallRecord) -> Text:
        return self.text(self._record_parts(r))

    def parts(
        self,
        t: float,
        loop_time: float,
        wall_time: float,
        late: float,
        entry: str,
        call: str,
        result: str,
        bad: bool,
    ) -> list[tuple[str, str | None]]:
        """A record's columns and their styles (entry, call and result already on one line)."""
        o = self.options
        parts: list[tuple[str, str | None]] = [(f"{t:10.6f} ", "bold")]
        if self.show_loop:
            parts.append((f"{loop_time:14.6f} ", "cyan"))
        if self.show_wall:
            wall = iso(wall_time)
            if not self.full_wall:
                wall = wall[11:26]  # HH:MM:SS.ffffff
            parts.append((f"{wall}{'~' if self.simulated else ' '} ", "blue"))
        parts.append((f"{late * 1e3:+9.3f}ms ", late_style(late)))
        parts.append((f"{entry:<{o.name_width}} ", "bold magenta"))
        if self.fit and len(call) > self.call_w:  # on a terminal only: a file keeps it all
            call = call[: self.call_w - 1] + "…"
        parts.append((f"{call:<{self.call_w}} ", None))
        parts.append((result, "bold red" if bad else "green"))
        return parts

    def text(self, parts: list[tuple[str, str | None]]) -> Text:
        text = Text()
        for part, style in parts:
            text.append(part, style=style)
        return self.fitted(text)

    def footer(self) -> Text:
        text = Text()
        status = self.status() if self.status is not None else None
        if status is None:
            return text
        text.append("▶ ", style="bold green")
        text.append(f"T+{status.t:.2f}s  ", style="bold")
        text.append(f"{status.calls} done", style="green")
        if status.failed:
            text.append(f"  {status.failed} failed", style="bold red")
        text.append(f"  {status.pending} timer{'s' if status.pending != 1 else ''} armed")
        if status.running:
            text.append(f"  {status.running} running", style="cyan")
        if status.next_entry is not None:
            text.append("  next: ")
            text.append(oneline(status.next_entry), style="bold magenta")
            text.append(f" in {status.next_in:.2f}s")
        text.append("   Ctrl-C stops", style="dim")
        # One line, with room after it: the terminal echoes ^C where the cursor is, and a
        # footer that filled its last line would be pushed onto one more line than the live
        # display clears (a stale footer left above the summary at 40 or 60 columns).
        text.no_wrap = True
        text.truncate(max(10, self.console.width - FOOTER_ROOM), overflow="ellipsis")
        return text

    # -- the summary
    def summary(self, ev: End) -> Group:
        return run_summary(ev, self.start, self.samples, self.console.width)

    # -- export
    def export(self, svg: str | None, html: str | None) -> None:
        """Save what was drawn (needs ``extra['export']``: the console recorded it)."""
        if svg:
            save(svg, self.console.export_svg(title="timerctl", clear=False))  # html may follow
        if html:
            save(html, self.console.export_html(clear=False))


def save(path: str, text: str) -> None:
    """Write an export file whole; a failure names the file (OutputError: exit 74)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            write_all(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        raise output_error(exc, path) from None
