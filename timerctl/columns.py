"""Checking a big schedule column by column: the common case at the speed of C built-ins.

A generated schedule of 100,000 entries has only a handful of shapes (which keys, in which
order). Entries of one shape are checked together, a column at a time, with built-ins that loop
in C (sets of types, min and max, one sum for NaN, one regex over a joined column) instead of a
Python branch per entry per key; the Calls are then built from the columns.

All or nothing, like the fast parser: at the first doubt (a wrong type, a value out of range,
a duplicate name, an unusual shape) ``build`` returns None and the loader checks entry by entry,
which is what finds, words and locates problems. So this path never reports anything: it only
accepts what the entry-by-entry path accepts, and builds the same Calls
(tests/test_columns.py compares the two on generated schedules).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from itertools import chain, compress, repeat
from operator import is_, lt
from typing import Any

from .errors import PluginError
from .limits import (
    CALL_KEYS,
    CONTROLS,
    INT_MAX,
    INT_MIN,
    MAX_SECONDS,
    REPEAT_KEYS,
    TIMESTAMP_LIKE,
)
from .registry import Registry
from .schedule import Call, Kind, Mode, Repeat

#: more shapes than this is not a generated file: the entry-by-entry path is as fast
MAX_SHAPES = 64

_KNOWN = frozenset(CALL_KEYS)
_NUMBER = frozenset((int, float))
_PLAIN = frozenset((str, float, bool, int))  # argument values the fast paths take as they are
_MODES = {m.value: m for m in Mode}
_DEFAULT_LIKE = re.compile(r"^(?:soon|later|at)#", re.M)


class _Doubt(Exception):
    """Leave this schedule to the entry-by-entry checks."""


def build(raw: list[dict[str, Any]], lines: Sequence[int],
          registry: Registry) -> tuple[list[Call], set[str]] | None:
    """The Calls of these ``[[call]]`` tables (header lines given), and which callbacks among
    them take entry names (for the loader to check those names); None when in doubt. When it
    builds them, it empties ``raw`` first (the parsed tables are not needed any more)."""
    shapes: dict[tuple[str, ...], list[int]] = {}
    for i, keys in enumerate(map(tuple, raw)):
        members = shapes.get(keys)
        if members is None:
            if len(shapes) == MAX_SHAPES:
                return None
            members = shapes[keys] = []
        members.append(i)
    try:
        groups = [_Group(keys, members, raw, lines, registry) for keys, members in shapes.items()]
        _name_all(groups, len(raw))
    except _Doubt:
        return None
    n = len(raw)
    raw.clear()  # all valid: the columns hold what is kept; the tables go before the Calls come
    referring = {spec.name for g in groups for spec in g.specs.values() if spec.entry_params}
    if len(groups) == 1:
        return groups[0].calls(), referring
    calls: list[Call] = [None] * n  # type: ignore[list-item]
    for group in groups:
        deque(map(calls.__setitem__, group.members, group.calls()), maxlen=0)
    return calls, referring


def _name_all(groups: list[_Group], n: int) -> None:
    """Every entry's name: its own, or kind#N (the Nth entry of its kind in file order)."""
    for kind in Kind:
        of_kind = [g for g in groups if g.kind is kind]
        prefix = kind.value + "#"
        position: list[int] = []
        if len(of_kind) > 1 and any(g.names is None for g in of_kind):
            # entries of this kind in several shapes: number them in file order
            order = sorted(chain.from_iterable(g.members for g in of_kind))  # runs: merged fast
            position = [0] * n
            deque(map(position.__setitem__, order, range(1, len(order) + 1)), maxlen=0)
        for g in of_kind:
            if g.names is None:
                numbers = map(position.__getitem__, g.members) if position else range(
                    1, len(g.members) + 1)
                g.names = list(map(prefix.__add__, map(str, numbers)))
    # Default names differ from each other: only a given name can be a second one.
    given = list(chain.from_iterable(g.names for g in groups if "name" in g.keys))
    if len(set(given)) != len(given):
        raise _Doubt
    maybe_default = given and _DEFAULT_LIKE.search("\n".join(given))  # names hold no newline
    every = chain.from_iterable(g.names for g in groups)  # type: ignore[misc]
    if maybe_default and len(set(every)) != n:
        raise _Doubt  # a given name that is also a default one


