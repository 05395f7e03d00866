"""The process groups timerctl started (``exec``), and a watchdog that ends them if we die.

``exec`` ends its child's whole group on every way out of the call, and a signal ends the run
cleanly, so normally nothing is left. What no handler can see is our own sudden death: SIGKILL,
the OOM killer, a crash. A child would then run on, for as long as it likes (issue 15: 41 s).
So the first ``exec`` of a process starts a watchdog: a tiny Python process, in a session of
its own (no terminal signal reaches it), reading the groups we tell it about on a pipe. When
the pipe closes, which the kernel does however we die, it ends the groups still listed:
SIGTERM, a short grace, SIGKILL. A clean exit tells it nothing is left, and it leaves at once.

A ``PR_SET_PDEATHSIG`` on the group leader would only reach the leader, not what it started
(``sh -c 'sleep 30 & sleep 30'``), and needs a ``preexec_fn``, which is unsafe with threads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

#: how long the watchdog gives a group between SIGTERM and SIGKILL
GRACE = 0.5

_WATCHDOG = f"""\
import os, signal, time
groups, rest = set(), b""
while True:
    try:
        data = os.read(0, 4096)
    except InterruptedError:
        continue
    except OSError:
        data = b""
    if not data:
        break
    *lines, rest = (rest + data).split(b"\\n")
    for line in lines:
        if line[:1] == b"+":
            groups.add(int(line[1:]))
        elif line[:1] == b"-":
            groups.discard(int(line[1:]))


def send(pgid, sig):
    try:
        os.killpg(pgid, sig)
        return True
    except OSError:
        return False


groups = {{g for g in groups if send(g, signal.SIGTERM)}}
deadline = time.monotonic() + {GRACE}
while groups and time.monotonic() < deadline:
    time.sleep(0.02)
    groups = {{g for g in groups if send(g, 0)}}
for g in groups:
    send(g, signal.SIGKILL)
"""


class Children:
    """The groups of running ``exec`` children: for an exit that skips cleanup (a second
    Ctrl-C) and, through the watchdog, for a death that nobody handles."""

    def __init__(self) -> None:
        self._groups: set[int] = set()
        self._lock = threading.Lock()
        self._pipe: int | None = None  # the watchdog's stdin
        self._watchdog: subprocess.Popen[bytes] | None = None

    def __len__(self) -> int:
        return len(self._groups)

    def __contains__(self, pgid: object) -> bool:
        return pgid in self._groups

    def add(self, pgid: int) -> None:
        """A group now exists (call before the first await after spawning it)."""
        with self._lock:
            self._groups.add(pgid)
            self._tell(f"+{pgid}\n")

    def discard(self, pgid: int) -> None:
        """The group has been ended, or has ended."""
        with self._lock:
            if pgid in self._groups:
                self._groups.discard(pgid)
                self._tell(f"-{pgid}\n")

    def kill_all(self) -> int:
        """SIGKILL every group now; returns how many. For ``os._exit`` on a second signal."""
        groups = list(self._groups)
        for pgid in groups:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        return len(groups)

    def start_watchdog(self) -> None:
        """Start the watchdog, once per process (the first ``exec`` does)."""
        with self._lock:
            if self._pipe is not None or not sys.executable:
                return
            try:
                # -I -S: no site, no environment, no current folder: starts in ~10 ms
                self._watchdog = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-c", _WATCHDOG],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                    start_new_session=True,
                )
            except OSError:
                return  # no watchdog: the handled ways out still end every group
            assert self._watchdog.stdin is not None
            self._pipe = self._watchdog.stdin.fileno()
            self._tell("".join(f"+{pgid}\n" for pgid in self._groups))

    def _tell(self, line: str) -> None:
        if self._pipe is None or not line:
            return
        try:
            os.write(self._pipe, line.encode())
        except OSError:  # the watchdog is gone (killed by hand): carry on without it
            self._pipe = None


#: the process's children: process-wide, like the process table it mirrors
CHILDREN = Children()
