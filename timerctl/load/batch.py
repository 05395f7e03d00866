"""The valid entries of a schedule, checked a shape at a time: ``check``'s fast path.

Entries with the same shape (the same keys in the same order) get the same verdicts on their
keys: which timing key, whether it is a calendar, whether the entry repeats. So those are decided
once per shape (``plan_of``). Each key's values are converted a column at a time by the
converters of ``rules``, the only place a rule is written. What depends on the values is
checked entry by entry: a wall-clock moment, the callback and its arguments, ``until`` after
the first call.

This path words nothing. An entry it doubts is left as None for ``Checker.problems_of``,
which finds every problem of that entry and words it. The fast path never accepts what the slow
one would refuse: ``tests/test_batch.py`` compares the two on every case.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, count, repeat
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from ..schedule import Call, Kind, Repeat
from .rules import (
    CALENDARS,
    CALL_EXTRAS,
    CALL_KEYS,
    CALL_RULES,
    KIND_OF,
    NOT_FOR_CALENDARS,
    REPEAT_INTO,
    TIMING_KEYS,
    Bad,
)

if TYPE_CHECKING:
    from .check import Checker

_CALL_KEYSET = frozenset(CALL_KEYS)
_TIMING_KEYSET = frozenset(TIMING_KEYS)
_REPEAT_KEYSET = frozenset(key for key, _ in REPEAT_INTO)
_new, _set = object.__new__, object.__setattr__
_UNCHECKED = object()
_NO_KWARGS: dict[str, Any] = {}  # shown to validators of entries without kwargs: never kept
#: every attribute of a Repeat in its own __dict__, as __init__ would leave it
_REPEAT_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Repeat) if f.default is not dataclasses.MISSING
}


@dataclass(frozen=True)
class Plan:
    """What a shape's keys decide for every entry of that shape."""

    key: str  # the timing key
    kind: Kind
    calendar: bool
    repeat_keys: tuple[str, ...]  # the repeat keys present, in ``REPEAT_INTO``'s order
    repeat: tuple[str, ...]  # the Repeat attributes they go into
    extras: tuple[tuple[str, str], ...]  # keys set straight on the Call (``CALL_EXTRAS``)


def _timing_key(keys: frozenset[str]) -> str | None:
    """The one timing key of a shape whose keys can make a valid entry, else None."""
    timing = keys & _TIMING_KEYSET
    if not keys <= _CALL_KEYSET or len(timing) != 1 or "callback" not in keys:
        return None
    (key,) = timing
    if key in CALENDARS:
        return key if keys.isdisjoint(NOT_FOR_CALENDARS) else None
    if "tz" in keys or ("every" not in keys and not keys.isdisjoint(_REPEAT_KEYSET)):
        return None
    return key


def plan_of(shape: tuple[str, ...]) -> Plan | None:
    """The verdicts of a shape, or None when its keys alone make an entry wrong."""
    keys = frozenset(shape)
    key = _timing_key(keys)
    if key is None:
        return None
    calendar = key in CALENDARS
    into_repeat = [] if calendar else [(k, into) for k, into in REPEAT_INTO if k in keys]
    return Plan(
        key=key,
        kind=KIND_OF[key],
        calendar=calendar,
        repeat_keys=tuple(k for k, _ in into_repeat),
        repeat=tuple(into for _, into in into_repeat),
        extras=tuple((k, into) for k, into in CALL_EXTRAS if k in keys),
    )


