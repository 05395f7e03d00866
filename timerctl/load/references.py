"""Arguments that name entries (``cancel``'s): each must name an entry of the schedule."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from ..registry import suggest
from ..schedule import Call
from . import messages as msg
from .locate import Path


def reference_problems(
    naming: dict[str, Any], referring: list[tuple[int, Call]], names: list[str]
) -> Iterator[tuple[Path, str]]:
    """Where and why an entry's argument names no entry (``naming``: the specs whose
    arguments name entries; ``referring``: each entry that calls one, with its index)."""
    for i, call in referring:
        spec = naming[call.callback]
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
                yield (
                    ("call", i, key),
                    f"'{call.callback}' takes the name of an entry (a string), "
                    f"not {msg.show(target)}",
                )
            elif target not in names:
                yield (
                    ("call", i, key),
                    f"'{call.callback}' names no entry of this schedule: "
                    f"{msg.quoted(target)}{suggest(target, names)}",
                )
