"""What the engine says about a run's start and reads off a callback's outcome.

Small readings with no state: the start record, a failed call's ErrorInfo and exit status, and
the percentile of the lateness figures (what the loop says about itself is in ``loops``).
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

from .events import ErrorInfo, Start
from .loops import precision_of, resolution

if TYPE_CHECKING:
    from .engine import Engine


def start_record(engine: Engine, loop: asyncio.AbstractEventLoop, virtual: bool) -> Start:
    """The start record: the schedule, the loop and its clocks, the options that shape times."""
    return Start(
        schedule=engine.schedule.path,
        loop_impl=engine.options.loop_impl,
        clock="virtual" if virtual else "real",
        loop_t0=engine.t0,
        wall_t0=engine.wall_t0,
        clock_resolution=resolution(loop),
        calls=len(engine.schedule.calls),
        speed=engine.options.speed,
        seed=engine.seed,
        **precision_of(loop),
    )


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: a value that really occurred, not an interpolation."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def exit_status(obj: object) -> int | None:
    """The exit status a callback's result or exception carries (``exec``'s), if any."""
    status = getattr(obj, "exit_status", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def error_info(exc: BaseException) -> ErrorInfo:
    if isinstance(exc, SystemExit):
        return ErrorInfo("SystemExit", f"exit status {exc.code}")
    output = getattr(exc, "stdout", "")
    return ErrorInfo(type(exc).__name__, str(exc), output if isinstance(output, str) else "")
