"""Which event loop a run gets: the virtual clock, a precision loop, or uvloop.

Its own module so that ``clock`` and ``precision`` need not know each other's loops (precision
builds on clock's selector delegation; the choice between them is made here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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
