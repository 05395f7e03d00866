"""A parsed document -> Schedule, applying the rules of ``rules.py`` entry by entry.

Every problem of the file is collected, each with the path of what it is about
(``("call", 3, "later")``); positions are looked up only at the end, when there are problems
(``toml.Locator``), so a valid file costs its parse and one dict-dispatch per key.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable
from datetime import datetime
from datetime import time as dtime
from typing import Any

from ..errors import PluginError, Problem, ScheduleError
from ..registry import Registry, suggest
from ..schedule import Call, Repeat, RunConfig, Schedule
from . import messages as msg
from .localtime import Gap, next_time, resolve_datetime
from .locate import Locator, Path
from .rules import (
    CALENDARS,
    CALL_EXTRAS,
    CALL_KEYS,
    CALL_RULES,
    EXTRA_KEYSET,
    KIND_OF,
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

    def __init__(self, path: str, text: str, registry: Registry, now: float) -> None:
        self.path = path
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
        where = self.locator.where
        found = []
        for path, message, value in self.pending:
            line, col = where(path, value=value) if path else (1, None)
            text = message if isinstance(message, str) else message(where)
            found.append(Problem(self.path, line, col, msg.one_line(text)))
        return found

    # the document --------------------------------------------------------------------------
    def schedule(self, doc: dict[str, Any]) -> Schedule:
        for key in doc:
            if key not in TOP_KEYS:
                self.problem((key,), msg.unknown_top_key(key, suggest(key, TOP_KEYS)))
        run = self.run_config(doc["run"]) if "run" in doc else RunConfig()
        calls = self.calls(doc.get("call"))
        if self.pending:
            raise ScheduleError(self.path, self.problems())
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
    def calls(self, raw: Any) -> list[Call]:
        if raw is None:
            self.problem((), msg.NO_CALLS)
            return []
        if type(raw) is dict:
            self.problem(("call",), msg.CALL_IS_TABLE)
            return []
        if type(raw) is not list or not set(map(type, raw)) <= {dict}:  # parsers make dicts
            self.problem(("call",), msg.CALL_NOT_ARRAY)
            return []
        if not raw:
            self.problem(("call",), msg.NO_CALLS)
            return []
        self.locator = Locator(self.text, len(raw))
        self.locator.entries = raw
        counters: dict[str, int] = {}
        seen: dict[str, int] = {}  # name -> the entry that has it
        built: list[Call] = []
        referring: list[tuple[int, Call]] = []
        entry = self.entry
        for i, d in enumerate(raw):
            name, call = entry(i, d, counters)
            if name is None:
                continue
            if name in seen:
                self.problem(("call", i, "name"), self._duplicate(name, seen[name], "name" in d))
                continue
            seen[name] = i
            if call is not None:
                built.append(call)
                if call.callback in self.naming:
                    referring.append((i, call))
        if referring:
            self.entry_references(referring, list(seen))
        return built

    @staticmethod
    def _duplicate(name: str, first: int, named: bool) -> Message:
        def message(where: Callable[[Path], tuple[int, int | None]]) -> str:
            line = where(("call", first))[0]
            return msg.duplicate_name(name, line) if named else msg.default_name_taken(name, line)

        return message

    def entry(
        self, i: int, d: dict[str, Any], counters: dict[str, int]
    ) -> tuple[str | None, Call | None]:
        """The entry's name (when it has one, valid or not) and its Call (when valid).

        Written for speed: a 100,000-entry schedule runs it 100,000 times. The good case is
        a few C-level set and dict operations and one converter call per key; every problem
        is found again, slowly, and worded, by ``problems_of``.
        """
        keys = d.keys()
        if not keys <= CALL_KEYSET:
            return self.problems_of(i, d, counters)
        try:
            values = {key: CALL_RULES[key](value) for key, value in d.items()}
        except Bad:
            return self.problems_of(i, d, counters)
        timing = keys & TIMING_KEYSET
        if len(timing) != 1 or "callback" not in values:
            return self.problems_of(i, d, counters)
        (key,) = timing
        offset = values[key]
        wall_at: Any = None
        rule = None
        if key in CALENDARS:
            if not keys.isdisjoint(NOT_FOR_CALENDARS):
                return self.problems_of(i, d, counters)
            rule, offset = _wall_rule(key, values), 0.0
        elif "tz" in values:
            return self.problems_of(i, d, counters)
        elif type(offset) is not float:
            wall_at = self.wall_clock(offset)
            if type(wall_at) is str:
                return self.problems_of(i, d, counters)
            offset = 0.0
        spec = self.specs.get(values["callback"], _UNCHECKED)
        if spec is _UNCHECKED:
            spec = self.lookup(values["callback"])
        if spec is None:
            return self.problems_of(i, d, counters)
        args = values.get("args", ())
        kwargs = values.get("kwargs")
        # Binding depends only on how many arguments and which keywords: checked once per
        # shape, not once per entry. A callback's own check of the values is per entry.
        shape = (spec.name, len(args), tuple(kwargs) if kwargs else ())
        why = self.arg_checks.get(shape, _UNCHECKED)
        if why is _UNCHECKED:
            why = self.arg_checks[shape] = spec.bind_error(args, kwargs or _NO_KWARGS)
        if why is None and spec.validate is not None:
            why = spec.validate(args, kwargs or _NO_KWARGS)
        if why is not None:
            return self.problems_of(i, d, counters)
        repeat = None
        if rule is None and not keys.isdisjoint(REPEAT_KEYSET):
            if "every" not in values:
                return self.problems_of(i, d, counters)
            fields = {into: values[k] for k, into in REPEAT_INTO if k in values}
            until = fields.get("until")
            if until is not None and until < (
                offset if wall_at is None else wall_at.timestamp() - self.now
            ):
                return self.problems_of(i, d, counters)
            repeat = _new(Repeat)
            _set(repeat, "__dict__", {**_REPEAT_DEFAULTS, **fields})
        n = counters[key] = counters.get(key, 0) + 1
        name = values.get("name")
        if name is None:
            name = f"{key}#{n}"  # the default name: the timing key (the kind) and a count
        # The Call is made without a second check (its __init__ and __post_init__ would be a
        # quarter of a 100,000-entry load).
        fields = {
            "name": name,
            "kind": KIND_OF[key],
            "callback": spec.name,
            "args": args,
            "kwargs": kwargs if kwargs is not None else {},
            "offset": offset,
            "wall_at": wall_at,
            "repeat": repeat,
            "line": 0,
        }
        if rule is not None:
            fields["rule"] = rule
        if not keys.isdisjoint(EXTRA_KEYSET):  # keys whose rows name another attribute of Call
            fields.update((into, values[k]) for k, into in CALL_EXTRAS if k in values)
        call = _new(Call)
        _set(call, "__dict__", fields)
        return name, call

    def problems_of(
        self, i: int, d: dict[str, Any], counters: dict[str, int]
    ) -> tuple[str | None, None]:
        """Every problem of an entry, recorded; its name (to find duplicates), if it has one."""
        values: dict[str, Any] = {}
        for key, value in d.items():
            convert = CALL_RULES.get(key)
            if convert is None:
                self.problem(
                    ("call", i, key), msg.unknown_key(key, "[[call]]", suggest(key, CALL_KEYS))
                )
                continue
            try:
                values[key] = convert(value)
            except Bad as bad:
                values[key] = bad  # refused: said here, and skipped by the checks below
                self.problem(("call", i, key), bad.message)

        timing = [k for k in TIMING_KEYS if k in d]
        offset = values.get(timing[0]) if len(timing) == 1 else None
        wall_at: Any = None
        calendar = len(timing) == 1 and timing[0] in CALENDARS
        if calendar:
            for key in NOT_FOR_CALENDARS & d.keys():
                self.problem(("call", i, key), msg.not_for_calendar(key, timing[0]))
        elif "tz" in d:
            self.problem(("call", i, "tz"), msg.tz_needs_calendar())
        if calendar:
            offset = 0.0
        elif len(timing) == 1:
            if offset is not None and type(offset) is not float and type(offset) is not Bad:
                moment = self.wall_clock(offset)
                if type(moment) is str:
                    self.problem(("call", i, "at"), moment)
                else:
                    wall_at = moment
                offset = 0.0
        elif not timing:
            self.problem(("call", i), msg.NO_TIMING)
        else:
            self.problem(("call", i, timing[1]), msg.two_timings(timing[0], timing[1]))

        callback = values.get("callback")
        spec = None
        if callback is None:
            self.problem(("call", i), msg.NO_CALLBACK)
        elif type(callback) is str:
            spec = self.callback(i, callback)

        args = values.get("args", ())
        kwargs = values.get("kwargs")
        if spec is not None and type(args) is not Bad and type(kwargs) is not Bad:
            why = spec.bind_error(args, kwargs or {}) or spec.value_error(args, kwargs or {})
            if why:
                key = "kwargs" if "kwargs" in d else "args" if "args" in d else "callback"
                self.problem(("call", i, key), f"bad arguments for '{spec.name}': {why}")

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
        try:
            moment = (
                resolve_datetime(value)
                if isinstance(value, datetime)
                else next_time(value, self.now)
            )
            ahead = moment.timestamp() - self.now
        except Gap as exc:
            return f"'at' = {msg.show(value)} {exc}"
        except (OverflowError, ValueError, OSError):  # year 1 or 9999 in the local zone
            return f"'at' = {msg.show(value)} is out of range"
        if ahead < 0:
            now = datetime.fromtimestamp(self.now).astimezone().isoformat()
            return (
                f"'at' = {msg.show(value)} is {msg.human_duration(-ahead)} in the past "
                f"(now is {now})"
            )
        return moment

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

    def entry_references(self, referring: list[tuple[int, Call]], names: list[str]) -> None:
        """Arguments that name entries (``cancel``'s) must name one that exists."""
        for i, call in referring:
            spec = self.naming[call.callback]
            try:
                bound = inspect.signature(spec.func).bind(*call.args, **call.kwargs)
            except (TypeError, ValueError):
                continue
            for param in spec.entry_params:
                if param not in bound.arguments:
                    continue
                target = bound.arguments[param]
                key = "kwargs" if param in call.kwargs else "args"
                if not isinstance(target, str):
                    self.problem(
                        ("call", i, key),
                        f"'{call.callback}' takes the name of an entry (a string), "
                        f"not {msg.show(target)}",
                    )
                elif target not in names:
                    self.problem(
                        ("call", i, key),
                        f"'{call.callback}' names no entry of this schedule: "
                        f"{msg.quoted(target)}{suggest(target, names)}",
                    )


def _wall_rule(key: str, values: dict[str, Any]) -> Any:
    """A cron/calendar entry's timing: its expression, zone and bounds (all checked)."""
    from ..calendars import RuleKind, WallRule

    return WallRule(
        RuleKind(key),
        values[key],
        values.get("tz"),
        count=values.get("count"),
        until=values.get("until"),
    )
