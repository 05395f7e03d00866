"""TOML text -> Schedule, collecting every problem of a file with the line it is on.

tomllib gives values but no positions, so a small line scanner (``_Index``) finds where each
``[[call]]`` table and each key starts; validation then reports ``FILE:LINE:COL`` for each problem.
Several tomllib failure modes are not TOMLDecodeError (deep nesting, huge integers, bad UTF-8):
each is caught here and located, so no user input ever ends in a traceback.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from .errors import PluginError, Problem, ScheduleError
from .registry import REGISTRY, Registry, suggest
from .schedule import Call, Kind, LoopImpl, Mode, Repeat, RunConfig, Schedule

STDIN = "-"
STDIN_NAME = "<stdin>"

TOP_KEYS = ("run", "call")
RUN_KEYS = ("loop", "plugins")
TIMING_KEYS = ("soon", "later", "at")
REPEAT_KEYS = ("every", "count", "until", "mode", "jitter")
CALL_KEYS = ("name", *TIMING_KEYS, "callback", "args", "kwargs", *REPEAT_KEYS)

#: a file larger than this is refused before parsing: tomllib would take minutes on it
MAX_BYTES = 64 * 1024 * 1024


# -- locating keys ---------------------------------------------------------------------------

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\]#]*?)[ \t]*\]\]?[ \t]*(?:#.*)?$")
_KEY = re.compile(r"""^[ \t]*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)[ \t]*[.=]""")


def _unquote(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


@dataclass
class _Table:
    line: int
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)

    def at(self, key: str) -> tuple[int, int | None]:
        return self.keys.get(key, (self.line, None))


@dataclass
class _Index:
    """Where things are in the text: good enough for messages, never used for values."""

    top: _Table
    run: _Table | None
    calls: list[_Table]

    @classmethod
    def scan(cls, text: str) -> _Index:
        top = _Table(1)
        run: _Table | None = None
        calls: list[_Table] = []
        current: _Table | None = top
        in_string: str | None = None
        for lineno, raw in enumerate(text.splitlines(), 1):
            if in_string:
                if raw.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = _HEADER.match(raw)
            if header:
                parts = [_unquote(p.strip()) for p in header.group(2).split(".")]
                if parts == ["call"] and header.group(1) == "[[":
                    current = _Table(lineno)
                    calls.append(current)
                elif parts == ["run"]:
                    current = run = _Table(lineno)
                elif parts[0] == "call" and calls and len(parts) > 1:
                    calls[-1].keys.setdefault(parts[1], (lineno, 1))
                    current = None  # keys of a sub-table belong to it, not to the call
                else:
                    top.keys.setdefault(parts[0], (lineno, 1))
                    current = None
                continue
            key = _KEY.match(raw)
            if key and current is not None:
                current.keys.setdefault(_unquote(key.group(1)), (lineno, key.start(1) + 1))
            for quote in ('"""', "'''"):
                if raw.count(quote) % 2 == 1:
                    in_string = quote
                    break
        return cls(top, run, calls)


# -- reading and parsing ---------------------------------------------------------------------


def read_source(path: str) -> tuple[bytes, str]:
    """The bytes of a schedule and the name to show for it (``-`` is stdin)."""
    if path == STDIN:
        return sys.stdin.buffer.read(), STDIN_NAME
    p = Path(path)
    try:
        if p.is_dir():
            raise ScheduleError(path, [Problem(path, 0, None, "is a directory, not a schedule")])
        size = p.stat().st_size
        if size > MAX_BYTES:
            msg = f"file is {size} bytes; schedules over {MAX_BYTES} bytes are refused"
            raise ScheduleError(path, [Problem(path, 0, None, msg)])
        return p.read_bytes(), path
    except FileNotFoundError:
        raise ScheduleError(path, [Problem(path, 0, None, "no such file")]) from None
    except PermissionError:
        raise ScheduleError(path, [Problem(path, 0, None, "permission denied")]) from None
    except OSError as exc:
        raise ScheduleError(path, [Problem(path, 0, None, exc.strerror or str(exc))]) from None


def _decode(data: bytes, path: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); a schedule must be UTF-8 text"
        raise ScheduleError(path, [Problem(path, line, col, msg)]) from None


_TOML_POS = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")


