"""The built-in callbacks (SPEC §3). Each returns the text its record shows as the result."""

import math

from .context import current_run
from .registry import callback


def _check_echo(_args: tuple[object, ...], kwargs: dict[str, object]) -> str | None:
    sep = kwargs.get("sep", " ")
    return None if isinstance(sep, str) else f"sep must be a string, not {sep!r}"


def _check_sleep(args: tuple[object, ...], kwargs: dict[str, object]) -> str | None:
    seconds = args[0] if args else kwargs.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return f"sleep takes a number of seconds, not {seconds!r}"
    if not math.isfinite(seconds) or seconds < 0:
        return f"sleep takes a finite number of seconds >= 0, not {seconds!r}"
    return None


@callback("echo", validate=_check_echo)
def echo(*args: object, sep: str = " ") -> str:
    """Join the arguments with sep and return the text."""
    return sep.join(str(a) for a in args)


@callback("callback")
def seed_callback(arg: object, *, kwarg: str = "default") -> str:
    """The seed's callback: 'callback invoked with ARG and KWARG'."""
    return f"callback invoked with {arg} and {kwarg}"


@callback("sleep", validate=_check_sleep)
def sleep(seconds: float) -> str:
    """Block the loop for SECONDS: every call due meanwhile runs late."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError("sleep takes a number of seconds")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("sleep takes a finite number of seconds >= 0")
    current_run().block(float(seconds))
    return f"slept {seconds}s"


@callback("cancel", entry_params=("entry",))
def cancel(entry: str) -> str:
    """Cancel the pending call(s) of the named entry."""
    n = current_run().cancel(entry)
    return f"cancelled {n} call{'s' if n != 1 else ''} of {entry}"


@callback("stop")
def stop() -> str:
    """End the run now; pending calls are cancelled and counted."""
    current_run().stop()
    return "stopping"


@callback("fail")
def fail(message: str = "failed on purpose") -> None:
    """Raise RuntimeError(MESSAGE): for testing error handling."""
    raise RuntimeError(message)
from . import execcb  # noqa: E402, F401  (registers exec)
