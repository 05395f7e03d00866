"""The command line, as a user scripts it: output, exit codes, pipes, stdin, colour."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import TIMERCTL, clean_env

from timerctl.cli import cli

SEED_LATER = """\
[[call]]
later = 0.2
callback = "callback"
args = [1]

[[call]]
later = 0.1
callback = "callback"
args = [2]

[[call]]
soon = true
callback = "callback"
args = [3]
"""

MARKUP = "[red]x[/red] :smile:"
DATA = f'[[call]]\nname = "greet"\nsoon = true\ncallback = "echo"\nargs = ["{MARKUP}"]\n'

BAD = """\
[[call]]
soon = true
callback = "ecoh"

[[call]]
later = -1
callback = "echo"
bogus = 1
"""

#: real clock, long enough that a reader closing after one line closes mid-run
SLOW = """\
[[call]]
soon = true
callback = "echo"
args = ["first"]

[[call]]
later = 0.1
callback = "echo"
args = ["second"]

[[call]]
later = 0.2
callback = "echo"
args = ["third"]
"""

TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "seed.toml").write_text(SEED_LATER)
    (tmp_path / "data.toml").write_text(DATA)
    (tmp_path / "bad.toml").write_text(BAD)
    (tmp_path / "slow.toml").write_text(SLOW)
    return tmp_path


def write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text))
    return str(path.name)


def jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines()]


# -- run -----------------------------------------------------------------------------------------


def test_run_plain_in_the_seed_order(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(cli, ["run", "seed.toml", "--clock", "virtual", "--format", "plain"])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    lines = res.stdout.splitlines()
    assert lines[0].startswith("# timerctl run seed.toml · 3 entries")
    records = [line for line in lines if "callback invoked" in line]
    assert [line.rsplit(" ", 3)[1] for line in records] == ["3", "2", "1"]
    assert [line.split()[0] for line in records] == ["0.000000", "0.100000", "0.200000"]
    assert lines[-1].startswith("# done: 3 calls, 0 failed, 0 cancelled in 0.200s")
    assert lines[-1].endswith("exit 0")


def test_run_jsonl(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(cli, ["run", "seed.toml", "--clock", "virtual", "--format", "jsonl"])
    assert res.exit_code == 0
    objs = jsonl(res.stdout)
    assert [o["event"] for o in objs] == ["start", "call", "call", "call", "end"]
    assert [o["args"] for o in objs[1:4]] == [[3], [2], [1]]
    assert objs[-1]["reason"] == "done" and objs[-1]["exit_code"] == 0


def test_run_a_failing_callback_exits_1_and_still_completes(runner: CliRunner, here: Path) -> None:
    name = write(
        here / "f.toml",
        """
        [[call]]
        soon = true
        callback = "fail"
        args = ["boom"]

        [[call]]
        later = 0.1
        callback = "echo"
        args = ["after"]
    """,
    )
    res = runner.invoke(cli, ["run", name, "--clock", "virtual", "--format", "plain"])
    assert res.exit_code == 1
    assert "! RuntimeError: boom" in res.stdout and res.stdout.count(" after") == 1
    assert "# done: 2 calls, 1 failed" in res.stdout
    assert TRACEBACK not in res.output


def test_run_fail_fast_and_timeout(runner: CliRunner, here: Path) -> None:
    name = write(
        here / "f.toml",
        """
        [[call]]
        later = 0.1
        callback = "fail"

        [[call]]
        soon = true
        every = 0.3
        callback = "echo"
    """,
    )
    res = runner.invoke(
        cli, ["run", name, "--clock", "virtual", "--format", "jsonl", "--fail-fast"]
    )
    assert res.exit_code == 1
    assert jsonl(res.stdout)[-1]["reason"] == "failed"
    ok = write(here / "t.toml", '[[call]]\nsoon = true\nevery = 0.3\ncallback = "echo"\n')
    res = runner.invoke(
        cli, ["run", ok, "--clock", "virtual", "--format", "jsonl", "--timeout", "1"]
    )
    end = jsonl(res.stdout)[-1]
    assert res.exit_code == 0 and end["reason"] == "timeout" and end["cancelled"] == 1
    assert end["calls"] == 4


def test_run_speed_and_seed(runner: CliRunner, here: Path) -> None:
    name = write(
        here / "j.toml",
        """
        [[call]]
        later = 0.2
        every = 0.2
        count = 5
        jitter = 0.1
        callback = "echo"
    """,
    )
    args = ["run", name, "--clock", "virtual", "--format", "jsonl", "--seed", "11"]
    a, b = runner.invoke(cli, args), runner.invoke(cli, args)
    dues = [[o["due"] for o in jsonl(r.stdout) if o["event"] == "call"] for r in (a, b)]
    assert dues[0] == dues[1] and len(dues[0]) == 5
    fast = runner.invoke(
        cli, ["run", "seed.toml", "--clock", "virtual", "--format", "jsonl", "--speed", "2"]
    )
    assert [o["t"] for o in jsonl(fast.stdout) if o["event"] == "call"] == [0.0, 0.05, 0.1]


def test_run_no_summary(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(
        cli, ["run", "seed.toml", "--clock", "virtual", "--format", "plain", "--no-summary"]
    )
    assert res.exit_code == 0 and "# done" not in res.stdout


def test_run_reads_the_schedule_from_stdin(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(
        cli, ["run", "-", "--clock", "virtual", "--format", "jsonl"], input=SEED_LATER
    )
    assert res.exit_code == 0
    objs = jsonl(res.stdout)
    assert objs[0]["schedule"] == "<stdin>"
    assert next(o["result"] for o in objs if o["event"] == "call") == (
        "callback invoked with 3 and default"
    )
    bad = runner.invoke(cli, ["run", "-", "--clock", "virtual"], input=BAD)
    assert bad.exit_code == 2
    assert bad.stderr.splitlines()[0].startswith("<stdin>:3:")


def test_run_data_is_verbatim(runner: CliRunner, here: Path) -> None:
    for fmt in ("plain", "rich", "jsonl"):
        res = runner.invoke(cli, ["run", "data.toml", "--clock", "virtual", "--format", fmt])
        assert res.exit_code == 0
        assert res.stdout.count(MARKUP) == 2, fmt
        assert "\x1b" not in res.stdout and "😄" not in res.stdout


# -- invalid input and options -------------------------------------------------------------------


def test_run_an_invalid_schedule_exits_2_with_located_errors(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(cli, ["run", "bad.toml", "--clock", "virtual"])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        "bad.toml:3:1: error: unknown callback 'ecoh' (did you mean 'echo'?)",
        "bad.toml:6:1: error: 'later' must be >= 0, not -1",
        "bad.toml:8:1: error: unknown key 'bogus' in [[call]]",
        "Found 3 errors in bad.toml",
    ]


def test_run_a_missing_file(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(cli, ["run", "nope.toml"])
    assert res.exit_code == 2
    assert "nope.toml" in res.stderr and "no such file" in res.stderr
    assert TRACEBACK not in res.output


@pytest.mark.parametrize(
    "args",
    [
        ["--speed", "0"],
        ["--speed", "nan"],
        ["--speed", "inf"],
        ["--speed", "-2"],
        ["--speed", "fast"],
        ["--timeout", "0"],
        ["--timeout", "nan"],
        ["--format", "html"],
        ["--clock", "wall"],
        ["--seed", "x"],
        ["--loop", "trio"],
    ],
)
def test_run_bad_options_exit_2(runner: CliRunner, here: Path, args: list[str]) -> None:
    res = runner.invoke(cli, ["run", "seed.toml", *args])
    assert res.exit_code == 2
    assert "Invalid value" in res.stderr and args[0] in res.stderr
    assert res.stdout == "" and TRACEBACK not in res.output


def test_run_virtual_clock_on_uvloop_is_a_usage_error(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(cli, ["run", "seed.toml", "--clock", "virtual", "--loop", "uvloop"])
    assert res.exit_code == 2
    assert res.stderr == "timerctl: the virtual clock runs on the asyncio loop only (not uvloop)\n"
    assert res.stdout == ""


def test_run_record_to_an_unwritable_place_exits_2(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(
        cli,
        [
            "run",
            "seed.toml",
            "--clock",
            "virtual",
            "--record",
            str(here / "no" / "such" / "dir.jsonl"),
        ],
    )
    assert res.exit_code == 2 and "cannot write" in res.stderr
    assert TRACEBACK not in res.output


# -- --record ------------------------------------------------------------------------------------


def test_record_is_identical_to_the_jsonl_output(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(
        cli,
        ["run", "seed.toml", "--clock", "virtual", "--format", "jsonl", "--record", "rec.jsonl"],
    )
    assert res.exit_code == 0
    assert (here / "rec.jsonl").read_text() == res.stdout


@pytest.mark.parametrize("fmt", ["plain", "rich"])
def test_record_beside_a_human_format(runner: CliRunner, here: Path, fmt: str) -> None:
    shown = runner.invoke(
        cli, ["run", "data.toml", "--clock", "virtual", "--format", fmt, "--record", "rec.jsonl"]
    )
    plain = runner.invoke(cli, ["run", "data.toml", "--clock", "virtual", "--format", "jsonl"])
    assert shown.exit_code == plain.exit_code == 0
    assert not shown.stdout.lstrip().startswith("{")

    def strip(objs: list[dict]) -> list[dict]:  # type: ignore[type-arg]
        # the same run apart from when it happened on the wall clock (and its chosen seed)
        return [
            {k: v for k, v in o.items() if not k.startswith("wall") and k != "seed"} for o in objs
        ]

    assert strip(jsonl((here / "rec.jsonl").read_text())) == strip(jsonl(plain.stdout))


# -- check ---------------------------------------------------------------------------------------


def test_check_reports_every_file(runner: CliRunner, here: Path) -> None:
    res = runner.invoke(cli, ["check", "seed.toml", "bad.toml", "data.toml", "nope.toml"])
    assert res.exit_code == 2
    assert res.stdout.splitlines() == ["seed.toml: ok (3 entries)", "data.toml: ok (1 entry)"]
    err = res.stderr.splitlines()
    assert "bad.toml:3:1: error: unknown callback 'ecoh' (did you mean 'echo'?)" in err
    assert "Found 3 errors in bad.toml" in err
    assert any(line.startswith("nope.toml: error:") for line in err)
    assert TRACEBACK not in res.output


def test_check_all_valid_exits_0_and_runs_nothing(runner: CliRunner, here: Path) -> None:
    marker = here / "ran"
    name = write(
        here / "x.toml",
        f"""
        [[call]]
        soon = true
        callback = "exec"
        args = ["touch", "{marker}"]

        [[call]]
        soon = true
        callback = "fail"
    """,
    )
    res = runner.invoke(cli, ["check", name, "seed.toml"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == ["x.toml: ok (2 entries)", "seed.toml: ok (3 entries)"]
    assert not marker.exists()


@pytest.mark.parametrize(
    "files, code", [(["seed.toml", "data.toml"], 0), (["seed.toml", "bad.toml", "data.toml"], 2)]
)
def test_check_exits_at_once_with_every_line_written(
    here: Path, files: list[str], code: int
) -> None:
    """check leaves its schedules to the OS (an exit without freeing them, exits.end): what it
    wrote to a pipe, buffered or not, still arrives, and the status is still the command's."""
    res = subprocess.run(
        [TIMERCTL, "check", *files], capture_output=True, text=True, env=clean_env(), check=False
    )
    assert res.returncode == code, res.stderr
    ok = [f"{f}: ok ({n})" for f, n in (("seed.toml", "3 entries"), ("data.toml", "1 entry"))]
    assert res.stdout.splitlines() == ok
    assert ("Found 3 errors in bad.toml" in res.stderr) == (code == 2)


