"""The timeline a schedule will follow, computed without invoking anything.

Due times come from the same timing classes the engine arms (``schedule.Timing``): ``soon``
entries first in file order, then timers by due time; fixed-rate repeats at first + k*every;
fixed-delay repeats assume an instant callback (a real one drifts by its duration). The built-ins
in ``EFFECTS`` (``stop``, ``cancel``) end the plan or an entry where they run. It also points out
what users trip over.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count as counter

from .schedule import Call, Kind, Mode, OnWallClock, Schedule, Timing

DAY = 86400.0


@dataclass(frozen=True)
class Step:
    order: int
    call: Call
    n: int  # firing number of its entry
    due: float  # seconds after t0


@dataclass(frozen=True)
class Plan:
    schedule: Schedule
    wall_t0: float
    steps: tuple[Step, ...]
    more: dict[str, int | None]  # entry -> firings beyond the limit (None: unbounded)
    notes: tuple[str, ...]


def _ns(seconds: float) -> float:
    """On the nanosecond grid, as the engine keeps due times on the virtual clock."""
    return round(seconds * 1_000_000_000) / 1_000_000_000


def _first_due(timing: Timing, wall_t0: float) -> float | None:
    """When the entry's first call is due, as plan shows it: a wall-clock moment already past
    (the only kind of negative answer) runs at once, at T+0, as the engine runs it."""
    first = timing.first_due(wall_t0)
    return None if first is None else _ns(max(0.0, first))


def _next_due(timing: Timing, n: int, due: float, first: float, wall_t0: float) -> float | None:
    """When call ``n`` is due after call n-1 at ``due``: the same answer the engine arms, with
    every call taken as instant (a fixed-delay call ends where it started)."""
    if isinstance(timing, OnWallClock):
        wall = wall_t0 + due
        moment = timing.next_moment(n, after=wall, wall_now=wall, wall_t0=wall_t0)
        return None if moment is None else _ns(moment - wall_t0)
    nxt = timing.next_due(n, first=first, ended=due)
    return None if nxt is None else _ns(nxt)


@dataclass
class _Walk:
    """The expansion under way: steps so far, and what the built-ins did to the timeline."""

    steps: list[Step] = field(default_factory=list)
    fired: dict[str, int] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)  # entries a `cancel` step removed
    effects: list[str] = field(default_factory=list)
    stopped: bool = False

    def effect(self, call: Call, due: float) -> None:
        """The built-ins whose effect on the timeline is known: shown, not guessed at."""
        effect = EFFECTS.get(call.callback)
        if effect is not None:
            effect(self, call, due)

    def more(self, schedule: Schedule, wall_t0: float) -> dict[str, int | None]:
        """Each entry's calls beyond the steps shown (None: unbounded)."""
        more: dict[str, int | None] = {}
        for call in schedule.calls:
            if self.stopped or call.name in self.dropped:
                continue
            timing = call.timing
            first = _first_due(timing, wall_t0)
            total = 0 if first is None else timing.firings(first, wall_t0)
            done = self.fired.get(call.name, 0)
            if total is None:
                more[call.name] = None
            elif total > done:
                more[call.name] = total - done
        return more


def _stop(walk: _Walk, call: Call, due: float) -> None:
    walk.effects.append(f"{call.name} stops the run at T+{due:g}s: nothing after it runs")
    walk.stopped = True


def _cancel(walk: _Walk, call: Call, due: float) -> None:
    target = call.args[0] if call.args else call.kwargs.get("entry")
    if isinstance(target, str) and target not in walk.dropped:
        walk.dropped.add(target)
        walk.effects.append(f"{call.name} cancels what is left of {target} at T+{due:g}s")


#: the built-in callbacks (builtins.py) that change the timeline itself, and how
EFFECTS: dict[str, Callable[[_Walk, Call, float], None]] = {"stop": _stop, "cancel": _cancel}