class Batch:
    """Builds the Calls of a document's valid entries for one ``Checker``."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.plans: dict[tuple[str, ...], Plan | None] = {}
        self.named: dict[str, Any] = {}  # a spec's own name -> the spec

    def calls(self, raw: list[dict[str, Any]]) -> tuple[list[Call | None], list[str], bool]:
        """Every entry's Call, in file order (None for an entry the slow path must judge), its
        timing key, and whether every entry is built and named (then nothing is left to do).

        A default name counts the entries of its kind before it in the file, whatever their
        shape: when every entry is built they are named here, a kind at a time; else
        ``Checker.calls`` names them, in file order, with the entries it judges.
        """
        built: list[Call | None] = [None] * len(raw)
        keys = [""] * len(raw)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, shape in enumerate(map(tuple, raw)):
            group = groups.get(shape)
            if group is None:
                groups[shape] = [i]
            else:
                group.append(i)
        done = 0
        kinds: dict[str, list[tuple[list[int], bool]]] = {}  # a timing key -> its groups
        for shape, where in groups.items():
            plan = self.plans.get(shape) or self.plans.setdefault(shape, plan_of(shape))
            if plan is None:
                continue
            calls, wrong = self.group(plan, shape, list(map(raw.__getitem__, where)))
            deque(map(built.__setitem__, where, calls), 0)  # in C: built[i] = call
            deque(map(keys.__setitem__, where, repeat(plan.key)), 0)
            done += len(where) - wrong
            kinds.setdefault(plan.key, []).append((where, "name" in shape))
        if done < len(raw):
            return built, keys, False
        for key, wheres in kinds.items():
            _name(built, key, wheres)
        return built, keys, True

    def group(
        self, plan: Plan, shape: tuple[str, ...], entries: list[dict[str, Any]]
    ) -> tuple[list[Call | None], int]:
        """The Calls of entries of one shape (None where one is wrong), in their order, and
        how many are wrong.

        A column at a time: every list below is one value per entry, and ``wrong`` collects
        the positions of entries left to the slow path.
        """
        n = len(entries)
        columns: dict[str, list[Any]] = {}
        wrong: set[int] = set()
        for key in shape:
            columns[key], refused = _converted(CALL_RULES[key], itemgetter(key), entries)
            wrong.update(refused)
        offsets, walls, rules = self.timings(plan, columns, wrong)
        specs = self.specs(columns["callback"], wrong)
        args = columns.get("args") or [()] * n
        kwargs = columns.get("kwargs") or [None] * n
        self.arguments(specs, args, columns.get("kwargs"), wrong)
        repeats = self.repeats(plan, columns, offsets, walls, wrong) if plan.repeat else [None] * n
        kind = plan.kind
        made = [
            {
                "name": name,  # None: named in file order, by ``Checker.calls``
                "kind": kind,
                "callback": spec.name,
                "args": a,
                "kwargs": k if k is not None else {},
                "offset": offset,
                "wall_at": wall_at,
                "repeat": every,
                "line": 0,
            }
            for name, spec, a, k, offset, wall_at, every in zip(
                columns.get("name") or [None] * n,
                specs,
                args,
                kwargs,
                offsets,
                walls,
                repeats,
                strict=True,
            )
        ]
        if rules is not None:
            for fields, rule in zip(made, rules, strict=True):
                fields["rule"] = rule
        for key, into in plan.extras:
            for fields, value in zip(made, columns[key], strict=True):
                fields[into] = value
        if wrong:
            return [None if j in wrong else _call(f) for j, f in enumerate(made)], len(wrong)
        return list(map(_call, made)), 0

    def timings(
        self, plan: Plan, columns: dict[str, list[Any]], wrong: set[int]
    ) -> tuple[list[Any], list[Any], list[Any] | None]:
        """Each entry's offset, wall-clock moment and calendar rule."""
        n = len(columns[plan.key])
        walls: list[Any]
        if plan.calendar:
            return [0.0] * n, [None] * n, self.rules(plan, columns, wrong)
        offsets, walls = columns[plan.key], [None] * n
        if plan.key == "at" and set(map(type, offsets)) != {float}:
            offsets = list(offsets)
            for j, value in enumerate(offsets):
                if type(value) is float or j in wrong:
                    continue
                moment = self.checker.wall_clock(value)  # a date-time or a time of day
                if type(moment) is str:
                    wrong.add(j)
                else:
                    offsets[j], walls[j] = 0.0, moment
        return offsets, walls, None

    def rules(self, plan: Plan, columns: dict[str, list[Any]], wrong: set[int]) -> list[Any]:
        """``cron`` / ``calendar``: each entry's rule, with its zone and bounds."""
        from ..calendars import RuleKind, WallRule

        kind, n = RuleKind(plan.key), len(columns[plan.key])
        zones, counts, untils = (columns.get(k) or [None] * n for k in ("tz", "count", "until"))
        return [
            None if j in wrong else WallRule(kind, text, tz, count=count, until=until)
            for j, (text, tz, count, until) in enumerate(
                zip(columns[plan.key], zones, counts, untils, strict=True)
            )
        ]

    def specs(self, names: list[Any], wrong: set[int]) -> list[Any]:
        """Each entry's CallbackSpec (``_NOBODY`` where the name is wrong or unknown)."""
        lookup = self.checker.lookup
        found = {name: lookup(name) or _NOBODY for name in set(names) if name is not None}
        self.named.update((spec.name, spec) for spec in found.values() if spec is not _NOBODY)
        specs = list(map(found.get, names, repeat(_NOBODY)))
        if any(spec is _NOBODY for spec in found.values()):
            wrong.update(j for j, spec in enumerate(specs) if spec is _NOBODY)
        return specs

    def arguments(
        self, specs: list[Any], args: list[Any], kwargs: list[Any] | None, wrong: set[int]
    ) -> None:
        """Whether each entry's callback takes its arguments (``kwargs``: None when the shape
        has none). Binding depends only on how many and which keywords
        (``CallbackSpec.bind_error``): checked once per such shape. A callback's own check of
        the values is per entry."""
        names = list(map(attrgetter("name"), specs))  # None: the entry is wrong already
        counts = [0 if a is None else len(a) for a in args] if wrong else list(map(len, args))
        keywords = [tuple(k) if k else () for k in kwargs] if kwargs else repeat(())
        shapes = list(zip(names, counts, keywords))  # noqa: B905 - keywords may repeat ()
        refused = {shape for shape in set(shapes) if shape[0] is not None and self.binds(shape)}
        if refused:
            wrong.update(j for j, shape in enumerate(shapes) if shape in refused)
        for name in set(names) - {None}:
            if self.named[name].validate is not None:
                self.validated(name, names, args, kwargs, wrong)

    def validated(
        self,
        name: str,
        names: list[Any],
        args: list[Any],
        kwargs: list[Any] | None,
        wrong: set[int],
    ) -> None:
        """The callback's own check of the values of each of its entries."""
        check = self.named[name].validate
        keywords: Any = repeat(_NO_KWARGS) if kwargs is None else kwargs
        if not wrong and names.count(name) == len(names):  # the usual: in C, every entry
            whys = list(map(check, args, keywords))
            if any(whys):
                wrong.update(j for j, why in enumerate(whys) if why)
            return
        rows = zip(names, args, keywords)  # noqa: B905 - keywords may repeat {}
        wrong.update(
            j
            for j, (one, a, k) in enumerate(rows)
            if one == name and j not in wrong and check(a, k or _NO_KWARGS)
        )

    def binds(self, shape: tuple[str, int, tuple[str, ...]]) -> str | None:
        """Why a callback refuses this many arguments and these keywords (cached), or None."""
        checks = self.checker.arg_checks
        why = checks.get(shape, _UNCHECKED)
        if why is _UNCHECKED:
            name, count, words = shape
            why = self.named[name].bind_error((None,) * count, dict.fromkeys(words))
            checks[shape] = why
        return why  # type: ignore[return-value]

    def repeats(
        self,
        plan: Plan,
        columns: dict[str, list[Any]],
        offsets: list[Any],
        walls: list[Any],
        wrong: set[int],
    ) -> list[Any]:
        """Each entry's Repeat; an ``until`` before the entry's first call is wrong."""
        if "until" in columns:
            now = self.checker.now
            for j, (until, offset, wall_at) in enumerate(
                zip(columns["until"], offsets, walls, strict=True)
            ):
                if j in wrong:
                    continue
                if until < (offset if wall_at is None else wall_at.timestamp() - now):
                    wrong.add(j)
        base = {k: v for k, v in _REPEAT_DEFAULTS.items() if k not in plan.repeat}
        keys = plan.repeat

        def made(values: tuple[Any, ...]) -> Repeat:
            fields = dict(zip(keys, values, strict=True))
            fields.update(base)
            built = _new(Repeat)
            _set(built, "__dict__", fields)
            return built

        return list(map(made, zip(*(columns[k] for k in plan.repeat_keys), strict=True)))


