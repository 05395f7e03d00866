"""The end of a rich run: the summary table, the lateness histogram and the timeline.

Drawn from the ``End`` record and the ``Samples`` kept of every call, so a live run, a run on
the virtual clock, an export and ``report`` (which replays a recording) all end the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..events import End, Start
from .samples import LATE_EDGES, TIMELINE_ROWS, Samples
from .text import ms, oneline

MAX_TIMELINE_ROWS = TIMELINE_ROWS

BUCKETS = tuple(
    zip(LATE_EDGES, ("< 10µs", "< 100µs", "< 1ms", "< 10ms", "< 100ms", ">= 100ms"), strict=True)
)
BARS = " ▁▂▃▄▅▆▇█"  # the timeline's top row: the worst lateness in a column, in eighths
LEGEND = (
    ("●", "green", "on time (< 1 ms)"),
    ("▲", "yellow", "late"),
    ("✖", "bold red", "failed"),
    ("·", "dim", "no call"),
)


def late_style(seconds: float) -> str:
    """The colour of a lateness: the same scale in the records and in the timeline."""
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


@dataclass
class _Grid:
    """The timeline's columns: the worst lateness in each, overall and per shown entry."""

    worst: list[float]
    rows: dict[int, list[float | None]]  # entry index -> per column (None: no call there)
    failed: set[tuple[int, int]] = field(default_factory=set)  # (entry, column)


def _grid(samples: Samples, span: float, width: int, shown: int) -> _Grid:
    grid = _Grid([0.0] * width, {i: [None] * width for i in range(shown)})
    for t, late, idx, failed in samples.points():
        col = min(width - 1, int(t / span * width))
        grid.worst[col] = max(grid.worst[col], late)
        if idx < 0 or idx >= MAX_TIMELINE_ROWS:
            continue
        cell = grid.rows[idx][col]
        grid.rows[idx][col] = late if cell is None else max(cell, late)
        if failed:
            grid.failed.add((idx, col))
    return grid


def _late_row(out: Text, worst: list[float], label_w: int) -> None:
    peak = max(worst)
    top = peak or 1.0
    out.append(f"{'late':>{label_w}} ", style="bold")
    for w in worst:
        level = 0 if w <= 0 else max(1, round(w / top * 8))
        out.append(BARS[level], style=late_style(w))
    out.append(f"  max {ms(peak)}\n")


def _entry_row(out: Text, grid: _Grid, idx: int, label: str) -> None:
    out.append(label, style="bold magenta")
    for col, cell_late in enumerate(grid.rows[idx]):
        if cell_late is None:
            out.append("·", style="dim")
        elif (idx, col) in grid.failed:
            out.append("✖", style="bold red")
        else:
            out.append("●" if cell_late < 0.001 else "▲", style=late_style(cell_late))
    out.append("\n")


def timeline(samples: Samples, duration: float, width: int) -> Text:
    """One row per entry across the run: where calls ran, coloured by how late they were.

    A top row shows the worst lateness in each column as a bar, so bunching after a blocking
    callback, or drift, stands out.
    """
    width = max(10, width)
    span = max(duration, samples.t_max, 1e-9)
    names = list(samples.names)
    label_w = min(16, max(len(n) for n in names)) if names else 4
    shown = names[:MAX_TIMELINE_ROWS]
    grid = _grid(samples, span, width, len(shown))
    out = Text()
    _late_row(out, grid.worst, label_w)
    for idx, name in enumerate(shown):
        _entry_row(out, grid, idx, f"{oneline(name)[:label_w]:>{label_w}} ")
    if len(names) > MAX_TIMELINE_ROWS:
        out.append(
            f"{'':>{label_w}} … {len(names) - MAX_TIMELINE_ROWS} more entries\n", style="dim"
        )
    out.append(
        f"{'':>{label_w}} 0s{'':>{max(0, width - 2 - len(f'{span:.3f}s'))}}{span:.3f}s\n",
        style="dim",
    )
    out.append(f"{'':>{label_w}} ", style="dim")
    for glyph, style, meaning in LEGEND:
        out.append(glyph, style=style)
        out.append(f" {meaning}  ", style="dim")
    return out


def _table(ev: End, start: Start | None) -> Table:
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
    if start is not None:
        precision = f" · precision {start.precision} ({start.selector})" if start.precision else ""
        table.add_row(
            "loop",
            f"{start.loop_impl} · clock {start.clock} · "
            f"resolution {start.clock_resolution:g}s{precision}",
        )
    table.add_row("exit code", str(ev.exit_code))
    return table


def _charts(samples: Samples, duration: float, console_width: int) -> list[Text]:
    bars = Text()
    for i, (label, count, bar) in enumerate(histogram(samples)):
        if i:
            bars.append("\n")
        bars.append(f"{label:>9} {count:>8} ")
        bars.append(bar, style="magenta" if label == "early" else "cyan")
    # room for the entry labels (up to 16) and "  max 123.456ms" after the bars
    width = console_width - 17 - 16
    return [
        Text("lateness", style="bold"),
        bars,
        Text("timeline", style="bold"),
        timeline(samples, duration, min(100, width)),
    ]


def summary(ev: End, start: Start | None, samples: Samples, console_width: int) -> Group:
    """The table of the run's figures, then (if any call ran) its histogram and timeline."""
    parts: list[Any] = [_table(ev, start)]
    if samples.count:
        parts += _charts(samples, ev.duration, console_width)
    return Group(*parts)
