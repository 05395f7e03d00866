"""Output of ``timerctl plan``: the same three formats as a run."""

from __future__ import annotations

import json
from typing import IO

from ..events import iso
from ..plan import Plan, Step
from .text import jsonable, oneline


def _more_text(plan: Plan) -> list[str]:
    out = []
    for name, more in plan.more.items():
        out.append(
            f"{name}: {'repeats until stopped' if more is None else f'{more} more call(s)'}"
            " beyond this plan"
        )
    return out


def _repeat_text(step: Step) -> str:
    rep = step.call.repeat
    rule = step.call.rule
    if rule is not None:
        bound = "∞" if rule.count is None else str(rule.count)
        return f"n={step.n}/{bound} {rule.describe()}"
    if rep is None:
        return ""
    total = rep.firings(step.call.offset)
    return f"n={step.n}/{total if total is not None else '∞'} every {rep.every:g}s {rep.mode.value}"


def plain(plan: Plan, stream: IO[str]) -> None:
    names = max([5, *(len(s.call.name) for s in plan.steps)])
    calls = min(40, max([4, *(len(s.call.describe()) for s in plan.steps)]))
    n = len(plan.schedule.calls)
    lines = [
        f"# plan of {oneline(plan.schedule.path)} · {n} entr{'y' if n == 1 else 'ies'} · "
        f"t0 = now ({iso(plan.wall_t0)})",
        f"{'order':>5}  {'T+':>12}  {'wall':<32}  {'entry':<{names}}  {'call':<{calls}}  repeat",
    ]
    for s in plan.steps:
        lines.append(
            f"{s.order:>5}  {s.due:12.6f}  {iso(plan.wall_t0 + s.due):<32}  "
            f"{oneline(s.call.name):<{names}}  {oneline(s.call.describe()):<{calls}}  "
            f"{_repeat_text(s)}".rstrip()
        )
    lines += [f"# {t}" for t in _more_text(plan)]
    lines += [f"# note: {oneline(n)}" for n in plan.notes]
    stream.write("\n".join(lines) + "\n")


def jsonl(plan: Plan, stream: IO[str]) -> None:
    out = []
    for s in plan.steps:
        out.append(
            {
                "event": "plan",
                "order": s.order,
                "entry": s.call.name,
                "kind": s.call.kind.value,
                "callback": s.call.callback,
                "args": jsonable(s.call.args),
                "kwargs": jsonable(s.call.kwargs),
                "n": s.n,
                "due": s.due,
                "wall_time": iso(plan.wall_t0 + s.due),
            }
        )
    for name, more in plan.more.items():
        out.append({"event": "more", "entry": name, "count": more})
    for note in plan.notes:
        out.append({"event": "note", "message": note})
    stream.write("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in out))


def rich(plan: Plan, stream: IO[str]) -> None:
    from rich.table import Table
    from rich.text import Text

    from .rich import _Console  # turns a closed pipe into OutputClosed, not rich's exit 1

    console = _Console(file=stream, markup=False, highlight=False, emoji=False)
    table = Table(
        title=f"plan of {oneline(plan.schedule.path)} · t0 = now ({iso(plan.wall_t0)})",
        title_justify="left",
    )
    for col, justify in (
        ("#", "right"),
        ("T+", "right"),
        ("wall", "left"),
        ("entry", "left"),
        ("call", "left"),
        ("repeat", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    short = console.width < 120  # a narrow terminal gets the time of day, not the date
    for s in plan.steps:
        wall = iso(plan.wall_t0 + s.due)
        table.add_row(
            str(s.order),
            f"{s.due:.6f}",
            wall[11:26] if short else wall,
            Text(s.call.name, style="bold magenta"),
            Text(s.call.describe()),
            _repeat_text(s),
        )
    console.print(table)
    for t in _more_text(plan):
        console.print(Text(t, style="dim"))
    for n in plan.notes:
        console.print(Text(f"note: {oneline(n)}", style="yellow"))


PLAN_RENDERERS = {"plain": plain, "jsonl": jsonl, "rich": rich}