class _Group:
    """The entries of one shape, checked column by column; raises _Doubt at the first doubt."""

    def __init__(self, keys: tuple[str, ...], members: list[int], raw: list[dict[str, Any]],
                 lines: Sequence[int], registry: Registry) -> None:
        if not _KNOWN.issuperset(keys) or "callback" not in keys:
            raise _Doubt
        self.keys = keys
        self.members = members
        rows = map(raw.__getitem__, members)
        # One pass over the entries for all columns: a dict's values come in its keys' order,
        # the same in every entry of a shape.
        self._columns = dict(zip(keys, zip(*map(dict.values, rows), strict=True), strict=True))
        self.n = len(members)
        self.lines = list(map(lines.__getitem__, members))
        timing = [k for k in ("soon", "later", "at") if k in keys]
        if len(timing) != 1:
            raise _Doubt
        self.kind = Kind(timing[0])
        if self.kind is Kind.SOON:
            soon = self.column("soon")
            if set(map(type, soon)) != {bool} or soon.count(True) != len(soon):
                raise _Doubt
            self.offsets: Sequence[float] = [0.0] * self.n
        else:  # a number of seconds: a wall-clock `at` (a date-time) is left to the full path
            top = TIMESTAMP_LIKE if self.kind is Kind.AT else MAX_SECONDS
            self.offsets = _seconds(self.column(self.kind.value), top=top)
        self.names: list[str] | None = self._names() if "name" in keys else None
        self.callbacks, self.specs = self._callbacks(registry)
        self.args = self._args(self.specs, "kwargs" in keys)
        self.repeats = self._repeats(keys)

    def column(self, key: str) -> Sequence[Any]:
        return self._columns[key]

    def _names(self) -> list[str]:
        names = self.column("name")
        if set(map(type, names)) != {str} or not all(map(str.strip, names)):
            raise _Doubt
        if CONTROLS.search("".join(names)):
            raise _Doubt
        return names

    def _callbacks(self, registry: Registry) -> tuple[list[str], dict[str, Any]]:
        self.written = written = self.column("callback")
        specs: dict[str, Any] = {}
        for name in _distinct(written, str):
            try:
                spec = registry.get(name)
            except PluginError:  # a broken plugin: the full path says so
                raise _Doubt from None
            if spec is None:
                raise _Doubt
            specs[name] = spec
        if all(spec.name == name for name, spec in specs.items()):
            return written, specs
        return [specs[name].name for name in written], specs

    def _args(self, specs: dict[str, Any], has_kwargs: bool) -> list[tuple[Any, ...]]:
        """args as tuples; sets self.kwargs. Plain values only, bound and checked as the
        callbacks' signatures and validators demand."""
        n = self.n
        if "args" in self._columns:
            lists = self.column("args")
            if set(map(type, lists)) != {list}:
                raise _Doubt
            counts = set(map(len, lists))
            if len(counts) == 1:  # as many in every entry: a column a position
                for position in zip(*lists, strict=True):
                    _plain(position)
            else:
                _plain(list(chain.from_iterable(lists)))
            args = list(map(tuple, lists))
        else:
            args, counts = [()] * n, {0}
        if has_kwargs:
            tables = self.column("kwargs")
            if set(map(type, tables)) != {dict}:
                raise _Doubt
            _plain(list(chain.from_iterable(map(dict.values, tables))))
            self.kwargs = tables
            kwargs_shapes: Any = map(tuple, tables)
        else:
            self.kwargs = [{} for _ in range(n)]
            kwargs_shapes = repeat(())
        written = self.written
        if len(specs) == 1 and len(counts) == 1:  # the common case: only keywords may vary
            keywords_used = set(kwargs_shapes) if has_kwargs else {()}
            shapes = {(*specs, *counts, keywords) for keywords in keywords_used}
        else:
            shapes = set(zip(written, map(len, args), kwargs_shapes, strict=False))
        for callback, count, keywords in shapes:
            spec = specs[callback]
            if spec.bind_error([None] * count, dict.fromkeys(keywords)) is not None:
                raise _Doubt
        for callback, spec in specs.items():
            if spec.validate is None:
                continue
            if len(specs) == 1:
                verdicts = set(map(spec.validate, args, self.kwargs))
            else:
                mine = list(map(callback.__eq__, written))
                verdicts = set(map(spec.validate, compress(args, mine),
                                   compress(self.kwargs, mine)))
            if verdicts - {None}:
                raise _Doubt
        return args

    def _repeats(self, keys: tuple[str, ...]) -> list[Repeat | None]:
        if "every" not in keys:
            if any(k in keys for k in REPEAT_KEYS):
                raise _Doubt  # a bound without `every`: an error the full path words
            return [None] * self.n
        every = _seconds(self.column("every"), top=MAX_SECONDS, strict=True)
        count: list[int | None] | repeat[None] = repeat(None)
        if "count" in keys:
            count = self.column("count")
            if set(map(type, count)) != {int} or min(count) < 1 or max(count) > INT_MAX:
                raise _Doubt
        until: list[float | None] | repeat[None] = repeat(None)
        if "until" in keys:
            until = _seconds(self.column("until"), top=MAX_SECONDS)
            if any(map(lt, until, self.offsets)):
                raise _Doubt  # ends before its first call
        modes: Any = repeat(Mode.FIXED_RATE.value)  # as written: an Enum hashes in Python
        if "mode" in keys:
            written = self.column("mode")
            if not _distinct(written, str) <= _MODES.keys():
                raise _Doubt
            modes = written
        jitter: Any = repeat(0.0)
        if "jitter" in keys:
            jitter = _seconds(self.column("jitter"), top=MAX_SECONDS)
        settings = list(zip(every, count, until, modes, jitter, strict=False))
        made = {(e, c, u, m, j): Repeat.trusted(e, c, u, _MODES[m], j)  # equal settings share
                for e, c, u, m, j in set(settings)}                      # one Repeat
        return list(map(made.__getitem__, settings))

    def calls(self) -> list[Call]:
        return Call.trusted_many(self.names, self.kind, self.callbacks,  # type: ignore[arg-type]
                                 self.args, self.kwargs, self.offsets, self.repeats, self.lines)


