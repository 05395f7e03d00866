"""Errors to exit codes, once: what escapes a command (MappingGroup) and what is left when
the group returns (cli.main's flushes and late signals). SPEC §5 names the codes
(errors.ExitCode); a user's mistake is a message, never a traceback."""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, NoReturn

import click

from .errors import ExitCode, OutputClosed, ScheduleError, TimerctlError
from .safe import escape
from .stdio import quiet_stdout

#: errors of a stdout that cannot take more (a full disk, a quota, an I/O error)
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


#: what a command leaves for the operating system to free as the process ends: a parsed
#: 100,000-entry schedule costs ~0.07 s to free object by object, for nothing (``check``)
_LEFT: list[object] = []


def leave_to_os(thing: object) -> None:
    """Keep thing alive to the end (only the last: many files must not add up); the process
    then exits without freeing it (``end``)."""
    _LEFT[:] = [thing]


def end(code: Code) -> NoReturn:
    """Exit with code; at once, when a command left objects to the OS (stdout and stderr are
    flushed by then: what a command left is plain data, with no thread or child behind it)."""
    if _LEFT and not isinstance(code, str):
        os._exit(code or 0)
    sys.exit(code)


def die(exc: TimerctlError) -> NoReturn:
    """Report a user-facing error on stderr and exit with its code: never a traceback."""
    if isinstance(exc, OutputClosed):  # the reader went away: nothing to tell anyone
        quiet_stdout()
        sys.exit(exc.exit_code)
    tell(exc)
    sys.exit(exc.exit_code)


def tell(exc: TimerctlError) -> None:
    """Say an error on stderr: a schedule's every located problem, then its count."""
    if isinstance(exc, ScheduleError):
        for problem in exc.problems:
            click.echo(str(problem), err=True)
    click.echo(
        escape(f"timerctl: {exc}") if not isinstance(exc, ScheduleError) else str(exc), err=True
    )


class MappingGroup(click.Group):
    """Maps errors that escape a command: user errors to their codes, bugs to one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            code = super().invoke(ctx)
        except TimerctlError as exc:
            die(exc)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt as exc:  # a signal before the run's own handling (signals.py)
            from .signals import code_of

            code, reason = code_of(exc)
            click.echo(f"timerctl: {reason}", err=True)
            sys.exit(code)
        except BrokenPipeError:
            quiet_stdout()
            sys.exit(ExitCode.PIPE)
        except OSError as exc:
            if exc.errno not in FULL:
                raise
            from .render.writer import output_error

            die(output_error(exc))
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


def quiet_stderr() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:
        pass


#: what a command's run ends with, as sys.exit takes it
Code = int | str | None


def invoke(cli: click.Group) -> Code:
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
        if exc.errno not in FULL:
            raise
        click.echo(f"timerctl: cannot write to stdout: {exc.strerror}", err=True)
        quiet_stdout()
        code = ExitCode.IOERR
    except KeyboardInterrupt as exc:  # before the run's own handlers were in place
        code, reason = code_of(exc)
        click.echo(f"timerctl: {reason}", err=True)
    return code


def flush_stdout(code: Code) -> Code:
    """Flush what is still buffered: a reader gone is 141, a full disk 74 (unless the command
    already failed)."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        quiet_stdout()
        code = ExitCode.PIPE
    except OSError as exc:  # a full disk
        quiet_stdout()
        if code in (0, None):
            click.echo(f"timerctl: cannot write to stdout: {exc.strerror or exc}", err=True)
            code = ExitCode.IOERR
    else:
        if code == ExitCode.PIPE:
            quiet_stdout()
    return code


def late_signal(code: Code) -> Code:
    """A signal before any run whose exception Python swallowed still sets the status."""
    from .signals import exit_code_of, pending, reason_of, run_has_ended

    late = pending()
    if late is not None and code in (0, None) and not run_has_ended():
        click.echo(f"timerctl: {reason_of(late)}", err=True)
        code = exit_code_of(late)
    return code
