"""Inspecting a schedule runs none of its code; the current folder is not on sys.path (issue 15,
SPEC §6)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import TIMERCTL, clean_env

#: modules timerctl (or what it imports) may import: a folder of downloaded files can hold any
SHADOWS = ["click", "inspect", "typing", "dataclasses", "rich", "tomllib", "json", "asyncio",
           "selectors", "difflib", "importlib_metadata", "signal"]

SCHEDULE = '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["hi"]\n'


def shadowed_folder(tmp_path: Path) -> Path:
    for name in SHADOWS:
        (tmp_path / f"{name}.py").write_text(
            f"open({str(tmp_path / ('PWNED_' + name))!r}, 'w').close()\n")
    (tmp_path / "s.toml").write_text(SCHEDULE)
    return tmp_path


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["check", "s.toml"],
                                  ["plan", "s.toml"], ["run", "s.toml", "--format", "jsonl"],
                                  ["callbacks"]])
def test_python_m_timerctl_does_not_import_from_the_current_folder(
    tmp_path: Path, args: list[str]
) -> None:
    here = shadowed_folder(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "timerctl", *args], cwd=here, env=clean_env(),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in here.glob("PWNED_*")) == []


def test_the_console_script_does_not_either(tmp_path: Path) -> None:
    here = shadowed_folder(tmp_path)
    proc = subprocess.run([TIMERCTL, "run", "s.toml", "--format", "plain"], cwd=here,
                          env=clean_env(), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in here.glob("PWNED_*")) == []


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path
