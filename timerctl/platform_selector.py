"""The platform selector that keeps a precision loop's I/O registrations, and the descriptor
its µs waits select() on.

select() can watch only descriptors below FD_SETSIZE (1024), which is why the plain
``SelectSelector`` is no answer: a run with many child processes would fail. Here select() is
handed exactly one descriptor, the epoll set's own, made with the loop (the lowest free number),
so the run may hold any number of descriptors. If even that one is >= 1024 (the process already
had a thousand open when the loop was made), the loop keeps epoll's own wait, correct but
ms-rounded, and ``precision.describe()`` says so under ``fallback``. On a platform with neither
epoll nor kqueue (kqueue waits to the ns already) the plain SelectSelector is used, and
registering a descriptor >= 1024 fails at once with a ValueError that says why, not later inside
select().
"""

from __future__ import annotations

import selectors
import sys
from typing import Any

#: select() can watch only descriptors below this (glibc's FD_SETSIZE; select.select raises
#: ValueError beyond it). ``normal`` passes it a single descriptor, the epoll set's own.
FD_SETSIZE = 1024


class _SelectOnly(selectors.SelectSelector):
    """SelectSelector that refuses, at registration, a descriptor select() cannot watch."""

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = super().register(fileobj, events, data)
        if key.fd >= FD_SETSIZE and sys.platform != "win32":
            super().unregister(fileobj)
            raise ValueError(
                f"file descriptor {key.fd} is beyond select()'s limit (FD_SETSIZE={FD_SETSIZE}) "
                "and this platform has neither epoll nor kqueue: run with the default event loop"
            )
        return key


def make_inner(kind: str | None = None) -> tuple[selectors.BaseSelector, int | None, str, str]:
    """The selector that holds the I/O registrations, the fd to select() on, names, fallback.

    Returns ``(selector, wait_fd, wait_resolution, fallback)``: ``wait_fd`` is None when the
    selector's own wait is already fine-grained (kqueue, select) or cannot be made so.
    """
    kind = kind or (
        "epoll"
        if hasattr(selectors, "EpollSelector")
        else "kqueue"
        if hasattr(selectors, "KqueueSelector")
        else "select"
    )
    if kind == "epoll":
        epoll = selectors.EpollSelector()
        fd = epoll.fileno()
        if fd < FD_SETSIZE:
            return epoll, fd, "1us", ""
        # epoll_create returns the lowest free descriptor, so none below the limit is free:
        # keep the (correct, ms-rounded) epoll wait rather than fail the run.
        return epoll, None, "1ms", f"epoll fd {fd} >= FD_SETSIZE ({FD_SETSIZE}): ms waits"
    if kind == "kqueue":  # kevent takes a timespec: ns waits already
        return selectors.KqueueSelector(), None, "1ns", ""  # type: ignore[attr-defined]
    return _SelectOnly(), None, "1us", ""


__all__ = ["FD_SETSIZE", "make_inner"]
