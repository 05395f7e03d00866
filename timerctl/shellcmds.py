"""One-liners: ``timerctl every 500ms -- cmd``, ``after``, ``at``, ``cron``, ``calendar``.

Each builds a one-entry schedule that runs the command with ``exec`` and hands it to the same
``app.run`` as ``run``: same engine, same renderers, same records. ``every``, ``after`` and
``at``, ``cron`` and ``calendar`` are written as schedule text and loaded by the loader:
``--show`` prints that very text, which ``timerctl run -`` runs identically.

``--timeout`` here is timeout(1)'s: a run it ends exits 124. (On ``run`` it stays a stop
condition that exits 0, as the schedule contract says.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from .app import load_plugins, start_display
from .options import DURATION, run_app, run_options, run_request
from .shelltext import (
    bounds,
    call_lines,
    command_text,
    document,
    moment_toml,
    name_for,
    need_command,
    policy_lines,
    quote,
    toml_str,
)

#: what the records name the schedule of a one-liner
SOURCE = "<command line>"

#: the overlap policies, as the model spells them
OVERLAPS = ("allow", "skip", "queue", "kill")


def _go(text: str, show: bool, plugins: tuple[str, ...], kw: dict[str, Any]) -> None:
    """--show prints the file, --plan its timeline; otherwise load it (or build it) and run it
    as `run` would."""
    if show:
        click.echo(text, nl=False)
        return
    from .errors import ExitCode

    planned = kw.pop("plan")
    if planned is None:
        start_display(kw["fmt"], kw["clock"])
    load_plugins(plugins)
    from .load import load_text

    loaded = load_text(text, SOURCE)  # what --show prints is what runs
    if planned is not None:
        from .app import show_plan

        show_plan(loaded, kw["fmt"], planned)
        return
    sys.exit(run_app(run_request(loaded, timeout_exit=ExitCode.TIMEOUT, **kw)))


def one_liner_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """What every one-liner takes besides run's options: its name, policies and --show."""
    decorators = [
        click.argument("command", nargs=-1, type=click.UNPROCESSED),
        click.option("--name", default=None, help="The entry's name [default: the program's]."),
        click.option(
            "--call-timeout",
            type=DURATION,
            default=None,
            metavar="DURATION",
            help="End each call's process group after DURATION (exec's timeout).",
        ),
        click.option(
            "--overlap",
            type=click.Choice(OVERLAPS),
            default="allow",
            show_default=True,
            help="A call due while the previous one still runs: "
            "start it too, skip it, queue it, or kill the running one.",
        ),
        click.option(
            "--late-after",
            type=DURATION,
            default=None,
            metavar="DURATION",
            help="Skip a call that would start more than DURATION late (one "
            "'policy' record each) [default: run it late].",
        ),
        click.option(
            "--show", is_flag=True, help="Print the equivalent schedule file instead of running it."
        ),
        click.option(
            "--plan",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help="Show the next N calls (as `timerctl plan`: DST gaps and folds "
            "noted) instead of running.",
        ),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return run_options(func)


def _bounds_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--until",
        type=DURATION,
        default=None,
        metavar="DURATION",
        help="No call due later than DURATION after the start.",
    )(func)
    return click.option(
        "--count", type=click.IntRange(min=1), default=None, help="Stop after this many calls."
    )(func)


_SETTINGS = {"help_option_names": ["-h", "--help"]}


@click.command(
    context_settings=_SETTINGS,
    epilog="""\b
Examples:
  timerctl every 500ms -- date +%T.%N
  timerctl every 1s --count 3 --format jsonl -- uptime | jq -r .late
  timerctl every 10s --overlap skip --timeout 1m -- curl -s example.org
  timerctl every 2s --show -- date | timerctl run -
""",
)
@click.argument("interval", type=DURATION)
@_bounds_options
@click.option(
    "--mode",
    type=click.Choice(["fixed-rate", "fixed-delay"]),
    default="fixed-rate",
    show_default=True,
    help="fixed-rate: due at start + k*INTERVAL (no drift); "
    "fixed-delay: INTERVAL after the previous call ended.",
)
@click.option(
    "--jitter",
    type=DURATION,
    default=None,
    metavar="DURATION",
    help="Add a random 0..DURATION to each due time.",
)
@one_liner_options
def every(
    interval: float,
    count: int | None,
    until: float | None,
    mode: str,
    jitter: float | None,
    command: tuple[str, ...],
    name: str | None,
    call_timeout: float | None,
    overlap: str,
    late_after: float | None,
    show: bool,
    plugins: tuple[str, ...],
    **kw: Any,
) -> None:
    """Run COMMAND now and every INTERVAL (500ms, 1m30s, 2h 30min...), without a shell.

    Fixed-rate: the n-th call is due at start + n*INTERVAL, so no drift accumulates. Exit
    status: 0 all calls succeeded, 1 a call failed, 124 --timeout ended the run.
    """
    need_command(command, "every 1s")
    if interval <= 0:
        raise click.BadParameter("must be > 0", param_hint="INTERVAL")
    lines = [
        *call_lines(name_for(command, name), command, call_timeout),
        "soon = true",
        f"every = {interval!r}",
        *bounds(count, until),
    ]
    if mode != "fixed-rate":
        lines.append(f"mode = {toml_str(mode)}")
    if jitter:
        lines.append(f"jitter = {jitter!r}")
    lines += policy_lines(overlap, late_after)
    from .durations import format_duration

    text = document(command_text(f"every {format_duration(interval)}", command), lines)
    _go(text, show, plugins, kw)


