"""A run's side of a signal: the end it asks for, and what a second one does before it exits.

The handlers themselves are ``signals.RunSignals``; they call the engine's ``on_signal`` at any
moment (even inside a blocking callback), which records the signal here and wakes the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import signals
from .children import CHILDREN


class Interrupts:
    """The signal that asked the run to end, if any, and the run's aborts."""

    __slots__ = ("_aborts", "decided", "reason", "signum")

    def __init__(self) -> None:
        self.reason: str | None = None  # set by a signal handler, at any moment
        self.signum = 0
        self.decided = False  # the end record is decided: from then on a signal changes nothing
        self._aborts: list[Callable[[], Any]] = []

    def take(self, signum: int) -> bool:
        """Record a signal; False when it is absorbed (the end record and exit status stand)."""
        if self.decided:
            return False
        self.signum = signum
        self.reason = signals.reason_of(signum)
        return True

    def exit_signum(self) -> int | None:
        """The signal whose exit status the run ends with (None: no signal came)."""
        return self.signum if self.reason is not None else None

    def add_abort(self, abort: Callable[[], Any]) -> None:
        self._aborts.append(abort)

    def aborts(self) -> list[Callable[[], Any]]:
        """Kill the children first (nothing may outlive us), then the run's own aborts."""
        return [CHILDREN.kill_all, *self._aborts]
