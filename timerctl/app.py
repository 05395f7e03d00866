"""The application: a RunRequest in, an exit code out.

cli.py (and the one-liners of shellcmds.py) only translate options into a ``RunRequest``; this
module checks the outputs, chooses the renderers, runs the engine with them (fanout.py feeds
them) and decides the exit code: the check-jsonschema split of ``cli/main_command.py`` and
``cli/parse_result.py``. Heavy modules (the engine, rich) are imported when a run starts, so
that importing this costs ``--help`` nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

from .errors import ExitCode, OutputError, TimerctlError
from .stdio import echo_err, quiet_stdout

if TYPE_CHECKING:
    from .events import Event
    from .fanout import Outputs
    from .render import RenderOptions
    from .runner import RunOptions
    from .schedule import Schedule

#: makes the renderer of stdout from the stream it is to write to
Screen = Callable[[IO[str]], Callable[["Event"], None]]

#: how wide an --svg/--html export is drawn
EXPORT_WIDTH = 200


class OptionError(TimerctlError):
    """An option's value cannot work (an output that cannot be written): the CLI shows it as
    click's ``Invalid value for '--OPTION'`` usage error, exit 2."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.message = message
        self.option = option


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs, as values: what `run`, `demo` and the one-liners ask for."""

    schedule: Schedule
    fmt: str = "auto"
    clock: str = "real"
    speed: float = 1.0
    loop_impl: str | None = None
    timeout: float | None = None
    fail_fast: bool = False
    seed: int | None = None
    summary: bool = True
    progress: bool = True
    precision: str = "normal"
    record: str | None = None
    svg: str | None = None
    html: str | None = None
    on_backlog: str = "block"
    backlog_limit: int | None = None
    escape_stderr: bool = False
    stream: bool = False
    lesson: str = ""
    #: the renderer of stdout (default: the one ``fmt`` names)
    screen: Screen | None = None
    #: the exit code of a run its ``timeout`` ended (None: as any other end)
    timeout_exit: int | None = None

    @property
    def virtual(self) -> bool:
        return self.clock == "virtual"

    def engine_options(self) -> RunOptions:
        from .runner import RunOptions

        return RunOptions(
            timeout=self.timeout,
            fail_fast=self.fail_fast,
            seed=self.seed,
            speed=self.speed,
            handle_signals=True,
            loop_impl=self.loop_impl or self.schedule.run.loop.value,
            precision=self.precision,
            escape_stderr=self.escape_stderr,
            stream=self.stream,
            timeout_exit=self.timeout_exit,
        )


def load_plugins(modules: Iterable[str]) -> None:
    """``--plugin``: a module on the import path, or in the current folder (or a .py path)."""
    from .registry import REGISTRY

    for module in modules:
        REGISTRY.load_plugin(module, here=os.getcwd())


def live_wanted(no_progress: bool) -> bool:
    """A live footer only when a person watches: stdout and stderr terminals, TERM not dumb,
    and no NO_COLOR (which asks for no colour and no live display)."""
    from .render import is_terminal

    if no_progress or os.environ.get("NO_COLOR"):
        return False
    return is_terminal(sys.stdout) and is_terminal(sys.stderr)


def check_outputs(inputs: Iterable[str], **outputs: str | None) -> None:
    """Refuse, before anything runs, an output that cannot be written or would overwrite an
    input (``--record s.toml`` would replace the schedule)."""
    seen: dict[str, str] = {}
    for path in inputs:
        if os.path.exists(path):
            seen[os.path.realpath(path)] = "the input"
    for option, output in outputs.items():
        if not output:
            continue
        path, flag = output, f"'--{option}'"
        real = os.path.realpath(path)
        if real in seen:
            raise OptionError(f"{path} is {seen[real]}: it would be overwritten", flag)
        seen[real] = f"also the --{option} file"
        _check_writable(path, real, flag)


def _check_writable(path: str, real: str, flag: str) -> None:
    parent = os.path.dirname(real) or "."
    if os.path.isdir(path):
        raise OptionError(f"{path} is a directory", flag)
    if not os.path.isdir(parent):
        raise OptionError(f"cannot write {path}: no such directory", flag)
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise OptionError(f"cannot write {path}: permission denied", flag)


def start_display(fmt: str, clock: str) -> None:
    """A rich run on a terminal is drawn by a process of its own: start it now, so that it
    starts up while the schedule loads."""
    from .render import choose

    if clock == "real" and choose(fmt, sys.stdout) == "rich":
        from .render.live import start_early

        start_early(sys.stdout)


def show_plan(schedule: Schedule, fmt: str, limit: int) -> int:
    """Print the timeline ``schedule`` will follow (`plan`, a one-liner's --plan)."""
    import time

    from .plan import make_plan
    from .render import choose
    from .render.planview import PLAN_RENDERERS

    PLAN_RENDERERS[choose(fmt, sys.stdout)](
        make_plan(schedule, time.time(), limit=limit), sys.stdout
    )
    return ExitCode.OK


def export(renderer: Any, svg: str | None, html: str | None) -> int:
    """Write the --svg/--html files; 74 (said on stderr, naming the file) when one cannot be."""
    try:
        renderer.export(svg, html)
    except OutputError as exc:
        echo_err(f"timerctl: {exc}")
        return ExitCode.IOERR
    return ExitCode.OK


def _failure_notes() -> Callable[[Event], None]:
    """One stderr line per failed call: a run whose stdout goes to a pipe or a file is still
    seen to fail by the person who started it. One line, never the output or a traceback."""
    from .events import CallRecord  # once a run, not once a call: a sink sees every event

    def note(event: Event) -> None:
        if type(event) is CallRecord and event.failed and event.error is not None:
            message = event.error.message.splitlines()[0] if event.error.message else ""
            echo_err(
                f"timerctl: {event.entry} call {event.n} failed: {event.error.type}"
                f"{': ' + message if message else ''}"
            )

    return note


def _render_options(request: RenderRequest, **extra: Any) -> RenderOptions:
    from .render import RenderOptions

    return RenderOptions(
        summary=request.summary,
        name_width=request.name_width,
        call_width=request.call_width,
        lesson=request.lesson,
        extra=extra,
    )


@dataclass(frozen=True)
class RenderRequest:
    """What every renderer of one run shares: the summary, the lesson and column widths."""

    summary: bool
    lesson: str
    name_width: int
    call_width: int

    @classmethod
    def of(cls, request: RunRequest) -> RenderRequest:
        some = request.schedule.calls[:2000]  # column widths: the first calls say enough
        return cls(
            summary=request.summary,
            lesson=request.lesson,
            name_width=min(24, max([5, *(len(c.name) for c in some)])),
            call_width=min(40, max([4, *(len(c.describe()) for c in some)])),
        )


def _outputs(request: RunRequest, stdout: IO[str], real_stdout: IO[str]) -> Outputs:
    """The renderers of a run, in the order they are fed: record file, stdout, stderr notes,
    export."""
    from .fanout import Outputs
    from .render import choose, is_terminal, make
    from .render.writer import open_writer

    look = RenderRequest.of(request)
    shown: Callable[[Event], None]
    if request.screen is None:
        fmt = choose(request.fmt, real_stdout)
        live = live_wanted(not request.progress)
        shown = make(fmt, stdout, _render_options(look, live=live, clock=request.clock))
    else:
        shown = request.screen(stdout)
    outputs = Outputs(shown, [])
    if request.record:
        from .render.jsonl import JsonlRenderer

        try:
            outputs.record_out = open_writer(request.record)
        except OSError as exc:
            raise OptionError(
                f"cannot write {request.record}: {exc.strerror}", "'--record'"
            ) from None
        outputs.sinks.append(
            JsonlRenderer(cast("IO[str]", outputs.record_out), _render_options(look))
        )
    outputs.sinks.append(shown)
    if not is_terminal(real_stdout):
        outputs.sinks.append(_failure_notes())  # a pipe into jq or a file must not hide a failure
    if request.svg or request.html:
        # Its own renderer, never live: an export shows the records and the summary, not the
        # frames of a footer, and is as wide as its lines need.
        import io

        outputs.exporter = make(
            "rich", io.StringIO(), _render_options(look, export=True, width=EXPORT_WIDTH)
        )
        outputs.sinks.append(outputs.exporter)
    return outputs


def run(request: RunRequest) -> int:
    """Run a loaded schedule with the chosen renderers; returns the exit code."""
    from .fanout import Fanout
    from .render.writer import DEFAULT_LIMIT, Backlog, writer_for

    check_outputs(
        [request.schedule.path], record=request.record, svg=request.svg, html=request.html
    )
    # stdout through a writer that never blocks the loop (see render.writer); prints of the
    # callbacks go the same way, in order with the records
    out = writer_for(
        sys.stdout,
        "stdout",
        policy=Backlog(request.on_backlog),
        limit=request.backlog_limit or DEFAULT_LIMIT,
    )
    text_out = cast("IO[str]", out)  # a text stream, as far as renderers and print() go
    real_stdout, sys.stdout = sys.stdout, text_out
    try:
        outputs = _outputs(request, text_out, real_stdout)
        fanout = Fanout(outputs, out)
        end = fanout.run(request.schedule, request.engine_options(), virtual=request.virtual)
    finally:
        sys.stdout = real_stdout
        out.close(timeout=0)  # (done already, unless the run never started)
    code = end.exit_code
    if outputs.exporter is not None:
        code = max(code, export(outputs.exporter, request.svg, request.html))
    if out.closed and end.reason not in ("interrupted", "terminated"):
        code = ExitCode.PIPE  # the reader went away, if only before the end record
    if end.reason == "closed" or out.closed:
        quiet_stdout()
    return code