def _seconds(values: list[Any], *, top: float, strict: bool = False) -> list[float]:
    """Numbers of seconds, finite, from 0 (excluded when strict) to top, as floats."""
    kinds = set(map(type, values))
    if not kinds <= _NUMBER:
        raise _Doubt  # bool is a type of its own here: true is not 1 second
    try:
        total = sum(values)
    except OverflowError:  # an integer too big for a float
        raise _Doubt from None
    if total != total or total in (float("inf"), float("-inf")):
        raise _Doubt  # NaN or infinity: min and max cannot be trusted with NaN
    low, high = min(values), max(values)
    if low < 0 or (strict and low == 0) or high > top:
        raise _Doubt
    if low == 0:  # -0.0 is 0.0 (as the entry-by-entry checks have it; and equal settings
        return list(map(float, map(abs, values)))  # share one Repeat, keyed by value)
    return values if kinds == {float} else list(map(float, values))


def _distinct(values: Sequence[Any], kind: type) -> set[Any]:
    """The distinct values, all of this exact type (one pass, in C)."""
    try:
        distinct = set(values)
    except TypeError:  # unhashable: an array or a table
        raise _Doubt from None
    if not all(type(v) is kind for v in distinct):  # true == 1 == 1.0: types tell them apart
        raise _Doubt
    return distinct


def _plain(values: Sequence[Any]) -> None:
    """Argument values must be strings, floats, booleans or 64-bit integers."""
    kinds = set(map(type, values))
    if not kinds <= _PLAIN:
        raise _Doubt
    if int in kinds:
        ints = values if len(kinds) == 1 else list(
            compress(values, map(is_, map(type, values), repeat(int))))
        if min(ints) < INT_MIN or max(ints) > INT_MAX:
            raise _Doubt
