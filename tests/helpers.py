"""Small helpers shared by the engine, clock, render and CLI tests."""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timerctl import engine
from timerctl.events import CallRecord, Cancelled, End, Event, Start
from timerctl.load import load_text
from timerctl.registry import REGISTRY, Registry
from timerctl.render import RenderOptions, make
from timerctl.schedule import Schedule

TIMERCTL = str(Path(sys.executable).with_name("timerctl"))

#: data that rich would take for markup and an emoji code: every format must show it verbatim
MARKUP = "[red]x[/red] :smile:"
WALL = 1_800_000_000.0  # 2027-01-15T08:00:00Z

#: the renderers' run (the ``run`` fixture): a result, a seed call, a failure, a cancel
RENDER_SCHEDULE = f"""
    [[call]]
    name = "greet"
    soon = true
    callback = "echo"
    args = ["{MARKUP}"]

    [[call]]
    name = "seed"
    later = 0.1
    callback = "callback"
    args = [2]
    kwargs = {{ kwarg = "not default" }}

    [[call]]
    name = "boom"
    later = 0.2
    callback = "fail"
    args = ["kaput"]

    [[call]]
    name = "tick"
    later = 0.05
    every = 0.1
    count = 5
    callback = "echo"
    args = ["tick"]

    [[call]]
    name = "killer"
    later = 0.3
    callback = "cancel"
    args = ["tick"]
"""


def schedule(
    text: str, *, registry: Registry = REGISTRY, now: float | None = None, path: str = "s.toml"
) -> Schedule:
    """A Schedule from (indented) TOML text."""
    return load_text(textwrap.dedent(text), path, registry=registry, now=now)


def registry_with(**funcs: Callable[..., Any]) -> Registry:
    """A fresh registry holding the built-ins plus ``funcs`` (nothing leaks into REGISTRY)."""
    reg = Registry()
    # every built-in, whole: its load-time ``validate`` check too (a copy without it let a test
    # schedule load what the real registry refuses)
    for spec in REGISTRY.specs():
        if spec.origin == "built-in":
            reg.register(
                spec.func,
                spec.name,
                origin=spec.origin,
                entry_params=spec.entry_params,
                validate=spec.validate,
            )
    for name, func in funcs.items():
        reg.register(func, name, origin="plugin tests")
    return reg


@dataclass
class Run:
    """The events of one run, with the usual views."""

    events: list[Event] = field(default_factory=list)

    @property
    def start(self) -> Start:
        first = self.events[0]
        assert isinstance(first, Start)
        return first

    @property
    def end(self) -> End:
        last = self.events[-1]
        assert isinstance(last, End)
        return last

    @property
    def records(self) -> list[CallRecord]:
        return [e for e in self.events if isinstance(e, CallRecord)]

    @property
    def cancels(self) -> list[Cancelled]:
        return [e for e in self.events if isinstance(e, Cancelled)]

    def of(self, entry: str) -> list[CallRecord]:
        return [r for r in self.records if r.entry == entry]

    def results(self) -> list[Any]:
        return [r.result for r in self.records]


def run_virtual(
    text: str,
    *,
    registry: Registry = REGISTRY,
    now: float | None = None,
    wall_clock: Callable[[], float] | None = None,
    **options: Any,
) -> Run:
    """Load ``text`` and run it on the virtual clock; every event is kept."""
    sched = schedule(text, registry=registry, now=now)
    run = Run()
    kw: dict[str, Any] = {} if wall_clock is None else {"wall_clock": wall_clock}
    engine.run(
        sched,
        run.events.append,
        options=engine.RunOptions(**options),
        virtual=True,
        registry=registry,
        **kw,
    )
    return run


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no colour forcing, no PYTHONUNBUFFERED."""
    drop = {
        "PYTHONUNBUFFERED",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
        "TERM",
        "COLUMNS",
        "TTY_COMPATIBLE",
        "TTY_INTERACTIVE",
    }
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


def render(fmt: str, events: list[Event], **options: Any) -> str:
    """What the ``fmt`` renderer writes for these events."""
    buf = io.StringIO()
    sink = make(fmt, buf, RenderOptions(**options))
    for event in events:
        sink(event)
    return buf.getvalue()


def render_jsonl(events: list[Event]) -> list[dict[str, Any]]:
    """The jsonl renderer's lines, parsed (each one a whole line)."""
    out = render("jsonl", events)
    assert out.endswith("\n")
    return [json.loads(line) for line in out.splitlines()]


def wait_until(predicate: Callable[[], object], within: float = 10.0, what: str = "") -> None:
    """Until ``predicate()`` is true: synchronise on a state (output written, a file filled, a
    process in a given wait), never on a guessed delay. ``within`` only bounds a hang."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"never came: {what or predicate}"
        time.sleep(0.005)  # the pause between two looks of a poll, not a synchronisation


def kernel_wait(pid: int) -> str:
    """Where ``pid``'s main thread sleeps in the kernel (``/proc/PID/wchan``): ``hrtimer_nanosleep``
    inside time.sleep, ``pipe_read`` reading a pipe; "" once it is gone."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def signal_pending(pid: int, sig: int) -> bool:
    """Whether ``sig`` was sent to ``pid`` but not delivered yet (two pending SIGINTs are one)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    bit = 1 << (sig - 1)
    return any(
        int(line.split()[1], 16) & bit
        for line in status.splitlines()
        if line.startswith(("SigPnd:", "ShdPnd:"))
    )
