"""Rich: coloured records, a live footer on a terminal, and a summary people read at a glance.

Data (entry names, arguments, results) is always passed as ``Text``: never parsed as markup or
emoji codes, so a ``[red]`` in an argument is shown as typed.

On a terminal the loop thread only appends events to a queue; a drawing thread prints them above
a live footer ten times a second. A rich print costs ~160 µs, so drawing on the loop thread
would itself make calls late; and past what a person can read (``MAX_LINES_PER_TICK``), records
are coalesced into one line that says how many were skipped (``--record`` keeps them all).
"""

from __future__ import annotations

import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..errors import OutputClosed
from ..events import CallRecord, Cancelled, ClockStep, End, Event, Start, iso
from . import RenderOptions, is_terminal
from .text import TolerantStream, header_lines, ms, oneline, result_text

TICK = 0.1  # seconds between two redraws of the live view
MAX_LINES_PER_TICK = 20  # records shown per redraw (200 a second: more than anyone reads)
MAX_TIMELINE_ROWS = 12
RESULT_ROOM = 36  # columns a record keeps for its result on a narrow terminal
SWITCH_INTERVAL = 0.0002  # seconds a drawing thread may hold the GIL while the loop waits
BUSY = 0.005  # a call due sooner than this: the loop is busy, drawing waits (up to a second)

BUCKETS = ((1e-5, "< 10µs"), (1e-4, "< 100µs"), (1e-3, "< 1ms"), (1e-2, "< 10ms"),
           (1e-1, "< 100ms"), (float("inf"), ">= 100ms"))


def late_style(seconds: float) -> str:
    if seconds < 0:
        return "bold magenta"  # early: a loop that rounds its clock (uvloop) fires before due
    if seconds < 0.001:
        return "green"
    if seconds < 0.010:
        return "yellow"
    return "bold red"


def histogram(values: Any, width: int = 30) -> list[tuple[str, int, str]]:
    """Lateness in decade buckets (<10µs, <100µs, ...): label, count, bar."""
    counts = [0] * len(BUCKETS)
    early = 0
    for v in values:
        if v < 0:
            early += 1
            continue
        for i, (edge, _) in enumerate(BUCKETS):
            if v < edge:
                counts[i] += 1
                break
    rows = [("early", early)] if early else []
    rows += [(label, c) for (_, label), c in zip(BUCKETS, counts, strict=True)]
    top = max(c for _, c in rows) or 1
    return [(label, c, "█" * (max(1, round(c / top * width)) if c else 0)) for label, c in rows]


class _Samples:
    """What the summary needs of every call, kept compact (a million calls ≈ 20 MB)."""

    def __init__(self) -> None:
        self.t = array("d")
        self.late = array("d")
        self.entry = array("i")
        self.failed: set[int] = set()
        self.names: dict[str, int] = {}

    def add(self, r: CallRecord) -> None:
        idx = self.names.setdefault(r.entry, len(self.names))
        if r.failed:
            self.failed.add(len(self.t))
        self.t.append(r.t)
        self.late.append(r.late)
        self.entry.append(idx)


