"""The run entry point: a schedule run to its end on a fresh event loop of the requested kind.

Also what a run is asked to do (``RunOptions``) and where its events go (``Sink``); the
``Engine`` itself is in ``engine`` (made here on each run).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import signals
from .events import End, Event
from .registry import REGISTRY, Registry
from .schedule import Schedule

if TYPE_CHECKING:
    from .engine import Engine

Sink = Callable[[Event], None]


@dataclass(frozen=True)
class RunOptions:
    timeout: float | None = None  # seconds of loop time
    fail_fast: bool = False
    seed: int | None = None
    speed: float = 1.0
    handle_signals: bool = False  # only the CLI's main thread should take signals (signals.py)
    loop_impl: str = "asyncio"
    precision: str = "normal"  # for the real asyncio loop: "normal" | "high"
    escape_stderr: bool = False  # exec children's stderr shown escaped (safe.escape)
    timeout_exit: int | None = None  # exit code of a run ended by ``timeout`` (None: as usual)
    stream: bool = False  # emit each line an exec prints as an Output event, as it comes


def run(
    schedule: Schedule,
    sink: Sink,
    *,
    options: RunOptions | None = None,
    virtual: bool = False,
    registry: Registry = REGISTRY,
    wall_clock: Callable[[], float] = time.time,
    on_engine: Callable[[Engine], None] | None = None,
) -> End:
    """Run a schedule to its end on a fresh event loop of the requested kind.

    ``on_engine`` sees the engine before it starts (a live view binds ``status`` through it).
    """
    from .engine import Engine  # the engine imports this module: its options, its Sink
    from .loops import loop_factory

    options = options or RunOptions()
    factory = loop_factory(options.loop_impl, virtual=virtual, precision=options.precision)
    engine = Engine(schedule, sink, registry=registry, options=options, wall_clock=wall_clock)
    if on_engine is not None:
        on_engine(engine)
    if not options.handle_signals:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(engine.run())
    # The handlers stay until the end record is written and the loop is closed: a signal
    # meanwhile is this run's end reason, or (once that is decided) absorbed, never the
    # default death after an end record saying "done".
    with signals.RunSignals(engine.on_signal, engine.aborts):
        with asyncio.Runner(loop_factory=factory) as runner:
            end = runner.run(_woken(engine.run()))
        signals.run_ended()
    return end


async def _woken(run: Coroutine[Any, Any, End]) -> End:
    """The run, on a loop that any thread's signal wakes (``signals.waking``)."""
    with signals.waking(asyncio.get_running_loop()):
        return await run
