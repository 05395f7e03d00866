"""The old name of :mod:`timerctl.load`, kept so that code importing ``timerctl.loader`` works.

Everything here is the package's own object; nothing is defined twice.
"""

from __future__ import annotations

from .load import (
    MAX_BYTES,
    STDIN,
    STDIN_NAME,
    load,
    load_bytes,
    load_text,
    read_source,
)

__all__ = ["MAX_BYTES", "STDIN", "STDIN_NAME", "load", "load_bytes", "load_text", "read_source"]
