"""Renderers: one per output format, each a sink for the engine's events.

``RENDERERS`` maps a format name to a factory; ``choose`` resolves ``auto`` (rich on a terminal,
plain otherwise). Modules are imported on demand so that jsonl and plain never load rich (nor
does rich itself in the loop's process, when a display process draws it: see ``live``).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the events module is not needed to choose a format (--help stays light)
    from collections.abc import Callable

    from ..events import Event

RENDERERS: dict[str, str] = {
    "plain": "timerctl.render.plain:PlainRenderer",
    "jsonl": "timerctl.render.jsonl:JsonlRenderer",
    "rich": "timerctl.render.live:rich_renderer",
}
FORMATS = ("auto", *RENDERERS)


@dataclass
class RenderOptions:
    summary: bool = True
    #: widest entry name and call text, so plain columns line up from the first record
    name_width: int = 8
    call_width: int = 24
    #: one or two sentences a demo ends with, in human formats only
    lesson: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Renderer(Protocol):
    def __call__(self, event: Event) -> None: ...


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def choose(fmt: str, stream: IO[str]) -> str:
    """The concrete format for ``auto``: rich on a terminal, plain otherwise."""
    if fmt != "auto":
        return fmt
    return "rich" if is_terminal(stream) else "plain"


def make(fmt: str, stream: IO[str], options: RenderOptions) -> Renderer:
    module, _, cls = RENDERERS[choose(fmt, stream)].partition(":")
    factory: Callable[[IO[str], RenderOptions], Renderer] = getattr(
        importlib.import_module(module), cls
    )
    return factory(stream, options)
