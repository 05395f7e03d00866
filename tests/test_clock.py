"""The virtual-time event loop: jumps to the next timer, integer ticks, real I/O still wakes it."""

from __future__ import annotations

import asyncio
import math
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from timerctl.clock import VirtualClockLoop
from timerctl.errors import LoopUnavailable
from timerctl.loops import loop_factory


def run_on(coro_fn: Callable[[], Coroutine[Any, Any, Any]], start: float = 0.0) -> Any:
    with asyncio.Runner(loop_factory=lambda: VirtualClockLoop(start=start)) as runner:
        return runner.run(coro_fn())


@pytest.fixture
def watchdog() -> Iterator[Callable[[float], None]]:
    """Turns a loop that spins forever into a TimeoutError after ``seconds`` of real time."""

    def boom(*_: object) -> None:
        raise TimeoutError("the virtual loop never got there")

    previous = signal.signal(signal.SIGALRM, boom)

    def arm(seconds: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, seconds)

    yield arm
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_time_starts_where_asked() -> None:
    assert run_on(lambda: _now()) == 0.0
    assert run_on(lambda: _now(), start=1e6) == 1e6
    assert run_on(lambda: _now(), start=42.5) == 42.5


async def _now() -> float:
    return asyncio.get_running_loop().time()


def test_sleep_jumps_instantly_and_exactly(watchdog: Callable[[float], None]) -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        seen = []
        for _ in range(10):
            await asyncio.sleep(0.1)
            seen.append(loop.time())
        await asyncio.sleep(3600)
        seen.append(loop.time())
        return seen

    watchdog(30.0)  # an hour of loop time: a loop that really waited would be stopped here
    seen = run_on(main)
    assert seen == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 3601.0]


def test_timers_fire_in_due_order_at_their_due_time() -> None:
    async def main() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []
        done = loop.create_future()
        loop.call_later(0.2, lambda: fired.append(("b", loop.time())))
        loop.call_at(loop.time() + 0.3, lambda: done.set_result(None))
        loop.call_later(0.1, lambda: fired.append(("a", loop.time())))
        loop.call_soon(lambda: fired.append(("soon", loop.time())))
        await done
        return fired

    assert run_on(main) == [("soon", 0.0), ("a", 0.1), ("b", 0.2)]


def test_call_soon_does_not_move_the_clock() -> None:
    async def main() -> float:
        for _ in range(100):
            await asyncio.sleep(0)
        return asyncio.get_running_loop().time()

    assert run_on(main, start=7.0) == 7.0


def test_advance_moves_the_clock_like_a_blocking_call() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        fired = loop.create_future()
        loop.call_later(0.1, lambda: fired.set_result(loop.time()))
        loop.advance(0.25)  # blocked past the timer: it fires late, at once
        return loop.time(), await fired

    assert run_on(main) == (0.25, 0.25)


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_advance_refuses_nonsense(bad: float) -> None:
    loop = VirtualClockLoop()
    try:
        with pytest.raises(ValueError):
            loop.advance(bad)
        assert loop.time() == 0.0
    finally:
        loop.close()


def test_a_cancelled_timer_does_not_move_the_clock() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        loop.call_later(100, print).cancel()
        await asyncio.sleep(1)
        return loop.time()

    assert run_on(main) == 1.0


def test_real_io_from_another_thread_wakes_a_loop_with_no_timer() -> None:
    async def main() -> tuple[str, float]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[str] = loop.create_future()
        threading.Timer(0.05, loop.call_soon_threadsafe, (fut.set_result, "woken")).start()
        return await fut, loop.time()

    assert run_on(main) == ("woken", 0.0)  # real time passed, virtual time did not


def test_resolution_is_a_nanosecond() -> None:
    loop = VirtualClockLoop()
    try:
        assert loop._clock_resolution == 1e-9
    finally:
        loop.close()


def test_loop_factory_kinds() -> None:
    assert loop_factory("asyncio", virtual=True) is VirtualClockLoop
    loop = loop_factory("asyncio")()
    try:
        assert not hasattr(loop, "advance")
    finally:
        loop.close()
    with pytest.raises(LoopUnavailable):
        loop_factory("uvloop", virtual=True)


@pytest.mark.parametrize("start", [1e6, 1e7])
def test_timers_one_float_step_apart_both_fire(start: float, watchdog) -> None:  # type: ignore[no-untyped-def]
    later = start + 0.7
    earlier = math.nextafter(later, 0)

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        fired: list[str] = []
        done = loop.create_future()
        loop.call_at(earlier, fired.append, "earlier")
        loop.call_at(later, done.set_result, "later")
        fired.append(await done)
        return fired

    watchdog(0.3)
    assert run_on(main, start=start) == ["earlier", "later"]


@pytest.mark.parametrize("start", [2e7, 1e8])
def test_timers_one_float_step_apart_far_from_zero(start: float, watchdog) -> None:  # type: ignore[no-untyped-def]
    test_timers_one_float_step_apart_both_fire(start, watchdog)
