"""What a write does when stdout's reader falls behind (``--on-backlog``, ``--backlog-limit``).

The policy's vocabulary, shared by the ``Writer`` that applies it, the ``Passthrough`` that never
needs it, and the fan-out that tells the backlog once.
"""

from __future__ import annotations

from enum import Enum

#: bytes queued for a slow reader before the policy applies (--backlog-limit's default)
DEFAULT_LIMIT = 16 * 1024 * 1024


class Backlog(Enum):
    """What a write does when the reader is ``limit`` bytes behind (``--on-backlog``)."""

    BLOCK = "block"  # wait for the reader: loses nothing, makes calls late
    DROP = "drop"  # drop the record (counted): calls stay on time, the screen misses some
