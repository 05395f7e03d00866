"""The async calls under way: a task per call whose callback returned an awaitable.

A run ends only when none is left; one cut short (the run ended, overlap = kill) still gets
its one record, made by the engine from what ``Started`` kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

from .events import ErrorInfo
from .runinfo import error_info, exit_status
from .slots import Entry, Slot, Started


class Outcome(NamedTuple):
    """How an async call ended, on the loop clock at ``end``."""

    result: Any
    error: ErrorInfo | None
    cancelled: bool
    status: int | None  # the exit status it carries (exec's)
    end: float


class Underway:
    """Tasks of async calls, each with what its record needs if it is cut short."""

    __slots__ = ("_killed", "_tasks")

    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[Any], Started] = {}
        #: a call that overlap = kill ended -> the firing that was due (kept here, not on
        #: every Slot: few runs kill)
        self._killed: dict[Slot, int] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def start(
        self, loop: asyncio.AbstractEventLoop, finish: Coroutine[Any, Any, None], started: Started
    ) -> None:
        """Run ``finish`` (which awaits the call) as a task of the call's entry."""
        task = loop.create_task(finish)
        self._tasks[task] = started
        entry = started.slot.entry
        if entry.running is None:
            entry.running = [task]
        else:
            entry.running.append(task)

    async def settle(
        self,
        loop: asyncio.AbstractEventLoop,
        slot: Slot,
        awaitable: Any,
        reason: Callable[[], str | None],
    ) -> Outcome:
        """(inside the call's task) Await the call; the call is then no longer under way.
        Cancelled, it says why: the run ended (``reason()``), or overlap = kill."""
        result: Any = None
        error: ErrorInfo | None = None
        cancelled = False
        status: int | None = None
        try:
            result = await awaitable
            status = exit_status(result)
        except asyncio.CancelledError:
            cancelled = True
            error = ErrorInfo("CancelledError", f"cancelled: the run ended ({reason()})")
        except BaseException as exc:  # (our signals never raise: this is the callback's)
            error, status = error_info(exc), exit_status(exc)
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.pop(task, None)
                running = slot.entry.running
                with contextlib.suppress(ValueError):
                    if running is not None:
                        running.remove(task)
        end = loop.time()
        killed = self._killed.pop(slot, 0)
        if cancelled and killed:
            error = ErrorInfo("CancelledError", f"killed: call {killed} was due (overlap = kill)")
        return Outcome(result, error, cancelled, status, end)

    def kill(self, entry: Entry, by: Slot) -> None:
        """overlap = kill: end the entry's running calls, saying which call ``by`` was due."""
        for task in entry.running or ():
            started = self._tasks.get(task)
            if started is not None:
                self._killed[started.slot] = by.n
            task.cancel()

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def drain(self) -> list[Started]:
        """Wait for the cancelled tasks; the calls whose task was cancelled before its first
        step (it never ran, and never recorded): their coroutines are closed."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        left = list(self._tasks.values())
        for started in left:
            if inspect.iscoroutine(started.awaitable):
                started.awaitable.close()
        self._tasks.clear()
        return left