def make_plan(schedule: Schedule, wall_t0: float, *, limit: int = 200) -> Plan:
    """Expand the schedule into its first ``limit`` steps, in the order the loop will run them:
    immediate (call_soon) entries first in file order, then timers by due time, ties in the
    order they were armed (the engine's moments keep it)."""
    seq = counter()
    heap: list[tuple[int, float, int, Call, Timing, float, int]] = []
    for call in schedule.calls:
        timing = call.timing
        first = _first_due(timing, wall_t0)
        if first is not None:
            soon = 0 if timing.immediate else 1
            heapq.heappush(heap, (soon, first, next(seq), call, timing, first, 1))
    walk = _Walk()
    while heap and len(walk.steps) < limit and not walk.stopped:
        _, due, _, call, timing, first, n = heapq.heappop(heap)
        if call.name in walk.dropped:
            continue
        walk.steps.append(Step(len(walk.steps) + 1, call, n, due))
        walk.fired[call.name] = n
        nxt = _next_due(timing, n + 1, due, first, wall_t0)
        if nxt is not None:
            heapq.heappush(heap, (1, nxt, next(seq), call, timing, first, n + 1))
        walk.effect(call, due)
    more = walk.more(schedule, wall_t0)
    steps = walk.steps
    notes = (*walk.effects, *_notes(schedule, steps), *_calendar_notes(schedule, steps, wall_t0))
    return Plan(schedule, wall_t0, tuple(steps), more, notes)


def _calendar_notes(schedule: Schedule, steps: list[Step], wall_t0: float) -> list[str]:
    """For cron and calendar entries: what they are, and the DST gaps and folds among the
    moments shown (where a moment moved, was skipped, or comes twice)."""
    from datetime import datetime

    from .calendars import dst_notes

    notes = []
    for call in schedule.calls:
        rule = call.rule
        if rule is None:
            continue
        notes.append(
            f"{call.name}: {rule.describe()} is on the wall clock: each moment is "
            "re-armed when the wall clock steps or the machine resumes"
        )
        moments = [
            datetime.fromtimestamp(wall_t0 + s.due, rule.zone) for s in steps if s.call is call
        ]
        start = datetime.fromtimestamp(wall_t0, rule.zone)
        notes += [f"{call.name}: {note}" for note in dst_notes(moments, start)]
    return notes


def _notes(schedule: Schedule, steps: list[Step]) -> list[str]:
    notes: list[str] = []
    by_due: dict[float, list[str]] = {}
    for s in steps:
        if s.call.kind is Kind.SOON and s.n == 1:
            continue  # call_soon entries run FIFO: their order is defined
        by_due.setdefault(s.due, []).append(f"{s.call.name}" + (f" (n={s.n})" if s.n > 1 else ""))
    for due, names in by_due.items():
        if len(set(names)) > 1:
            notes.append(
                f"{', '.join(names)} are due at the same moment (T+{due:g}s): they run in the "
                "order scheduled (timerctl keeps it; asyncio alone does not promise it)"
            )
    for call in schedule.calls:
        if call.kind is Kind.LATER and call.offset > DAY:
            notes.append(f"{call.name}: later = {call.offset:g}s is more than a day away")
        if call.wall_at is not None:
            notes.append(
                f"{call.name}: at = {call.wall_at.isoformat()} is a wall-clock moment, converted "
                "once to the loop clock when the run starts"
            )
        rep = call.repeat
        if rep is not None:
            if not rep.bounded:
                notes.append(
                    f"{call.name}: every = {rep.every:g}s with no count or until "
                    "repeats until stopped (--timeout, a stop callback or Ctrl-C)"
                )
            if rep.mode is Mode.FIXED_DELAY:
                notes.append(
                    f"{call.name}: fixed-delay: each call is due {rep.every:g}s after "
                    "the previous one returned; times shown assume instant calls"
                )
            if rep.jitter:
                notes.append(
                    f"{call.name}: jitter adds up to {rep.jitter:g}s to each due time "
                    "(times shown without it)"
                )
    return notes
