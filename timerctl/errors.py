"""One exception family for the whole tool; the CLI maps it to messages and exit codes once."""

from __future__ import annotations

from typing import NamedTuple

from .safe import escape


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

    exit_code = 2


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

    exit_code = 74


class OutputClosed(TimerctlError):
    """The reader of our output went away (``| head -1``): end quietly, like any pipeline tool."""

    exit_code = 141
