"""The command line: parse options, wire loader -> engine -> renderer, map errors to exit codes.

Heavy modules (asyncio, tomllib, rich) are imported inside the commands that need them, so that
``--help`` and ``--version`` answer fast.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, NoReturn, cast

import click

from .errors import (
    ExitCode,
    OutputClosed,
    OutputError,
    Problem,
    ScheduleError,
    TimerctlError,
)
from .render import FORMATS
from .safe import escape

if TYPE_CHECKING:
    from .engine import RunOptions
    from .events import End, Event
    from .render.writer import Passthrough, Writer
    from .schedule import Schedule

EXAMPLES = """\b
Examples (examples.toml is in the source tree; every demo prints its own schedule):
  timerctl every 500ms -- date +%T              # a command on a drift-free beat
  timerctl after 90s -- notify-send tea         # once, later; also: at 14:30, cron "*/5 * * * *"
  timerctl run examples.toml                    # records as they happen
  timerctl run examples.toml --format jsonl | jq -c .
  timerctl run examples.toml --clock virtual    # instant, exact, deterministic
  timerctl check examples.toml                  # validate only; nothing runs
  timerctl plan examples.toml                   # the timeline, without running
  timerctl demo call-later --classic            # the seed program's own output
  timerctl demo drift --show | timerctl run -   # a schedule from stdin
  timerctl callbacks                            # what a schedule can call
"""


def _die(exc: TimerctlError) -> NoReturn:
    """Report a user-facing error on stderr and exit with its code: never a traceback."""
    if isinstance(exc, OutputClosed):  # the reader went away: nothing to tell anyone
        _quiet_stdout()
        sys.exit(exc.exit_code)
    if isinstance(exc, ScheduleError):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
    click.echo(escape(f"timerctl: {exc}") if not isinstance(exc, ScheduleError) else str(exc),
               err=True)
    sys.exit(exc.exit_code)


def _quiet_stdout() -> None:
    """After the reader closed our stdout, point it at /dev/null so exit flushes stay silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _load_plugins(modules: Iterable[str]) -> None:
    """``--plugin``: a module on the import path, or in the current folder (or a .py path)."""
    from .registry import REGISTRY

    for module in modules:
        REGISTRY.load_plugin(module, here=os.getcwd())


#: errors of a stdout that cannot take more (a full disk, a quota, an I/O error)
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


#: the one-liners (shellcmds.py), added to the group when first named or listed: building their
#: five commands costs a few ms of start-up that `run` and `check` need not pay
ONE_LINER_NAMES = ("every", "after", "at", "cron", "calendar")


class _Group(click.Group):
    """Maps errors that escape a command: user errors to their codes, bugs to one line."""

    def _one_liners(self) -> None:
        if ONE_LINER_NAMES[0] not in self.commands:
            from .shellcmds import ONE_LINERS  # it uses run_options and execute below

            for command in ONE_LINERS:
                self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in ONE_LINER_NAMES:
            self._one_liners()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._one_liners()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            code = super().invoke(ctx)
        except TimerctlError as exc:
            _die(exc)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt as exc:  # a signal before the run's own handling (signals.py)
            from .signals import code_of

            code, reason = code_of(exc)
            click.echo(f"timerctl: {reason}", err=True)
            sys.exit(code)
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(ExitCode.PIPE)
        except OSError as exc:
            if exc.errno not in _FULL:
                raise
            from .render.writer import output_error

            _die(output_error(exc))
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(
                f"timerctl: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback)",
                err=True,
            )
            sys.exit(ExitCode.SOFTWARE)
        # A command returns its exit code (None: 0); click's main returns it, or exits with it
        # in standalone mode (CliRunner).
        ctx.exit(int(code) if isinstance(code, int) else ExitCode.OK)


