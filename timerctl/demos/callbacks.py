"""The small callbacks the demos need, registered like any plugin's (the demos name this module
in their ``[run] plugins``, so ``timerctl demo NAME --show | timerctl run -`` works too)."""

import asyncio

from timerctl import callback, current_run


@callback("callback_n")
def callback_n(n: int) -> str:
    """The seed's call_later callback: 'callback N invoked'."""
    return f"callback {n} invoked"


@callback("callback_at")
def callback_at(n: int) -> str:
    """The seed's call_at callback: 'callback N invoked at LOOP_TIME'."""
    return f"callback {n} invoked at {current_run().time()}"


@callback("work")
async def work(seconds: float) -> str:
    """Take SECONDS without blocking the loop (await asyncio.sleep): a callback that takes time."""
    await asyncio.sleep(seconds)
    return f"worked {seconds * 1000:g}ms"
