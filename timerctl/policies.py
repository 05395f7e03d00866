"""The policies a due call meets before it starts: ``late_after`` and ``overlap``.

Pure: given where the entry stands, which action (if any) replaces starting the call now. The
engine applies the answer (skips, queues, or kills and starts) and records one Decision.
"""

from __future__ import annotations

from typing import NamedTuple

from .schedule import Call, Overlap


class Verdict(NamedTuple):
    action: str  # "skip" | "queue" | "kill" (Overlap values, or skip for late)
    why: str  # "late" | "overlap"


def decide(
    call: Call, late: float, *, running: bool, waiting: bool, speed: float
) -> Verdict | None:
    """What happens to a call due ``late`` seconds ago (None: it starts now, as usual).

    late_after comes first: a call too late is skipped whatever else runs. Then overlap, for an
    entry whose previous call still ``running``: queue keeps one ``waiting`` call at most (a
    queue that grows is a backlog), so a second is skipped.
    """
    if call.late_after is not None and late > call.late_after / speed:
        return Verdict("skip", "late")
    if running and call.overlap is not Overlap.ALLOW:
        if call.overlap is Overlap.QUEUE and waiting:
            return Verdict("skip", "overlap")
        return Verdict(call.overlap.value, "overlap")
    return None
