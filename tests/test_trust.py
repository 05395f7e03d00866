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
SHADOWS = [
    "click",
    "inspect",
    "typing",
    "dataclasses",
    "rich",
    "tomllib",
    "json",
    "asyncio",
    "selectors",
    "difflib",
    "importlib_metadata",
    "signal",
]

SCHEDULE = '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["hi"]\n'


def shadowed_folder(tmp_path: Path) -> Path:
    for name in SHADOWS:
        (tmp_path / f"{name}.py").write_text(
            f"open({str(tmp_path / ('PWNED_' + name))!r}, 'w').close()\n"
        )
    (tmp_path / "s.toml").write_text(SCHEDULE)
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["check", "s.toml"],
        ["plan", "s.toml"],
        ["run", "s.toml", "--format", "jsonl"],
        ["callbacks"],
    ],
)
def test_python_m_timerctl_does_not_import_from_the_current_folder(
    tmp_path: Path, args: list[str]
) -> None:
    here = shadowed_folder(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "timerctl", *args],
        cwd=here,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in here.glob("PWNED_*")) == []


def test_the_console_script_does_not_either(tmp_path: Path) -> None:
    here = shadowed_folder(tmp_path)
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--format", "plain"],
        cwd=here,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in here.glob("PWNED_*")) == []


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# -- check and plan read the plugins a schedule names; they do not import them -------------------

#: a plugin that does things when imported, and registers callbacks in every way the reader
#: understands
NOISY = '''
import subprocess
from pathlib import Path

import timerctl
from timerctl import callback as cb

Path(__file__).with_name("IMPORTED_" + __name__).touch()
subprocess.run(["true"])


@cb("greet")
def greet(who, *, punct="!"):
    """Say hello."""
    return f"hello {who}{punct}"


@timerctl.callback
async def later_greet(who):
    return who


@cb(name="undo", entry_params=("entry",))
def undo(entry):
    return entry
'''

PACKAGE_INIT = """
from pathlib import Path

Path(__file__).parent.with_name("IMPORTED_pkg").touch()
"""


def plugin_folder(tmp_path: Path) -> Path:
    write(tmp_path, "noisy.py", NOISY)
    write(tmp_path, "pkg/__init__.py", PACKAGE_INIT)
    write(tmp_path, "pkg/sub.py", NOISY)
    return tmp_path


def imported(here: Path) -> list[str]:
    return sorted(p.name for p in here.rglob("IMPORTED_*"))


def timerctl(here: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TIMERCTL, *args],
        cwd=here,
        env=clean_env(PYTHONPATH=str(here)),
        capture_output=True,
        text=True,
        timeout=30,
    )


GOOD = """\
    [run]
    plugins = ["{plugin}"]

    [[call]]
    name = "a"
    soon = true
    callback = "greet"
    args = ["you"]
    kwargs = {{ punct = "?" }}

    [[call]]
    later = 0.01
    callback = "later_greet"
    args = ["me"]

    [[call]]
    later = 1
    callback = "undo"
    args = ["a"]
"""


@pytest.mark.parametrize("plugin", ["noisy", "pkg.sub"])
@pytest.mark.parametrize("command", [["check"], ["plan"], ["plan", "--format", "jsonl"]])
def test_check_and_plan_read_a_plugin_without_importing_it(
    tmp_path: Path, plugin: str, command: list[str]
) -> None:
    here = plugin_folder(tmp_path)
    write(here, "s.toml", GOOD.format(plugin=plugin))
    proc = timerctl(here, *command, "s.toml")
    assert proc.returncode == 0, proc.stderr
    assert imported(here) == []
    if command == ["check"]:
        assert proc.stdout == "s.toml: ok (3 entries)\n"


@pytest.mark.parametrize("plugin", ["noisy", "pkg.sub"])
def test_run_does_import_it(tmp_path: Path, plugin: str) -> None:
    """The other side: the same schedule, run, imports the plugin and calls its callbacks."""
    here = plugin_folder(tmp_path)
    write(here, "s.toml", GOOD.format(plugin=plugin))
    proc = timerctl(here, "run", "s.toml", "--format", "jsonl", "--clock", "virtual")
    assert proc.returncode == 0, proc.stderr
    assert "IMPORTED_" + plugin in imported(here)
    assert '"result":"hello you?"' in proc.stdout


