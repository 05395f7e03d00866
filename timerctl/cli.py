"""The command line: options in, requests to the app out (app.py, commands.py, report.py).

Commands return exit codes; what escapes them is mapped once (exits.MappingGroup) and ``main``
owns the process's status. Heavy modules (asyncio, tomllib, rich) are imported inside the
commands that need them, so that ``--help`` and ``--version`` answer fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

from .errors import ExitCode
from .exits import MappingGroup
from .options import FILE, OUT_FILE, app_step, plugin_option, run_app, run_options, run_request
from .render import FORMATS

if TYPE_CHECKING:
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


#: the one-liners (shellcmds.py), added to the group when first named or listed: building their
#: five commands costs a few ms of start-up that `run` and `check` need not pay
ONE_LINER_NAMES = ("every", "after", "at", "cron", "calendar")


class _Group(MappingGroup):
    """timerctl's group: errors mapped (exits.MappingGroup), the one-liners added lazily."""

    def _one_liners(self) -> None:
        if ONE_LINER_NAMES[0] not in self.commands:
            from .shellcmds import ONE_LINERS

            for command in ONE_LINERS:
                self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in ONE_LINER_NAMES:
            self._one_liners()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._one_liners()
        return super().list_commands(ctx)


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


def load_schedule(path: str, plugins: Iterable[str], *, inspect_only: bool = False) -> Schedule:
    """Load a schedule after the user's ``--plugin`` modules. ``inspect_only`` (check, plan):
    the plugins the schedule itself names are read, not imported (SPEC §6)."""
    from .app import load_plugins
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
    from .app import start_display

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
@plugin_option
def check(schedules: tuple[str, ...], plugins: tuple[str, ...]) -> int:
    """Validate SCHEDULES without running anything.

    Every problem of every file is reported as FILE:LINE:COL: error: MESSAGE on stderr.
    Exit status: 0 all valid, 2 any invalid.
    """
    from .app import load_plugins
    from .commands import check as check_files

    load_plugins(plugins)
    return check_files(schedules)


@cli.command(
    epilog="""\b
Examples:
  timerctl callbacks
  timerctl callbacks --plugin mycallbacks --format jsonl | jq -r .name
"""
)
@plugin_option
@click.option(
    "--format", "fmt", type=click.Choice(["plain", "jsonl"]), default="plain", show_default=True
)
def callbacks(plugins: tuple[str, ...], fmt: str) -> int:
    """List the callbacks a schedule can name: name, signature, doc, origin."""
    from .app import load_plugins
    from .commands import list_callbacks

    load_plugins(plugins)
    return list_callbacks(fmt)


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
@plugin_option
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
    from .app import load_plugins, start_display
    from .demos import DEMOS
    from .load import load_text
    from .registry import suggest

    if name is None:
        from .commands import list_demos

        return list_demos()
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
    from .commands import classic_screen

    screen = classic_screen(chosen.clock_lines) if classic else None
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


def main() -> None:
    """The console script: run the CLI and own the process's exit status.

    click's standalone mode turns a closed stdout into exit 1; a pipeline tool exits 141,
    quietly, whatever command was writing (run, plan, report, --help). Output still buffered
    when the command returns is flushed here, where a reader gone away can still be told.
    """
    from .exits import end, flush_stdout, invoke, late_signal, quiet_stderr
    from .signals import hold_for_exit, install_early

    install_early()  # a signal from here on is a quiet exit, 128 + N (signals.py)
    if sys.stdout is None or sys.stderr is None:  # started with >&- or 2>&-
        if sys.stderr is not None:
            print("timerctl: stdout is closed: nowhere to write the records", file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    from .render.writer import whole_stdout

    whole_stdout()
    code = flush_stdout(invoke(cli))
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        quiet_stderr()  # a closed stderr must not change the exit status
    code = late_signal(code)
    hold_for_exit()  # a signal now must not change what the end record said
    end(code)
