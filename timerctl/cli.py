"""The command line: parse options, wire loader -> engine -> renderer, map errors to exit codes.

Heavy modules (asyncio, tomllib, rich) are imported inside the commands that need them, so that
``--help`` and ``--version`` answer fast.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from .errors import (
    ExitCode,
    OutputClosed,
    ScheduleError,
    TimerctlError,
)
from .render import FORMATS
from .safe import escape

if TYPE_CHECKING:
    from .app import RunRequest
    from .events import Event
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
    click.echo(
        escape(f"timerctl: {exc}") if not isinstance(exc, ScheduleError) else str(exc), err=True
    )
    sys.exit(exc.exit_code)


def _quiet_stdout() -> None:
    from .app import quiet_stdout

    quiet_stdout()


def load_plugins(modules: Iterable[str]) -> None:
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
            from .shellcmds import ONE_LINERS  # it uses run_options and run_app below

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

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
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
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="auto",
            show_default=True,
            help="Output format (auto: rich on a terminal, plain otherwise).",
        ),
        click.option(
            "--clock",
            type=click.Choice(["real", "virtual"]),
            default="real",
            show_default=True,
            help="virtual: time jumps to the next timer; instant and deterministic.",
        ),
        click.option(
            "--speed",
            type=float,
            default=1.0,
            show_default=True,
            callback=_positive_finite,
            help="Time scale: 2 runs every delay twice as fast.",
        ),
        click.option(
            "--loop",
            "loop_impl",
            type=click.Choice(["asyncio", "uvloop"]),
            default=None,
            help="Event loop implementation [default: the schedule's [run] loop, else asyncio].",
        ),
        click.option(
            "--precision",
            type=click.Choice(["normal", "high"]),
            default="normal",
            show_default=True,
            help="normal: µs waits at ~4% CPU; high: spin the last "
            "2 ms before each timer (µs-exact, a busy core). Real asyncio loop only.",
        ),
        click.option(
            "--timeout",
            type=DURATION,
            default=None,
            callback=_positive_finite,
            metavar="DURATION",
            help="Stop after DURATION of loop time (seconds, or "
            "500ms, 1m30s...; exit 0 unless a call failed).",
        ),
        click.option("--fail-fast", is_flag=True, help="Stop at the first failed call."),
        click.option("--seed", type=int, default=None, help="Seed for jitter: reproducible runs."),
        click.option(
            "--plugin",
            "plugins",
            multiple=True,
            metavar="MODULE",
            help="Import MODULE to register its callbacks (repeatable).",
        ),
        click.option("--no-summary", is_flag=True, help="Omit the summary at the end."),
        click.option(
            "--escape-stderr",
            is_flag=True,
            envvar="TIMERCTL_ESCAPE_STDERR",
            help="Show exec children's stderr with terminal controls escaped "
            "(default: passed through verbatim). Also TIMERCTL_ESCAPE_STDERR=1.",
        ),
        click.option(
            "--no-progress",
            is_flag=True,
            help="No live footer (it is shown only when stdout and stderr are a terminal).",
        ),
        click.option(
            "--on-backlog",
            type=click.Choice(["block", "drop"]),
            default="block",
            show_default=True,
            help="When stdout's reader falls --backlog-limit "
            "behind: block (calls wait for it, nothing is lost) or drop records "
            "(counted; --record keeps all).",
        ),
        click.option(
            "--backlog-limit",
            type=click.IntRange(min=1),
            default=None,
            metavar="MIB",
            callback=_mib,
            help="MiB of output a slow reader may fall "
            "behind before --on-backlog applies [default: 16].",
        ),
        click.option(
            "--stream",
            is_flag=True,
            help="Show each line an exec prints as it comes, before its record.",
        ),
        click.option(
            "--record",
            type=OUT_FILE,
            default=None,
            metavar="FILE",
            help="Also write the JSON Lines records to FILE.",
        ),
        click.option(
            "--svg",
            type=OUT_FILE,
            default=None,
            metavar="FILE",
            help="Export the rich view of the run (records, summary, charts) as SVG.",
        ),
        click.option(
            "--html",
            type=OUT_FILE,
            default=None,
            metavar="FILE",
            help="Export the rich view of the run as HTML.",
        ),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def run_request(schedule: Schedule, **kw: Any) -> RunRequest:
    """The request for the options of ``run_options`` (all of them but --plugin)."""
    from .app import RunRequest

    no_summary, no_progress = kw.pop("no_summary"), kw.pop("no_progress")
    return RunRequest(schedule, summary=not no_summary, progress=not no_progress, **kw)


def run_app(request: RunRequest) -> int:
    """Run the request (app.run); returns its exit code."""
    from .app import run

    return app_step(lambda: run(request))


def app_step(step: Callable[[], int]) -> int:
    """Call into the app; an option it refuses is click's usage error for that option (shown
    with the command's usage line, as click's own are)."""
    from .app import OptionError

    try:
        return step()
    except OptionError as exc:
        raise click.BadParameter(exc.message, param_hint=exc.option) from None


def start_display(fmt: str, clock: str) -> None:
    """Start the display process of a rich run early (app.start_display)."""
    from .app import start_display

    start_display(fmt, clock)


def load_schedule(path: str, plugins: Iterable[str], *, inspect_only: bool = False) -> Schedule:
    """Load a schedule after the user's ``--plugin`` modules. ``inspect_only`` (check, plan):
    the plugins the schedule itself names are read, not imported (SPEC §6)."""
    from .load import load

    load_plugins(plugins)
    if not inspect_only:
        return load(path)
    from .registry import REGISTRY

    with REGISTRY.reading_plugins():
        return load(path)


# -- commands ------------------------------------------------------------------------------------


@cli.command(
    epilog="""\b
