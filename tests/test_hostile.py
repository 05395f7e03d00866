"""Hostile input: every file in tests/hostile/ is invalid and must be reported, never crash.

Each corpus file is run through the loader (exact line, column and message) and, all at once,
through a real `timerctl check` process (exit 2, one `FILE:LINE[:COL]: error: ` line per problem,
`Found N error(s) in FILE`, never a traceback). tests/hostile/valid/ holds files that only look
hostile: they must check clean and run, showing their text verbatim.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from timerctl.cli import cli
from timerctl.errors import ScheduleError
from timerctl.load import MAX_BYTES, load_bytes, load_text

HOSTILE = Path(__file__).resolve().parent / "hostile"
VALID = HOSTILE / "valid"
FIXED_EPOCH = 1_795_694_400.0  # 2026-11-26T12:00:00Z

#: file -> its problems in report order: (line, col, a fragment of the message)
EXPECTED: dict[str, list[tuple[int, int | None, str]]] = {
    "args_not_array.toml": [(4, 1, "'args' must be an array, not a string")],
    "at_date_only.toml": [(2, 1, "'at' = 2030-01-01 is a date without a time of day")],
    "at_in_the_past.toml": [(2, 1, "'at' = 2001-01-01T00:00:00+00:00 is ")],
    "at_quoted_time.toml": [(2, 1, "write it without quotes")],
    "at_unix_timestamp.toml": [(2, 1, "'at' = 1795694400 looks like a Unix timestamp")],
    "at_year_1.toml": [(2, 1, "'at' = 0001-01-01T00:00:00 is out of range")],
    "bad_args_for_signature.toml": [(4, 1, "bad arguments for 'fail': too many positional")],
    "bad_utf8.toml": [(3, 16, "invalid UTF-8 (byte 0xff)")],
    "boolean_delay.toml": [(2, 1, "'later' must be a number of seconds, not a boolean")],
    "bracket_line_in_array.toml": [(6, 1, "'soon' must be true, not 1")],
    "call_not_array.toml": [(1, 2, "write [[call]], not [call]")],
    "cancel_missing_entry.toml": [
        (9, 1, "'cancel' names no entry of this schedule: 'tik' (did you mean 'tick'?)")
    ],
    "cancel_not_a_name.toml": [(4, 1, "'cancel' takes the name of an entry (a string), not 5")],
    "control_chars_in_key.toml": [(4, 1, r"unknown key 'evil\nkey\x1b[2J' in [[call]]")],
    "control_chars_in_name.toml": [(2, 1, r"'name' must not hold control characters")],
    "count_not_whole.toml": [(4, 1, "'count' must be a whole number >= 1, not 2.5")],
    "crlf.toml": [(3, 1, "unknown callback 'ehco' (did you mean 'echo'?)")],
    "deep_inline_tables.toml": [(4, 5005, "nesting too deep for the TOML parser")],
    "deep_nesting.toml": [(4, 1007, "nesting too deep for the TOML parser")],
    "duplicate_names.toml": [(7, 1, "duplicate name 'a' (first used by the [[call]] on line 1)")],
    "empty.toml": [(1, None, "no [[call]] entries")],
    "huge_float.toml": [(2, 1, "'later' = 1e+300 is too long")],
    "huge_hex_integer.toml": [(4, 9, "integer too large: TOML integers are 64-bit")],
    "huge_integer.toml": [(2, 9, "integer too large: TOML integers are 64-bit")],
    "inf_every.toml": [(3, 1, "'every' must be finite, not inf")],
    "inline_call_array.toml": [
        (3, 5, "'later' must be >= 0, not -1"),
        (3, 36, "unknown key 'nme' in [[call]] (did you mean 'name'?)"),
    ],
    "integer_over_64_bits.toml": [(2, 9, "integer too large: TOML integers are 64-bit")],
    "latin1.toml": [(1, 6, "invalid UTF-8 (byte 0xe9)")],
    "line_separator_in_comment.toml": [(3, 1, "'soon' must be true, not 1")],
    "many_errors.toml": [
        (2, 1, "unknown key 'lop' in [run] (did you mean 'loop'?)"),
        (6, 1, "'soon' must be true, not 1"),
        (10, 1, "duplicate name 'x' (first used by the [[call]] on line 4)"),
        (11, 1, "'later' must be >= 0, not -1"),
        (12, 1, "unknown callback 'nope'"),
        (16, 1, "'every' must be > 0, not 0"),
    ],
    "multiline_string_with_header.toml": [(8, 1, "'soon' and 'later' cannot both be given")],
    "name_collides_with_default.toml": [
        (6, 1, "duplicate name 'soon#1' (first used by the [[call]] on line 1)")
    ],
    "nan_delay.toml": [(2, 1, "'later' must be finite, not nan")],
    "negative_delay.toml": [(2, 1, "'later' must be >= 0, not -0.5")],
    "no_calls.toml": [(1, None, "no [[call]] entries: nothing to schedule")],
    "no_timing.toml": [(1, None, "[[call]] needs exactly one of: soon = true, later = SECONDS")],
    "nul_byte.toml": [(2, 12, "NUL byte")],
    "plugin_missing.toml": [(2, 1, "cannot import plugin 'timerctl_hostile_no_such_plugin'")],
    "png_header.toml": [(1, 1, "invalid UTF-8 (byte 0x89)")],
    "repeat_keys_without_every.toml": [
        (4, 1, "'count' needs 'every'"),
        (5, 1, "'until' needs 'every'"),
        (6, 1, "'mode' needs 'every'"),
        (7, 1, "'jitter' needs 'every'"),
    ],
    "run_not_table.toml": [(1, 1, "'run' must be a table ([run])")],
    "soon_false.toml": [(2, 1, "'soon' must be true, not false")],
    "syntax_error.toml": [(3, 17, "invalid TOML: invalid basic string")],
    "two_timings.toml": [(3, 1, "'soon' and 'later' cannot both be given")],
    "unknown_callback.toml": [(3, 1, "unknown callback 'ecoh' (did you mean 'echo'?)")],
    "unknown_key.toml": [
        (1, None, "[[call]] needs 'callback'"),
        (3, 1, "unknown key 'calback' in [[call]] (did you mean 'callback'?)"),
    ],
    "unknown_loop.toml": [(2, 1, "not 'uvlop' (did you mean 'uvloop'?)")],
    "unknown_mode.toml": [(4, 1, "not 'fixed_rate' (did you mean 'fixed-rate'?)")],
    "unknown_top_level.toml": [(5, 3, "unknown top-level key 'cal' (did you mean 'call'?)")],
    "until_before_first.toml": [(4, 1, "'until' = 5 is before the first call (at 10s)")],
    "utf16.toml": [(1, 1, "this is UTF-16 text")],
    "wrong_types.toml": [
        (2, 1, "'name' must be a non-empty string"),
        (4, 1, "'callback' must be a string, not an array"),
        (5, 1, "'kwargs' must be a table, not an array"),
    ],
}

CORPUS = sorted(p.name for p in HOSTILE.iterdir() if p.is_file())
PROBLEM_LINE = re.compile(r"^[^:]+:\d+(:\d+)?: error: ")
FILE_LINE = re.compile(r"^[^:]+: error: ")
FOUND = re.compile(r"^Found (\d+) errors? in (.+)$")


def timerctl(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "timerctl", *args],
        capture_output=True,
        input=stdin,
        cwd=HOSTILE,
        timeout=30,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


def assert_diagnostics(stderr: str) -> None:
    """stderr holds nothing but located problems and their totals."""
    assert "Traceback" not in stderr
    for line in stderr.splitlines():
        assert PROBLEM_LINE.match(line) or FILE_LINE.match(line) or FOUND.match(line), line


def test_every_corpus_file_has_expectations() -> None:
    assert sorted(EXPECTED) == CORPUS


@pytest.mark.parametrize("name", CORPUS)
def test_loader_reports_the_located_problems(name: str) -> None:
    data = (HOSTILE / name).read_bytes()
    with pytest.raises(ScheduleError) as info:
        load_bytes(data, name, now=FIXED_EPOCH)
    got = [(p.line, p.col, p.message) for p in info.value.problems]
    assert [(line, col) for line, col, _ in got] == [(ln, c) for ln, c, _ in EXPECTED[name]], got
    for (_, _, message), (_, _, fragment) in zip(got, EXPECTED[name], strict=True):
        assert fragment in message
        assert message.isprintable()  # one problem, one line, no escape sequences
    n = len(got)
    assert str(info.value) == f"Found {n} error{'s' if n != 1 else ''} in {name}"


@pytest.mark.parametrize("name", CORPUS)
def test_check_exits_2_for_each_file(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HOSTILE)
    result = CliRunner().invoke(cli, ["check", name])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(EXPECTED[name]) + 1
    for line, (ln, col, fragment) in zip(lines, EXPECTED[name], strict=False):
        assert line.startswith(f"{name}:{ln}{f':{col}' if col else ''}: error: "), line
        assert fragment in line
    assert FOUND.match(lines[-1]).groups() == (str(len(EXPECTED[name])), name)


def test_check_process_over_the_whole_corpus() -> None:
    """One real process: every file, a missing path and a directory, all reported in order."""
    result = timerctl("check", *CORPUS, "no-such-schedule.toml", "valid")
    assert result.returncode == 2
    assert result.stdout == ""
    assert_diagnostics(result.stderr)
    expected = []
    for name in CORPUS:
        problems = EXPECTED[name]
        expected += [f"{name}:{ln}{f':{col}' if col else ''}: error: " for ln, col, _ in problems]
        expected.append(f"Found {len(problems)} error{'s' if len(problems) != 1 else ''} in {name}")
    expected += [
        "no-such-schedule.toml: error: no such file",
        "Found 1 error in no-such-schedule.toml",
        "valid: error: is a directory, not a schedule",
        "Found 1 error in valid",
    ]
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.toml"
    path.write_text('[[call]]\nsoon = true\ncallback = "echo"\n')
    path.chmod(0)
    try:
        result = timerctl("check", str(path))
    finally:
        path.chmod(0o600)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}: error: permission denied",
        f"Found 1 error in {path}",
    ]


def test_a_10_mb_file_means_what_toml_says_and_its_errors_are_located(tmp_path: Path) -> None:
    """No size rule: a big file is read in full, like a small one, and located alike."""
    path = tmp_path / "big.toml"
    with path.open("w") as f:
        f.write('[[call]]\nsoon = true\ncallback = "echo"\nargs = [\n')
        f.write("1, 2, 3, 4, 5, 6, 7, 8, 9, 10,\n" * 330_000)
        f.write("]\n")
    assert path.stat().st_size > 10_000_000
    result = timerctl("check", str(path))
    assert (result.returncode, result.stdout) == (0, f"{path}: ok (1 entry)\n"), result.stderr
    with path.open("a") as f:
        f.write('[[call]]\nsoon = true\ncallback = "echo"\nnme = "x"\n')
    result = timerctl("check", str(path))
    assert result.returncode == 2
    assert_diagnostics(result.stderr)
    assert result.stderr.splitlines() == [
        f"{path}:330009:1: error: unknown key 'nme' in [[call]] (did you mean 'name'?)",
        f"Found 1 error in {path}",
    ]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_file_is_refused_not_read_forever() -> None:
    result = timerctl("check", "/dev/zero")
    assert result.returncode == 2
    assert_diagnostics(result.stderr)
    assert result.stderr.splitlines() == [
        f"/dev/zero: error: file is over {MAX_BYTES} bytes ({MAX_BYTES + 1}); "
        "a schedule that large is refused",
        "Found 1 error in /dev/zero",
    ]


def test_hostile_bytes_on_stdin_are_located_as_stdin() -> None:
    result = timerctl("check", "-", stdin=(HOSTILE / "bad_utf8.toml").read_bytes())
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "<stdin>:3:16: error: invalid UTF-8 (byte 0xff); a schedule must be UTF-8 text",
        "Found 1 error in <stdin>",
    ]


# -- valid files that look hostile ----------------------------------------------------------------


def test_markup_in_names_and_args_is_shown_verbatim() -> None:
    path = VALID / "markup_names.toml"
    schedule = load_bytes(path.read_bytes(), "m.toml", now=FIXED_EPOCH)
    assert schedule.names() == ["[red]alarm[/red]", ":smile:", "[/]"]
    result = timerctl("run", "--clock", "virtual", "--format", "plain", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = [line for line in result.stdout.splitlines() if not line.startswith("#")][1:]
    assert len(records) == 3
    assert "[red]alarm[/red]" in records[0] and "[bold]loud[/bold] :smile:" in records[0]
    assert ":smile:" in records[1] and "[link=https://example.com]click[/link] [/]" in records[1]
    assert "callback invoked with :thumbs_up: [blink] and \\[not markup]" in records[2]


def test_huge_args_arrays_are_valid(tmp_path: Path) -> None:
    args = ", ".join(f'"{i}"' if i % 2 else str(i) for i in range(50_000))
    text = f'[[call]]\nsoon = true\ncallback = "echo"\nargs = [{args}]\n'
    assert len(text) < MAX_BYTES
    schedule = load_text(text, "s.toml", now=FIXED_EPOCH)
    assert len(schedule.calls[0].args) == 50_000
    assert schedule.calls[0].args[:3] == (0, "1", 2)
    path = tmp_path / "huge_args.toml"
    path.write_text(text)
    result = timerctl("check", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{path}: ok (1 entry)\n"
