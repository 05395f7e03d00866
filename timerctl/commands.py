"""What `check`, `callbacks` and `demo` do once cli.py has parsed their options."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING

import click

from .errors import ExitCode, ScheduleError
from .safe import escape

if TYPE_CHECKING:
    from .events import Event


def check(paths: Iterable[str]) -> int:
    """Validate every file, reporting every problem of each: 0 all valid, 2 any invalid."""
    from .exits import leave_to_os, tell
    from .load import count
    from .registry import REGISTRY

    worst = ExitCode.OK
    for path in paths:
        try:
            with REGISTRY.reading_plugins():  # what a schedule names is read, not run (SPEC §6)
                name, (n, document) = count(path)  # judged as run would, building nothing
        except ScheduleError as exc:
            tell(exc)
            worst = ExitCode.USAGE
            continue
        leave_to_os(document)
        click.echo(f"{escape(name)}: ok ({n} entr{'y' if n == 1 else 'ies'})")
    return worst


def list_callbacks(fmt: str) -> int:
    """Every callback a schedule can name: two lines each, or one JSON object each."""
    import json

    from .registry import REGISTRY

    specs = REGISTRY.specs()
    if fmt == "jsonl":
        for s in specs:
            click.echo(
                json.dumps(
                    {
                        "name": s.name,
                        "signature": s.signature,
                        "doc": s.doc,
                        "origin": s.origin,
                        "async": s.is_async,
                    }
                )
            )
        return ExitCode.OK
    for s in specs:  # two lines each: a signature can be long, and docs read better alone
        click.echo(s.signature)
        click.echo(f"    {s.doc}{'  ' if s.doc else ''}[{s.origin}]")
    return ExitCode.OK


def list_demos() -> int:
    """The demos, each with its description wrapped to the terminal."""
    import shutil
    import textwrap

    from .demos import DEMOS

    width = max(map(len, DEMOS))
    room = max(30, shutil.get_terminal_size().columns - width - 3)
    for d in DEMOS.values():
        lines = textwrap.wrap(d.description, room) or [""]
        click.echo(f"{d.name:<{width}}  {lines[0]}")
        for line in lines[1:]:
            click.echo(f"{'':<{width}}  {line}")
    return ExitCode.OK


def classic_screen(clock_lines: bool) -> Callable[[IO[str]], Callable[[Event], None]]:
    """The renderer of `demo --classic`: exactly the lines the seed's program prints."""

    def screen(stream: IO[str]) -> Callable[[Event], None]:
        from .render import RenderOptions
        from .render.classic import ClassicRenderer

        return ClassicRenderer(stream, RenderOptions(extra={"clock_lines": clock_lines}))

    return screen
