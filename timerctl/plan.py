"""The timeline a schedule will follow, computed without invoking anything.

It mirrors the engine's rules: ``soon`` entries first in file order, then timers by due time;
fixed-rate repeats at first + k*every; fixed-delay repeats assume an instant callback (a real one
drifts by its duration). The built-ins ``stop`` and ``cancel`` end the plan or an entry where
they run. It also points out what users trip over.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import count as counter

from .schedule import Call, Kind, Mode, Schedule

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


def _first_due(call: Call, wall_t0: float) -> float | None:
    if call.rule is not None:
        moment = call.rule.next_after(wall_t0)
        if moment is None or not call.rule.within(1, moment - wall_t0):
            return None
        return _ns(moment - wall_t0)
    if call.wall_at is not None:
        return _ns(max(0.0, call.wall_at.timestamp() - wall_t0))
    return _ns(call.offset)


def _firings(call: Call, wall_t0: float) -> int | None:
    """How many times an entry fires at most (None: until stopped)."""
    first = _first_due(call, wall_t0)
    if first is None:
        return 0
    if call.rule is not None:
        return _rule_firings(call, wall_t0)
    if call.repeat is None:
        return 1
    return call.repeat.firings(first)


def _rule_firings(call: Call, wall_t0: float, cap: int = 10_000) -> int | None:
    """A calendar's firings: its count, or its moments up to until (counted, up to a cap)."""
    rule = call.rule
    assert rule is not None
    if rule.until is None or rule.count is not None:
        return rule.count
    n, moment = 0, rule.next_after(wall_t0)
    while moment is not None and rule.within(n + 1, moment - wall_t0) and n < cap:
        n += 1
        moment = rule.next_after(moment)
    return n if n < cap else None


def make_plan(schedule: Schedule, wall_t0: float, *, limit: int = 200) -> Plan:
    """Expand the schedule into its first ``limit`` steps, in the order the loop will run them."""
    seq = counter()
    heap: list[tuple[int, float, int, Call, int]] = []  # (soon-first, due, tie, call, n)
    for call in schedule.calls:
        first = _first_due(call, wall_t0)
        if first is None:
            continue
        soon = 0 if call.kind is Kind.SOON and not (call.repeat and call.repeat.jitter) else 1
        heapq.heappush(heap, (soon, first, next(seq), call, 1))
    steps: list[Step] = []
    fired: dict[str, int] = {}
    dropped: set[str] = set()  # entries a `cancel` step removed
    effects: list[str] = []
    stopped = False
    while heap and len(steps) < limit:
        _, due, _, call, n = heapq.heappop(heap)
        if call.name in dropped:
            continue
        steps.append(Step(len(steps) + 1, call, n, due))
        fired[call.name] = n
        rep = call.repeat
        if rep is not None:
            nxt = _ns(_first_due(call, wall_t0) + n * rep.every)  # type: ignore[operator]
            if rep.within(n + 1, nxt):
                heapq.heappush(heap, (1, nxt, next(seq), call, n + 1))
        elif call.rule is not None:
            moment = call.rule.next_after(wall_t0 + due)
            if moment is not None and call.rule.within(n + 1, moment - wall_t0):
                heapq.heappush(heap, (1, _ns(moment - wall_t0), next(seq), call, n + 1))
        # The built-ins whose effect on the timeline is known: shown, not guessed at.
        if call.callback == "stop":
            effects.append(f"{call.name} stops the run at T+{due:g}s: nothing after it runs")
            stopped = True
            break
        target = _cancel_target(call)
        if target is not None and target not in dropped:
            dropped.add(target)
            effects.append(f"{call.name} cancels what is left of {target} at T+{due:g}s")
    more: dict[str, int | None] = {}
    for call in schedule.calls:
        if stopped or call.name in dropped:
            continue
        total = _firings(call, wall_t0)
        done = fired.get(call.name, 0)
        if total is None:
            more[call.name] = None
        elif total > done:
            more[call.name] = total - done
    notes = (*effects, *_notes(schedule, steps), *_calendar_notes(schedule, steps, wall_t0))
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
        notes.append(f"{call.name}: {rule.describe()} is on the wall clock: each moment is "
                     "re-armed when the wall clock steps or the machine resumes")
        moments = [datetime.fromtimestamp(wall_t0 + s.due, rule.zone) for s in steps
                   if s.call is call]
        start = datetime.fromtimestamp(wall_t0, rule.zone)
        notes += [f"{call.name}: {note}" for note in dst_notes(moments, start)]
    return notes


def _cancel_target(call: Call) -> str | None:
    if call.callback != "cancel":
        return None
    target = call.args[0] if call.args else call.kwargs.get("entry")
    return target if isinstance(target, str) else None


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
                notes.append(f"{call.name}: every = {rep.every:g}s with no count or until "
                             "repeats until stopped (--timeout, a stop callback or Ctrl-C)")
            if rep.mode is Mode.FIXED_DELAY:
                notes.append(f"{call.name}: fixed-delay: each call is due {rep.every:g}s after "
                             "the previous one returned; times shown assume instant calls")
            if rep.jitter:
                notes.append(f"{call.name}: jitter adds up to {rep.jitter:g}s to each due time "
                             "(times shown without it)")
    return notes
