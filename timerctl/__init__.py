"""timerctl: schedule calls at precise moments on an asyncio event loop, from a TOML file.

The public API for plugins is the ``@callback`` decorator (and ``current_run`` for callbacks that
need to act on their run).
"""

from __future__ import annotations

from .context import current_run
from .registry import callback

__all__ = ["__version__", "callback", "current_run"]


def __getattr__(name: str) -> str:
    # Read lazily: importlib.metadata costs start-up time that most commands never need.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("timerctl")
        except PackageNotFoundError:
            return "0+unknown"
    raise AttributeError(name)
