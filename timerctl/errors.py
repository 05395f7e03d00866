"""One exception family for the whole tool; the CLI maps it to messages and exit codes once."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from .safe import escape


class ExitCode(IntEnum):
    """Every exit status timerctl gives (SPEC §5), named once; sysexits(3) where it has one.

    A death by signal N is 128 + N, as a shell reports it: a run ended by a signal exits with
    the status the signal's default action would have given, after ending cleanly.
    """

    OK = 0
    CALLBACK_FAILED = 1  # a callback raised, or an exec failed or timed out
    USAGE = 2  # a usage error or an invalid schedule: nothing ran
    SOFTWARE = 70  # EX_SOFTWARE: an internal error (a bug)
    IOERR = 74  # EX_IOERR: stdout cannot be written (a full disk)
    TIMEOUT = 124  # timeout(1)'s: a one-liner's --timeout ended the run
    HANGUP = 129  # SIGHUP: the terminal went away
    INTERRUPTED = 130  # SIGINT: Ctrl-C
    QUIT = 131  # SIGQUIT
    USR1 = 138  # SIGUSR1
    USR2 = 140  # SIGUSR2
    PIPE = 141  # stdout closed (SIGPIPE's status): ends quietly
    ALARM = 142  # SIGALRM
    TERMINATED = 143  # SIGTERM

    @classmethod
    def for_signal(cls, signum: int) -> int:
        """The status of a run ended by signal ``signum``: 128 + N."""
        code = 128 + int(signum)
        try:
            return cls(code)
        except ValueError:
            return code


class Problem(NamedTuple):
    """One located problem in a schedule file: rendered as ``FILE:LINE[:COL]: error: MESSAGE``.

    A NamedTuple rather than a dataclass: immutable and ordered alike, and ~1 ms cheaper to
    define at start-up, which every command pays.
    """

    path: str
    line: int
    col: int | None
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}" + (f":{self.col}" if self.col else "")
        # The path is the user's (a downloaded file's name may hold terminal escapes); the
        # message quotes the file's text: both shown escaped, on one line.
        return escape(f"{where}: error: {self.message}")


class TimerctlError(Exception):
    """Base of every error timerctl reports to a user (never shown as a traceback)."""

    exit_code: int = ExitCode.USAGE


class ScheduleError(TimerctlError):
    """A schedule file is invalid; carries every problem found, not just the first."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: (p.line, p.col or 0))
        n = len(self.problems)
        super().__init__(f"Found {n} error{'s' if n != 1 else ''} in {escape(path)}")


class PluginError(TimerctlError):
    """A plugin module named by the user could not be imported."""


class LoopUnavailable(TimerctlError):
    """The requested event loop implementation is not installed."""


class OutputError(TimerctlError):
    """stdout cannot be written (a full disk): said on stderr, with sysexits' EX_IOERR."""

    exit_code = ExitCode.IOERR


class OutputClosed(TimerctlError):
    """The reader of our output went away (``| head -1``): end quietly, like any pipeline tool."""

    exit_code = ExitCode.PIPE
