"""The calling thread's timer slack (Linux): the precision loops ask for 1 ns while they run.

Linux adds "timer slack" to every sleeping wait: 50 µs per thread by default, settable down to
1 ns with ``prctl(PR_SET_TIMERSLACK)``. It is per thread and inherited across fork and exec:
children started by the ``exec`` callback run with 1 ns slack too. Harmless (a few more wake-ups
for a child that sleeps a lot). Read and set through /proc on the main thread, else prctl
through ctypes; best effort elsewhere (None: cannot be read or set).
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable

_PR_SET_TIMERSLACK = 29
_PR_GET_TIMERSLACK = 30


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, or None where there is none (not Linux, no ctypes, no libc)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes  # here, not at the top: ~1.5 ms of start-up only a real run needs

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (ImportError, OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return prctl


def _proc_slack_path() -> str | None:
    """/proc/self/timerslack_ns when the caller is the main thread, else None.

    That file is the thread-group leader's slack, and a thread may write its own without any
    privilege (Linux >= 4.6): the CLI's loop runs on the main thread, and this saves importing
    ctypes (~1.5 ms of start-up). Other threads go through prctl, which acts on the caller.
    """
    if not sys.platform.startswith("linux"):
        return None
    return _PROC_SLACK if threading.current_thread() is threading.main_thread() else None


_PROC_SLACK = "/proc/self/timerslack_ns"


def get_timer_slack() -> int | None:
    """The calling thread's timer slack in ns, or None where it cannot be read."""
    path = _proc_slack_path()
    if path is not None:
        try:
            with open(path, "rb") as f:
                return int(f.read())
        except (OSError, ValueError):
            pass
    prctl = _prctl()
    if prctl is None:
        return None
    value = prctl(_PR_GET_TIMERSLACK, 0, 0, 0, 0)
    return value if value >= 0 else None


def set_timer_slack(ns: int) -> int | None:
    """Set the calling thread's timer slack; returns the previous value, None if unsupported.

    Best effort by design: on other systems, or in a sandbox that forbids it, the loop still
    works, only with the kernel's default slack. ``ns`` must be >= 1 (0 means "the default").
    """
    previous = get_timer_slack()
    if previous is None:
        return None
    path = _proc_slack_path()
    if path is not None:
        try:
            with open(path, "wb") as f:
                f.write(str(ns).encode())
            return previous
        except OSError:
            pass
    prctl = _prctl()
    if prctl is None or prctl(_PR_SET_TIMERSLACK, ns, 0, 0, 0) != 0:
        return None
    return previous


__all__ = ["get_timer_slack", "set_timer_slack"]
