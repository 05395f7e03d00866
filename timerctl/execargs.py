"""The ``exec`` callback's arguments, checked before anything is spawned.

The OS would reject most of these itself, less clearly (``embedded null byte``) or not at all (a
bool is not a timeout). The loader runs the same checks at load time, through ``execcb.check``,
so a bad entry is a located error instead of a failed call mid-run.

Each argument has its rule: a function that returns the exception to raise, or None. The rules
run in the order of the call's parameters, and the first problem found is the one reported.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

#: a rule: the exception its argument earns, or None
Rule = Callable[[Any], Exception | None]


def validate(
    argv: tuple[Any, ...], timeout: Any, cwd: Any, env: Any
) -> tuple[tuple[str, ...], dict[str, str] | None]:
    """(argv, the child's whole environment or None for ours); raises TypeError or ValueError."""
    checks: tuple[tuple[Rule, Any], ...] = (
        (_argv_problem, argv),
        (_timeout_problem, timeout),
        (_cwd_problem, cwd),
        (_env_problem, env),
    )
    for rule, value in checks:
        problem = rule(value)
        if problem is not None:
            raise problem
    return argv, None if env is None else {**os.environ, **env}


def _argv_problem(argv: tuple[Any, ...]) -> Exception | None:
    if not argv:
        return ValueError('exec needs a program to run: args = ["program", "arg", ...]')
    for i, item in enumerate(argv):
        problem = _arg_problem(i, item)
        if problem is not None:
            return problem
    if not argv[0]:
        return ValueError("exec program name is empty")
    return None


def _arg_problem(i: int, item: Any) -> Exception | None:
    if not isinstance(item, str):
        return TypeError(
            f"exec args must be strings; args[{i}] is {type(item).__name__} {item!r} (quote it)"
        )
    if "\0" in item:
        return ValueError(f"exec args[{i}] contains a NUL character")
    return None


def _timeout_problem(timeout: Any) -> Exception | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        return TypeError(f"exec timeout must be a number of seconds, not {type(timeout).__name__}")
    if not math.isfinite(timeout) or timeout <= 0:
        return ValueError("exec timeout must be a finite number of seconds > 0")
    return None


def _cwd_problem(cwd: Any) -> Exception | None:
    if cwd is not None and (not isinstance(cwd, str) or not cwd or "\0" in cwd):
        return TypeError("exec cwd must be a non-empty path string")
    return None


def _env_problem(env: Any) -> Exception | None:
    if env is None:
        return None
    if not isinstance(env, dict):
        return TypeError(f"exec env must be a table of strings, not {type(env).__name__}")
    for key, value in env.items():
        problem = _variable_problem(key, value)
        if problem is not None:
            return problem
    return None


def _variable_problem(key: Any, value: Any) -> Exception | None:
    if not isinstance(key, str) or not key or "=" in key or "\0" in key:
        return ValueError(f"exec env: {key!r} is not a valid variable name")
    if not isinstance(value, str) or "\0" in value:
        return TypeError(
            f"exec env: the value of {key} must be a string, not "
            f"{type(value).__name__} {value!r} (quote it)"
        )
    return None