class _Nobody:
    """The spec of an entry whose callback is wrong: it has no name."""

    name = None
    validate = None


_NOBODY: Any = _Nobody()


def _name(built: list[Any], key: str, wheres: list[tuple[list[int], bool]]) -> None:
    """Default names for the unnamed entries of one kind, ``key#N``: N counts the entries of
    that kind, named or not, in file order (``wheres``: each group's entries, and whether the
    group has names of its own)."""
    if all(named for _, named in wheres):
        return
    if len(wheres) == 1:
        rank: Any = range(1, len(wheres[0][0]) + 1)
        ((where, _),) = wheres
        for i, n in zip(where, rank, strict=True):
            built[i].__dict__["name"] = f"{key}#{n}"
        return
    rank = dict(zip(sorted(chain.from_iterable(w for w, _ in wheres)), count(1)))
    for where, named in wheres:
        if not named:
            for i in where:
                built[i].__dict__["name"] = f"{key}#{rank[i]}"


def _call(fields: dict[str, Any]) -> Call:
    call = _new(Call)
    _set(call, "__dict__", fields)
    return call


def _converted(
    convert: Callable[[Any], Any], get: Callable[[Any], Any], entries: list[dict[str, Any]]
) -> tuple[list[Any], list[int]]:
    """A key's column of values (``get`` of each entry) converted, and the positions of the
    values the rule refused (None in the column)."""
    try:
        return list(map(convert, map(get, entries))), []
    except Bad:
        pass
    column, refused = [], []
    for j, value in enumerate(map(get, entries)):
        try:
            column.append(convert(value))
        except Bad:
            column.append(None)
            refused.append(j)
    return column, refused
