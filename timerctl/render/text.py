"""Formatting shared by the human renderers (plain and rich)."""

from __future__ import annotations

import math
from typing import IO, Any, Protocol

from ..errors import OutputClosed
from ..events import CallRecord, End, Start, iso
from ..safe import escape
from .writer import output_error

#: data shown verbatim but on one line, unable to drive the terminal (``safe.escape``)
oneline = escape


class TextSink(Protocol):
    """What a renderer writes to: a text stream, or a ``TolerantStream`` around one."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class TolerantStream:
    """A text stream that shows what its encoding cannot carry as escapes instead of failing.

    stdout may be ASCII (PYTHONIOENCODING=ascii) or Latin-1 (an old terminal): an emoji in an
    argument, or the ``·`` of a header, must not end a run with an internal error.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self._stream, "encoding", None) or "utf-8"
            return self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output_error(exc, _label(self._stream)) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output_error(exc, _label(self._stream)) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def write_flushed(stream: TextSink, text: str) -> None:
    """Write and flush at once (a record is out when the call happened, whatever
    PYTHONUNBUFFERED says); a reader gone away is OutputClosed, a full disk OutputError."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise OutputClosed("stdout closed") from None
    except OSError as exc:
        raise output_error(exc, _label(stream)) from None


def _label(stream: object) -> str:
    """What an output is called in a message: a Writer knows (stdout, the --record file)."""
    label = getattr(stream, "label", None)
    return label if isinstance(label, str) else "stdout"


def result_text(record: CallRecord) -> str:
    if record.error is not None:
        if record.cancelled:
            return f"! {record.error.message}"
        text = f"! {record.error.type}: {record.error.message}"
        if record.error.output:
            text += f" · output: {record.error.output}"
        return oneline(text)
    return "" if record.result is None else oneline(safe_str(record.result))


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}ms"


def late_text(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f}"


def header_lines(ev: Start) -> list[str]:
    wall_note = " (simulated)" if ev.clock == "virtual" else ""
    speed = f" · speed {ev.speed:g}x" if ev.speed != 1 else ""
    if ev.precision:
        speed += f" · precision {ev.precision}"
    entries = f"{ev.calls} entr{'y' if ev.calls == 1 else 'ies'}"
    return [
        f"# timerctl run {escape(ev.schedule)} · {entries} · "
        f"loop {ev.loop_impl} · clock {ev.clock}{speed} · resolution {ev.clock_resolution:g}s",
        f"# t0: loop {ev.loop_t0:.6f} = wall {iso(ev.wall_t0)}{wall_note}",
    ]


def summary_line(ev: End) -> str:
    return (
        f"# {ev.reason}: {ev.calls} call{'s' if ev.calls != 1 else ''}, {ev.failed} failed, "
        f"{ev.cancelled} cancelled in {ev.duration:.3f}s · late p50 {ms(ev.late_p50)} "
        f"p99 {ms(ev.late_p99)} max {ms(ev.late_max)}"
        + (f" · {ev.early} early" if ev.early else "")
        + (f" · wall clock stepped {ev.clock_steps}x" if ev.clock_steps else "")
        + (f" · {ev.dropped} records dropped (slow reader)" if ev.dropped else "")
        + f" · exit {ev.exit_code}"
    )


#: beyond this, Python refuses to turn an int into decimal digits (sys.int_info limit: 4300)
_MAX_INT_BITS = 14_000
_MAX_DEPTH = 64


def safe_str(value: Any) -> str:
    """str(value), or a description when a callback's result cannot be shown: a run must not
    end because of what a callback returned."""
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return f"<int of {value.bit_length()} bits>"
    try:
        return str(value)
    except Exception as exc:
        return f"<{type(value).__name__} that str() cannot show: {type(exc).__name__}: {exc}>"


def jsonable(value: Any, _depth: int = 0) -> Any:
    """A value as JSON can carry it: containers walked, anything else as its str()."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= _MAX_INT_BITS else safe_str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if _depth > _MAX_DEPTH:  # a list that holds itself, or absurd nesting
        return "<nested too deep>"
    if isinstance(value, list | tuple):
        return [jsonable(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {safe_str(k): jsonable(v, _depth + 1) for k, v in value.items()}
    return safe_str(value)