@click.command(
    context_settings=_SETTINGS,
    epilog="""\b
Examples:
  timerctl after 90s -- notify-send tea
  timerctl after 1.5 --format jsonl -- true
""",
)
@click.argument("delay", type=DURATION)
@one_liner_options
def after(
    delay: float,
    command: tuple[str, ...],
    name: str | None,
    call_timeout: float | None,
    overlap: str,
    late_after: float | None,
    show: bool,
    plugins: tuple[str, ...],
    **kw: Any,
) -> None:
    """Run COMMAND once, DELAY from now (call_later): 90s, 1m30s, 2h..."""
    need_command(command, "after 90s")
    from .durations import format_duration

    lines = [
        *call_lines(name_for(command, name), command, call_timeout),
        f"later = {delay!r}",
        *policy_lines(overlap, late_after),
    ]
    text = document(command_text(f"after {format_duration(delay)}", command), lines)
    _go(text, show, plugins, kw)


@click.command(
    context_settings=_SETTINGS,
    epilog="""\b
Examples:
  timerctl at 14:30 -- make backup
  timerctl at 2026-12-24T18:00 -- echo ho ho ho
""",
)
@click.argument("moment", metavar="TIME")
@one_liner_options
def at(
    moment: str,
    command: tuple[str, ...],
    name: str | None,
    call_timeout: float | None,
    overlap: str,
    late_after: float | None,
    show: bool,
    plugins: tuple[str, ...],
    **kw: Any,
) -> None:
    """Run COMMAND once at TIME on the wall clock (HH:MM[:SS]: its next occurrence; or a
    date and time, local unless it has an offset).

    The moment is re-armed if the wall clock steps or the machine resumes while it waits.
    """
    need_command(command, "at 14:30")
    lines = [
        *call_lines(name_for(command, name), command, call_timeout),
        f"at = {moment_toml(moment)}",
        *policy_lines(overlap, late_after),
    ]
    text = document(command_text(f"at {moment}", command), lines)
    _go(text, show, plugins, kw)


def _calendar_command(kind: str, example: str, what: str) -> click.Command:
    """``cron`` and ``calendar``: the same command over two expression languages."""

    @click.command(kind, context_settings=_SETTINGS, epilog=example, help=what)
    @click.argument("expression")
    @_bounds_options
    @click.option(
        "--tz",
        default=None,
        metavar="ZONE",
        help="The expression's time zone (IANA: Europe/Berlin) [default: local].",
    )
    @one_liner_options
    def command_(
        expression: str,
        count: int | None,
        until: float | None,
        tz: str | None,
        command: tuple[str, ...],
        name: str | None,
        call_timeout: float | None,
        overlap: str,
        late_after: float | None,
        show: bool,
        plugins: tuple[str, ...],
        **kw: Any,
    ) -> None:
        need_command(command, f'{kind} "{"*/5 * * * *" if kind == "cron" else "*:0/5"}"')
        from .calendars import RuleKind, WallRule

        try:
            WallRule(RuleKind(kind), expression, tz, count=count, until=until)  # a usage error now
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="EXPRESSION") from None
        entry = name_for(command, name)
        lines = [*call_lines(entry, command, call_timeout), f"{kind} = {toml_str(expression)}"]
        if tz is not None:
            lines.append(f"tz = {toml_str(tz)}")
        lines += [*bounds(count, until), *policy_lines(overlap, late_after)]
        how = f"{kind} {quote(expression)}" + (f" --tz {quote(tz)}" if tz else "")
        text = document(command_text(how, command), lines)

        _go(text, show, plugins, kw)

    return command_


cron = _calendar_command(
    "cron",
    """\b
Examples:
  timerctl cron "*/5 * * * *" -- ./sync.sh
  timerctl cron "0 9 * * 1-5" --tz Europe/Berlin -- ./standup-reminder
  timerctl cron "0 * * * *" --count 1 --format jsonl -- date
""",
    """Run COMMAND at the moments of a cron EXPRESSION (5 fields, Debian cron semantics).

DST as Debian cron: a job in a skipped hour runs when the gap ends; a fixed-time job in a
repeated hour runs once. Moments are on the wall clock, re-armed when it steps or the machine
resumes. Exit status as for `every`.""",
)

calendar = _calendar_command(
    "calendar",
    """\b
Examples:
  timerctl calendar "Mon..Fri 09:00" -- ./standup-reminder
  timerctl calendar "*:0/15" --tz UTC -- ./poll
""",
    """Run COMMAND at the moments of a systemd OnCalendar EXPRESSION (systemd.time(7)).

"Mon..Fri 09:00", "*-*-01 00:00", "hourly", "*:0/15"... DST as systemd: a moment in a
skipped hour is skipped, one in a repeated hour runs in both. Exit status as for `every`.""",
)

#: registered on the group by cli.py
ONE_LINERS = (every, after, at, cron, calendar)
