"""Ending an ``exec`` child's process group: SIGTERM, a short grace, then SIGKILL.

The child runs in a session of its own, so its process group holds everything it started
(grandchildren included); ending the group ends them all. The emergency paths -- ``os._exit``
on a second Ctrl-C, our own sudden death -- are ``children.CHILDREN`` and its watchdog.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time


def signal_group(pgid: int, sig: int) -> bool:
    """Send sig to the group; False when nobody is left in it."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed credentials (setuid): nothing more we can do
        return True
    return True


def group_alive(pgid: int) -> bool:
    """Whether a member of the group still runs: zombies waiting for init to reap them don't."""
    if not signal_group(pgid, 0):
        return False
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:  # no procfs: a zombie counts as alive, and costs the grace at worst
        return True
    return any(_runs_in(pid, pgid) for pid in pids)


def _runs_in(pid: str, pgid: int) -> bool:
    """Whether process pid is a live (not zombie) member of group pgid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
    fields = stat[stat.rfind(b")") + 2 :].split()
    return len(fields) > 2 and fields[2] == str(pgid).encode() and fields[0] != b"Z"


def terminate_group(pgid: int, grace: float) -> None:
    """SIGTERM the group, give it ``grace`` seconds to go, then SIGKILL whoever is left.

    Blocking, on purpose: it runs in a thread, so it finishes even if the awaiting task is
    cancelled again, and it waits real seconds on a virtual clock too.
    """
    if not signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    pause = 0.002
    while time.monotonic() < deadline:
        time.sleep(pause)
        if not group_alive(pgid):
            return
        pause = min(pause * 2, 0.05)
    signal_group(pgid, signal.SIGKILL)


async def end_group(pgid: int, grace: float) -> None:
    """``terminate_group`` in a thread of the loop's executor."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, terminate_group, pgid, grace)