@click.group(cls=_Group, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="timerctl", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Schedule calls at precise moments on an asyncio event loop.

    A schedule file (TOML) lists [[call]] entries: soon, later = SECONDS or at = TIME, each
    naming a registered callback. `run` loads them onto an event loop (call_soon, call_later,
    call_at) and streams one record per invocation: the loop clock next to the wall clock, and
    how late each call fired.
    """
    ctx.obj = {"debug": debug}


# -- shared options ------------------------------------------------------------------------------

if TYPE_CHECKING:
    _ParamType = click.ParamType[float]
else:
    _ParamType = click.ParamType  # generic only to a type checker in recent click


class Duration(_ParamType):
    """A number of seconds, or a duration text: ``5``, ``1.5``, ``500ms``, ``1m30s``."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        from .durations import parse_duration

        if isinstance(value, float):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION: Duration = Duration()

#: what a file argument completes to (the README's completion line no longer turns it off)
FILE = click.Path(allow_dash=True)  # completes files; the loader says what a folder is
OUT_FILE = click.Path(dir_okay=False)


def _positive_finite(_ctx: click.Context, param: click.Parameter, value: float | None) -> Any:
    import math

    if value is not None and (not math.isfinite(value) or value <= 0):
        raise click.BadParameter("must be a finite number > 0", param=param)
    return value


def _mib(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    return None if value is None else value * 1024 * 1024


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `run` and `demo`."""
    decorators = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto",
                     show_default=True, help="Output format (auto: rich on a terminal, plain "
                     "otherwise)."),
        click.option("--clock", type=click.Choice(["real", "virtual"]), default="real",
                     show_default=True, help="virtual: time jumps to the next timer; instant and "
                     "deterministic."),
        click.option("--speed", type=float, default=1.0, show_default=True,
                     callback=_positive_finite,
                     help="Time scale: 2 runs every delay twice as fast."),
        click.option("--loop", "loop_impl", type=click.Choice(["asyncio", "uvloop"]),
                     default=None, help="Event loop implementation [default: the schedule's "
                     "[run] loop, else asyncio]."),
        click.option("--precision", type=click.Choice(["normal", "high"]), default="normal",
                     show_default=True, help="normal: µs waits at ~4% CPU; high: spin the last "
                     "2 ms before each timer (µs-exact, a busy core). Real asyncio loop only."),
        click.option("--timeout", type=DURATION, default=None, callback=_positive_finite,
                     metavar="DURATION", help="Stop after DURATION of loop time (seconds, or "
                     "500ms, 1m30s...; exit 0 unless a call failed)."),
        click.option("--fail-fast", is_flag=True, help="Stop at the first failed call."),
        click.option("--seed", type=int, default=None, help="Seed for jitter: reproducible runs."),
        click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
                     help="Import MODULE to register its callbacks (repeatable)."),
        click.option("--no-summary", is_flag=True, help="Omit the summary at the end."),
        click.option("--escape-stderr", is_flag=True, envvar="TIMERCTL_ESCAPE_STDERR",
                     help="Show exec children's stderr with terminal controls escaped "
                     "(default: passed through verbatim). Also TIMERCTL_ESCAPE_STDERR=1."),
        click.option("--no-progress", is_flag=True,
                     help="No live footer (it is shown only when stdout and stderr are a "
                     "terminal)."),
        click.option("--on-backlog", type=click.Choice(["block", "drop"]), default="block",
                     show_default=True, help="When stdout's reader falls --backlog-limit "
                     "behind: block (calls wait for it, nothing is lost) or drop records "
                     "(counted; --record keeps all)."),
        click.option("--backlog-limit", type=click.IntRange(min=1), default=None,
                     metavar="MIB", callback=_mib, help="MiB of output a slow reader may fall "
                     "behind before --on-backlog applies [default: 16]."),
        click.option("--stream", is_flag=True, help="Show each line an exec prints as it "
                     "comes, before its record."),
        click.option("--record", type=OUT_FILE, default=None,
                     metavar="FILE", help="Also write the JSON Lines records to FILE."),
        click.option("--svg", type=OUT_FILE, default=None, metavar="FILE",
                     help="Export the rich view of the run (records, summary, charts) as SVG."),
        click.option("--html", type=OUT_FILE, default=None, metavar="FILE",
                     help="Export the rich view of the run as HTML."),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


EXPORT_WIDTH = 200


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
    for option, path in outputs.items():
        if not path:
            continue
        flag = f"'--{option}'"
        real = os.path.realpath(path)
        if real in seen:
            raise click.BadParameter(f"{path} is {seen[real]}: it would be overwritten",
                                     param_hint=flag)
        seen[real] = f"also the --{option} file"
        parent = os.path.dirname(real) or "."
        if os.path.isdir(path):
            raise click.BadParameter(f"{path} is a directory", param_hint=flag)
        if not os.path.isdir(parent):
            raise click.BadParameter(f"cannot write {path}: no such directory",
                                     param_hint=flag)
        if not os.access(parent, os.W_OK) or (os.path.exists(path)
                                              and not os.access(path, os.W_OK)):
            raise click.BadParameter(f"cannot write {path}: permission denied", param_hint=flag)


def execute(
    schedule: Schedule,
    *,
    fmt: str,
    clock: str,
    speed: float,
    loop_impl: str | None,
    timeout: float | None,
    fail_fast: bool,
    seed: int | None,
    no_summary: bool,
    no_progress: bool,
    precision: str,
    record: str | None,
    svg: str | None,
    html: str | None,
    on_backlog: str = "block",
    backlog_limit: int | None = None,
    escape_stderr: bool = False,
    stream: bool = False,
    lesson: str = "",
    screen: Callable[[IO[str]], Callable[[Event], None]] | None = None,
    timeout_exit: int | None = None,
) -> int:
    """Run a loaded schedule with the chosen renderer; returns the exit code.

    ``screen`` makes the renderer of stdout from the stream it is to write to (default: the
    one ``fmt`` names)."""
    from . import engine
    from .render import RenderOptions, choose, is_terminal, make
    from .render.writer import DEFAULT_LIMIT, Backlog, open_writer, writer_for

    some = schedule.calls[:2000]  # column widths: the first calls say enough, and are cheap
    names = [c.name for c in some]
    calls = [c.describe() for c in some]
    fmt = choose(fmt, sys.stdout)
    export = bool(svg or html)

    def options(**extra: Any) -> RenderOptions:
        return RenderOptions(
            summary=not no_summary,
            name_width=min(24, max([5, *map(len, names)])),
            call_width=min(40, max([4, *map(len, calls)])),
            lesson=lesson,
            extra=extra,
        )

    check_outputs([schedule.path], record=record, svg=svg, html=html)
    # stdout through a writer that never blocks the loop (see render.writer); prints of the
    # callbacks go the same way, in order with the records
    out = writer_for(sys.stdout, "stdout", policy=Backlog(on_backlog),
                     limit=backlog_limit or DEFAULT_LIMIT)
    text_out = cast("IO[str]", out)  # a text stream, as far as renderers and print() go
    real_stdout, sys.stdout = sys.stdout, text_out
    try:
        shown: Callable[[Event], None]
        if screen is None:
            shown = make(fmt, text_out, options(live=live_wanted(no_progress), clock=clock))
        else:
            shown = screen(text_out)
        sinks: list[Callable[[Event], None]] = []
        record_out = None
        if record:
            from .render.jsonl import JsonlRenderer

            try:
                record_out = open_writer(record)
            except OSError as exc:
                raise click.BadParameter(f"cannot write {record}: {exc.strerror}",
                                         param_hint="'--record'") from None
            sinks.append(JsonlRenderer(cast("IO[str]", record_out), options()))
        sinks.append(shown)
        if not is_terminal(real_stdout):
            sinks.append(_note_failures)  # a pipe into jq or a file must not hide a failure
        exporter = None
        if export:
            # Its own renderer, never live: an export shows the records and the summary, not
            # the frames of a footer, and is as wide as its lines need.
            import io

            exporter = make("rich", io.StringIO(), options(export=True, width=EXPORT_WIDTH))
            sinks.append(exporter)
        end = _run(schedule, sinks, shown, out, record_out, engine.RunOptions(
            timeout=timeout,
            fail_fast=fail_fast,
            seed=seed,
            speed=speed,
            handle_signals=True,
            loop_impl=loop_impl or schedule.run.loop.value,
            precision=precision,
            escape_stderr=escape_stderr,
            stream=stream,
            timeout_exit=timeout_exit,
        ), virtual=clock == "virtual")
    finally:
        sys.stdout = real_stdout
        out.close(timeout=0)  # (done already, unless the run never started)
    code = end.exit_code
    if exporter is not None:
        code = max(code, _export(exporter, svg, html))
    if out.closed and end.reason not in ("interrupted", "terminated"):
        code = ExitCode.PIPE  # the reader went away, if only before the end record
    if end.reason == "closed" or out.closed:
        _quiet_stdout()
    return code


def _run(schedule: Schedule, sinks: list[Callable[[Event], None]], shown: Any,
         out: Writer | Passthrough, record_out: Writer | None, run_opts: RunOptions, *,
         virtual: bool) -> End:
    """Run with every sink fed every event; what stdout's writer and the record file say
    (a backlog, a reader gone, a full disk) is told here, once."""
    from dataclasses import replace

    from . import engine
    from .errors import OutputError
    from .events import Backlog as BacklogEvent
    from .events import End
    from .render.writer import Backlog

    record_sink = sinks[0] if record_out is not None else None
    closed: set[int] = set()
    record_failed: list[OutputError] = []
    eng_ref: list[engine.Engine] = []
    told: list[BacklogEvent] = []  # the backlog said on stderr: once a run, never a flood

    def deliver(event: Event) -> OutputClosed | None:
        # Every part gets every event, even after another part's reader went away: a record
        # file must still get the cancellations and the end.
        gone = None
        for i, each in enumerate(sinks):
            if i in closed:
                continue
            try:
                each(event)
            except OutputClosed as exc:
                closed.add(i)
                gone = exc
            except OutputError as exc:
                if each is not record_sink:
                    raise
                # A full disk under --record: said once, and stdout goes on (exit 74 at the end)
                closed.add(i)
                record_failed.append(exc)
                click.echo(f"timerctl: {exc}", err=True)
        return gone

    only = sinks[0] if len(sinks) == 1 else None

    def sink(event: Event) -> None:
        gone = None
        if only is not None and type(event) is not End:  # the hot path: one renderer
            only(event)  # (a closed stdout raises OutputClosed: the engine ends the run)
        elif type(event) is End:
            if out.policy is Backlog.DROP:
                event = replace(event, dropped=out.dropped)
            if record_failed and event.exit_code in (0, 1):  # the summary says it too
                event = replace(event, exit_code=int(ExitCode.IOERR))
            with out.forced():  # the end is never dropped nor held back
                gone = deliver(event)
        else:
            gone = deliver(event)
        pending = out.take_notice()
        if pending is not None:
            t = eng_ref[0].time() - eng_ref[0].t0 if eng_ref else 0.0
            notice = BacklogEvent(t=t, pending=pending, policy=out.policy.value)
            if not told:
                told.append(notice)
                click.echo(f"timerctl: {notice.describe()} (--on-backlog "
                           f"{out.policy.value})", err=True)
            with out.forced():
                gone = deliver(notice) or gone
        if gone is not None:
            raise gone

    def end_record_on_abort() -> None:
        # A second Ctrl-C exits at once: the record file still gets its end record.
        if record_sink is not None and eng_ref and 0 not in closed:
            with contextlib.suppress(Exception):
                record_sink(eng_ref[0].end_record())

    def bind(eng: engine.Engine) -> None:
        eng_ref.append(eng)
        eng.add_abort(end_record_on_abort)
        out.on_closed = eng.output_closed
        out.stop_waiting = lambda: eng.signalled
        for each in sinks:
            if hasattr(each, "bind_status"):
                each.bind_status(eng.status)
            if hasattr(each, "abort"):  # a display process: stopped by a second Ctrl-C
                eng.add_abort(each.abort)

    interrupted = False
    try:
        end = engine.run(schedule, sink, options=run_opts, virtual=virtual, on_engine=bind)
        interrupted = end.reason in ("interrupted", "terminated")
    finally:
        if hasattr(shown, "close"):  # a display process, if the run ended without its end
            shown.close()
        # What a slow reader has not taken yet: all of it, unless a signal ended the run
        # (then a reader that does not read must not keep us)
        out.close(timeout=1.0 if interrupted or (eng_ref and eng_ref[0].signalled) else None)
        if record_out is not None:
            with contextlib.suppress(OSError):
                os.close(record_out.fd)
    if record_failed and end.exit_code in (0, 1):
        end = replace(end, exit_code=int(ExitCode.IOERR))
    return end


def _note_failures(event: Event) -> None:
    """One stderr line per failed call: a run whose stdout goes to a pipe or a file is still
    seen to fail by the person who started it. One line, never the output or a traceback."""
    from .events import CallRecord

    if isinstance(event, CallRecord) and event.failed and event.error is not None:
        message = event.error.message.splitlines()[0] if event.error.message else ""
        click.echo(f"timerctl: {event.entry} call {event.n} failed: {event.error.type}"
                   f"{': ' + message if message else ''}", err=True)


def _export(renderer: Any, svg: str | None, html: str | None) -> int:
    """Write the --svg/--html files; 74 (said on stderr, naming the file) when one cannot be."""
    try:
        renderer.export(svg, html)
    except OutputError as exc:
        click.echo(f"timerctl: {exc}", err=True)
        return ExitCode.IOERR
    return ExitCode.OK


def start_display(fmt: str, clock: str) -> None:
    """A rich run on a terminal is drawn by a process of its own: start it now, so that it
    starts up while the schedule loads."""
    from .render import choose

    if clock == "real" and choose(fmt, sys.stdout) == "rich":
        from .render.live import start_early

        start_early(sys.stdout)


def load_schedule(path: str, plugins: Iterable[str], *, inspect_only: bool = False) -> Schedule:
    """Load a schedule after the user's ``--plugin`` modules. ``inspect_only`` (check, plan):
    the plugins the schedule itself names are read, not imported (SPEC §6)."""
    from .load import load

    _load_plugins(plugins)
    if not inspect_only:
        return load(path)
    from .registry import REGISTRY

    with REGISTRY.reading_plugins():
        return load(path)


# -- commands ------------------------------------------------------------------------------------

@cli.command(epilog="""\b
Examples:
  timerctl run examples.toml
  timerctl run s.toml --format jsonl | jq -r 'select(.event=="call") | .late'
  timerctl run s.toml --clock virtual --no-summary
  timerctl run s.toml --timeout 10 --record run.jsonl
  cat s.toml | timerctl run -
""")
@click.argument("schedule", type=FILE)
@run_options
def run(schedule: str, plugins: tuple[str, ...], **kw: Any) -> int:
    """Run SCHEDULE (a TOML file, - for stdin) and stream one record per call.

    Exit status: 0 every call succeeded, 1 a callback failed, 2 invalid schedule or usage,
    130 interrupted, 143 terminated (128+N for SIGHUP, SIGQUIT...), 141 stdout closed.
    """
    start_display(kw["fmt"], kw["clock"])
    loaded = load_schedule(schedule, plugins)
    return execute(loaded, **kw)


@cli.command(epilog="""\b
Examples:
  timerctl check s.toml
  timerctl check schedules/*.toml && echo all valid
""")
@click.argument("schedules", nargs=-1, required=True, type=FILE)
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Import MODULE to register its callbacks (repeatable).")
def check(schedules: tuple[str, ...], plugins: tuple[str, ...]) -> int:
    """Validate SCHEDULES without running anything.

    Every problem of every file is reported as FILE:LINE:COL: error: MESSAGE on stderr.
    Exit status: 0 all valid, 2 any invalid.
    """
    from .load import load
    from .registry import REGISTRY

    _load_plugins(plugins)
    worst = ExitCode.OK
    for path in schedules:
        try:
            with REGISTRY.reading_plugins():  # what a schedule names is read, not run (SPEC §6)
                loaded = load(path)
        except ScheduleError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(str(exc), err=True)
            worst = ExitCode.USAGE
            continue
        n = len(loaded.calls)
        click.echo(f"{escape(loaded.path)}: ok ({n} entr{'y' if n == 1 else 'ies'})")
    return worst


@cli.command(epilog="""\b
Examples:
  timerctl callbacks
  timerctl callbacks --plugin mycallbacks --format jsonl | jq -r .name
""")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Import MODULE to register its callbacks (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["plain", "jsonl"]), default="plain",
              show_default=True)
def callbacks(plugins: tuple[str, ...], fmt: str) -> None:
    """List the callbacks a schedule can name: name, signature, doc, origin."""
    import json

    from .registry import REGISTRY

    _load_plugins(plugins)
    specs = REGISTRY.specs()
    if fmt == "jsonl":
        for s in specs:
            click.echo(json.dumps({"name": s.name, "signature": s.signature, "doc": s.doc,
                                   "origin": s.origin, "async": s.is_async}))
        return
    for s in specs:  # two lines each: a signature can be long, and docs read better alone
        click.echo(s.signature)
        click.echo(f"    {s.doc}{'  ' if s.doc else ''}[{s.origin}]")


@cli.command(epilog="""\b
Examples:
  timerctl plan examples.toml
  timerctl plan s.toml --format jsonl | jq -r 'select(.event=="plan") | .entry'
  timerctl plan s.toml --limit 20
""")
@click.argument("schedule", type=FILE)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Output format (auto: rich on a terminal, plain otherwise).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True,
              help="Show at most this many calls; repeats beyond it are counted.")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Import MODULE to register its callbacks (repeatable).")
def plan(schedule: str, fmt: str, limit: int, plugins: tuple[str, ...]) -> None:
    """Show the timeline SCHEDULE will follow, without running anything.

    Calls in the order the loop will run them, with due time (T+ and wall clock), and notes on
    what users trip over: calls due at the same moment, very long delays, unbounded repeats.
    """
    import time

    from .plan import make_plan
    from .render import choose
    from .render.planview import PLAN_RENDERERS

    loaded = load_schedule(schedule, plugins, inspect_only=True)
    PLAN_RENDERERS[choose(fmt, sys.stdout)](make_plan(loaded, time.time(), limit=limit),
                                            sys.stdout)


def _complete_demo(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    from .demos import DEMOS

    return [name for name in DEMOS if name.startswith(incomplete)]


@cli.command(epilog="""\b
Examples:
  timerctl demo                          list the demos
  timerctl demo call-later               the seed's call_later program, as records
  timerctl demo call-later --classic     exactly what the seed program prints
  timerctl demo call-at --clock virtual  instant and exact
  timerctl demo drift --show | timerctl run -
""")
@click.argument("name", required=False, shell_complete=_complete_demo)
@click.option("--show", is_flag=True, help="Print the demo's schedule file instead of running it.")
@click.option("--classic", is_flag=True,
              help="Print exactly the lines the seed's program prints, in its order.")
@run_options
def demo(name: str | None, show: bool, classic: bool, plugins: tuple[str, ...],
         **kw: Any) -> int:
    """Run the demo NAME (a schedule shipped with timerctl), or list the demos.

    Each demo replays a classic asyncio lesson and ends by saying what it showed.
    """
    from .demos import DEMOS
    from .load import load_text
    from .registry import suggest

    if name is None:
        import shutil
        import textwrap

        width = max(map(len, DEMOS))
        room = max(30, shutil.get_terminal_size().columns - width - 3)
        for d in DEMOS.values():
            lines = textwrap.wrap(d.description, room) or [""]
            click.echo(f"{d.name:<{width}}  {lines[0]}")
            for line in lines[1:]:
                click.echo(f"{'':<{width}}  {line}")
        return ExitCode.OK
    chosen = DEMOS.get(name)
    if chosen is None:
        raise click.BadParameter(f"no demo named '{name}'{suggest(name, DEMOS)}; "
                                 f"one of: {', '.join(DEMOS)}", param_hint="NAME")
    if show and classic:
        raise click.UsageError("--show prints the schedule and --classic runs it: use one")
    if classic and kw["fmt"] not in ("auto", "plain"):
        raise click.UsageError("--classic prints the seed program's own lines: "
                               "it takes no --format")
    if show:
        click.echo(chosen.text(), nl=False)
        return ExitCode.OK
    if not classic:
        start_display(kw["fmt"], kw["clock"])
    _load_plugins(plugins)
    loaded = load_text(chosen.text(), f"demo:{chosen.name}")
    screen: Callable[[IO[str]], Callable[[Event], None]] | None = None
    if classic:
        from .render import RenderOptions
        from .render.classic import ClassicRenderer

        def classic_screen(stream: IO[str]) -> Callable[[Event], None]:
            return ClassicRenderer(stream, RenderOptions(
                extra={"clock_lines": chosen.clock_lines}))

        screen = classic_screen
    return execute(loaded, lesson=chosen.lesson, screen=screen, **kw)


@cli.command(epilog="""\b
Examples:
  timerctl run s.toml --record run.jsonl && timerctl report run.jsonl
  timerctl run s.toml --format jsonl | timerctl report -
  timerctl report run.jsonl --svg run.svg
""")
@click.argument("recording", type=FILE)
@click.option("--svg", type=OUT_FILE, default=None, metavar="FILE",
              help="Also save the report as SVG.")
@click.option("--html", type=OUT_FILE, default=None, metavar="FILE",
              help="Also save the report as HTML.")
def report(recording: str, svg: str | None, html: str | None) -> None:
    """Summary, lateness histogram and timeline of a recorded run.

    RECORDING is a file written by `run --record FILE` or `run --format jsonl` (- for stdin).
    """
    from .events import Backlog, ClockStep, End, Start
    from .load import STDIN, STDIN_NAME
    from .recording import EndBuilder, RecordingError, read_events, read_lines
    from .render import RenderOptions, make
    from .safe import escape_fields

    check_outputs([recording], svg=svg, html=html)
    try:
        if recording == STDIN:
            name, stream = STDIN_NAME, sys.stdin.buffer
        else:
            name = recording
            stream = open(recording, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise RecordingError(recording, [Problem(recording, 0, None,
                                                 exc.strerror or str(exc))]) from None
    renderer = make("rich", sys.stdout, RenderOptions(extra={
        "show_records": False, "export": bool(svg or html)}))
    # Read as it comes, in bounded memory: the renderer keeps what the summary needs. What it
    # would print before the end (clock steps, backlogs) waits until every line proved good.
    notes: list[Event] = []
    end: End | None = None
    rebuilt = EndBuilder()
    try:
        # A recording is untrusted input: its strings reach the terminal escaped.
        for event in map(escape_fields, read_events(read_lines(stream, name), name)):
            if isinstance(event, End):
                end = end or event
            elif isinstance(event, ClockStep | Backlog):
                if len(notes) < 1000:
                    notes.append(event)
            else:
                if isinstance(event, Start) and getattr(renderer, "start", None) is not None:
                    continue  # a second start (two runs in one file): the first one's
                rebuilt.add(event)
                renderer(event)
    except OSError as exc:
        raise RecordingError(name, [Problem(name, 0, None, exc.strerror or str(exc))]) from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    for note in notes:
        renderer(note)
    if end is None:
        end = rebuilt.end()
        click.echo(f"timerctl: {escape(name)} has no end record (the run did not finish?): "
                   "summary computed from its call records", err=True)
    renderer(end)
    if svg or html:
        sys.exit(_export(renderer, svg, html))


def _quiet_stderr() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:
        pass


def main() -> None:
    """The console script: run the CLI and own the process's exit status.

    click's standalone mode turns a closed stdout into exit 1; a pipeline tool exits 141,
    quietly, whatever command was writing (run, plan, report, --help). Output still buffered
    when the command returns is flushed here, where a reader gone away can still be told.
    """
    from .signals import code_of, install_early

    install_early()  # a signal from here on is a quiet exit, 128 + N (signals.py)
    if sys.stdout is None or sys.stderr is None:  # started with >&- or 2>&-
        if sys.stderr is not None:
            print("timerctl: stdout is closed: nowhere to write the records", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    from .render.writer import whole_stdout

    whole_stdout()
    code: int | str | None
    try:
        code = cli.main(prog_name="timerctl", standalone_mode=False)  # a command's exit code
    except SystemExit as exc:
        code = exc.code
        if code == 1 and type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
            code = ExitCode.PIPE  # click's own answer to EPIPE (in --help, --version): exit 1
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click's wrapping of a signal
            code, reason = code_of(exc.__cause__)
            click.echo(f"timerctl: {reason}", err=True)
        else:
            click.echo("Aborted!", err=True)
            code = ExitCode.CALLBACK_FAILED  # click's own status for an abort
    except BrokenPipeError:
        code = ExitCode.PIPE
    except OSError as exc:  # --help or --version onto a full disk
        if exc.errno not in _FULL:
            raise
        click.echo(f"timerctl: cannot write to stdout: {exc.strerror}", err=True)
        _quiet_stdout()
        code = ExitCode.IOERR
    except KeyboardInterrupt as exc:  # before the run's own handlers were in place
        code, reason = code_of(exc)
        click.echo(f"timerctl: {reason}", err=True)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _quiet_stdout()
        code = ExitCode.PIPE
    except OSError as exc:  # a full disk
        _quiet_stdout()
        if code in (0, None):
            click.echo(f"timerctl: cannot write to stdout: {exc.strerror or exc}", err=True)
            code = ExitCode.IOERR
    else:
        if code == ExitCode.PIPE:
            _quiet_stdout()
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        _quiet_stderr()  # a closed stderr must not change the exit status
    from .signals import exit_code_of, hold_for_exit, pending, reason_of, run_has_ended

    late = pending()  # a signal before any run whose exception Python swallowed
    if late is not None and code in (0, None) and not run_has_ended():
        click.echo(f"timerctl: {reason_of(late)}", err=True)
        code = exit_code_of(late)
    hold_for_exit()  # a signal now must not change what the end record said
    sys.exit(code)