def test_check_needs_a_file(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["check"])
    assert res.exit_code == 2


# -- callbacks, version, help --------------------------------------------------------------------


def test_callbacks_lists_the_builtins(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["callbacks", "--format", "jsonl"])
    assert res.exit_code == 0
    listed = {o["name"]: o for o in jsonl(res.stdout)}
    for name in ("echo", "callback", "exec", "sleep", "cancel", "stop", "fail"):
        assert listed[name]["origin"] == "built-in", name
        assert listed[name]["signature"].startswith(f"{name}(")
        assert listed[name]["doc"]
    assert listed["exec"]["async"] is True and listed["echo"]["async"] is False
    plain = runner.invoke(cli, ["callbacks"])
    assert plain.exit_code == 0
    lines = plain.stdout.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("callback("))
    assert "kwarg: str = 'default'" in lines[i]
    doc = lines[i + 1]
    assert doc.startswith("    The seed's callback") and doc.endswith("[built-in]")


def test_version(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["--version"], prog_name="timerctl")
    assert res.exit_code == 0
    assert res.stdout == f"timerctl {version('timerctl')}\n"


def test_top_level_help_shows_examples(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["--help"])
    assert res.exit_code == 0 and "Examples" in res.stdout
    for command in ("run", "check", "callbacks"):
        assert command in res.stdout


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_each_command_help_shows_examples(runner: CliRunner, command: str) -> None:
    res = runner.invoke(cli, [command, "--help"])
    assert res.exit_code == 0
    assert "Examples:" in res.stdout
    assert f"timerctl {command}" in res.stdout.split("Examples:", 1)[1]


