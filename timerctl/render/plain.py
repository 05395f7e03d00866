"""Plain text: aligned columns, no colour, one flushed line per record."""

from __future__ import annotations

from typing import IO

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
from . import RenderOptions
from .text import (
    TolerantStream,
    header_lines,
    late_text,
    oneline,
    result_text,
    summary_line,
    write_flushed,
)


class PlainRenderer:
    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.stream = TolerantStream(stream)
        self.options = options
        self.simulated = False

    def _write(self, text: str) -> None:
        write_flushed(self.stream, text)

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallRecord):
            self._write(self.record(event))
        elif isinstance(event, Start):
            self.simulated = event.clock == "virtual"
            self._write("\n".join([*header_lines(event), self.columns()]) + "\n")
        elif isinstance(event, Cancelled | ClockStep | Backlog | Decision):
            self._write(f"# {event.describe()}\n")
        elif isinstance(event, Output):
            self._write(f"{event.describe()}\n")
        elif isinstance(event, End):
            lines = []
            if self.options.summary:
                lines.append(summary_line(event))
            if self.options.lesson:
                lines += [f"# {line}" for line in self.options.lesson.splitlines()]
            if lines:
                self._write("\n".join(lines) + "\n")

    def columns(self) -> str:
        o = self.options
        wall = "wall (simulated)" if self.simulated else "wall"
        return (
            f"{'T':>10}  {'loop':>14}  {wall:<32}  {'late(ms)':>9}  "
            f"{'entry':<{o.name_width}}  {'call':<{o.call_width}}  result"
        )

    def record(self, r: CallRecord) -> str:
        o = self.options
        return (
            f"{r.t:10.6f}  {r.loop_time:14.6f}  {iso(r.wall_time):<32}  {late_text(r.late)}  "
            f"{oneline(r.entry):<{o.name_width}}  {oneline(r.describe()):<{o.call_width}}  "
            f"{result_text(r)}\n"
        )
