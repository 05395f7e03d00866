"""The drawing side of a live rich run: what ``live.LiveRenderer`` hands over, drawn.

It runs in the display process (``drawer.py``), or, as a fallback, on a thread of the loop's
process (``display.InProcessDisplay``); either way with a ``rich.RichRenderer`` to draw with.
"""

from __future__ import annotations

import contextlib
import sys
from types import SimpleNamespace
from typing import IO, Any

from rich.live import Live
from rich.text import Text

from ..errors import OutputClosed
from ..events import Start
from . import RenderOptions
from .rich import RichRenderer
from .samples import END, ERR, EVENT, REC, SKIP, STATUS


class Painter:
    """Draws what a ``live.LiveRenderer`` hands over (lists of messages, ten a second): the
    records, the coalesced counts, the live footer and the end."""

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
                r.print(
                    r.fitted(
                        Text(
                            f"… {message[1]} more calls not drawn "
                            "(too fast to read; --record keeps all)",
                            style="dim",
                        )
                    )
                )
            elif kind == EVENT:
                r.draw(message[1])
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
                r.draw_end(message[1])
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
            r.begin(start)
        if r.fit:  # the other one's footer, left where it was: a line of its own to clear
            with contextlib.suppress(OSError):
                r.console.file.write("\r\x1b[2K")
        r.print(r.fitted(Text(f"⚠ {note}", style="bold yellow")))
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
            self.renderer.print(Text("\n").join(lines))

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
