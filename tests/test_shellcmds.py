"""The one-liners from the shell: every, after, at, cron, calendar (end to end, as a user types)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import TIMERCTL, clean_env


def sh(
    *args: str, cwd: Path | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    env.pop("PYTHONUNBUFFERED", None)
    return subprocess.run(
        [TIMERCTL, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env=env,
        timeout=timeout,
    )


def records(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def calls(stdout: str) -> list[dict[str, object]]:
    return [r for r in records(stdout) if r["event"] == "call"]


def test_every_runs_a_command_at_a_fixed_rate() -> None:
    proc = sh(
        "every",
        "500ms",
        "--count",
        "3",
        "--clock",
        "virtual",
        "--format",
        "jsonl",
        "--",
        "echo",
        "hi",
        "there",
    )
    assert proc.returncode == 0, proc.stderr
    got = calls(proc.stdout)
    assert [(c["entry"], c["n"], c["t"], c["result"]) for c in got] == [
        ("echo", 1, 0.0, "hi there"),
        ("echo", 2, 0.5, "hi there"),
        ("echo", 3, 1.0, "hi there"),
    ]
    assert got[0]["args"] == ["echo", "hi", "there"] and got[0]["callback"] == "exec"


def test_every_on_the_real_clock_fires_on_its_beat() -> None:
    proc = sh("every", "50ms", "--count", "3", "--format", "jsonl", "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert [c["n"] for c in calls(proc.stdout)] == [1, 2, 3]
    dues = [c["due"] for c in calls(proc.stdout)]
    assert dues[2] - dues[1] == pytest.approx(0.05, abs=1e-9)  # fixed-rate: on its grid


def test_show_prints_a_schedule_that_runs_identically() -> None:
    args = ("every", "250ms", "--count", "4", "--", "printf", "%s", 'a "q" \\ b')
    shown = sh(*args[:4], "--show", *args[4:])
    assert shown.returncode == 0 and shown.stdout.startswith("# timerctl every 250ms -- printf")
    direct = sh(*args[:4], "--clock", "virtual", "--format", "jsonl", *args[4:])
    piped = sh("run", "-", "--clock", "virtual", "--format", "jsonl", stdin=shown.stdout)
    assert direct.returncode == piped.returncode == 0, piped.stderr

    def view(stdout: str) -> list[tuple[object, ...]]:
        return [(c["entry"], c["n"], c["t"], c["args"], c["result"]) for c in calls(stdout)]

    assert view(direct.stdout) == view(piped.stdout)
    assert view(direct.stdout)[0][4] == 'a "q" \\ b'


def test_after_runs_once_after_its_delay() -> None:
    proc = sh("after", "1m30s", "--clock", "virtual", "--format", "jsonl", "--", "echo", "tea")
    assert proc.returncode == 0, proc.stderr
    got = calls(proc.stdout)
    assert [(c["kind"], c["t"], c["result"]) for c in got] == [("later", 90.0, "tea")]


def test_at_shows_a_wall_clock_moment() -> None:
    proc = sh("at", "14:30", "--show", "--", "make", "backup")
    assert proc.stdout == (
        '# timerctl at 14:30 -- make backup\n[[call]]\nname = "make"\n'
        'callback = "exec"\nargs = ["make", "backup"]\nat = 14:30:00\n'
    )
    virtual = sh(
        "at", "2099-01-01T00:00", "--clock", "virtual", "--format", "jsonl", "--", "echo", "y2k99"
    )
    assert virtual.returncode == 0, virtual.stderr
    # (an epoch float near 2099 has ~0.5 µs steps: the last digit may be off by one)
    assert calls(virtual.stdout)[0]["wall_time"].startswith("2099-01-01T00:00:00.00000")


def test_at_refuses_what_is_not_a_time() -> None:
    proc = sh("at", "teatime", "--", "true")
    assert proc.returncode == 2 and "'teatime' is not a time" in proc.stderr


def test_cron_and_calendar_run_on_the_wall_clock() -> None:
    proc = sh(
        "cron",
        "0 9 * * 1-5",
        "--tz",
        "Europe/Berlin",
        "--count",
        "2",
        "--clock",
        "virtual",
        "--format",
        "jsonl",
        "--",
        "echo",
        "standup",
    )
    assert proc.returncode == 0, proc.stderr
    got = calls(proc.stdout)
    assert [c["kind"] for c in got] == ["cron", "cron"] and len(got) == 2
    cal = sh(
        "calendar",
        "*:0/15",
        "--count",
        "3",
        "--clock",
        "virtual",
        "--format",
        "jsonl",
        "--",
        "true",
    )
    assert cal.returncode == 0, cal.stderr
    ts = [c["t"] for c in calls(cal.stdout)]
    assert ts[1] - ts[0] == pytest.approx(900) and ts[2] - ts[1] == pytest.approx(900)


def test_cron_plan_shows_the_next_moments() -> None:
    proc = sh(
        "cron",
        "30 2 * 3 0",
        "--tz",
        "Europe/Berlin",
        "--plan",
        "5",
        "--format",
        "plain",
        "--",
        "true",
    )
    assert proc.returncode == 0, proc.stderr
    assert "cron '30 2 * 3 0' in Europe/Berlin is on the wall clock" in proc.stdout
    assert proc.stdout.count("exec('true')") == 5


def test_a_bad_cron_expression_is_a_usage_error() -> None:
    proc = sh("cron", "61 * * * *", "--", "true")
    assert proc.returncode == 2
    assert "bad cron expression '61 * * * *': Bad minute" in proc.stderr


def test_without_a_command_is_a_usage_error_that_shows_how() -> None:
    proc = sh("every", "1s")
    assert proc.returncode == 2
    assert (
        "nothing to run: give the command after --, e.g. timerctl every 1s -- date" in proc.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("every", "5mins", "--", "true"), "unknown unit 'mins'; did you mean 'min'?"),
        (("every", "1s", "--timeout", "-1s", "--", "true"), "negative"),
        (("every", "0", "--", "true"), "must be > 0"),
        (("run", "x.toml", "--timeout", "nan"), "not finite"),
    ],
)
def test_a_bad_duration_says_why(args: tuple[str, ...], message: str) -> None:
    proc = sh(*args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_timeout_ends_a_one_liner_with_124_like_timeout1() -> None:
    proc = sh(
        "every", "100ms", "--timeout", "1s", "--clock", "virtual", "--format", "jsonl", "--", "true"
    )
    assert proc.returncode == 124, proc.stderr
    end = records(proc.stdout)[-1]
    assert end["reason"] == "timeout" and end["exit_code"] == 124 and end["calls"] == 10


def test_a_one_liner_that_ends_by_count_exits_0_and_run_timeout_stays_0(tmp_path: Path) -> None:
    assert (
        sh(
            "every", "1s", "--count", "2", "--timeout", "1h", "--clock", "virtual", "--", "true"
        ).returncode
        == 0
    )
    (tmp_path / "s.toml").write_text('[[call]]\nsoon = true\nevery = 0.1\ncallback = "echo"\n')
    proc = sh(
        "run",
        "s.toml",
        "--timeout",
        "500ms",
        "--clock",
        "virtual",
        "--format",
        "jsonl",
        cwd=tmp_path,
    )
    # the timeout was armed before the call due at the same moment: it comes first
    assert proc.returncode == 0 and records(proc.stdout)[-1]["calls"] == 5


def test_a_failed_call_is_one_line_on_stderr_when_stdout_is_a_pipe() -> None:
    proc = sh(
        "every",
        "1s",
        "--count",
        "2",
        "--clock",
        "virtual",
        "--format",
        "jsonl",
        "--",
        "sh",
        "-c",
        "exit 3",
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        "timerctl: sh call 1 failed: ExecFailed: exit status 3\n"
        "timerctl: sh call 2 failed: ExecFailed: exit status 3\n"
    )


def test_stream_shows_each_line_as_it_comes_before_the_record() -> None:
    proc = sh(
        "after",
        "0",
        "--stream",
        "--format",
        "jsonl",
        "--",
        "sh",
        "-c",
        "echo one; echo two; printf three",
    )
    assert proc.returncode == 0, proc.stderr
    got = [
        (r["event"], r.get("line"))
        for r in records(proc.stdout)
        if r["event"] in ("output", "call")
    ]
    assert got == [("output", "one"), ("output", "two"), ("output", "three"), ("call", None)]
    plain = sh("after", "0", "--stream", "--format", "plain", "--no-summary", "--", "echo", "x")
    assert "\nsh| x\n" not in plain.stdout and "\necho| x\n" in plain.stdout


def test_overlap_skip_from_the_command_line() -> None:
    proc = sh(
        "every",
        "100ms",
        "--count",
        "4",
        "--overlap",
        "skip",
        "--format",
        "jsonl",
        "--",
        "sleep",
        "0.25",
    )
    assert proc.returncode == 0, proc.stderr
    skipped = [r["n"] for r in records(proc.stdout) if r["event"] == "policy"]
    ran = [c["n"] for c in calls(proc.stdout)]
    assert sorted(skipped + ran) == [1, 2, 3, 4] and 1 in ran and 2 in skipped
    shown = sh("every", "1s", "--overlap", "skip", "--late-after", "1s", "--show", "--", "true")
    assert 'overlap = "skip"\nlate_after = 1.0\n' in shown.stdout


def test_run_and_demo_take_a_duration_for_timeout() -> None:
    proc = sh("demo", "drift", "--timeout", "250ms", "--clock", "virtual", "--format", "jsonl")
    end = records(proc.stdout)[-1]
    assert proc.returncode == 0 and end["reason"] == "timeout" and end["duration"] == 0.25


def test_record_writes_the_jsonl_of_a_one_liner(tmp_path: Path) -> None:
    proc = sh(
        "every",
        "1s",
        "--count",
        "2",
        "--clock",
        "virtual",
        "--record",
        "r.jsonl",
        "--format",
        "plain",
        "--",
        "echo",
        "x",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(calls((tmp_path / "r.jsonl").read_text())) == 2


def test_plugin_is_found_in_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "mycallbacks.py").write_text(
        'from timerctl import callback\n\n@callback("greet")\ndef greet(who: str) -> str:\n'
        '    """Say hello."""\n    return f"hello {who}"\n'
    )
    proc = sh("callbacks", "--plugin", "mycallbacks", cwd=tmp_path)
    assert proc.returncode == 0 and "[plugin mycallbacks]" in proc.stdout, proc.stderr
    by_path = sh("callbacks", "--plugin", "./mycallbacks.py", cwd=tmp_path)
    assert "greet(who: str) -> str" in by_path.stdout
    missing = sh("callbacks", "--plugin", "nothere", cwd=tmp_path)
    assert missing.returncode == 2
    assert f"looked on the import path and in {tmp_path}: put nothere.py there" in missing.stderr


def test_file_arguments_complete_to_files(tmp_path: Path) -> None:
    (tmp_path / "sched.toml").write_text("")
    env = clean_env(
        _TIMERCTL_COMPLETE="bash_complete", COMP_WORDS="timerctl run sc", COMP_CWORD="2"
    )
    proc = subprocess.run([TIMERCTL], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.stdout.strip().splitlines()[0].startswith("file"), proc.stdout


def test_overlap_kill_ends_the_running_process_group() -> None:
    proc = sh(
        "every",
        "100ms",
        "--count",
        "2",
        "--overlap",
        "kill",
        "--timeout",
        "400ms",
        "--format",
        "jsonl",
        "--",
        "sleep",
        "30",
        timeout=20,
    )
    assert proc.returncode == 124, proc.stderr
    got = {c["n"]: c for c in calls(proc.stdout)}
    assert got[1]["cancelled"] and got[1]["error"]["message"] == (
        "killed: call 2 was due (overlap = kill)"
    )
    assert got[1]["duration"] < 5  # ended, not waited for
    assert got[2]["cancelled"]  # the timeout ended the second
    assert [r["action"] for r in records(proc.stdout) if r["event"] == "policy"] == ["kill"]
