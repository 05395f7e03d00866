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
from ..schedule import Call, Kind, Repeat, RunConfig, Schedule
from . import messages as msg
from .localtime import Gap, next_time, resolve_datetime
from .rules import (
    ATTR,
    CALL_KEYS,
    CALL_RULES,
    IN_REPEAT,
    KIND_OF,
    NEEDS,
    RUN_KEYS,
    RUN_RULES,
    TIMING_KEYS,
    TOP_KEYS,
    Bad,
)
from .toml import Locator, Path

Message = str | Callable[[Callable[[Path], tuple[int, int | None]]], str]


def _defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING}


_CALL_DEFAULTS = _defaults(Call)
_REPEAT_DEFAULTS = _defaults(Repeat)
_UNCHECKED = object()


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
            rule = RUN_RULES.get(key)
            if rule is None:
                self.problem(("run", key), msg.unknown_key(key, "[run]", suggest(key, RUN_KEYS)))
                continue
            convert, into, _ = rule
            converted = convert(value)
            if type(converted) is Bad:
                self.problem(("run", key), converted.message)
            else:
                attrs[into] = converted
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
            return (f" (it is in the schedule's folder, which is not on the import path: "
                    f"run with PYTHONPATH={folder})")
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
        counters = dict.fromkeys(Kind, 0)
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

    def entry(self, i: int, d: dict[str, Any],
              counters: dict[Kind, int]) -> tuple[str | None, Call | None]:
        """The entry's name (when it has one, valid or not) and its Call (when valid).

        Written for speed: a 100,000-entry schedule runs it 100,000 times.
        """
        attrs: dict[str, Any] = {}
        repeat: dict[str, Any] | None = None
        bad = False
        timing: str | None = None
        n_timing = 0
        get_rule = CALL_RULES.get
        for key, value in d.items():
            rule = get_rule(key)
            if rule is None:
                self.problem(("call", i, key),
                             msg.unknown_key(key, "[[call]]", suggest(key, CALL_KEYS)))
                bad = True
                continue
            convert, into, part = rule
            converted = convert(value)
            if part == ATTR:
                attrs[into] = converted
            elif part == IN_REPEAT:
                if repeat is None:
                    repeat = {}
                repeat[into] = converted
            else:
                timing, n_timing = key, n_timing + 1
                attrs[into] = converted
            if type(converted) is Bad:
                self.problem(("call", i, key), converted.message)
                bad = True

        kind: Kind | None = None
        offset = attrs.get("offset", 0.0)
        wall_at = None
        if n_timing == 1:
            kind = KIND_OF[timing]  # type: ignore[index]
            if type(offset) is not float and type(offset) is not Bad:
                wall_at = self.wall_clock(i, offset)
                offset = 0.0
                bad = bad or wall_at is None
        elif n_timing == 0:
            self.problem(("call", i), msg.NO_TIMING)
            bad = True
        else:
            first, second = [k for k in TIMING_KEYS if k in d][:2]
            self.problem(("call", i, second), msg.two_timings(first, second))
            bad = True

        spec = None
        callback = attrs.get("callback")
        if callback is None:
            self.problem(("call", i), msg.NO_CALLBACK)
            bad = True
        elif type(callback) is str:
            spec = self.callback(i, callback)
            bad = bad or spec is None

        args = attrs.get("args", ())
        kwargs = attrs.get("kwargs")
        if type(args) is Bad or type(kwargs) is Bad:
            bad = True
        elif spec is not None:
            why = self.arguments(spec, args, kwargs or {})
            if why is not None:
                key = "kwargs" if "kwargs" in d else "args" if "args" in d else "callback"
                self.problem(("call", i, key), f"bad arguments for '{spec.name}': {why}")
                bad = True

        built_repeat = None
        if repeat is not None:
            built_repeat = self.repeat(i, d, repeat, offset, wall_at)
            bad = bad or built_repeat is None

        name = attrs.get("name")
        if type(name) is Bad:
            name = None
        if kind is not None:
            n = counters[kind] = counters[kind] + 1
            if name is None:
                name = f"{kind.value}#{n}"
        if bad or name is None:
            return name, None
        call = object.__new__(Call)  # checked above: a Call without a second check
        fields = {**_CALL_DEFAULTS, **attrs}
        fields.update(name=name, kind=kind, callback=spec.name,  # type: ignore[union-attr]
                      args=args, kwargs=kwargs if kwargs is not None else {}, offset=offset,
                      wall_at=wall_at, repeat=built_repeat)
        object.__setattr__(call, "__dict__", fields)
        return name, call

    def callback(self, i: int, name: str) -> Any:
        """The CallbackSpec the entry names, or None after recording why not."""
        spec = self.specs.get(name, _UNCHECKED)
        if spec is not _UNCHECKED:
            if spec is None:
                self.unknown_callback(i, name)
            return spec
        try:
            spec = self.registry.get(name)
        except PluginError as exc:
            self.problem(("call", i, "callback"), str(exc))
            return None
        self.specs[name] = spec
        if spec is not None and spec.entry_params:
            self.naming[spec.name] = spec
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

    def wall_clock(self, i: int, value: datetime | dtime) -> datetime | None:
        """The aware moment of a wall-clock ``at``, or None after recording why not."""
        try:
            moment = (resolve_datetime(value) if isinstance(value, datetime)
                      else next_time(value, self.now))
            ahead = moment.timestamp() - self.now
        except Gap as exc:
            self.problem(("call", i, "at"), f"'at' = {msg.show(value)} {exc}")
            return None
        except (OverflowError, ValueError, OSError):  # year 1 or 9999 in the local zone
            self.problem(("call", i, "at"), f"'at' = {msg.show(value)} is out of range")
            return None
        if ahead < 0:
            now = datetime.fromtimestamp(self.now).astimezone().isoformat()
            self.problem(("call", i, "at"),
                         f"'at' = {msg.show(value)} is {msg.human_duration(-ahead)} in the past "
                         f"(now is {now})")
            return None
        return moment

    def repeat(self, i: int, d: dict[str, Any], values: dict[str, Any], offset: Any,
               wall_at: datetime | None) -> Repeat | None:
        if "every" not in d:
            for key in d:
                if key in NEEDS and NEEDS[key] not in d:
                    self.problem(("call", i, key), msg.needs(key, NEEDS[key]))
            return None
        if any(type(v) is Bad for v in values.values()):
            return None
        until = values.get("until")
        if until is not None and type(offset) is float:
            first = offset if wall_at is None else max(0.0, wall_at.timestamp() - self.now)
            if until < first:
                self.problem(("call", i, "until"),
                             f"'until' = {until:g} is before the first call (at {first:g}s): "
                             "it would never run")
                return None
        built = object.__new__(Repeat)
        object.__setattr__(built, "__dict__", {**_REPEAT_DEFAULTS, **values})
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
                    self.problem(("call", i, key),
                                 f"'{call.callback}' takes the name of an entry (a string), "
                                 f"not {msg.show(target)}")
                elif target not in names:
                    self.problem(("call", i, key),
                                 f"'{call.callback}' names no entry of this schedule: "
                                 f"{msg.quoted(target)}{suggest(target, names)}")
