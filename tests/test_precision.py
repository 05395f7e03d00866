"""The precision loops: correctness only. How *precise* they are is measured, not asserted, by
benchmarks/bench_precision.py: timing assertions would flake on a shared two-core machine."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from timerctl import platform_selector, precision
from timerctl.precision import (
    Precision,
    PrecisionEventLoop,
    describe,
    precise_loop_factory,
)
from timerctl.timerslack import get_timer_slack

MODES = ["normal", "high"]
LINUX = sys.platform.startswith("linux")
DESCRIBE_KEYS = {
    "precision",
    "selector",
    "wait",
    "wait_resolution",
    "timer_slack_ns",
    "spin",
    "spin_lead",
    "spin_lead_ratio",
    "fallback",
}


def run_on(mode: str, main: Callable[[], Coroutine[Any, Any, Any]], **kw: Any) -> Any:
    factory = precise_loop_factory(mode) if not kw else (lambda: PrecisionEventLoop(mode, **kw))
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


async def _fire_all(specs: list[tuple[str, float, str]]) -> list[tuple[str, float, float]]:
    """Schedule ("at"|"later"|"soon", offset, label) entries; return (label, when, loop time)
    in the order the callbacks ran (``when`` of a soon callback: the time it was scheduled)."""
    loop = asyncio.get_running_loop()
    fired: list[tuple[str, float]] = []
    done = loop.create_future()
    whens: dict[str, float] = {}

    def cb(label: str) -> None:
        fired.append((label, loop.time()))
        if len(fired) == len(specs) and not done.done():
            done.set_result(None)

    t0 = loop.time()
    for kind, offset, label in specs:
        if kind == "soon":
            loop.call_soon(cb, label)
            whens[label] = t0
        elif kind == "later":
            whens[label] = loop.call_later(offset, cb, label).when()
        else:
            whens[label] = loop.call_at(t0 + offset, cb, label).when()
    await asyncio.wait_for(done, 5)  # a hang guard, not a timing assertion
    return [(label, whens[label], ran) for label, ran in fired]


@pytest.mark.parametrize("mode", MODES)
def test_factory_gives_a_fresh_precision_loop_each_time(mode: str) -> None:
    factory = precise_loop_factory(mode)
    a, b = factory(), factory()
    try:
        assert isinstance(a, PrecisionEventLoop) and a is not b
        assert a.precision is Precision(mode)
    finally:
        a.close()
        b.close()


def test_unknown_mode_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match=r"unknown precision mode 'ultra'.*normal, high"):
        precise_loop_factory("ultra")


@pytest.mark.parametrize("mode", MODES)
def test_callbacks_run_in_due_order_soon_first(mode: str) -> None:
    specs = [
        ("at", 0.006, "at6"),
        ("later", 0.002, "later2"),
        ("soon", 0.0, "soon"),
        ("at", 0.003, "at3"),
        ("later", 0.004, "later4"),
        ("at", 0.005, "at5-a"),
        ("at", 0.005, "at5-b"),  # a tie: asyncio leaves their order undefined (a heap)
        ("at", 0.0, "at0"),
    ]
    fired = run_on(mode, lambda: _fire_all(specs))
    labels = [label for label, _, _ in fired]
    assert labels[:5] == ["soon", "at0", "later2", "at3", "later4"]
    assert sorted(labels[5:7]) == ["at5-a", "at5-b"] and labels[7] == "at6"
    whens = [when for _, when, _ in fired]
    assert whens == sorted(whens)


@pytest.mark.parametrize("mode", MODES)
def test_no_callback_fires_before_its_when(mode: str) -> None:
    # Correctness, not precision: asyncio may run a timer only once time() >= when - resolution.
    specs = [("at", 0.0005 * i + 0.0001 * (i % 3), f"a{i}") for i in range(40)]
    specs += [("later", 0.0007 * i, f"l{i}") for i in range(20)]
    fired = run_on(mode, lambda: _fire_all(specs))
    assert len(fired) == len(specs)
    for label, when, ran in fired:
        assert ran >= when, f"{label} ran {when - ran:.9f} s early"


def test_high_mode_spins_to_the_deadline_never_before_it() -> None:
    # A lead longer than every wait: the whole wait is the spin, the code path under test.
    specs = [("at", 0.001 * i, f"a{i}") for i in range(1, 15)]
    fired = run_on("high", lambda: _fire_all(specs), lead=1.0)
    assert [label for label, _, _ in fired] == [label for _, _, label in specs]
    assert all(ran >= when for _, when, ran in fired)


@pytest.mark.parametrize("mode", MODES)
def test_signal_handler_wakes_a_waiting_loop(mode: str) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, got.set_result, "USR1")
        far = loop.call_later(30, lambda: None)  # the loop waits on a far timer meanwhile
        loop.call_later(0.003, os.kill, os.getpid(), signal.SIGUSR1)
        try:
            return await asyncio.wait_for(got, 5)  # a hang guard, not a timing assertion
        finally:
            far.cancel()
            loop.remove_signal_handler(signal.SIGUSR1)

    assert run_on(mode, main) == "USR1"


@pytest.mark.parametrize("mode", MODES)
def test_subprocess_exec_works(mode: str) -> None:
    async def main() -> tuple[int | None, bytes]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            "-c",
            "print('hi from child')",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
        return proc.returncode, out

    assert run_on(mode, main) == (0, b"hi from child\n")


@pytest.mark.parametrize("mode", MODES)
def test_io_from_another_thread_ends_the_wait(mode: str) -> None:
    # lead=60: in high mode the loop spins for the whole wait and must still poll I/O.
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        order: list[str] = []
        done = loop.create_future()
        rsock, wsock = socket.socketpair()
        rsock.setblocking(False)

        def readable() -> None:
            order.append(rsock.recv(16).decode())
            done.set_result(None)

        loop.add_reader(rsock, readable)
        far = loop.call_later(2, order.append, "timer")
        threading.Timer(0.005, wsock.send, (b"data",)).start()
        try:
            await asyncio.wait_for(done, 5)
        finally:
            far.cancel()
            loop.remove_reader(rsock)
            rsock.close()
            wsock.close()
        return order

    assert run_on(mode, main, lead=60.0) == ["data"]


def test_io_during_a_spin_leaves_the_timer_on_the_heap_to_fire_once_on_time() -> None:
    # The spin takes the next timer off the heap ahead of its due time; I/O that ends the spin
    # first must put it back: it then fires exactly once, not early.
    async def main() -> tuple[list[str], float, float]:
        loop = asyncio.get_running_loop()
        order: list[str] = []
        rsock, wsock = socket.socketpair()
        rsock.setblocking(False)
        timer_ran = loop.create_future()
        loop.add_reader(rsock, lambda: order.append(rsock.recv(16).decode()))

        def on_timer() -> None:
            order.append("timer")
            timer_ran.set_result(loop.time())

        handle = loop.call_later(0.05, on_timer)
        threading.Timer(0.005, wsock.send, (b"data",)).start()
        try:
            ran = await asyncio.wait_for(timer_ran, 5)
            await asyncio.sleep(0.01)  # a second firing would land here
        finally:
            loop.remove_reader(rsock)
            rsock.close()
            wsock.close()
        return order, handle.when(), ran

    order, when, ran = run_on("high", main, lead=60.0)
    assert sorted(order) == ["data", "timer"]
    assert ran >= when


def test_a_python_thread_is_not_starved_by_the_spin() -> None:
    # CPython hands the GIL to a waiting thread only after a switch interval with no release at
    # all; a spin that polls I/O (releasing it for an instant) would starve threads such as
    # asyncio's child watcher or a live display. The thread must run long before the timer.
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        order: list[str] = []
        done = loop.create_future()

        def on_timer() -> None:
            order.append("timer")
            done.set_result(None)

        loop.call_later(0.3, on_timer)
        threading.Timer(0.005, order.append, ("thread",)).start()
        await asyncio.wait_for(done, 5)
        return order

    assert run_on("high", main, lead=60.0) == ["thread", "timer"]


@pytest.mark.parametrize("mode", MODES)
def test_describe_without_a_loop(mode: str) -> None:
    info = describe(mode)
    assert set(info) == DESCRIBE_KEYS
    assert info["precision"] == mode
    assert info["spin"] is (mode == "high")
    assert (info["spin_lead"] is not None) is (mode == "high")
    if LINUX:
        assert info["selector"] == "EpollSelector"
        assert info["wait"] == "select" and info["wait_resolution"] == "1us"


@pytest.mark.parametrize("mode", MODES)
def test_describe_the_running_loop_reports_the_slack_in_force(mode: str) -> None:
    before = get_timer_slack()

    async def main() -> dict[str, Any]:
        return describe(mode, asyncio.get_running_loop())

    info = run_on(mode, main)
    assert set(info) == DESCRIBE_KEYS and info["precision"] == mode
    if LINUX and before is not None:
        assert info["timer_slack_ns"] == precision.TIMER_SLACK_NS
        assert get_timer_slack() == before  # the thread's own slack is given back


def test_a_loop_on_another_thread_sets_that_threads_slack_only() -> None:
    # Timer slack is per thread: a loop run by a worker thread must not touch the main
    # thread's (/proc/self/timerslack_ns is the main thread's; other threads use prctl).
    before = get_timer_slack()
    seen: dict[str, Any] = {}

    async def main() -> None:
        seen["loop"] = describe("normal", asyncio.get_running_loop())["timer_slack_ns"]
        if LINUX:
            with open("/proc/self/timerslack_ns") as f:  # the main thread's, read from here
                seen["main"] = int(f.read())

    worker = threading.Thread(target=run_on, args=("normal", main))
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    if LINUX and before is not None:
        assert seen == {"loop": precision.TIMER_SLACK_NS, "main": before}
    assert get_timer_slack() == before


def test_describe_another_loop_says_precision_does_not_apply() -> None:
    loop = asyncio.SelectorEventLoop()
    try:
        info = describe("normal", loop)
    finally:
        loop.close()
    assert set(info) == DESCRIBE_KEYS
    assert info["precision"] is None


def test_epoll_fd_beyond_fd_setsize_falls_back_to_ms_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not LINUX:
        pytest.skip("epoll is Linux-only")
    monkeypatch.setattr(platform_selector, "FD_SETSIZE", 0)  # every descriptor is "too high" now
    info = describe("normal")
    assert info["wait"] == "EpollSelector" and info["wait_resolution"] == "1ms"
    assert "FD_SETSIZE" in info["fallback"]
    fired = run_on("normal", lambda: _fire_all([("at", 0.002, "a"), ("later", 0.001, "b")]))
    assert [label for label, _, _ in fired] == ["b", "a"]


def test_select_only_selector_refuses_a_descriptor_it_cannot_watch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if sys.platform == "win32":
        pytest.skip("no FD_SETSIZE limit on descriptor numbers there")
    loop = PrecisionEventLoop("normal", selector_kind="select")  # its self-pipe is registered
    try:
        monkeypatch.setattr(platform_selector, "FD_SETSIZE", 0)
        a, b = socket.socketpair()
        with a, b, pytest.raises(ValueError, match="beyond select\\(\\)'s limit"):
            loop.add_reader(a, lambda: None)
        assert describe("normal", loop)["selector"] == "SelectOnly"
    finally:
        loop.close()


def test_select_only_selector_runs_timers() -> None:
    fired = run_on(
        "normal", lambda: _fire_all([("at", 0.002, "a"), ("soon", 0, "s")]), selector_kind="select"
    )
    assert [label for label, _, _ in fired] == ["s", "a"]
