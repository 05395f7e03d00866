"""Properties over generated input, in-process through click's CliRunner (a few seconds in all).

- ``timerctl check`` on arbitrary bytes, token soup and mutated copies of ``examples.toml``
  always answers 0 (valid) or 2 (invalid, located errors): never a traceback, never exit 70.
- ``timerctl run --clock virtual --format jsonl`` of any generated valid schedule writes only
  whole JSON lines: start first, end last, ``seq`` contiguous from 1, and counts that add up;
  without cancel/stop every bounded call of every entry has exactly one record.

Deterministic: ``derandomize=True`` and no example database (nothing written to the repo).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from timerctl.cli import cli

EXAMPLES = (Path(__file__).resolve().parent.parent / "examples.toml").read_bytes()

FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RUNS = settings(FAST, max_examples=150)


def invoke(args: list[str], data: bytes | str) -> Result:
    return CliRunner().invoke(cli, args, input=data)


def assert_check_answers(result: Result) -> None:
    """0 or 2 through sys.exit, a clean stderr: no traceback, no internal error."""
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    event(f"exit {result.exit_code}")
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and lines[-1].startswith("Found "), result.stderr
        assert all(": error: " in line for line in lines[:-1]), result.stderr


# -- check never crashes ---------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=2048))
def test_check_answers_any_bytes(data: bytes) -> None:
    assert_check_answers(invoke(["check", "-"], data))


TOKENS = [
    "[[call]]",
    "[run]",
    "[call]",
    "[[run]]",
    "\n",
    "\n",
    "\n",
    " ",
    "=",
    "[",
    "]",
    "{",
    "}",
    ",",
    '"',
    "'",
    '"""',
    "#",
    ".",
    "soon",
    "later",
    "at",
    "every",
    "count",
    "until",
    "mode",
    "jitter",
    "name",
    "callback",
    "args",
    "kwargs",
    "loop",
    "plugins",
    "true",
    "false",
    "0",
    "-1",
    "0.1",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999",
    "0x10",
    "1_000",
    '"echo"',
    '"exec"',
    '"fixed-delay"',
    '"uvloop"',
    '"tick"',
    "1979-05-27T07:32:00Z",
    "2999-01-01T00:00:00",
    "12:30:00",
    "\ufeff",
    "\x00",
    "\r\n",
    "\t",
    "\\u0000",
    "é",
]


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=80).map("".join))
def test_check_answers_token_soup(text: str) -> None:
    assert_check_answers(invoke(["check", "-"], text.encode("utf-8", "surrogatepass")))


VALUES = [
    b"nan",
    b"inf",
    b"-1",
    b"0",
    b"true",
    b"1e400",
    b"99999999999999999999999",
    b'"x"',
    b"[",
    b"{",
    b"[]",
    b"{}",
    b"1979-05-27T07:32:00Z",
    b"2000-01-01",
    b"12:30:00",
    b"[[[[[[[[[[",
    b'"os:system"',
    b'"echo"',
    b'"tick"',
    b"-0.0",
    b"0.000000001",
]
LINES = [
    b"[[call]]",
    b"[run]",
    b"soon = true",
    b"later = 0.1",
    b"at = 0.1",
    b"every = 0",
    b"every = 0.1",
    b"count = -1",
    b"count = 0",
    b"until = -5",
    b"jitter = 1e308",
    b'mode = "sideways"',
    b'callback = "os:system"',
    b'name = "tick"',
    b'name = ""',
    b'loop = "uvloop"',
    b'plugins = ["no_such_plugin_from_hypothesis"]',
    b"args = [1, [2]]",
    b"kwargs = { timeout = true }",
    b'callback = "cancel"',
    b'args = ["no-such-entry"]',
    b"at = 1999-01-01T00:00:00Z",
    b"bogus = 1",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
]


@st.composite
def mutated_examples(draw: st.DrawFn) -> bytes:
    """examples.toml after a few random byte and line edits."""
    data = EXAMPLES
    for _ in range(draw(st.integers(1, 4))):
        lines = data.split(b"\n")
        op = draw(
            st.sampled_from(
                [
                    "flip",
                    "delete",
                    "insert",
                    "drop-line",
                    "dup-line",
                    "swap-lines",
                    "value",
                    "add-line",
                    "truncate",
                ]
            )
        )
        if op == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
        elif op == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + data[i + draw(st.integers(1, 40)) :]
        elif op == "insert":
            i = draw(st.integers(0, len(data)))
            data = data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
        elif op == "drop-line":
            del lines[draw(st.integers(0, len(lines) - 1))]
            data = b"\n".join(lines)
        elif op == "dup-line":
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        elif op == "swap-lines":
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif op == "value" and any(b"=" in line for line in lines):
            assigns = [k for k, line in enumerate(lines) if b"=" in line]
            k = draw(st.sampled_from(assigns))
            key = lines[k].split(b"=", 1)[0]
            lines[k] = key + b"= " + draw(st.sampled_from(VALUES))
            data = b"\n".join(lines)
        elif op == "add-line":
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(LINES)))
            data = b"\n".join(lines)
        elif op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
    return data


def test_examples_file_is_valid() -> None:
    """The seed of the mutations: valid as shipped (so mutants start from a real schedule)."""
    result = invoke(["check", "-"], EXAMPLES)
    assert result.exit_code == 0, result.output


