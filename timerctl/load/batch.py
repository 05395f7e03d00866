"""The valid entries of a schedule, checked a shape at a time: ``check``'s fast path.

Entries with the same shape (the same keys in the same order) get the same verdicts on their
keys: which timing key, whether it is a calendar, whether the entry repeats. So those are decided
once per shape (``plan_of``). Each key's values are converted a column at a time by the
converters of ``rules``, the only place a rule is written. What depends on the values is
checked entry by entry: a wall-clock moment, the callback and its arguments, ``until`` after
the first call.

This path words nothing. An entry it doubts is left for ``Checker.problems_of``, which finds
every problem of that entry and words it. The fast path never accepts what the slow one would
refuse: ``tests/test_batch.py`` compares the two on every case. ``timerctl check`` judges
without building (``build=False``): the same verdicts, no Call made.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, count, repeat
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from ..schedule import Call, Repeat
from .rules import CALL_RULES, Bad
from .shapes import Plan, plan_of

if TYPE_CHECKING:
    from .check import Checker

_new, _set = object.__new__, object.__setattr__
_UNCHECKED = object()
#: entries judged at a time (then, when building, dropped from the parsed document)
_SLICE = 4096
_NO_KWARGS: dict[str, Any] = {}  # shown to validators of entries without kwargs: never kept
#: every attribute of a Repeat in its own __dict__, as __init__ would leave it
_REPEAT_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Repeat) if f.default is not dataclasses.MISSING
}


class Batch:
    """Builds the Calls of a document's valid entries for one ``Checker``."""

    def __init__(self, checker: Checker, *, build: bool = True) -> None:
        self.checker = checker
        self.build = build  # False: only judge (``timerctl check``): no Call is made
        self.plans: dict[tuple[str, ...], Plan | None] = {}
        self.named: dict[str, Any] = {}  # a spec's own name -> the spec

    def calls(self, raw: list[dict[str, Any]]) -> Verdicts:
        """Every entry's verdict (``Verdicts``), in file order.

        A default name counts the entries of its kind before it in the file, whatever their
        shape: when every entry is valid they are named here, a kind at a time; else
        ``Checker.calls`` names them, in file order, with the entries it judges.

        When building, an entry built is dropped from ``raw`` (set to None), a slice of a shape
        at a time, so the parsed document and the Calls are not all held at once: that was a
        run's peak (100,000 entries: ~60 MB). ``Checker.problems`` parses the text again if a
        problem of a built entry (a name taken twice) needs it located.
        """
        n = len(raw)
        out = Verdicts([None] * n, [None] * n, [""] * n, bytearray(n), False)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, shape in enumerate(map(tuple, raw)):
            group = groups.get(shape)
            if group is None:
                groups[shape] = [i]
            else:
                group.append(i)
        valid = 0
        kinds: dict[str, list[tuple[list[int], bool]]] = {}  # a timing key -> its groups
        for shape, where in groups.items():
            plan = self.plans.get(shape) or self.plans.setdefault(shape, plan_of(shape))
            if plan is not None:
                for start in range(0, len(where), _SLICE):
                    valid += self.judged(plan, shape, where[start : start + _SLICE], raw, out)
                kinds.setdefault(plan.key, []).append((where, "name" in shape))
        if valid == n:
            for key, wheres in kinds.items():
                _name(out.names, key, wheres)
            out.done = True
        return out

    def judged(
        self, plan: Plan, shape: tuple[str, ...], where: list[int], raw: list[Any], out: Verdicts
    ) -> int:
        """The verdicts of the entries at ``where`` (all of one shape), into ``out``; how many
        are valid."""
        calls, names, wrong = self.group(plan, shape, list(map(raw.__getitem__, where)))
        deque(map(out.built.__setitem__, where, calls), 0)  # in C: out.built[i] = call
        if names is not None:
            deque(map(out.names.__setitem__, where, names), 0)
            deque(map(out.explicit.__setitem__, where, repeat(1)), 0)
        if wrong:
            where = [i for j, i in enumerate(where) if j not in wrong]
        deque(map(out.keys.__setitem__, where, repeat(plan.key)), 0)
        if self.build:
            deque(map(raw.__setitem__, where, repeat(None)), 0)  # each now lives in its Call
        return len(where)

    def group(
        self, plan: Plan, shape: tuple[str, ...], entries: list[dict[str, Any]]
    ) -> tuple[list[Any], list[Any] | None, set[int]]:
        """The Calls of entries of one shape (None where one is wrong; all None when not
        building), their own names (None if the shape has none), and which are wrong.

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
        if plan.repeat:
            self.until(columns, offsets, walls, wrong)
        if not self.build:
            return [None] * n, columns.get("name"), wrong
        made = self.made(plan, columns, specs, args, kwargs, (offsets, walls, rules))
        if wrong:
            calls = [None if j in wrong else _call(f) for j, f in enumerate(made)]
            return calls, columns.get("name"), wrong
        return list(map(_call, made)), columns.get("name"), wrong

    def made(
        self,
        plan: Plan,
        columns: dict[str, list[Any]],
        specs: list[Any],
        args: list[Any],
        kwargs: list[Any],
        timings: tuple[list[Any], list[Any], list[Any] | None],
    ) -> list[dict[str, Any]]:
        """Each entry's Call, as the attributes it is to have (its name comes later)."""
        offsets, walls, rules = timings
        repeats = self.repeats(plan, columns) if plan.repeat else [None] * len(specs)
        kind = plan.kind
        made = [
            {
                "name": None,  # named in file order, when every entry's name is known
                "kind": kind,
                "callback": spec.name,
                "args": a,
                "kwargs": k if k is not None else {},
                "offset": offset,
                "wall_at": wall_at,
                "repeat": every,
                "line": 0,
            }
            for spec, a, k, offset, wall_at, every in zip(
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
        return made

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

    def until(
        self, columns: dict[str, list[Any]], offsets: list[Any], walls: list[Any], wrong: set[int]
    ) -> None:
        """An ``until`` before the entry's first call is wrong."""
        if "until" not in columns:
            return
        now = self.checker.now
        for j, (until, offset, wall_at) in enumerate(
            zip(columns["until"], offsets, walls, strict=True)
        ):
            if j in wrong:
                continue
            if until < (offset if wall_at is None else wall_at.timestamp() - now):
                wrong.add(j)

    def repeats(self, plan: Plan, columns: dict[str, list[Any]]) -> list[Any]:
        """Each entry's Repeat."""
        base = {k: v for k, v in _REPEAT_DEFAULTS.items() if k not in plan.repeat}
        keys = plan.repeat

        def made(values: tuple[Any, ...]) -> Repeat:
            fields = dict(zip(keys, values, strict=True))
            fields.update(base)
            built = _new(Repeat)
            _set(built, "__dict__", fields)
            return built

        return list(map(made, zip(*(columns[k] for k in plan.repeat_keys), strict=True)))


@dataclass
class Verdicts:
    """What the fast path made of a document's entries, one item per entry in file order."""

    built: list[Call | None]  # the Call (None: wrong, or not building)
    names: list[str | None]  # its name of its own, or its default one when ``done``
    keys: list[str]  # the timing key of a valid entry; "" for one the slow path must judge
    explicit: bytearray  # 1: the entry has a name of its own
    done: bool  # every entry valid, and named


class _Nobody:
    """The spec of an entry whose callback is wrong: it has no name."""

    name = None
    validate = None


_NOBODY: Any = _Nobody()


def _name(names: list[Any], key: str, wheres: list[tuple[list[int], bool]]) -> None:
    """Default names for the unnamed entries of one kind, ``key#N``: N counts the entries of
    that kind, named or not, in file order (``wheres``: each group's entries, and whether the
    group has names of its own)."""
    if all(named for _, named in wheres):
        return
    if len(wheres) == 1:
        rank: Any = range(1, len(wheres[0][0]) + 1)
        ((where, _),) = wheres
        for i, n in zip(where, rank, strict=True):
            names[i] = f"{key}#{n}"
        return
    rank = dict(zip(sorted(chain.from_iterable(w for w, _ in wheres)), count(1)))
    for where, named in wheres:
        if not named:
            for i in where:
                names[i] = f"{key}#{rank[i]}"


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
