"""A parsed document -> Schedule, applying the rules of ``rules.py``.

Valid entries are checked and built a shape at a time (``batch``); every other entry is judged
here, entry by entry, and each of its problems recorded with the path of what it is about
(``("call", 3, "later")``). Positions are looked up only at the end, when there are problems
(``locate.Locator``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import datetime
from datetime import time as dtime
from typing import Any

from ..errors import PluginError, Problem, ScheduleError
from ..registry import Registry, suggest
from ..schedule import Call, Repeat, RunConfig, Schedule
from . import messages as msg
from . import pieces
from .batch import Batch, Verdicts
from .localtime import moment_of
from .locate import Locator, Path
from .references import reference_problems
from .rules import (
    CALENDARS,
    CALL_KEYS,
    CALL_RULES,
    NEEDS,
    NOT_FOR_CALENDARS,
    REPEAT_INTO,
    RUN_INTO,
    RUN_KEYS,
    RUN_RULES,
    TIMING_KEYS,
    TOP_KEYS,
    Bad,
)

CALL_KEYSET = frozenset(CALL_KEYS)
TIMING_KEYSET = frozenset(TIMING_KEYS)
REPEAT_KEYSET = frozenset(key for key, _ in REPEAT_INTO)

Message = str | Callable[[Callable[[Path], tuple[int, int | None]]], str]


_UNCHECKED = object()
_new, _set = object.__new__, object.__setattr__
_NO_KWARGS: dict[str, Any] = {}  # shown to validators of entries without kwargs: never kept
#: every attribute of a Repeat in its own __dict__, as __init__ would leave it
_REPEAT_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Repeat) if f.default is not dataclasses.MISSING
}


class Checker:
    """Checks one parsed document; records problems instead of stopping at the first."""

    def __init__(
        self, path: str, text: str, registry: Registry, now: float, *, build: bool = True
    ) -> None:
        self.path = path
        self.build = build  # False: judge only (``timerctl check``): no Call is made
        self.text = text
        self.registry = registry
        self.now = now
        self.pending: list[tuple[Path, Message, bool]] = []
        self.plugin_failed = False  # then unknown callbacks are most likely its own
        self.arg_checks: dict[tuple[str, int, tuple[str, ...]], str | None] = {}
        self.specs: dict[str, Any] = {}  # callback name -> spec (None: unknown)
        self.naming: dict[str, Any] = {}  # specs whose arguments name entries (``cancel``)
        self.locator = Locator(text, 0)

    def problem(self, where: Path, message: Message, *, value: bool = False) -> None:
        self.pending.append((where, message, value))
        if len(where) >= 2 and where[0] == "call" and isinstance(where[1], int):
            self.locator.wanted.add(where[1])

    def problems(self) -> list[Problem]:
        # the locator checks a problem entry's lines against its parse; the fast path dropped
        # the entries it built (one may have a problem: a name taken twice)
        entries = self.locator.entries
        if any(entries[i] is None for i in self.locator.wanted):
            entries[:] = pieces.loads(self.text)["call"]  # parsed before: it cannot fail
        where = self.locator.where
        found = []
        for path, message, value in self.pending:
            line, col = where(path, value=value) if path else (1, None)
            text = message if isinstance(message, str) else message(where)
            found.append(Problem(self.path, line, col, msg.one_line(text)))
        return found

    # the document --------------------------------------------------------------------------
    def judge(self, doc: dict[str, Any]) -> tuple[RunConfig, list[Any]]:
        """The run's settings and the entries (see ``calls``); ScheduleError with every
        problem of the document."""
        for key in doc:
            if key not in TOP_KEYS:
                self.problem((key,), msg.unknown_top_key(key, suggest(key, TOP_KEYS)))
        run = self.run_config(doc["run"]) if "run" in doc else RunConfig()
        calls = self.calls(doc.get("call"))
        if self.pending:
            raise ScheduleError(self.path, self.problems())
        return run, calls

    def schedule(self, doc: dict[str, Any]) -> Schedule:
        run, calls = self.judge(doc)
        for call, line in zip(calls, self.locator.call_lines(), strict=True):
            call.__dict__["line"] = line
        return Schedule(path=self.path, calls=tuple(calls), run=run)

    # [run] -----------------------------------------------------------------------------------
    def run_config(self, raw: Any) -> RunConfig:
        if type(raw) is not dict:
            self.problem(("run",), msg.RUN_NOT_TABLE)
            return RunConfig()
        attrs: dict[str, Any] = {}
        for key, value in raw.items():
            convert = RUN_RULES.get(key)
            if convert is None:
                self.problem(("run", key), msg.unknown_key(key, "[run]", suggest(key, RUN_KEYS)))
                continue
            try:
                attrs[RUN_INTO[key]] = convert(value)
            except Bad as bad:
                self.problem(("run", key), bad.message)
        for module in attrs.get("plugins", ()):
            try:
                self.registry.load_plugin(module)
            except PluginError as exc:
                self.plugin_failed = True
                self.problem(("run", "plugins"), str(exc) + self.plugin_hint(module))
        return RunConfig(**attrs)

    def plugin_hint(self, module: str) -> str:
        """Where a plugin beside the schedule is, and why it was not found there."""
        folder = os.path.dirname(os.path.abspath(self.path))
        candidate = os.path.join(folder, *module.split("."))
        if os.path.exists(candidate + ".py") or os.path.isdir(candidate):
            return (
                f" (it is in the schedule's folder, which is not on the import path: "
                f"run with PYTHONPATH={folder})"
            )
        return ""

    # [[call]] --------------------------------------------------------------------------------
    def calls(self, raw: Any) -> list[Any]:
        """The entries' Calls, in file order (when only judging: one None per valid entry)."""
        entries = self.entries(raw)
        if not entries:
            return []
        self.locator = Locator(self.text, len(entries))
        self.locator.entries = entries
        verdicts = Batch(self, build=self.build).calls(entries)
        if self.naming and not self.build:  # the entries they name are checked on Calls
            verdicts = Batch(self).calls(entries)
        names = verdicts.names
        if verdicts.done and not self.naming and len(set(names)) == len(names):
            if self.build:  # every entry valid, none names another, no name taken twice
                for call, name in zip(verdicts.built, names, strict=True):
                    call.__dict__["name"] = name
            return verdicts.built
        return self.one_by_one(entries, verdicts)

    def entries(self, raw: Any) -> list[dict[str, Any]]:
        """The [[call]] entries, or [] after saying why there are none."""
        if raw is None or raw == []:
            self.problem(() if raw is None else ("call",), msg.NO_CALLS)
        elif type(raw) is dict:
            self.problem(("call",), msg.CALL_IS_TABLE)
        elif type(raw) is not list or not set(map(type, raw)) <= {dict}:  # parsers make dicts
            self.problem(("call",), msg.CALL_NOT_ARRAY)
        else:
            return raw
        return []

    def one_by_one(self, raw: list[dict[str, Any]], verdicts: Verdicts) -> list[Any]:
        """The entries in file order: those the fast path left judged, every one named, each
        name checked against the names before it."""
        counters: dict[str, int] = {}
        seen: dict[str, int] = {}  # name -> the entry that has it
        valid: list[Any] = []
        referring: list[tuple[int, Call]] = []
        for i, (call, key) in enumerate(zip(verdicts.built, verdicts.keys, strict=True)):
            name = self.name_of(i, raw[i], verdicts, counters)
            if name is None:
                continue
            if name in seen:
                named = bool(verdicts.explicit[i]) if raw[i] is None else "name" in raw[i]
                taken = self._duplicate(name, seen[name], named)
                self.problem(("call", i, "name"), taken)
                continue
            seen[name] = i
            if key:
                valid.append(call)
                if call is not None and call.callback in self.naming:
                    referring.append((i, call))
        if referring:
            for where, message in reference_problems(self.naming, referring, list(seen)):
                self.problem(where, message)
        if not self.pending and len(valid) < len(raw):
            lost = verdicts.keys.index("")
            raise AssertionError(f"entry {lost} was neither built nor refused")
        return valid

    def name_of(
        self, i: int, d: dict[str, Any], verdicts: Verdicts, counters: dict[str, int]
    ) -> str | None:
        """A valid entry's name (a default one is the kind and a count); else the name of an
        entry judged now, after its problems are recorded."""
        key = verdicts.keys[i]
        if not key:
            return self.problems_of(i, d, counters)[0]
        n = counters[key] = counters.get(key, 0) + 1
        name = verdicts.names[i] if verdicts.explicit[i] else f"{key}#{n}"
        call = verdicts.built[i]
        if call is not None:
            call.__dict__["name"] = name
        return name

    @staticmethod
    def _duplicate(name: str, first: int, named: bool) -> Message:
        def message(where: Callable[[Path], tuple[int, int | None]]) -> str:
            line = where(("call", first))[0]
            return msg.duplicate_name(name, line) if named else msg.default_name_taken(name, line)

        return message

    def problems_of(
        self, i: int, d: dict[str, Any], counters: dict[str, int]
    ) -> tuple[str | None, None]:
        """Every problem of an entry, recorded; its name (to find duplicates), if it has one."""
        values = self.converted(i, d)
        timing = [k for k in TIMING_KEYS if k in d]
        calendar = len(timing) == 1 and timing[0] in CALENDARS
        offset, wall_at = self.timing(i, d, values, timing, calendar)
        spec = self.callback_of(i, values)
        if spec is not None:
            self.arguments_of(i, d, values, spec)
        if not calendar and not d.keys().isdisjoint(REPEAT_KEYSET):
            self.repeat(i, d, values, offset, wall_at)
        name = values.get("name")
        if type(name) is Bad:
            name = None
        if len(timing) == 1:
            n = counters[timing[0]] = counters.get(timing[0], 0) + 1
            if name is None:
                name = f"{timing[0]}#{n}"
        return name, None

    def converted(self, i: int, d: dict[str, Any]) -> dict[str, Any]:
        """The entry's values as its rules convert them (a refused one: its ``Bad``)."""
        values: dict[str, Any] = {}
        for key, value in d.items():
            convert = CALL_RULES.get(key)
            if convert is None:
                where = ("call", i, key)
                self.problem(where, msg.unknown_key(key, "[[call]]", suggest(key, CALL_KEYS)))
                continue
            try:
                values[key] = convert(value)
            except Bad as bad:
                values[key] = bad  # refused: said here, and skipped by the checks below
                self.problem(("call", i, key), bad.message)
        return values

    def timing(
        self, i: int, d: dict[str, Any], values: dict[str, Any], timing: list[str], calendar: bool
    ) -> tuple[Any, datetime | None]:
        """The problems of the entry's timing keys; its offset and wall-clock moment."""
        if calendar:
            for key in NOT_FOR_CALENDARS & d.keys():
                self.problem(("call", i, key), msg.not_for_calendar(key, timing[0]))
            return 0.0, None
        if "tz" in d:
            self.problem(("call", i, "tz"), msg.tz_needs_calendar())
        if not timing:
            self.problem(("call", i), msg.NO_TIMING)
            return None, None
        if len(timing) > 1:
            self.problem(("call", i, timing[1]), msg.two_timings(timing[0], timing[1]))
            return None, None
        offset = values.get(timing[0])
        if offset is None or type(offset) is float or type(offset) is Bad:
            return offset, None
        moment = self.wall_clock(offset)
        if isinstance(moment, str):
            self.problem(("call", i, "at"), moment)
            return 0.0, None
        return 0.0, moment

    def callback_of(self, i: int, values: dict[str, Any]) -> Any:
        """The entry's CallbackSpec, or None (after saying why, unless it was refused)."""
        callback = values.get("callback")
        if callback is None:
            self.problem(("call", i), msg.NO_CALLBACK)
            return None
        return self.callback(i, callback) if type(callback) is str else None

    def arguments_of(self, i: int, d: dict[str, Any], values: dict[str, Any], spec: Any) -> None:
        """Whether the callback takes the entry's arguments (unless they were refused)."""
        args = values.get("args", ())
        kwargs = values.get("kwargs")
        if type(args) is Bad or type(kwargs) is Bad:
            return
        why = spec.bind_error(args, kwargs or {}) or spec.value_error(args, kwargs or {})
        if why:
            key = "kwargs" if "kwargs" in d else "args" if "args" in d else "callback"
            self.problem(("call", i, key), f"bad arguments for '{spec.name}': {why}")

    def lookup(self, name: str) -> Any:
        """The CallbackSpec of a name (cached), None when there is none (or it fails)."""
        if name not in self.specs:
            try:
                spec = self.registry.get(name)
            except PluginError:
                return None  # said by ``callback``
            self.specs[name] = spec
            if spec is not None and spec.entry_params:
                self.naming[spec.name] = spec
        return self.specs[name]

    def callback(self, i: int, name: str) -> Any:
        """The CallbackSpec the entry names, or None after recording why not."""
        try:
            spec = self.registry.get(name) if name not in self.specs else self.specs[name]
        except PluginError as exc:
            self.problem(("call", i, "callback"), str(exc))
            return None
        spec = self.lookup(name)
        if spec is None:
            self.unknown_callback(i, name)
        return spec

    def unknown_callback(self, i: int, name: str) -> None:
        if self.plugin_failed:
            return  # most likely the failed plugin's: its error says enough
        if name.isprintable() and len(name) <= 60:
            message = self.registry.unknown_message(name)
        else:
            message = f"unknown callback {msg.quoted(name)}{suggest(name, self.registry.names())}"
        self.problem(("call", i, "callback"), message)

    def arguments(self, spec: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        # Binding depends only on how many arguments and which keywords: checked once per
        # shape, not once per entry of a 100,000-entry schedule. A value check is per entry.
        shape = (spec.name, len(args), tuple(kwargs) if kwargs else ())
        why = self.arg_checks.get(shape, _UNCHECKED)
        if why is _UNCHECKED:
            why = self.arg_checks[shape] = spec.bind_error(args, kwargs)
        if why is None and spec.validate is not None:
            why = spec.validate(args, kwargs)
        return why  # type: ignore[return-value]

    def wall_clock(self, value: datetime | dtime) -> datetime | str:
        """The aware moment of a wall-clock ``at``, or why there is none."""
        return moment_of(value, self.now)

    def repeat(
        self,
        i: int,
        d: dict[str, Any],
        values: dict[str, Any],
        offset: Any,
        wall_at: datetime | None,
    ) -> Repeat | None:
        """The Repeat of an entry's repeat keys, or None after recording why not."""
        if "every" not in d:
            for key in d:
                if key in NEEDS and NEEDS[key] not in d:
                    self.problem(("call", i, key), msg.needs(key, NEEDS[key]))
            return None
        fields = {into: values[key] for key, into in REPEAT_INTO if key in values}
        if Bad in set(map(type, fields.values())):
            return None
        until = fields.get("until")
        if until is not None and type(offset) is float:
            first = offset if wall_at is None else max(0.0, wall_at.timestamp() - self.now)
            if until < first:
                self.problem(
                    ("call", i, "until"),
                    f"'until' = {until:g} is before the first call (at {first:g}s): "
                    "it would never run",
                )
                return None
        built = _new(Repeat)
        _set(built, "__dict__", {**_REPEAT_DEFAULTS, **fields})
        return built
