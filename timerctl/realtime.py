"""Waiting real seconds on any loop: a child process runs in real time, whatever the clock.

``exec`` timeouts and the wait for a child's exit are real seconds even when the loop's clock is
virtual (it jumps to the next timer instead of waiting) or scaled by ``--speed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from .clock import VirtualClockLoop


def settle(future: asyncio.Future[None]) -> None:
    """Mark future done, if nobody has yet: the several ways a wait ends may all fire."""
    if not future.done():
        future.set_result(None)


async def wait_real(future: asyncio.Future[None], seconds: float | None) -> bool:
    """Wait for future at most ``seconds`` of real time; True if it is done."""
    if seconds is None:
        await asyncio.shield(future)
        return True
    loop = asyncio.get_running_loop()
    deadline: asyncio.Future[None] = loop.create_future()
    cancel = call_later_real(loop, seconds, lambda: settle(deadline))
    try:
        await asyncio.wait([future, deadline], return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancel()
    return future.done()


def call_later_real(
    loop: asyncio.AbstractEventLoop, seconds: float, func: Callable[[], None]
) -> Callable[[], None]:
    """Call func after ``seconds`` of real time; returns a canceller.

    A virtual loop jumps its clock to the next timer instead of waiting, which would time a
    real process out at once: there a thread keeps the real time and wakes the loop.
    """
    if not isinstance(loop, VirtualClockLoop):
        return loop.call_later(seconds, func).cancel

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(func)

    timer = threading.Timer(seconds, wake)
    timer.daemon = True
    timer.start()
    return timer.cancel
