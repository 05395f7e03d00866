"""Which event loop a run gets: the virtual clock, a precision loop, or uvloop.

It also says what a running loop is, for the start record (``precision_of``, ``resolution``):
the loops' own attributes are read here, next to the loop classes, never in the engine.
Its own module so that ``clock`` and ``precision`` need not know each other's loops (precision
builds on clock's selector delegation; the choice between them is made here).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .clock import VirtualClockLoop
from .errors import LoopUnavailable
from .precision import precise_loop_factory


def loop_factory(
    impl: str, *, virtual: bool = False, precision: str = "normal"
) -> Callable[[], asyncio.AbstractEventLoop]:
    """A factory for ``asyncio.Runner`` giving a fresh loop of the requested kind.

    The real asyncio loop is a precision loop (µs waits; ``high`` also spins): the stock one is
    ~0.6 ms late on every timer. ``precision`` does not apply to uvloop or the virtual clock.
    """
    if virtual:
        if impl != "asyncio":
            raise LoopUnavailable("the virtual clock runs on the asyncio loop only (not uvloop)")
        return VirtualClockLoop
    if impl == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise LoopUnavailable(
                "uvloop is not installed: pip install 'timerctl[uvloop]'"
            ) from None
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    return precise_loop_factory(precision)


def precision_of(loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    """Which precision mode and selector the loop runs with (None where it does not apply)."""
    describe = getattr(loop, "describe", None)  # a PrecisionEventLoop's
    if describe is None:
        if hasattr(loop, "advance"):
            return {"precision": None, "selector": "virtual: jumps to the next timer"}
        if type(loop).__module__.startswith("uvloop"):
            return {"precision": None, "selector": "libuv (1 ms resolution)"}
        return {"precision": None, "selector": type(loop).__name__}  # a loop we did not make
    info = describe()
    selector = f"{info.get('selector')}, {info.get('wait')}() waits ({info.get('wait_resolution')})"
    if info.get("timer_slack_ns") is not None:
        selector += f", timer slack {info['timer_slack_ns']}ns"
    if info.get("spin"):
        selector += ", spins the last ms"
    if info.get("fallback"):
        selector += f", fallback: {info['fallback']}"
    return {"precision": info.get("precision"), "selector": selector}


def resolution(loop: asyncio.AbstractEventLoop) -> float:
    if type(loop).__module__.startswith("uvloop"):
        return 0.001  # libuv keeps loop time in whole milliseconds
    # asyncio's own: the monotonic clock's resolution, unless the loop keeps time otherwise
    return float(getattr(loop, "RESOLUTION", time.get_clock_info("monotonic").resolution))
