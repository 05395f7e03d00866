"""Schedule files -> a validated ``Schedule``, or every problem of the file, located.

The data flow, one module a step: ``source`` (bytes, size bound, UTF-8), ``toml`` (the parse,
by ``parser``, in ``pieces`` when the text is big, and its located failures), ``check`` (the
``rules`` applied: valid entries a shape at a time by ``batch``, with what a ``shapes``'s keys
decide, every problem of the others entry by entry), ``locate`` (where a problem was written)
and ``messages`` (how values are shown). ``count`` judges a file exactly as ``load`` does,
without building it (``timerctl check``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

from ..registry import REGISTRY, Registry
from ..schedule import Schedule
from .check import Checker
from .rules import CALL_KEYS, RUN_KEYS
from .source import MAX_BYTES, STDIN, STDIN_NAME, check_text, decode, read_source
from .toml import MAX_NESTING, PARSER, parse

T = TypeVar("T")

__all__ = [
    "CALL_KEYS",
    "MAX_BYTES",
    "MAX_NESTING",
    "PARSER",
    "RUN_KEYS",
    "STDIN",
    "STDIN_NAME",
    "Counted",
    "count",
    "count_text",
    "load",
    "load_bytes",
    "load_text",
    "read_source",
]  # fmt: skip


def load_text(
    text: str,
    path: str,
    *,
    registry: Registry = REGISTRY,
    now: float | None = None,
    data: bytes | None = None,
) -> Schedule:
    """Validate TOML text into a Schedule, or raise ScheduleError with every problem found
    (``data``: the text's UTF-8 bytes, when the caller has them: they are scanned in C)."""
    checker = Checker(path, text, registry, time.time() if now is None else now)
    return _checked(text, path, data, checker, checker.schedule)


class Counted(NamedTuple):
    """A schedule judged valid without being built: how many entries it has, and the parsed
    document (a caller about to exit may leave it to the OS: freeing it costs ~0.07 s for
    100,000 entries)."""

    entries: int
    document: dict[str, Any]


def count_text(
    text: str,
    path: str,
    *,
    registry: Registry = REGISTRY,
    now: float | None = None,
    data: bytes | None = None,
) -> Counted:
    """How many entries valid TOML text has, judged exactly as ``load_text`` judges it
    (ScheduleError otherwise), without building them: all ``timerctl check`` needs."""
    checker = Checker(path, text, registry, time.time() if now is None else now, build=False)
    return _checked(text, path, data, checker, lambda doc: Counted(len(checker.judge(doc)[1]), doc))


def _checked(
    text: str, path: str, data: bytes | None, checker: Checker, finish: Callable[[Any], T]
) -> T:
    """What ``finish`` makes of the parsed document (the checker's verdict on it)."""
    # Loading builds objects and frees none: the cyclic collector would walk them all again
    # and again (a third of a 100,000-entry load) for nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        check_text(text, path)
        return finish(parse(text, path, data))
    finally:
        if was_enabled:
            # What was built is all in the youngest generation: the next collection would walk
            # it all, and the one after. Straight to the oldest instead (freeze, then unfreeze:
            # two list splices); cycles among it are still collected there.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def load_bytes(data: bytes, path: str, **kw: Any) -> Schedule:
    """Decode (UTF-8, an optional BOM) and validate a schedule; ScheduleError if invalid."""
    # the bytes go along for the C-level scans (a BOM is neither a bracket nor a digit)
    return load_text(decode(data, path), path, data=data, **kw)


def load(path: str, *, plugins: Iterable[str] = (), **kw: Any) -> Schedule:
    """Read and validate a schedule file (``-`` is stdin)."""
    registry: Registry = kw.get("registry", REGISTRY)
    for module in plugins:
        registry.load_plugin(module)
    data, name = read_source(path)
    return load_bytes(data, name, **kw)


def count(path: str, *, plugins: Iterable[str] = (), **kw: Any) -> tuple[str, Counted]:
    """Read and judge a schedule file as ``load`` would, without building it: the name it is
    known by (``-`` is ``<stdin>``) and what ``count_text`` says; ScheduleError if invalid."""
    registry: Registry = kw.get("registry", REGISTRY)
    for module in plugins:
        registry.load_plugin(module)
    data, name = read_source(path)
    return name, count_text(decode(data, name), name, data=data, **kw)
