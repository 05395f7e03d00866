"""The options and parameter types the commands share (run, demo, the one-liners), and the
request they make: ``run_request`` turns run's options into an ``app.RunRequest``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .render import FORMATS

if TYPE_CHECKING:
    from .app import RunRequest
    from .schedule import Schedule

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


#: --plugin, as every command that loads a schedule or lists callbacks takes it
plugin_option = click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE to register its callbacks (repeatable).",
)


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
        plugin_option,
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
