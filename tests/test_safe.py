"""Untrusted text never reaches a terminal raw: file names, recordings, results (issue 15)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers import TIMERCTL, clean_env

from timerctl.safe import escape

#: what a terminal could obey: C0 (ESC, BEL...), DEL, C1 (U+009B is a CSI on its own), bidi
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

#: a window title (OSC 0), a clipboard write (OSC 52), an 8-bit CSI, a right-to-left override
EVIL = "evil\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x9b2J\u202eld"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text · ok ✓", "plain text · ok ✓"),
        ("a\x1b[2Jb", "a\\u001b[2Jb"),
        ("tab\there\nnext\r", "tab\\there\\nnext\\r"),
        ("\x07\x7f", "\\u0007\\u007f"),
        ("c1\x85\x9b31m", "c1\\u0085\\u009b31m"),
        ("bidi\u202eabc\u2066x\u2069\u200f", "bidi\\u202eabc\\u2066x\\u2069\\u200f"),
        ("lines\u2028\u2029", "lines\\u2028\\u2029"),
    ],
)
def test_escape_shows_what_a_terminal_would_obey(text: str, shown: str) -> None:
    assert escape(text) == shown
    assert not RAW.search(escape(text))


def test_escape_returns_clean_text_itself() -> None:
    text = "nothing to do here"
    assert escape(text) is text


def cli(here: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TIMERCTL, *args], cwd=here, env=clean_env(), capture_output=True, text=True, timeout=20
    )


@pytest.fixture
def evil_files(tmp_path: Path) -> tuple[str, str]:
    good, bad = EVIL + ".toml", "bad" + EVIL + ".toml"
    (tmp_path / good).write_text(
        '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["r\\u009b2J\\u202ex"]\n'
    )
    (tmp_path / bad).write_text('[[call]]\nsoon = 1\ncallback = "echo"\n')
    return good, bad


@pytest.mark.parametrize(
    "args",
    [
        ["check", "{good}", "{bad}"],
        ["run", "{good}", "--format", "plain"],
        ["run", "{good}", "--format", "rich"],
        ["run", "{bad}"],
        ["plan", "{good}", "--format", "plain"],
        ["plan", "{good}", "--format", "rich"],
    ],
)
def test_a_file_name_with_terminal_escapes_is_shown_escaped(
    tmp_path: Path, evil_files: tuple[str, str], args: list[str]
) -> None:
    good, bad = evil_files
    proc = cli(tmp_path, *(a.format(good=good, bad=bad) for a in args))
    assert proc.stdout or proc.stderr
    assert not RAW.search(proc.stdout), proc.stdout
    assert not RAW.search(proc.stderr), proc.stderr
    shown = proc.stdout + proc.stderr
    assert escape(EVIL) in shown  # still named, visibly


def test_jsonl_keeps_the_exact_name(tmp_path: Path, evil_files: tuple[str, str]) -> None:
    good, _ = evil_files
    proc = cli(tmp_path, "run", good, "--format", "jsonl")
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert records[0]["schedule"] == good  # JSON escapes it; a reader gets the real name
    assert records[1]["result"] == "r\x9b2J\u202ex"


def test_a_hostile_recording_is_reported_escaped(tmp_path: Path) -> None:
    wall = "2026-12-02T13:05:36.157923+00:00"
    records = [
        {
            "event": "start",
            "schedule": EVIL,
            "loop_impl": "asyncio" + EVIL,
            "clock": "real",
            "loop_t0": 1.0,
            "wall_t0": wall,
            "clock_resolution": 1e-9,
            "calls": 1,
            "speed": 1,
            "precision": "normal" + EVIL,
            "selector": "Epoll" + EVIL,
        },
        {
            "event": "call",
            "seq": 1,
            "entry": "e" + EVIL,
            "kind": "soon",
            "callback": "echo",
            "args": [EVIL],
            "kwargs": {},
            "n": 1,
            "due": 1.0,
            "loop_time": 1.001,
            "t": 0.001,
            "wall_time": wall,
            "late": 0.001,
            "duration": 0.0001,
            "result": EVIL,
        },
        {
            "event": "call",
            "seq": 2,
            "entry": "f",
            "kind": "soon",
            "callback": "fail",
            "args": [],
            "kwargs": {},
            "n": 1,
            "due": 1.0,
            "loop_time": 1.002,
            "t": 0.002,
            "wall_time": wall,
            "late": 0.002,
            "duration": 0.0001,
            "error": {"type": "E" + EVIL, "message": EVIL, "output": EVIL},
        },
        {"event": "cancel", "entry": EVIL, "count": 1, "by": EVIL, "t": 0.003},
        {
            "event": "end",
            "reason": "done" + EVIL,
            "calls": 2,
            "failed": 1,
            "cancelled": 1,
            "late_p50": 0.001,
            "late_p99": 0.002,
            "late_max": 0.002,
            "duration": 0.01,
            "exit_code": 1,
        },
    ]
    (tmp_path / "rec.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    for env in (clean_env(), clean_env(COLUMNS="300")):
        proc = subprocess.run(
            [TIMERCTL, "report", "rec.jsonl"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert proc.returncode == 0, proc.stderr
        assert not RAW.search(proc.stdout), proc.stdout
        assert not RAW.search(proc.stderr), proc.stderr


def test_a_plugin_name_with_escapes_is_shown_escaped(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('[[call]]\nsoon = true\ncallback = "echo"\n')
    proc = cli(tmp_path, "check", "s.toml", "--plugin", "no" + EVIL)
    assert proc.returncode == 2
    assert not RAW.search(proc.stderr), proc.stderr


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names")
def test_the_summary_of_a_run_is_escaped_too(tmp_path: Path, evil_files: tuple[str, str]) -> None:
    good, _ = evil_files
    proc = cli(tmp_path, "run", good, "--format", "rich", "--clock", "virtual")
    assert proc.returncode == 0
    assert not RAW.search(proc.stdout)


EXEC_STDERR = """\
[[call]]
soon = true
callback = "exec"
args = ["sh", "-c", "printf 'a\\\\033]0;pwn\\\\007b\\\\302\\\\233x\\\\nline2\\\\n' >&2"]
"""


@pytest.mark.parametrize(
    ("flag", "env"), [(["--escape-stderr"], {}), ([], {"TIMERCTL_ESCAPE_STDERR": "1"})]
)
def test_exec_stderr_can_be_shown_escaped(
    tmp_path: Path, flag: list[str], env: dict[str, str]
) -> None:
    (tmp_path / "s.toml").write_text(EXEC_STDERR)
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl", *flag],
        cwd=tmp_path,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "a\\u001b]0;pwn\\u0007b\\u009bx\nline2\n"


def test_exec_stderr_is_verbatim_by_default(tmp_path: Path) -> None:
    """A child's colours and progress bars still work: escaping is asked for."""
    (tmp_path / "s.toml").write_text(EXEC_STDERR)
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.stderr == "a\x1b]0;pwn\x07b\x9bx\nline2\n"