@FAST
@given(mutated_examples())
def test_check_answers_mutated_examples(data: bytes) -> None:
    assert_check_answers(invoke(["check", "-"], data))


# -- every run writes a complete, parseable stream -------------------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but DEL must be escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    return repr(value)


#: TOML strings cannot hold lone surrogates
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
ARGS = st.lists(
    st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        TEXT,
    ),
    max_size=3,
)
SECONDS = st.floats(0, 1).map(lambda x: round(x, 3))


@st.composite
def schedules(draw: st.DrawFn, *, control: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """A valid schedule (TOML text) and its entries. ``control``: may cancel, stop, fail."""
    n = draw(st.integers(1, 6))
    names = [f"e{i}" for i in range(n)]
    entries: list[dict[str, Any]] = []
    blocks = []
    for name in names:
        lines = [f'name = "{name}"']
        kind = draw(st.sampled_from(["soon", "later", "at"]))
        first = 0.0 if kind == "soon" else draw(SECONDS)
        lines.append("soon = true" if kind == "soon" else f"{kind} = {first}")
        callbacks = ["echo", "callback", "sleep"]
        if control:
            callbacks += ["fail", "cancel", "stop"]
        cb = draw(st.sampled_from(callbacks))
        args: list[Any]
        if cb == "echo":
            args = draw(ARGS)
        elif cb == "callback":
            args = draw(ARGS.filter(lambda a: len(a) == 1) | st.just([1]))
        elif cb == "sleep":
            args = [draw(st.floats(0, 0.05).map(lambda x: round(x, 4)))]
        elif cb == "fail":
            args = draw(st.lists(TEXT, max_size=1))
        elif cb == "cancel":
            args = [draw(st.sampled_from(names))]
        else:
            args = []
        lines.append(f'callback = "{cb}"')
        lines.append(f"args = {toml_value(args)}")
        count: int | None = 1
        if draw(st.booleans()):
            lines.append(f"every = {draw(st.floats(0.001, 0.3).map(lambda x: round(x, 3)))}")
            count = draw(st.integers(1, 25))
            bound = draw(
                st.sampled_from(["count", "until", "both"]) if control else st.just("count")
            )
            if bound in ("count", "both"):
                lines.append(f"count = {count}")
            else:
                count = None
            if bound in ("until", "both"):
                until = first + draw(st.floats(0, 2).map(lambda x: round(x, 3)))
                lines.append(f"until = {until:.3f}")
            lines.append(f'mode = "{draw(st.sampled_from(["fixed-rate", "fixed-delay"]))}"')
            if draw(st.booleans()):
                lines.append(f"jitter = {draw(st.floats(0, 0.05).map(lambda x: round(x, 4)))}")
        entries.append({"name": name, "callback": cb, "args": args, "firings": count})
        blocks.append("[[call]]\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks), entries


def run_jsonl(text: str, *extra: str) -> tuple[Result, list[dict[str, Any]]]:
    result = invoke(
        ["run", "-", "--clock", "virtual", "--format", "jsonl", "--seed", "7", *extra], text
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return result, records


def assert_stream(result: Result, records: list[dict[str, Any]]) -> dict[str, Any]:
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert records[0]["event"] == "start" and records[-1]["event"] == "end"
    events = [r["event"] for r in records]
    assert events.count("start") == events.count("end") == 1
    calls = [r for r in records if r["event"] == "call"]
    assert [r["seq"] for r in calls] == list(range(1, len(calls) + 1))
    end = records[-1]
    event(f"end {end['reason']}, exit {end['exit_code']}")
    assert end["calls"] == len(calls)
    assert end["exit_code"] == result.exit_code
    assert end["failed"] == sum(1 for r in calls if "error" in r and not r.get("cancelled"))
    cancels = [r for r in records if r["event"] == "cancel"]
    assert end["cancelled"] == (
        sum(c["count"] for c in cancels) + sum(1 for r in calls if r.get("cancelled"))
    )
    for name in {r["entry"] for r in calls}:  # each entry's firings numbered 1, 2, 3, ...
        assert sorted(r["n"] for r in calls if r["entry"] == name) == list(
            range(1, sum(1 for r in calls if r["entry"] == name) + 1)
        )
    return end


@RUNS
@given(schedules(), st.booleans())
def test_every_run_writes_a_complete_jsonl_stream(
    generated: tuple[str, list[dict[str, Any]]], fail_fast: bool
) -> None:
    text, entries = generated
    result, records = run_jsonl(text, *(["--fail-fast"] if fail_fast else []))
    assert_stream(result, records)
    calls = [r for r in records if r["event"] == "call"]
    given_args = {e["name"]: e["args"] for e in entries}
    for record in calls:  # data comes back as it was written
        assert record["args"] == given_args[record["entry"]]


@RUNS
@given(schedules(control=False))
def test_without_cancel_or_stop_every_call_has_exactly_one_record(
    generated: tuple[str, list[dict[str, Any]]],
) -> None:
    text, entries = generated
    result, records = run_jsonl(text)
    end = assert_stream(result, records)
    assert result.exit_code == 0 and end["reason"] == "done" and end["cancelled"] == 0
    calls = [r for r in records if r["event"] == "call"]
    for entry in entries:
        assert sum(1 for r in calls if r["entry"] == entry["name"]) == entry["firings"]
