"""Rich: the same records as plain, coloured, and a summary table with a lateness histogram.

Data (entry names, arguments, results) is always passed as ``Text``: never parsed as markup or
emoji codes, so a ``[red]`` in an argument is shown as typed.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import OutputClosed
from ..events import CallRecord, Cancelled, End, Event, Start, iso
from . import RenderOptions
from .text import header_lines, ms, oneline, result_text


def late_style(seconds: float) -> str:
    if seconds < 0.001:
        return "green"
    if seconds < 0.010:
        return "yellow"
    return "bold red"


def histogram(values: tuple[float, ...], width: int = 30) -> list[tuple[str, int, str]]:
    """Lateness in decade buckets (<10µs, <100µs, ...): label, count, bar."""
    edges = [(1e-5, "< 10µs"), (1e-4, "< 100µs"), (1e-3, "< 1ms"), (1e-2, "< 10ms"),
             (1e-1, "< 100ms"), (float("inf"), ">= 100ms")]
    counts = [0] * len(edges)
    for v in values:
        for i, (edge, _) in enumerate(edges):
            if v < edge:
                counts[i] += 1
                break
    top = max(counts) or 1
    return [(label, c, "█" * max(1 if c else 0, round(c / top * width)))
            for (_, label), c in zip(edges, counts, strict=True)]


class RichRenderer:
    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.options = options
        self.console = Console(
            file=stream, markup=False, highlight=False, emoji=False, soft_wrap=True
        )
        self.simulated = False

    def _print(self, *renderables: object) -> None:
        try:
            self.console.print(*renderables)
        except BrokenPipeError:
            raise OutputClosed("stdout closed") from None

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallRecord):
            self._print(self.record(event))
        elif isinstance(event, Start):
            self.simulated = event.clock == "virtual"
            for line in header_lines(event):
                self._print(Text(line, style="bold"))
        elif isinstance(event, Cancelled):
            self._print(Text(f"✂ {event.describe()}", style="yellow"))
        elif isinstance(event, End):
            if self.options.summary:
                self._print(self.summary(event))
            if self.options.lesson:
                self._print(Text(self.options.lesson, style="italic"))

    def record(self, r: CallRecord) -> Text:
        o = self.options
        text = Text()
        text.append(f"{r.t:10.6f} ", style="bold")
        text.append(f"{r.loop_time:14.6f} ", style="cyan")
        text.append(f"{iso(r.wall_time)}{'~' if self.simulated else ''} ", style="blue")
        text.append(f"{r.late * 1e3:+9.3f}ms ", style=late_style(r.late))
        text.append(f"{oneline(r.entry):<{o.name_width}} ", style="bold magenta")
        text.append(f"{oneline(r.describe()):<{o.call_width}} ")
        style = "bold red" if r.failed else "yellow" if r.cancelled else "green"
        text.append(result_text(r), style=style)
        return text

    def summary(self, ev: End) -> Table:
        table = Table(title=f"run {ev.reason}", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        table.add_row("calls", str(ev.calls))
        table.add_row("failed", Text(str(ev.failed), style="bold red" if ev.failed else "green"))
        table.add_row("cancelled", str(ev.cancelled))
        table.add_row("duration", f"{ev.duration:.3f}s")
        table.add_row("late p50 / p99 / max",
                      f"{ms(ev.late_p50)} / {ms(ev.late_p99)} / {ms(ev.late_max)}")
        if ev.lateness:
            bars = Text()
            for i, (label, count, bar) in enumerate(histogram(ev.lateness)):
                if i:
                    bars.append("\n")
                bars.append(f"{label:>9} {count:>6} ")
                bars.append(bar, style="cyan")
            table.add_row("lateness", bars)
        table.add_row("exit code", str(ev.exit_code))
        return table
