"""The loader's parse step against tomllib: the same documents accepted, the same values read.

Where they differ it is on purpose, and checked: an integer out of TOML's 64-bit range (the spec
says it must be an error; tomllib returns it) and nesting beyond timerctl's own limit are
refused, located; tomllib's own refusals (its ValueError on 4,300-digit integers) are too.
"""

from __future__ import annotations

import math
import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timerctl.errors import ScheduleError
from timerctl.load import source, toml

scalar_text = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        [
            "0",
            "-0",
            "+1",
            "1_000",
            "01",
            "1__0",
            "0x1F",
            "0o7",
            "0b1",
            "1e5",
            "1E-2",
            "1.5",
            "-0.0",
            "1_0.2_5",
            "1.",
            ".5",
            "1e",
            "inf",
            "-nan",
            "true",
            "false",
            "truex",
            "1979-05-27",
            "12:30:00",
            "1979-05-27T07:32:00Z",
            "3.14e+1_0",
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8).map(
        lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    ),
    st.text(st.characters(exclude_characters="\x00"), max_size=8).map(lambda s: "'" + s + "'"),
    st.sampled_from(
        [
            '"a\\tb"',
            '"\\u00e9"',
            '"\\U0001F600"',
            '"\\x41"',
            '"\\/"',
            '"\\ud800"',
            "'''x'''",
            '"""y"""',
            '"unterminated',
            "'it''s'",
            '"a" "b"',
            '""',
            # what smuggled a second key or a " = " past the old hand-written parser
            '"a = b"',
            '"a\\\\ = b"',
            '"x\\ = y"',
            '1, "x": 2',
            '"p", "q": 1',
            '"{ a = 1 }"',
            '"}"',
            '"a, b = c"',
            "1}",
            '{ a = "x, b = 1" }',
        ]
    ),
)
value_text = st.recursive(
    scalar_text,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + ",]"),
        st.dictionaries(
            st.from_regex(r"[a-z_][a-z0-9_-]{0,4}", fullmatch=True), inner, max_size=3
        ).map(lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"),
    ),
    max_leaves=8,
)
key = st.sampled_from(["later", "soon", "name", "args", "kwargs", "x", "a-b", "1", '"q"', "a.b"])
line = st.one_of(
    st.tuples(key, value_text, st.sampled_from(["", "  # c", "#", " x"])).map(
        lambda t: f"{t[0]} = {t[1]}{t[2]}"
    ),
    st.sampled_from(
        [
            "[[call]]",
            "[run]",
            "[[call]] # x",
            "[call]",
            "[[ call ]]",
            "[run.x]",
            "",
            "   ",
            "# comment",
            "[[call]",
            "\tlater = 1",
            "a = 1\r",
            "x = \x01",
            'x": 1',
            "[[call]] ",
            'later = 1, "x": 2',
            "later = 1 = 2",
            "kwargs = {}",
            'kwargs = { a = "=" }',
            "kwargs = { a = 1, a = 2 }",
            'kwargs = { a = "\\=" }',
            'kwargs = { a = "b" }',
            'kwargs = { a = 1, b = "c, d" }',
        ]
    ),
)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def big_integer(value: Any) -> bool:
    if type(value) is int:
        return not -(2**63) <= value < 2**63
    if isinstance(value, list):
        return any(map(big_integer, value))
    if isinstance(value, dict):
        return any(map(big_integer, value.values()))
    return False


def agree(text: str) -> None:
    try:
        expected = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        expected = None
    try:
        got = toml.parse(text, "s.toml")
    except ScheduleError as exc:
        (problem,) = exc.problems
        assert 1 <= problem.line <= text.count("\n") + 1, text
        assert expected is None or big_integer(expected), text  # refuses what tomllib refuses
        return
    assert expected is not None, text  # accepts nothing tomllib refuses
    assert same(got, expected), text


SETTINGS = settings(
    max_examples=500,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(st.lists(line, max_size=12))
def test_documents_read_as_tomllib_reads_them(lines: list[str]) -> None:
    agree("\n".join(lines))


known_line = st.tuples(
    st.sampled_from(["later", "soon", "name", "args", "callback", "every", "kwargs", "x", "a.b"]),
    value_text,
).map(lambda t: f"{t[0]} = {t[1]}")
entry = st.lists(st.one_of(known_line, line), min_size=1, max_size=4).map(
    lambda ls: "[[call]]\n" + "\n".join(ls)
)


@SETTINGS
@given(st.lists(entry, min_size=1, max_size=4))
def test_schedule_shaped_documents_too(entries: list[str]) -> None:
    agree("\n".join(entries))


# what the old hand-written fast path read differently from TOML (issue 11), now read as TOML
SMUGGLED = [
    '[[call]]\nsoon = true\ncallback = "echo"\nargs = ["a"\n] # "], "every = 0.001\n',
    '[[call]]\nsoon = true\ncallback = "echo"\nargs = [1\n2"], "name = "x"\n',
    '[[call]]\nlater = 1, "later": 2\ncallback = "stop"\n',
    '[[call]]\nlat\\u0065r = 1\ncallback = "stop"\n',
    '[[call]]\n"later": 1\ncallback = "stop"\nname = "{"\n',
]


def test_what_once_was_smuggled_means_what_toml_says() -> None:
    for text in SMUGGLED:
        agree(text)


def test_the_issue_example_is_one_call_of_echo_a() -> None:
    from timerctl.load import load_text

    schedule = load_text(SMUGGLED[0], "s.toml")
    (call,) = schedule.calls
    assert (call.args, call.repeat) == (("a",), None)
    try:
        source.check_text(SMUGGLED[1], "s.toml")
        toml.parse(SMUGGLED[1], "s.toml")
    except ScheduleError as exc:
        assert exc.problems[0].message.startswith("invalid TOML: ")
    else:
        raise AssertionError("an unclosed array was accepted")
