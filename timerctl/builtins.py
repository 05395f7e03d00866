"""The built-in callbacks (SPEC §3). Each returns the text its record shows as the result.

They are declared here, not registered: ``register_builtins`` puts them into a registry, and the
registry calls it when first asked for a name. Neither this module nor ``execcb`` imports the
registry, so the dependency runs one way (registry -> builtins -> execcb).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from .context import current_run

if TYPE_CHECKING:
    from .registry import Registry

Validate = Callable[[tuple[Any, ...], dict[str, Any]], "str | None"]


class Builtin(NamedTuple):
    """One built-in callback as the registry is to hold it."""

    name: str
    func: Callable[..., Any]
    entry_params: tuple[str, ...] = ()
    validate: Validate | None = None


#: every built-in, in the order declared (``timerctl callbacks`` sorts them by name)
BUILTINS: list[Builtin] = []

#: what ``timerctl callbacks`` shows as a built-in's origin
ORIGIN = "built-in"


def builtin(
    name: str, *, entry_params: tuple[str, ...] = (), validate: Validate | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a built-in (the plugins' ``@callback``, minus the registry)."""

    def declare(func: Callable[..., Any]) -> Callable[..., Any]:
        BUILTINS.append(Builtin(name, func, entry_params, validate))
        return func

    return declare


def register_builtins(registry: Registry) -> None:
    """Put every built-in into ``registry``: the one way they get there."""
    for b in BUILTINS:
        registry.register(
            b.func, b.name, origin=ORIGIN, entry_params=b.entry_params, validate=b.validate
        )


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


@builtin("echo", validate=_check_echo)
def echo(*args: object, sep: str = " ") -> str:
    """Join the arguments with sep and return the text."""
    return sep.join(str(a) for a in args)


@builtin("callback")
def seed_callback(arg: object, *, kwarg: str = "default") -> str:
    """The seed's callback: 'callback invoked with ARG and KWARG'."""
    return f"callback invoked with {arg} and {kwarg}"


@builtin("sleep", validate=_check_sleep)
def sleep(seconds: float) -> str:
    """Block the loop for SECONDS: every call due meanwhile runs late."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError("sleep takes a number of seconds")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("sleep takes a finite number of seconds >= 0")
    current_run().block(float(seconds))
    return f"slept {seconds}s"


@builtin("cancel", entry_params=("entry",))
def cancel(entry: str) -> str:
    """Cancel the pending call(s) of the named entry."""
    n = current_run().cancel(entry)
    return f"cancelled {n} call{'s' if n != 1 else ''} of {entry}"


@builtin("stop")
def stop() -> str:
    """End the run now; pending calls are cancelled and counted."""
    current_run().stop()
    return "stopping"


@builtin("fail")
def fail(message: str = "failed on purpose") -> None:
    """Raise RuntimeError(MESSAGE): for testing error handling."""
    raise RuntimeError(message)


def _check_exec(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    from .execcb import check

    return check(args, kwargs)


# exec lives in its own module (child processes are a subject of their own)
from .execcb import exec_  # noqa: E402

builtin("exec", validate=_check_exec)(exec_)
