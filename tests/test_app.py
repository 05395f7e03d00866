"""app.py: a RunRequest in, an exit code out; and the registry's one-way dependency."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import schedule

from timerctl import app
from timerctl.errors import ExitCode
from timerctl.registry import Registry

FAILING = """
[[call]]
name = "hello"
soon = true
callback = "echo"
args = ["hi"]

[[call]]
name = "boom"
later = 0.5
callback = "fail"
"""


def test_a_request_runs_to_its_exit_code_and_records(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    request = app.RunRequest(
        schedule(FAILING), fmt="jsonl", clock="virtual", summary=False, record=str(record)
    )
    assert app.run(request) == ExitCode.CALLBACK_FAILED
    events = [json.loads(line) for line in record.read_text().splitlines()]
    assert [e["event"] for e in events] == ["start", "call", "call", "end"]
    assert events[-1]["exit_code"] == 1 and events[-1]["failed"] == 1


def test_an_output_over_the_input_is_refused_before_anything_runs(tmp_path: Path) -> None:
    source = tmp_path / "s.toml"
    source.write_text(FAILING)
    request = app.RunRequest(
        schedule(FAILING, path=str(source)), clock="virtual", record=str(source)
    )
    with pytest.raises(app.OptionError) as caught:
        app.run(request)
    assert caught.value.option == "'--record'"
    assert "it would be overwritten" in caught.value.message
    assert source.read_text() == FAILING


def test_a_request_is_a_frozen_value() -> None:
    request = app.RunRequest(schedule(FAILING))
    with pytest.raises(AttributeError):
        request.fmt = "plain"  # type: ignore[misc]


def imported_with(module: str, packages: tuple[str, ...]) -> list[str]:
    """Which of ``packages`` a fresh interpreter has loaded once it imported ``module``."""
    code = (
        f"import sys, {module}; "
        f"print(repr(sorted({{m.split('.')[0] for m in sys.modules}} & {set(packages)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(out.stdout))


@pytest.mark.parametrize("module", ["timerctl.builtins", "timerctl.execcb"])
def test_the_built_ins_do_not_import_the_registry(module: str) -> None:
    # The registry puts them in (register_builtins); they never reach back for it.
    code = f"import sys, {module}; print('timerctl.registry' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_registry_gets_the_built_ins_with_their_validators() -> None:
    spec = Registry().get("sleep")
    assert spec is not None and spec.origin == "built-in"
    assert spec.check_args(("soon",), {}) == "sleep takes a number of seconds, not 'soon'"


def test_the_core_of_a_run_imports_neither_click_nor_rich() -> None:
    # The CLI and the renderers sit on top: app.py (RunRequest -> exit code) needs neither.
    assert imported_with("timerctl.app", ("click", "rich")) == []


def test_the_first_handler_comes_before_asyncio_is_imported() -> None:
    # __main__ installs it from timerctl.signals first thing: a signal while asyncio imports
    # must find it there (a NameError traceback from a half-imported asyncio, otherwise).
    assert imported_with("timerctl.signals", ("asyncio", "socket")) == []