def timeline(samples: _Samples, duration: float, width: int) -> Text:
    """One row per entry across the run: where calls ran, coloured by how late they were.

    A top row shows the worst lateness in each column as a bar, so bunching after a blocking
    callback, or drift, stands out.
    """
    width = max(10, width)
    span = max(duration, max(samples.t, default=0.0), 1e-9)
    names = list(samples.names)
    label_w = min(16, max(len(n) for n in names)) if names else 4
    worst = [0.0] * width
    rows: dict[int, list[float | None]] = {i: [None] * width for i in range(len(names))}
    failed_cells: set[tuple[int, int]] = set()
    for k, (t, late, idx) in enumerate(zip(samples.t, samples.late, samples.entry, strict=True)):
        col = min(width - 1, int(t / span * width))
        worst[col] = max(worst[col], late)
        cell = rows[idx][col]
        rows[idx][col] = late if cell is None else max(cell, late)
        if k in samples.failed:
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
        for col, late in enumerate(rows[idx]):
            if late is None:
                out.append("·", style="dim")
            elif (idx, col) in failed_cells:
                out.append("✖", style="bold red")
            else:
                out.append("●" if late < 0.001 else "▲", style=late_style(late))
        out.append("\n")
    if len(names) > MAX_TIMELINE_ROWS:
        out.append(f"{'':>{label_w}} … {len(names) - MAX_TIMELINE_ROWS} more entries\n",
                   style="dim")
    out.append(f"{'':>{label_w}} 0s{'':>{max(0, width - 2 - len(f'{span:.3f}s'))}}{span:.3f}s\n",
               style="dim")
    out.append(f"{'':>{label_w}} ", style="dim")
    for glyph, style, meaning in (("●", "green", "on time (< 1 ms)"), ("▲", "yellow", "late"),
                                  ("✖", "bold red", "failed"), ("·", "dim", "no call")):
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
    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.options = options
        export = bool(options.extra.get("export"))
        self.console = _Console(
            file=TolerantStream(stream), markup=False, highlight=False, emoji=False,
            # on screen a long record runs on (the terminal wraps it, --record keeps it); in an
            # export it wraps at the export's width rather than being cut off
            soft_wrap=not export, record=export, width=options.extra.get("width"),
        )
        # On a terminal a record is one line that fits: narrower terminals drop the loop
        # column, then shorten the wall clock, then cut the line with an ellipsis.
        self.fit = is_terminal(stream) and not export  # a real one: FORCE_COLOR is no terminal
        # no colour to draw (a pipe, a file, NO_COLOR): a record is its text, written directly
        self.plain_records = self.console.color_system is None and not export
        self.show_loop = self.full_wall = self.show_wall = True
        self.call_w = options.call_width
        self.simulated = False
        self.start: Start | None = None
        self.samples = _Samples()
        self.show_records = options.extra.get("show_records", True)
        # The live view: only on a terminal, only when asked for (see cli.live_wanted).
        self.live_wanted = bool(options.extra.get("live"))
        self.status: Callable[[], Any] | None = None
        self._queue: deque[Event] = deque()
        self._live: Live | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._coalesced = 0
        self._gone: OutputClosed | None = None
        self._switch: float | None = None

    # -- the sink
    def bind_status(self, status: Callable[[], Any]) -> None:
        """Give the live footer a way to ask the engine where the run stands."""
        self.status = status

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallRecord):
            self.samples.add(event)
        if self._thread is not None:
            if self._gone is not None:  # the drawing thread found the reader gone
                raise self._gone
            self._queue.append(event)
            if isinstance(event, End):
                self._stop_drawing()
                self._draw_end(event)
            return
        if isinstance(event, Start) and event.clock == "real" and self.fit:
            # On a terminal a real run is drawn by a thread of its own: a rich print costs
            # ~160 µs, and on the loop thread it would make calls late; past what a person can
            # read, records are coalesced. Into a pipe or a file every record is written, on
            # the loop thread, as plain text where there is no colour to draw (a fast write).
            self._draw(event)
            self._start_drawing(live=self.live_wanted)
            return
        if isinstance(event, End):
            self._draw_end(event)
            return
        self._draw(event)

    # -- drawing
    def _print(self, *renderables: object) -> None:
        try:
            self.console.print(*renderables)  # a Live draws its footer below what is printed
        except BrokenPipeError:
            raise OutputClosed("stdout closed") from None

    def _draw(self, event: Event) -> None:
        if isinstance(event, CallRecord):
            if not self.show_records:
                return
            if self.plain_records:
                try:
                    self.console.file.write(self.record(event).plain + "\n")
                    self.console.file.flush()
                except BrokenPipeError:
                    raise OutputClosed("stdout closed") from None
            else:
                self._print(self.record(event))
        elif isinstance(event, Start):
            self.start = event
            self.simulated = event.clock == "virtual"
            self._layout()
            if self.show_records:
                for line in header_lines(event):
                    self._print(self._fitted(Text(line, style="bold")))
                self._print(self.columns())
        elif isinstance(event, Cancelled) and self.show_records:
            self._print(self._fitted(Text(f"✂ {event.describe()}", style="yellow")))
        elif isinstance(event, ClockStep):
            self._print(Text(f"⚠ {event.describe()}", style="bold yellow"))

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
        o = self.options
        text = Text()
        text.append(f"{r.t:10.6f} ", style="bold")
        if self.show_loop:
            text.append(f"{r.loop_time:14.6f} ", style="cyan")
        if self.show_wall:
            wall = iso(r.wall_time)
            if not self.full_wall:
                wall = wall[11:26]  # HH:MM:SS.ffffff
            text.append(f"{wall}{'~' if self.simulated else ' '} ", style="blue")
        text.append(f"{r.late * 1e3:+9.3f}ms ", style=late_style(r.late))
        text.append(f"{oneline(r.entry):<{o.name_width}} ", style="bold magenta")
        call = oneline(r.describe())
        if self.fit and len(call) > self.call_w:  # on a terminal only: a file keeps it all
            call = call[: self.call_w - 1] + "…"
        text.append(f"{call:<{self.call_w}} ")
        style = "bold red" if r.failed or r.cancelled else "green"
        text.append(result_text(r), style=style)
        return self._fitted(text)

    # -- the live view
    def _start_drawing(self, *, live: bool) -> None:
        if live:
            self._live = Live(self.footer(), console=self.console, auto_refresh=False,
                              transient=True, redirect_stdout=False, redirect_stderr=True)
            self._live.start()
        # Hand the GIL back to the loop thread within 0.2 ms, not CPython's default 5 ms:
        # drawing must not hold a due call back.
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch, SWITCH_INTERVAL))
        self._thread = threading.Thread(target=self._run_drawing, name="timerctl-draw",
                                        daemon=True)
        self._thread.start()

    def _run_drawing(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(TICK):
            # Drawing holds the GIL the loop needs: when a call is about due (a busy run), draw
            # once a second only; when the loop is idle, every tick.
            status = self.status() if self.status is not None else None
            busy = status is not None and status.next_in is not None and status.next_in < BUSY
            if busy and time.monotonic() - last < 1.0:
                continue
            last = time.monotonic()
            try:
                self._drain()
                if self._live is not None:
                    self._live.update(self.footer(), refresh=True)
            except (BrokenPipeError, OutputClosed):
                self._gone = OutputClosed("stdout closed")
                return

    def _drain(self) -> None:
        """Draw what the loop queued since the last tick: records in one batch (one print, not
        one per line: each print holds the GIL the loop needs), at most MAX_LINES_PER_TICK."""
        batch: list[Text] = []
        while self._queue:
            event = self._queue.popleft()
            if isinstance(event, End):
                continue
            if isinstance(event, CallRecord):
                if len(batch) >= MAX_LINES_PER_TICK:
                    self._coalesced += 1
                elif self.show_records:
                    batch.append(self.record(event))
                continue
            self._flush_batch(batch)
            self._say_coalesced()  # before what came after the skipped records
            self._draw(event)
        self._flush_batch(batch)
        self._say_coalesced()

    def _flush_batch(self, batch: list[Text]) -> None:
        if batch:
            self._print(Text("\n").join(batch))
            batch.clear()

    def _say_coalesced(self) -> None:
        if self._coalesced:
            self._print(self._fitted(Text(
                f"… {self._coalesced} more calls not drawn (too fast to read; --record keeps all)",
                style="dim")))
            self._coalesced = 0

    def _stop_drawing(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        if self._switch is not None:
            sys.setswitchinterval(self._switch)
        if self._gone is not None:
            raise self._gone
        self._drain()
        live, self._live = self._live, None
        if live is not None:
            live.stop()

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
        table.add_row("late p50 / p90 / p99",
                      f"{ms(ev.late_p50)} / {ms(ev.late_p90)} / {ms(ev.late_p99)}")
        table.add_row("late max", ms(ev.late_max))
        table.add_row("early", Text(str(ev.early), style="bold magenta" if ev.early else ""))
        if ev.clock_steps:
            table.add_row("clock steps", Text(f"{ev.clock_steps} (wall clock jumped; see above)",
                                              style="bold yellow"))
        if self.start is not None:
            precision = (f" · precision {self.start.precision} ({self.start.selector})"
                         if self.start.precision else "")
            table.add_row("loop", f"{self.start.loop_impl} · clock {self.start.clock} · "
                                  f"resolution {self.start.clock_resolution:g}s{precision}")
        table.add_row("exit code", str(ev.exit_code))
        parts: list[Any] = [table]
        if len(self.samples.late):
            bars = Text()
            for i, (label, count, bar) in enumerate(histogram(self.samples.late)):
                if i:
                    bars.append("\n")
                bars.append(f"{label:>9} {count:>8} ")
                bars.append(bar, style="magenta" if label == "early" else "cyan")
            parts += [Text("lateness", style="bold"), bars]
            # room for the entry labels (up to 16) and "  max 123.456ms" after the bars
            width = self.console.width - 17 - 16
            parts += [Text("timeline", style="bold"),
                      timeline(self.samples, ev.duration, min(100, width))]
        return Group(*parts)

    # -- export
    def export(self, svg: str | None, html: str | None) -> None:
        """Save what was drawn (needs ``extra['export']``: the console recorded it)."""
        if svg:
            self.console.save_svg(svg, title="timerctl", clear=False)  # html may follow
        if html:
            self.console.save_html(html, clear=False)
