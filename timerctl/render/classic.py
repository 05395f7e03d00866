"""The seed program's own output: its framing lines and the line each callback printed."""

from __future__ import annotations

from typing import IO

from ..events import CallRecord, End, Event, Start
from . import RenderOptions
from .text import TolerantStream, result_text, write_flushed


class ClassicRenderer:
    """Prints exactly what the seed's program prints, in its order (only the times differ)."""

    def __init__(self, stream: IO[str], options: RenderOptions) -> None:
        self.stream = TolerantStream(stream)
        self.clock_lines = bool(options.extra.get("clock_lines"))

    def _write(self, text: str) -> None:
        write_flushed(self.stream, text)

    def __call__(self, event: Event) -> None:
        if isinstance(event, Start):
            lines = ["entering event loop"]
            if self.clock_lines:
                lines += [f"clock time: {event.wall_t0}", f"loop time: {event.loop_t0}"]
            self._write("\n".join([*lines, "registering callbacks"]) + "\n")
        elif isinstance(event, CallRecord):
            self._write(result_text(event) + "\n")
        elif isinstance(event, End):
            self._write("closing event loop\n")
