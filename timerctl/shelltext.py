"""The schedule text a one-liner writes: what ``--show`` prints and the loader then loads.

Bad command-line values are click usage errors, named by the argument they came from.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from datetime import time as dtime

import click


def toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:  # an undecodable byte of the command line
            raise click.BadParameter(
                f"{text!r} is not valid UTF-8: a schedule cannot hold it", param_hint="COMMAND"
            )
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def name_for(argv: tuple[str, ...], name: str | None) -> str:
    if name:
        return name
    base = os.path.basename(argv[0])
    return base if base and base.isprintable() else "exec"  # a name is a column of the output


def need_command(argv: tuple[str, ...], example: str) -> None:
    if not argv:
        raise click.UsageError(
            f"nothing to run: give the command after --, e.g. timerctl {example} -- date +%T"
        )


def command_text(how: str, argv: tuple[str, ...]) -> str:
    import shlex

    return f"timerctl {how} -- {shlex.join(argv)}"


def call_lines(name: str, argv: tuple[str, ...], call_timeout: float | None) -> list[str]:
    lines = [
        f"name = {toml_str(name)}",
        'callback = "exec"',
        f"args = [{', '.join(map(toml_str, argv))}]",
    ]
    if call_timeout is not None:
        lines.append(f"kwargs = {{ timeout = {call_timeout!r} }}")
    return lines


def policy_lines(overlap: str, late_after: float | None) -> list[str]:
    """The policy keys, written only when set (a plain one-liner's file stays minimal)."""
    lines = []
    if overlap != "allow":
        lines.append(f"overlap = {toml_str(overlap)}")
    if late_after is not None:
        lines.append(f"late_after = {late_after!r}")
    return lines


def bounds(count: int | None, until: float | None) -> list[str]:
    return ([f"count = {count}"] if count is not None else []) + (
        [f"until = {until!r}"] if until is not None else []
    )


def document(command: str, lines: list[str]) -> str:
    return f"# {command}\n[[call]]\n" + "".join(f"{line}\n" for line in lines)


def moment_toml(text: str) -> str:
    """A TIME argument as a TOML time or datetime: 14:30, 14:30:15, 2026-12-24T18:00[+01:00]."""
    raw = text.strip()
    try:
        return dtime.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise click.BadParameter(
                f"{text!r} is not a time: write HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS][+HH:MM]",
                param_hint="TIME",
            ) from None
        moment = datetime.combine(day, dtime())
    return moment.isoformat()


def quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
