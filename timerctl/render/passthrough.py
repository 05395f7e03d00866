"""The writer of a stream without a descriptor (a test's StringIO, an embedding's stream).

Written as it is, flushed at once, with the same errors and the same interface as ``Writer``
(nothing is ever queued, dropped or held back): renderers and the fan-out need not tell them
apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from ..errors import OutputClosed
from .backlog import Backlog
from .whole import output_error


class Passthrough:
    """For a stream without a descriptor (a test's StringIO): written as it is, with the
    same errors and the same interface as ``Writer``."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self._stream = stream
        self.label = label
        self.dropped = 0
        self.policy = Backlog.BLOCK
        self.notice: int | None = None  # (never: nothing is queued)
        self.on_closed: Callable[[], object] | None = None
        self.stop_waiting: Callable[[], bool] = lambda: False
        #: ``write`` and ``flush`` in one call, as ``Writer.put`` (``write`` flushes already)
        self.put: Callable[[str], object] = self.write

    def write(self, text: str) -> int:
        try:
            self._stream.write(text)
            self._stream.flush()
        except BrokenPipeError:
            raise OutputClosed(f"{self.label} closed") from None
        except UnicodeEncodeError:
            raise
        except OSError as exc:
            raise output_error(exc, self.label) from None
        return len(text)

    def flush(self) -> None:
        pass

    @contextlib.contextmanager
    def forced(self) -> Iterator[None]:
        yield

    def take_notice(self) -> int | None:
        return None

    @property
    def closed(self) -> bool:
        return False

    def close(self, timeout: float | None = None) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
