"""Coverage-guided fuzzing of what `timerctl check` and `timerctl plan` do with a file (atheris).

Not run in CI. Each input is a schedule file's bytes; it goes through ``load.load_bytes``
(UTF-8/BOM decoding, the TOML parser, every validation rule) and, when accepted, through
``make_plan`` and the jsonl plan renderer. A crash is:

- any exception but ``ScheduleError`` out of the loader (the CLI would show "internal error", 70);
- an error that is not one line ``fuzz.toml[:LINE[:COL]]: error: MESSAGE``, or a summary that
  is not ``Found N error(s) in fuzz.toml``;
- ``make_plan`` or the jsonl plan renderer failing, or writing a line that is not JSON, for a
  schedule the loader accepted.

Nothing runs: no callback is called and no process started (an ``exec`` entry is only planned),
and ``[run] plugins`` are refused instead of imported, so the fuzzer cannot import modules it
invents.

Run it (from the repository root, in a venv with timerctl installed and atheris added; atheris
ships Linux x86-64 wheels for CPython 3.8-3.11, elsewhere it needs clang with libFuzzer):

    pip install atheris
    mkdir -p /tmp/fuzz-corpus && cp tests/hostile/*.toml examples.toml /tmp/fuzz-corpus/
    python fuzz/fuzz_check.py /tmp/fuzz-corpus -max_total_time=600 -max_len=4096
    python fuzz/fuzz_check.py /tmp/fuzz-corpus -atheris_runs=200000 -jobs=2 -workers=2

libFuzzer writes a crashing input to ./crash-<sha1>; replay one (or any files) without atheris:

    python fuzz/fuzz_check.py --replay crash-<sha1> tests/hostile/*.toml
"""

from __future__ import annotations

import io
import json
import re
import sys

from timerctl.errors import PluginError, ScheduleError
from timerctl.load import load_bytes
from timerctl.plan import make_plan
from timerctl.registry import Registry
from timerctl.render.planview import PLAN_RENDERERS

PATH = "fuzz.toml"
#: a fixed "now" (2026-01-01T00:00:00Z): wall-clock entries are judged against the same moment
NOW = 1_767_225_600.0
PROBLEM = re.compile(r"fuzz\.toml(:\d+(:\d+)?)?: error: [^\n]*")
SUMMARY = re.compile(r"Found (1 error|\d+ errors) in fuzz\.toml")


class _NoPlugins(Registry):
    """The built-in callbacks, and a refusal for every plugin a fuzzed file names."""

    def load_plugin(self, module: str) -> None:
        raise PluginError(f"plugins are not imported while fuzzing ({module!r})")


REGISTRY = _NoPlugins()


def check_one(data: bytes) -> None:
    """What the harness asserts for one input; raises on a finding."""
    try:
        schedule = load_bytes(data, PATH, registry=REGISTRY, now=NOW)
    except ScheduleError as exc:
        assert exc.problems, "a ScheduleError without problems"
        for problem in exc.problems:
            line = str(problem)
            assert PROBLEM.fullmatch(line), f"malformed problem line: {line!r}"
        assert SUMMARY.fullmatch(str(exc)), f"malformed summary: {exc!s}"
        n = len(exc.problems)
        assert str(exc).startswith(f"Found {n} "), f"{exc!s} but {n} problems"
        return
    plan = make_plan(schedule, NOW, limit=50)
    out = io.StringIO()
    PLAN_RENDERERS["jsonl"](plan, out)
    for line in out.getvalue().splitlines():
        json.loads(line)


def TestOneInput(data: bytes) -> None:  # the name atheris looks for
    check_one(data)


def replay(paths: list[str]) -> int:
    failed = 0
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        try:
            check_one(data)
        except Exception as exc:  # report every finding, then exit non-zero
            failed += 1
            print(f"{path}: {type(exc).__name__}: {exc}")
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


def main() -> None:
    if sys.argv[1:2] == ["--replay"]:
        sys.exit(replay(sys.argv[2:]))
    import atheris  # only for fuzzing: replay works without it

    atheris.instrument_all()
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
