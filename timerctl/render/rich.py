"""Rich: coloured records, a live footer on a terminal, and a summary people read at a glance.

Data (entry names, arguments, results) is always passed as ``Text``: never parsed as markup or
emoji codes, so a ``[red]`` in an argument is shown as typed.

``RichRenderer`` draws each event as it comes: into a pipe or a file (where there is no colour,
a record is written as plain text, about as fast as the plain format), on the virtual clock, in
an export and in ``report``. On a terminal during a real run, drawing would make calls late (a
rich print costs ~160 µs): there ``live.LiveRenderer`` hands the records a person can read to a
``Painter`` in a display process of its own (``drawer.py``), which draws them above a live
footer ten times a second (once while the loop is busy); past what a person can read, records
are coalesced into one line that says how many were skipped (``--record`` keeps them all).
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import SimpleNamespace
from typing import IO, Any, cast

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
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
from .samples import END, ERR, EVENT, LATE_EDGES, REC, SKIP, STATUS, TIMELINE_ROWS, Samples
from .text import TolerantStream, header_lines, ms, oneline, result_text
from .writer import output_error, write_all

MAX_TIMELINE_ROWS = TIMELINE_ROWS
RESULT_ROOM = 36  # columns a record keeps for its result on a narrow terminal
FOOTER_ROOM = 4  # columns the live footer leaves free at its end (for the echoed ^C)

BUCKETS = tuple(
    zip(LATE_EDGES, ("< 10µs", "< 100µs", "< 1ms", "< 10ms", "< 100ms", ">= 100ms"), strict=True)
)


def late_style(seconds: float) -> str:
    if seconds < 0:
        return "bold magenta"  # early: a loop that rounds its clock (uvloop) fires before due
    if seconds < 0.001:
        return "green"
    if seconds < 0.010:
        return "yellow"
    return "bold red"


def histogram(samples: Samples, width: int = 30) -> list[tuple[str, int, str]]:
    """Lateness in decade buckets (<10µs, <100µs, ...): label, count, bar."""
    counts, early = samples.histogram, samples.early
    rows = [("early", early)] if early else []
    rows += [(label, c) for (_, label), c in zip(BUCKETS, counts, strict=True)]
    top = max(c for _, c in rows) or 1
    return [(label, c, "█" * (max(1, round(c / top * width)) if c else 0)) for label, c in rows]


def timeline(samples: Samples, duration: float, width: int) -> Text:
    """One row per entry across the run: where calls ran, coloured by how late they were.

    A top row shows the worst lateness in each column as a bar, so bunching after a blocking
    callback, or drift, stands out.
    """
    width = max(10, width)
    span = max(duration, samples.t_max, 1e-9)
    names = list(samples.names)
    label_w = min(16, max(len(n) for n in names)) if names else 4
    worst = [0.0] * width
    rows: dict[int, list[float | None]] = {
        i: [None] * width for i in range(min(len(names), MAX_TIMELINE_ROWS))
    }
    failed_cells: set[tuple[int, int]] = set()
    for t, late, idx, failed in samples.points():
        col = min(width - 1, int(t / span * width))
        worst[col] = max(worst[col], late)
        if idx < 0 or idx >= MAX_TIMELINE_ROWS:
            continue
        cell = rows[idx][col]
        rows[idx][col] = late if cell is None else max(cell, late)
        if failed:
            failed_cells.add((idx, col))
    out = Text()
    peak = max(worst)
    top = peak or 1.0
    bars = " ▁▂▃▄▅▆▇█"
    out.append(f"{'late':>{label_w}} ", style="bold")
    for w in worst:
        level = 0 if w <= 0 else max(1, round(w / top * 8))
        out.append(bars[level], style=late_style(w))
    out.append(f"  max {ms(peak)}\n")
    for idx, name in enumerate(names[:MAX_TIMELINE_ROWS]):
        out.append(f"{oneline(name)[:label_w]:>{label_w}} ", style="bold magenta")
        for col, cell_late in enumerate(rows[idx]):
            if cell_late is None:
                out.append("·", style="dim")
            elif (idx, col) in failed_cells:
                out.append("✖", style="bold red")
            else:
                out.append("●" if cell_late < 0.001 else "▲", style=late_style(cell_late))
        out.append("\n")
    if len(names) > MAX_TIMELINE_ROWS:
        out.append(
            f"{'':>{label_w}} … {len(names) - MAX_TIMELINE_ROWS} more entries\n", style="dim"
        )
    out.append(
        f"{'':>{label_w}} 0s{'':>{max(0, width - 2 - len(f'{span:.3f}s'))}}{span:.3f}s\n",
        style="dim",
    )
    out.append(f"{'':>{label_w}} ", style="dim")
    for glyph, style, meaning in (
        ("●", "green", "on time (< 1 ms)"),
        ("▲", "yellow", "late"),
        ("✖", "bold red", "failed"),
        ("·", "dim", "no call"),
    ):
        out.append(glyph, style=style)
        out.append(f" {meaning}  ", style="dim")
    return out


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
            self._draw_end(event)
        else:
            self._draw(event)

    # -- drawing
    def _print(self, *renderables: object) -> None:
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
            self._print(self.text(parts))
            return
        try:  # the hot path of a run into a file: no Text, no console
            self._out.write("".join([p for p, _ in parts]) + "\n")
            self._out.flush()
        except BrokenPipeError:
            raise OutputClosed("stdout closed") from None

    def _draw(self, event: Event) -> None:
        if isinstance(event, Start):
            self.start = event
            self.simulated = event.clock == "virtual"
            self._layout()
            if self.show_records:
                for line in header_lines(event):
                    self._print(self._fitted(Text(line, style="bold")))
                self._print(self.columns())
        elif isinstance(event, Cancelled) and self.show_records:
            self._print(self._fitted(Text(f"✂ {event.describe()}", style="yellow")))
        elif isinstance(event, ClockStep | Backlog):
            self._print(Text(f"⚠ {event.describe()}", style="bold yellow"))
        elif isinstance(event, Decision) and self.show_records:
            self._print(self._fitted(Text(f"⏭ {event.describe()}", style="yellow")))
        elif isinstance(event, Output) and self.show_records:
            self._print(Text(event.describe(), style="dim"))

    def _draw_end(self, event: End) -> None:
        if self.options.summary:
            self._print(self.summary(event))
        if self.options.lesson:
            try:  # prose: wrapped at word boundaries, unlike a record
                self.console.print(Text(self.options.lesson, style="italic"), soft_wrap=False)
            except BrokenPipeError:
                raise OutputClosed("stdout closed") from None

    def _layout(self) -> None:
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

    def _fitted(self, text: Text) -> Text:
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
        return self._fitted(Text(head, style="dim"))

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
        return self._fitted(text)

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
        table = Table(title=f"run {ev.reason}", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        table.add_row("calls", str(ev.calls))
        table.add_row("failed", Text(str(ev.failed), style="bold red" if ev.failed else "green"))
        table.add_row("cancelled", str(ev.cancelled))
        table.add_row("duration", f"{ev.duration:.3f}s")
        table.add_row(
            "late p50 / p90 / p99", f"{ms(ev.late_p50)} / {ms(ev.late_p90)} / {ms(ev.late_p99)}"
        )
        table.add_row("late max", ms(ev.late_max))
        table.add_row("early", Text(str(ev.early), style="bold magenta" if ev.early else ""))
        if ev.clock_steps:
            table.add_row(
                "clock steps",
                Text(f"{ev.clock_steps} (wall clock jumped; see above)", style="bold yellow"),
            )
        if ev.dropped:
            table.add_row(
                "dropped",
                Text(
                    f"{ev.dropped} records (stdout's reader was too slow; --record keeps all)",
                    style="bold yellow",
                ),
            )
        if self.start is not None:
            precision = (
                f" · precision {self.start.precision} ({self.start.selector})"
                if self.start.precision
                else ""
            )
            table.add_row(
                "loop",
                f"{self.start.loop_impl} · clock {self.start.clock} · "
                f"resolution {self.start.clock_resolution:g}s{precision}",
            )
        table.add_row("exit code", str(ev.exit_code))
        parts: list[Any] = [table]
        if self.samples.count:
            bars = Text()
            for i, (label, count, bar) in enumerate(histogram(self.samples)):
                if i:
                    bars.append("\n")
                bars.append(f"{label:>9} {count:>8} ")
                bars.append(bar, style="magenta" if label == "early" else "cyan")
            parts += [Text("lateness", style="bold"), bars]
            # room for the entry labels (up to 16) and "  max 123.456ms" after the bars
            width = self.console.width - 17 - 16
            parts += [
                Text("timeline", style="bold"),
                timeline(self.samples, ev.duration, min(100, width)),
            ]
        return Group(*parts)

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


class Painter:
    """Draws what a ``live.LiveRenderer`` hands over (lists of messages, ten a second): the
    records, the coalesced counts, the live footer and the end. It runs in the display process
    (``drawer.py``), or, as a fallback, on a thread of the loop's process."""

    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.renderer = RichRenderer(stream, options)
        self.live_wanted = bool(options.extra.get("live"))
        self.live: Live | None = None
        self.progress: Any = None  # the last status the feeder sent
        self.renderer.status = lambda: self.progress
        self.ended = False
        self._lines: list[Text] = []

    def paint(self, batch: list[tuple[Any, ...]]) -> None:
        self.take(batch)
        self.refresh()

    def take(self, batch: list[tuple[Any, ...]]) -> None:
        """Draw one hand-over; records in one print (each print has a cost, the GIL's too)."""
        r = self.renderer
        for message in batch:
            kind = message[0]
            if kind == REC:
                self._lines.append(r.text(r.parts(*message[1:])))
                continue
            if kind == STATUS:
                self.progress = SimpleNamespace(**message[1])
                continue
            self._flush()
            if kind == SKIP:
                r._print(
                    r._fitted(
                        Text(
                            f"… {message[1]} more calls not drawn "
                            "(too fast to read; --record keeps all)",
                            style="dim",
                        )
                    )
                )
            elif kind == EVENT:
                r._draw(message[1])
                if isinstance(message[1], Start) and self.live_wanted:
                    self._start_live()
            elif kind == ERR:
                self._write_err(message[1])
            elif kind == END:
                self.ended = True
                if message[1] is None:  # the run ended without its end (an error)
                    self.abort()
                    break
                self._stop_live()
                r.samples = message[2]
                r._draw_end(message[1])
        self._flush()

    def refresh(self) -> None:
        """Redraw the footer (after ``take``)."""
        if self.live is not None:
            try:
                self.live.update(self.renderer.footer(), refresh=True)
            except BrokenPipeError:
                raise OutputClosed("stdout closed") from None

    def resume(self, start: Start | None, note: str) -> None:
        """Take over a run another painter began drawing: its layout, a note, the footer."""
        r = self.renderer
        if start is not None:
            r.start, r.simulated = start, start.clock == "virtual"
            r._layout()
        if r.fit:  # the other one's footer, left where it was: a line of its own to clear
            with contextlib.suppress(OSError):
                r.console.file.write("\r\x1b[2K")
        r._print(r._fitted(Text(f"⚠ {note}", style="bold yellow")))
        if start is not None and self.live_wanted:
            self._start_live()

    def abort(self) -> None:
        """Leave now: clear the footer, give the cursor back; draw nothing more."""
        with contextlib.suppress(Exception):  # on the way out, whatever state rich was left in
            self._stop_live()

    def orphaned(self) -> None:
        """The loop's process died (SIGKILL): its shell may be printing by now, so give the
        cursor back (an invisible write) and leave the rest of the screen as it is."""
        if self.live is not None:
            with contextlib.suppress(Exception):
                self.renderer.console.show_cursor(True)

    def _flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            self.renderer._print(Text("\n").join(lines))

    def _write_err(self, text: str) -> None:
        try:  # above the footer when there is one (the Live redirects stderr)
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # our stderr is gone: what was written to it cannot fail the run

    def _start_live(self) -> None:
        if self.live is None:
            self.live = Live(
                self.renderer.footer(),
                console=self.renderer.console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=True,
            )
            self.live.start()

    def _stop_live(self) -> None:
        live, self.live = self.live, None
        if live is not None:
            live.stop()
