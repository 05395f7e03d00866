"""What a running callback can ask of the run it belongs to (``cancel``, ``stop``, ``sleep``).

The engine sets ``CURRENT`` before it schedules anything; asyncio copies the context into every
handle, so each callback sees its own run without any global state.
"""

from __future__ import annotations

import contextvars
from typing import Protocol


class RunControl(Protocol):
    def cancel(self, entry: str) -> int:
        """Cancel the pending calls of an entry; returns how many were cancelled."""

    def stop(self) -> None:
        """End the run after the current callback."""

    def block(self, seconds: float) -> None:
        """Hold the loop for ``seconds`` (really on the real clock, in virtual time otherwise)."""

    def time(self) -> float:
        """The loop clock."""

    @property
    def escape_stderr(self) -> bool:
        """Whether ``exec`` children's stderr is shown escaped (``--escape-stderr``)."""


CURRENT: contextvars.ContextVar[RunControl] = contextvars.ContextVar("timerctl_run")


def current_run() -> RunControl:
    """The run the calling callback belongs to (raises RuntimeError outside a run)."""
    try:
        return CURRENT.get()
    except LookupError:
        raise RuntimeError("not called from a timerctl run") from None