def test_check_with_plugin_imports_what_the_user_names(tmp_path: Path) -> None:
    here = plugin_folder(tmp_path)
    write(here, "s.toml", GOOD.format(plugin="noisy"))
    proc = timerctl(here, "check", "s.toml", "--plugin", "noisy")
    assert proc.returncode == 0, proc.stderr
    assert imported(here) == ["IMPORTED_noisy"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('callback = "greet"\nargs = []', "missing a required argument: 'who'"),
        (
            'callback = "greet"\nargs = ["x"]\nkwargs = { sep = "," }',
            "got an unexpected keyword argument 'sep'",
        ),
        ('callback = "undo"\nargs = ["nobody"]', "nobody"),
        ('callback = "gret"\nargs = ["x"]', "did you mean 'greet'?"),
    ],
)
def test_what_is_read_is_checked_as_before(tmp_path: Path, body: str, message: str) -> None:
    here = plugin_folder(tmp_path)
    write(here, "s.toml", f'[run]\nplugins = ["noisy"]\n\n[[call]]\nsoon = true\n{body}\n')
    proc = timerctl(here, "check", "s.toml")
    assert proc.returncode == 2
    assert message in proc.stderr and "s.toml:" in proc.stderr
    assert imported(here) == []


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ("missing", "cannot import plugin 'missing': No module named 'missing'"),
        ("pkg.missing", "cannot import plugin 'pkg.missing': No module named 'pkg.missing'"),
        ("noisy.sub", "'noisy' is not a package"),
    ],
)
def test_a_missing_plugin_is_a_located_error_without_importing(
    tmp_path: Path, plugin: str, message: str
) -> None:
    here = plugin_folder(tmp_path)
    write(
        here,
        "s.toml",
        f'[run]\nplugins = ["{plugin}"]\n\n[[call]]\nsoon = true\ncallback = "echo"\n',
    )
    proc = timerctl(here, "check", "s.toml")
    assert proc.returncode == 2
    assert proc.stderr.startswith("s.toml:2:") and message in proc.stderr, proc.stderr
    assert imported(here) == []


def test_a_plugin_that_cannot_be_parsed_is_a_located_error(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", "def (:\n")
    write(
        tmp_path,
        "s.toml",
        '[run]\nplugins = ["broken"]\n\n[[call]]\nsoon = true\ncallback = "echo"\n',
    )
    proc = timerctl(tmp_path, "check", "s.toml")
    assert proc.returncode == 2
    assert proc.stderr.startswith("s.toml:2:") and "SyntaxError" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_venv_main_as_a_plugin_starts_nothing(tmp_path: Path) -> None:
    """The report's case: `plugins = ["venv.__main__"]` made check create a venv and run pip."""
    write(
        tmp_path,
        "s.toml",
        '[run]\nplugins = ["venv.__main__"]\n\n[[call]]\nsoon = true\ncallback = "echo"\n',
    )
    for command in ("check", "plan"):
        proc = timerctl(tmp_path, command, "s.toml")
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_reading_a_plugin_does_not_stop_a_later_run_from_importing_it(
    tmp_path: Path, monkeypatch
) -> None:
    """In one process (a library caller, a test session): check, then run, of one schedule."""
    from timerctl import engine
    from timerctl.loader import load
    from timerctl.registry import REGISTRY  # where a plugin's @callback registers

    here = plugin_folder(tmp_path)
    write(here, "s.toml", GOOD.format(plugin="noisy_again"))
    write(here, "noisy_again.py", NOISY)
    monkeypatch.syspath_prepend(str(here))
    with REGISTRY.reading_plugins():
        load(str(here / "s.toml"))
    assert REGISTRY.import_plugins and imported(here) == []
    events: list = []
    end = engine.run(load(str(here / "s.toml")), events.append, virtual=True)
    assert end.exit_code == 0 and imported(here) == ["IMPORTED_noisy_again"]
    assert "hello you?" in [getattr(e, "result", None) for e in events]