# -- pipes (subprocesses, the real clock, short) -------------------------------------------------


@pytest.mark.parametrize("fmt", ["plain", "jsonl", "rich"])
def test_reader_closing_the_pipe_exits_141_quietly(here: Path, fmt: str) -> None:
    # timerctl run slow.toml --format FMT | head -1
    proc = subprocess.Popen(
        [TIMERCTL, "run", "slow.toml", "--format", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    code = proc.wait(timeout=5)
    assert first.startswith(b"{" if fmt == "jsonl" else b"# timerctl run slow.toml")
    assert code == 141
    assert err == b""


def test_record_file_is_complete_when_stdout_closes(here: Path) -> None:
    # timerctl run slow.toml --record rec.jsonl | head -1
    proc = subprocess.Popen(
        [TIMERCTL, "run", "slow.toml", "--format", "jsonl", "--record", "rec.jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=5) == 141
    objs = jsonl((here / "rec.jsonl").read_text())
    assert objs[0]["event"] == "start"
    assert objs[-1]["event"] == "end"
    assert objs[-1]["reason"] == "closed" and objs[-1]["exit_code"] == 141


@pytest.mark.parametrize("fmt", ["jsonl", "plain", "rich"])
def test_records_are_flushed_one_by_one_without_pythonunbuffered(here: Path, fmt: str) -> None:
    name = write(
        here / "gap.toml",
        """
        [[call]]
        soon = true
        callback = "echo"
        args = ["now"]

        [[call]]
        later = 0.3
        callback = "echo"
        args = ["later"]
    """,
    )
    env = clean_env()
    assert "PYTHONUNBUFFERED" not in env
    proc = subprocess.Popen(
        [TIMERCTL, "run", name, "--format", fmt, "--no-summary"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    try:
        while b"now" not in (line := proc.stdout.readline()):
            assert line, "the first record never came"
        assert proc.poll() is None, "the first record came only when the run ended"
    finally:
        rest = proc.stdout.read()
        proc.wait(timeout=5)
    assert b"later" in rest
    assert proc.returncode == 0


def test_auto_on_a_pipe_is_plain_without_escapes(here: Path) -> None:
    res = subprocess.run(
        [TIMERCTL, "run", "data.toml", "--clock", "virtual"],
        capture_output=True,
        env=clean_env(),
        timeout=10,
    )
    assert res.returncode == 0 and res.stderr == b""
    out = res.stdout.decode()
    assert "\x1b" not in out
    assert out.splitlines()[2].split()[:3] == ["T", "loop", "wall"]  # plain's column header
    assert out.count(MARKUP) == 2


# -- colour on a terminal ------------------------------------------------------------------------

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colours(out: str) -> set[str]:
    """Colour parameters of the SGR sequences in ``out`` (bold, italic and reset are not)."""
    found = set()
    for params in SGR.findall(out):
        for p in params.split(";"):
            if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                found.add(p)
    return found


def on_a_terminal(args: list[str], cwd: Path, **env: str) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [TIMERCTL, *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=clean_env(COLUMNS="200", **env),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    proc.wait(timeout=10)
    return proc.returncode, b"".join(chunks).decode()


def test_auto_on_a_terminal_is_rich_and_coloured(here: Path) -> None:
    code, out = on_a_terminal(["run", "data.toml", "--clock", "virtual"], here)
    assert code == 0
    assert colours(out)
    assert out.count(MARKUP) == 2 and "😄" not in out


def test_no_color_on_a_terminal(here: Path) -> None:
    code, out = on_a_terminal(["run", "data.toml", "--clock", "virtual"], here, NO_COLOR="1")
    assert code == 0
    assert colours(out) == set()
    assert out.count(MARKUP) == 2


def test_term_dumb_on_a_terminal_is_plain(here: Path) -> None:
    code, out = on_a_terminal(["run", "data.toml", "--clock", "virtual"], here, TERM="dumb")
    assert code == 0
    assert "\x1b" not in out
    assert out.splitlines()[2].split()[:3] == ["T", "loop", "wall"]
