"""A run's events fanned out to its sinks: stdout's renderer, the record file, the export.

Every sink gets every event, even after another's reader went away; what stdout's writer and
the record file report (a backlog, a reader gone, a full disk) is told on stderr here, once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ExitCode, OutputClosed, OutputError
from .events import End  # the sink tells the end from every other event, on every call
from .stdio import echo_err

if TYPE_CHECKING:
    from .engine import Engine
    from .events import Event
    from .render.passthrough import Passthrough
    from .render.writer import Writer
    from .runner import RunOptions
    from .schedule import Schedule


@dataclass
class Outputs:
    """Where a run's events go: stdout's renderer first of all, the record file, the export."""

    shown: Callable[[Event], None]
    sinks: list[Callable[[Event], None]]
    record_out: Writer | None = None
    exporter: Any = None


class Fanout:
    """One run with every sink fed every event; what stdout's writer and the record file say
    (a backlog, a reader gone, a full disk) is told here, once."""

    def __init__(self, outputs: Outputs, out: Writer | Passthrough) -> None:
        self.outputs = outputs
        self.sinks = outputs.sinks
        self.out = out
        self.record_sink = self.sinks[0] if outputs.record_out is not None else None
        self.only = self.sinks[0] if len(self.sinks) == 1 else None
        self.closed: set[int] = set()
        self.record_failed: list[OutputError] = []
        self.engine: Engine | None = None
        self.told = False  # the backlog said on stderr: once a run, never a flood

    def deliver(self, event: Event) -> OutputClosed | None:
        """Every part gets every event, even after another part's reader went away: a record
        file must still get the cancellations and the end."""
        gone = None
        closed = self.closed
        for i, each in enumerate(self.sinks):
            if i in closed:
                continue
            try:
                each(event)
            except (OutputClosed, OutputError) as exc:
                gone = self._part_failed(i, each, exc) or gone
        return gone

    def _part_failed(
        self, i: int, each: Callable[[Event], None], exc: OutputClosed | OutputError
    ) -> OutputClosed | None:
        """(``deliver``) Part ``i`` cannot be written: a reader gone (told to the engine once
        every part had the event), or the record file's disk full (said once; stdout goes on,
        and the run exits 74). Any other part's error is the run's."""
        if isinstance(exc, OutputClosed):
            self.closed.add(i)
            return exc
        if each is not self.record_sink:
            raise exc
        self.closed.add(i)
        self.record_failed.append(exc)
        echo_err(f"timerctl: {exc}")
        return None

    def sink(self, event: Event) -> None:
        """The engine's sink: once per event (the hot path: one call's record)."""
        gone = None
        if type(event) is End:
            with self.out.forced():  # the end is never dropped nor held back
                gone = self.deliver(self._final(event))
        elif self.only is not None:  # one renderer
            self.only(event)  # (a closed stdout raises OutputClosed: the engine ends the run)
        elif self.closed:
            gone = self.deliver(event)
        else:  # every part open: deliver's loop, inline
            for i, each in enumerate(self.sinks):
                try:
                    each(event)
                except (OutputClosed, OutputError) as exc:
                    gone = self._part_failed(i, each, exc) or gone
        out = self.out
        if out.notice is not None:  # (an attribute: no call a record)
            gone = self._backlog(out.take_notice()) or gone
        if gone is not None:
            raise gone

    def _final(self, end: End) -> End:
        from dataclasses import replace

        from .render.backlog import Backlog

        if self.out.policy is Backlog.DROP:
            end = replace(end, dropped=self.out.dropped)
        if self.record_failed and end.exit_code in (0, 1):  # the summary says it too
            end = replace(end, exit_code=int(ExitCode.IOERR))
        return end

    def _backlog(self, pending: int | None) -> OutputClosed | None:
        from .events import Backlog as BacklogEvent

        if pending is None:
            return None
        eng = self.engine
        t = eng.time() - eng.t0 if eng is not None else 0.0
        notice = BacklogEvent(t=t, pending=pending, policy=self.out.policy.value)
        if not self.told:
            self.told = True
            echo_err(f"timerctl: {notice.describe()} (--on-backlog {self.out.policy.value})")
        with self.out.forced():
            return self.deliver(notice)

    def end_record_on_abort(self) -> None:
        """A second Ctrl-C exits at once: the record file still gets its end record."""
        if self.record_sink is not None and self.engine is not None and 0 not in self.closed:
            with contextlib.suppress(Exception):
                self.record_sink(self.engine.end_record())

    def bind(self, eng: Engine) -> None:
        self.engine = eng
        eng.add_abort(self.end_record_on_abort)
        self.out.on_closed = eng.output_closed
        self.out.stop_waiting = lambda: eng.signalled
        for each in self.sinks:
            if hasattr(each, "bind_status"):
                each.bind_status(eng.status)
            if hasattr(each, "abort"):  # a display process: stopped by a second Ctrl-C
                eng.add_abort(each.abort)

    def run(self, schedule: Schedule, options: RunOptions, *, virtual: bool) -> End:
        from dataclasses import replace

        from . import engine  # looked up at run time: engine.run is the seam (test_faults)

        interrupted = False
        try:
            end = engine.run(
                schedule, self.sink, options=options, virtual=virtual, on_engine=self.bind
            )
            interrupted = end.reason in ("interrupted", "terminated")
        finally:
            self._close(interrupted)
        if self.record_failed and end.exit_code in (0, 1):
            end = replace(end, exit_code=int(ExitCode.IOERR))
        return end

    def _close(self, interrupted: bool) -> None:
        shown = self.outputs.shown
        if hasattr(shown, "close"):  # a display process, if the run ended without its end
            shown.close()
        # What a slow reader has not taken yet: all of it, unless a signal ended the run
        # (then a reader that does not read must not keep us)
        signalled = interrupted or (self.engine is not None and self.engine.signalled)
        self.out.close(timeout=1.0 if signalled else None)
        record_out = self.outputs.record_out
        if record_out is not None:
            with contextlib.suppress(OSError):
                os.close(record_out.fd)