Examples:
  timerctl run examples.toml
  timerctl run s.toml --format jsonl | jq -r 'select(.event=="call") | .late'
  timerctl run s.toml --clock virtual --no-summary
  timerctl run s.toml --timeout 10 --record run.jsonl
  cat s.toml | timerctl run -
"""
)
@click.argument("schedule", type=FILE)
@run_options
def run(schedule: str, plugins: tuple[str, ...], **kw: Any) -> int:
    """Run SCHEDULE (a TOML file, - for stdin) and stream one record per call.

    Exit status: 0 every call succeeded, 1 a callback failed, 2 invalid schedule or usage,
    130 interrupted, 143 terminated (128+N for SIGHUP, SIGQUIT...), 141 stdout closed.
    """
    start_display(kw["fmt"], kw["clock"])
    loaded = load_schedule(schedule, plugins)
    return run_app(run_request(loaded, **kw))


@cli.command(
    epilog="""\b
Examples:
  timerctl check s.toml
  timerctl check schedules/*.toml && echo all valid
"""
)
@click.argument("schedules", nargs=-1, required=True, type=FILE)
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE to register its callbacks (repeatable).",
)
def check(schedules: tuple[str, ...], plugins: tuple[str, ...]) -> int:
    """Validate SCHEDULES without running anything.

    Every problem of every file is reported as FILE:LINE:COL: error: MESSAGE on stderr.
    Exit status: 0 all valid, 2 any invalid.
    """
    from .load import load
    from .registry import REGISTRY

    load_plugins(plugins)
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


@cli.command(
    epilog="""\b
Examples:
  timerctl callbacks
  timerctl callbacks --plugin mycallbacks --format jsonl | jq -r .name
"""
)
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE to register its callbacks (repeatable).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["plain", "jsonl"]), default="plain", show_default=True
)
def callbacks(plugins: tuple[str, ...], fmt: str) -> None:
    """List the callbacks a schedule can name: name, signature, doc, origin."""
    import json

    from .registry import REGISTRY

    load_plugins(plugins)
    specs = REGISTRY.specs()
    if fmt == "jsonl":
        for s in specs:
            click.echo(
                json.dumps(
                    {
                        "name": s.name,
                        "signature": s.signature,
                        "doc": s.doc,
                        "origin": s.origin,
                        "async": s.is_async,
                    }
                )
            )
        return
    for s in specs:  # two lines each: a signature can be long, and docs read better alone
        click.echo(s.signature)
        click.echo(f"    {s.doc}{'  ' if s.doc else ''}[{s.origin}]")


@cli.command(
    epilog="""\b
Examples:
  timerctl plan examples.toml
  timerctl plan s.toml --format jsonl | jq -r 'select(.event=="plan") | .entry'
  timerctl plan s.toml --limit 20
"""
)
@click.argument("schedule", type=FILE)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Output format (auto: rich on a terminal, plain otherwise).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Show at most this many calls; repeats beyond it are counted.",
)
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE to register its callbacks (repeatable).",
)
def plan(schedule: str, fmt: str, limit: int, plugins: tuple[str, ...]) -> None:
    """Show the timeline SCHEDULE will follow, without running anything.

    Calls in the order the loop will run them, with due time (T+ and wall clock), and notes on
    what users trip over: calls due at the same moment, very long delays, unbounded repeats.
    """
    from .app import show_plan

    show_plan(load_schedule(schedule, plugins, inspect_only=True), fmt, limit)


def _complete_demo(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
    from .demos import DEMOS

    return [name for name in DEMOS if name.startswith(incomplete)]


@cli.command(
    epilog="""\b
Examples:
  timerctl demo                          list the demos
  timerctl demo call-later               the seed's call_later program, as records
  timerctl demo call-later --classic     exactly what the seed program prints
  timerctl demo call-at --clock virtual  instant and exact
  timerctl demo drift --show | timerctl run -
"""
)
@click.argument("name", required=False, shell_complete=_complete_demo)
@click.option("--show", is_flag=True, help="Print the demo's schedule file instead of running it.")
@click.option(
    "--classic",
    is_flag=True,
    help="Print exactly the lines the seed's program prints, in its order.",
)
@run_options
def demo(name: str | None, show: bool, classic: bool, plugins: tuple[str, ...], **kw: Any) -> int:
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
        raise click.BadParameter(
            f"no demo named '{name}'{suggest(name, DEMOS)}; one of: {', '.join(DEMOS)}",
            param_hint="NAME",
        )
    if show and classic:
        raise click.UsageError("--show prints the schedule and --classic runs it: use one")
    if classic and kw["fmt"] not in ("auto", "plain"):
        raise click.UsageError(
            "--classic prints the seed program's own lines: it takes no --format"
        )
    if show:
        click.echo(chosen.text(), nl=False)
        return ExitCode.OK
    if not classic:
        start_display(kw["fmt"], kw["clock"])
    load_plugins(plugins)
    loaded = load_text(chosen.text(), f"demo:{chosen.name}")
    screen: Callable[[IO[str]], Callable[[Event], None]] | None = None
    if classic:
        from .render import RenderOptions
        from .render.classic import ClassicRenderer

        def classic_screen(stream: IO[str]) -> Callable[[Event], None]:
            return ClassicRenderer(stream, RenderOptions(extra={"clock_lines": chosen.clock_lines}))

        screen = classic_screen
    return run_app(run_request(loaded, lesson=chosen.lesson, screen=screen, **kw))


@cli.command(
    epilog="""\b
Examples:
  timerctl run s.toml --record run.jsonl && timerctl report run.jsonl
  timerctl run s.toml --format jsonl | timerctl report -
  timerctl report run.jsonl --svg run.svg
"""
)
@click.argument("recording", type=FILE)
@click.option(
    "--svg", type=OUT_FILE, default=None, metavar="FILE", help="Also save the report as SVG."
)
@click.option(
    "--html", type=OUT_FILE, default=None, metavar="FILE", help="Also save the report as HTML."
)
def report(recording: str, svg: str | None, html: str | None) -> int:
    """Summary, lateness histogram and timeline of a recorded run.

    RECORDING is a file written by `run --record FILE` or `run --format jsonl` (- for stdin).
    """
    from .report import report as draw

    return app_step(lambda: draw(recording, svg, html))


def _quiet_stderr() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:
        pass


#: what a command's run ends with, as sys.exit takes it
Code = int | str | None


def main() -> None:
    """The console script: run the CLI and own the process's exit status.

    click's standalone mode turns a closed stdout into exit 1; a pipeline tool exits 141,
    quietly, whatever command was writing (run, plan, report, --help). Output still buffered
    when the command returns is flushed here, where a reader gone away can still be told.
    """
    from .signals import hold_for_exit, install_early

    install_early()  # a signal from here on is a quiet exit, 128 + N (signals.py)
    if sys.stdout is None or sys.stderr is None:  # started with >&- or 2>&-
        if sys.stderr is not None:
            print("timerctl: stdout is closed: nowhere to write the records", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    from .render.writer import whole_stdout

    whole_stdout()
    code = _flush_stdout(_invoke())
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        _quiet_stderr()  # a closed stderr must not change the exit status
    code = _late_signal(code)
    hold_for_exit()  # a signal now must not change what the end record said
    sys.exit(code)


def _invoke() -> Code:
    """Run the group; every way out of it as an exit code, said on stderr where it must be."""
    from .signals import code_of

    code: Code
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
    return code


def _flush_stdout(code: Code) -> Code:
    """Flush what is still buffered: a reader gone is 141, a full disk 74 (unless the command
    already failed)."""
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
    return code


def _late_signal(code: Code) -> Code:
    """A signal before any run whose exception Python swallowed still sets the status."""
    from .signals import exit_code_of, pending, reason_of, run_has_ended

    late = pending()
    if late is not None and code in (0, None) and not run_has_ended():
        click.echo(f"timerctl: {reason_of(late)}", err=True)
        code = exit_code_of(late)
    return code