def _deepest_line(text: str) -> int:
    depth, best, best_line = 0, -1, 1
    for lineno, raw in enumerate(text.splitlines(), 1):
        for ch in raw:
            if ch in "[{":
                depth += 1
                if depth > best:
                    best, best_line = depth, lineno
            elif ch in "]}":
                depth -= 1
    return best_line


def _parse_toml(text: str, path: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.match(msg)
        if m:
            problem = Problem(path, int(m.group(2)), int(m.group(3)), f"invalid TOML: {m.group(1)}")
        else:
            end = msg.replace(" (at end of document)", "")
            problem = Problem(path, text.count("\n") + 1, None, f"invalid TOML: {end}")
        raise ScheduleError(path, [problem]) from None
    except RecursionError:
        line = _deepest_line(text)
        problem = Problem(path, line, None, "nesting too deep for the TOML parser")
        raise ScheduleError(path, [problem]) from None
    except ValueError as exc:  # int() refuses integers of more than 4300 digits
        m = re.search(r"\d{1000,}", text)
        line = text.count("\n", 0, m.start()) + 1 if m else 1
        problem = Problem(path, line, None, f"number too large: {exc}")
        raise ScheduleError(path, [problem]) from None


# -- validation --------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | dtime):
        return "a date/time"
    return type(value).__name__


def _human_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes else []
    parts += [f"{secs}s"] if secs or not parts else []
    return "".join(parts)


class _Checker:
    """Validates one parsed document; records problems instead of stopping at the first."""

    def __init__(self, path: str, index: _Index, registry: Registry, now: float) -> None:
        self.path = path
        self.index = index
        self.registry = registry
        self.now = now
        self.problems: list[Problem] = []

    def error(self, where: tuple[int, int | None], message: str) -> None:
        self.problems.append(Problem(self.path, where[0], where[1], message))

    def number(
        self, table: _Table, key: str, value: Any, *, minimum: float = 0.0, strict: bool = False
    ) -> float | None:
        """A finite number >= minimum (> when strict), or None after recording why not."""
        where = table.at(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(where, f"'{key}' must be a number of seconds, not {_type_name(value)}")
            return None
        try:
            number = float(value)
        except OverflowError:
            self.error(where, f"'{key}' is out of range")
            return None
        if not math.isfinite(number):
            self.error(where, f"'{key}' must be finite, not {value!r}")
            return None
        if number < minimum or (strict and number == minimum):
            op = ">" if strict else ">="
            self.error(where, f"'{key}' must be {op} {minimum:g}, not {value!r}")
            return None
        return number

    # [run] ------------------------------------------------------------------------------------
    def run_config(self, raw: Any) -> RunConfig:
        table = self.index.run or _Table(self.index.top.at("run")[0])
        if not isinstance(raw, dict):
            self.error(self.index.top.at("run"), "'run' must be a table ([run])")
            return RunConfig()
        for key in raw:
            if key not in RUN_KEYS:
                hint = suggest(key, RUN_KEYS)
                self.error(table.at(key), f"unknown key '{key}' in [run]{hint}")
        loop = LoopImpl.ASYNCIO
        if "loop" in raw:
            value = raw["loop"]
            choices = [e.value for e in LoopImpl]
            if value in choices:
                loop = LoopImpl(value)
            else:
                hint = suggest(str(value), choices) if isinstance(value, str) else ""
                self.error(
                    table.at("loop"),
                    f"'loop' must be one of {', '.join(map(repr, choices))}, not {value!r}{hint}",
                )
        plugins: tuple[str, ...] = ()
        if "plugins" in raw:
            value = raw["plugins"]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                self.error(table.at("plugins"), "'plugins' must be an array of module names")
            else:
                plugins = tuple(value)
                for module in plugins:
                    try:
                        self.registry.load_plugin(module)
                    except PluginError as exc:
                        self.error(table.at("plugins"), str(exc))
        return RunConfig(loop=loop, plugins=plugins)

    # [[call]] ---------------------------------------------------------------------------------
    def calls(self, raw: Any) -> list[Call]:
        where_call = self.index.top.at("call")
        if raw is None:
            self.error((1, None), "no [[call]] entries: nothing to schedule")
            return []
        if isinstance(raw, dict):
            line = self.index.top.at("call")
            self.error(line, "'call' must be an array of tables: write [[call]], not [call]")
            return []
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            self.error(where_call, "'call' must be an array of tables ([[call]] entries)")
            return []
        if not raw:
            self.error(where_call, "no [[call]] entries: nothing to schedule")
            return []
        tables = self.index.calls
        if len(tables) != len(raw):  # written as an inline array: point at `call =` for all
            tables = [_Table(where_call[0]) for _ in raw]
        counters: dict[str, int] = {}
        seen: dict[str, int] = {}
        built: list[tuple[Call, _Table]] = []
        for entry, table in zip(raw, tables, strict=True):
            call = self.call(entry, table, counters)
            if call is None:
                continue
            if call.name in seen:
                self.error(
                    table.at("name"),
                    f"duplicate name '{call.name}' (first used by the [[call]] on line "
                    f"{seen[call.name]})",
                )
                continue
            seen[call.name] = table.line
            built.append((call, table))
        self.entry_references(built, list(seen))
        return [c for c, _ in built]

    def call(self, d: dict[str, Any], table: _Table, counters: dict[str, int]) -> Call | None:
        before = len(self.problems)
        for key in d:
            if key not in CALL_KEYS:
                self.error(table.at(key), f"unknown key '{key}' in [[call]]{suggest(key, CALL_KEYS)}")

        timing = [k for k in TIMING_KEYS if k in d]
        kind: Kind | None = None
        offset = 0.0
        wall_at: datetime | None = None
        if not timing:
            self.error(
                (table.line, None),
                "[[call]] needs exactly one of: soon = true, later = SECONDS, at = TIME",
            )
        elif len(timing) > 1:
            self.error(
                table.at(timing[1]),
                f"'{timing[0]}' and '{timing[1]}' cannot both be given: "
                "use exactly one of soon, later, at",
            )
        else:
            kind = Kind(timing[0])
            value = d[timing[0]]
            if kind is Kind.SOON:
                if value is not True:
                    self.error(table.at("soon"), f"'soon' must be true, not {value!r}")
            elif kind is Kind.LATER:
                offset = self.number(table, "later", value) or 0.0
            else:
                offset, wall_at = self.at(table, value)

        callback = d.get("callback")
        spec = None
        if callback is None:
            self.error((table.line, None), "[[call]] needs 'callback' (see `timerctl callbacks`)")
        elif not isinstance(callback, str):
            self.error(table.at("callback"), f"'callback' must be a string, not {_type_name(callback)}")
        else:
            try:
                spec = self.registry.get(callback)
            except PluginError as exc:
                self.error(table.at("callback"), str(exc))
            else:
                if spec is None:
                    self.error(table.at("callback"), self.registry.unknown_message(callback))

        args = d.get("args", [])
        if not isinstance(args, list):
            self.error(table.at("args"), f"'args' must be an array, not {_type_name(args)}")
            args = []
        kwargs = d.get("kwargs", {})
        if not isinstance(kwargs, dict):
            self.error(table.at("kwargs"), f"'kwargs' must be a table, not {_type_name(kwargs)}")
            kwargs = {}
        if spec is not None:
            why = spec.check_args(args, kwargs)
            if why:
                key = "kwargs" if "kwargs" in d else "args" if "args" in d else "callback"
                self.error(table.at(key), f"bad arguments for '{spec.name}': {why}")

        repeat = self.repeat(d, table, offset)

        name = d.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            self.error(table.at("name"), "'name' must be a non-empty string")
            name = None
        if kind is not None:
            counters[kind.value] = counters.get(kind.value, 0) + 1
            if name is None:
                name = f"{kind.value}#{counters[kind.value]}"
        if len(self.problems) > before or kind is None or spec is None or name is None:
            return None
        return Call(
            name=name,
            kind=kind,
            callback=spec.name,
            args=tuple(args),
            kwargs=dict(kwargs),
            offset=offset,
            wall_at=wall_at,
            repeat=repeat,
            line=table.line,
        )

    def at(self, table: _Table, value: Any) -> tuple[float, datetime | None]:
        """A numeric ``at`` is seconds after t0; a date-time is a wall-clock moment."""
        where = table.at("at")
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.astimezone()  # naive: local time zone
        elif isinstance(value, dtime):
            if value.tzinfo is not None:
                self.error(where, "'at' time of day must be a local time without an offset")
                return 0.0, None
            now = datetime.fromtimestamp(self.now).astimezone()
            moment = datetime.combine(now.date(), value).astimezone()
            if moment.timestamp() <= self.now:
                moment = datetime.combine(now.date() + timedelta(days=1), value).astimezone()
            return 0.0, moment
        elif isinstance(value, date):
            self.error(where, f"'at' = {value.isoformat()} is a date without a time of day")
            return 0.0, None
        else:
            number = self.number(table, "at", value)
            if number is not None and number > 1e8:
                # Loop time is not wall time; a Unix timestamp here would mean decades.
                self.error(
                    where,
                    f"'at' = {value!r} looks like a Unix timestamp; a number is seconds after "
                    "the run starts: write a TOML date-time (at = 2026-11-26T12:00:00Z) instead",
                )
                return 0.0, None
            return number or 0.0, None
        ahead = moment.timestamp() - self.now
        if ahead < 0:
            self.error(
                where,
                f"'at' = {moment.isoformat()} is {_human_duration(-ahead)} in the past",
            )
            return 0.0, None
        return 0.0, moment

    def repeat(self, d: dict[str, Any], table: _Table, first: float) -> Repeat | None:
        present = [k for k in REPEAT_KEYS if k in d]
        if "every" not in d:
            for key in present:
                self.error(table.at(key), f"'{key}' needs 'every' (it bounds a repeating call)")
            return None
        every = self.number(table, "every", d["every"], strict=True)
        count = None
        if "count" in d:
            value = d["count"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self.error(table.at("count"), f"'count' must be a whole number >= 1, not {value!r}")
            else:
                count = value
        until = self.number(table, "until", d["until"]) if "until" in d else None
        if until is not None and until < first:
            self.error(
                table.at("until"),
                f"'until' = {until:g} is before the first call (at {first:g}s): it would never run",
            )
        mode = Mode.FIXED_RATE
        if "mode" in d:
            value = d["mode"]
            choices = [m.value for m in Mode]
            if value in choices:
                mode = Mode(value)
            else:
                hint = suggest(value, choices) if isinstance(value, str) else ""
                self.error(
                    table.at("mode"),
                    f"'mode' must be 'fixed-rate' or 'fixed-delay', not {value!r}{hint}",
                )
        jitter = self.number(table, "jitter", d["jitter"]) if "jitter" in d else 0.0
        if every is None or jitter is None:
            return None
        return Repeat(every=every, count=count, until=until, mode=mode, jitter=jitter)

    def entry_references(self, built: list[tuple[Call, _Table]], names: list[str]) -> None:
        """Arguments that name entries (``cancel``'s) must name one that exists."""
        for call, table in built:
            spec = self.registry.get(call.callback)
            if spec is None or not spec.entry_params:
                continue
            import inspect

            try:
                bound = inspect.signature(spec.func).bind(*call.args, **call.kwargs)
            except (TypeError, ValueError):
                continue
            for param in spec.entry_params:
                target = bound.arguments.get(param)
                if isinstance(target, str) and target not in names:
                    key = "kwargs" if param in call.kwargs else "args"
                    self.error(
                        table.at(key),
                        f"'{call.callback}' names no entry of this schedule: "
                        f"'{target}'{suggest(target, names)}",
                    )


def load_text(
    text: str,
    path: str,
    *,
    registry: Registry = REGISTRY,
    now: float | None = None,
) -> Schedule:
    """Validate TOML text into a Schedule, or raise ScheduleError with every problem found."""
    doc = _parse_toml(text, path)
    index = _Index.scan(text)
    checker = _Checker(path, index, registry, time.time() if now is None else now)
    for key in doc:
        if key not in TOP_KEYS:
            checker.error(
                index.top.at(key),
                f"unknown top-level key '{key}'{suggest(key, TOP_KEYS)} "
                "(a schedule has [run] and [[call]] tables)",
            )
    run = checker.run_config(doc["run"]) if "run" in doc else RunConfig()
    calls = checker.calls(doc.get("call"))
    if checker.problems:
        raise ScheduleError(path, checker.problems)
    return Schedule(path=path, calls=tuple(calls), run=run)


def load_bytes(data: bytes, path: str, **kw: Any) -> Schedule:
    return load_text(_decode(data, path), path, **kw)


def load(path: str, *, plugins: Iterable[str] = (), **kw: Any) -> Schedule:
    """Read and validate a schedule file (``-`` is stdin)."""
    registry: Registry = kw.get("registry", REGISTRY)
    for module in plugins:
        registry.load_plugin(module)
    data, name = read_source(path)
    return load_bytes(data, name, **kw)
