"""The fast parser never disagrees with tomllib: it reads a document the same or gives up."""

import math
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from timerctl.fastparse import parse

scalar_text = st.one_of(
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["0", "-0", "+1", "1_000", "01", "1__0", "0x1F", "0o7", "0b1", "1e5", "1E-2",
                     "1.5", "-0.0", "1_0.2_5", "1.", ".5", "1e", "inf", "-nan", "true", "false",
                     "truex", "1979-05-27", "12:30:00", "1979-05-27T07:32:00Z", "3.14e+1_0"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(st.characters(codec="utf-8"), max_size=8).map(
        lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.text(max_size=8).map(lambda s: "'" + s + "'"),
    st.sampled_from(['"a\\tb"', '"\\u00e9"', '"\\U0001F600"', '"\\x41"', '"\\/"', '"\\ud800"',
                     "'''x'''", '"""y"""', '"unterminated', "'it''s'", '"a" "b"', '""',
                     # what could smuggle a second key or a " = " past the fast path
                     '"a = b"', '"a\\\\ = b"', '"x\\ = y"', '1, "x": 2', '"p", "q": 1',
                     '"{ a = 1 }"', '"}"', '"a, b = c"', '1}', '{ a = "x, b = 1" }']),
)
value_text = st.recursive(
    scalar_text,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + ",]"),
        st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_-]{0,4}", fullmatch=True), inner,
                        max_size=3).map(
            lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"),
    ),
    max_leaves=8,
)
key = st.sampled_from(["later", "soon", "name", "args", "kwargs", "x", "a-b", "1", '"q"', "a.b"])
line = st.one_of(
    st.tuples(key, value_text, st.sampled_from(["", "  # c", "#", " x"])).map(
        lambda t: f"{t[0]} = {t[1]}{t[2]}"),
    st.sampled_from(["[[call]]", "[run]", "[[call]] # x", "[call]", "[[ call ]]", "[run.x]",
                     "", "   ", "# comment", "[[call]", "\tlater = 1", "a = 1\r", "x = \x01",
                     'x": 1', "[[call]] ", 'later = 1, "x": 2', "later = 1 = 2", "kwargs = {}",
                     'kwargs = { a = "=" }', "kwargs = { a = 1, a = 2 }", 'kwargs = { a = "\\=" }',
                     'kwargs = { a = "b" }', 'kwargs = { a = 1, b = "c, d" }']),
)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                    math.copysign(1, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(st.lists(line, max_size=12))
def test_fast_parse_agrees_with_tomllib_or_gives_up(lines: list[str]) -> None:
    text = "\n".join(lines)
    fast = parse(text)
    try:
        expected = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        assert fast is None, text  # never accepts what tomllib rejects
        return
    if fast is not None:
        assert same(fast, expected), text


known_line = st.tuples(
    st.sampled_from(["later", "soon", "name", "args", "callback", "every", "kwargs", "x", "a.b"]),
    value_text,
).map(lambda t: f"{t[0]} = {t[1]}")
entry = st.lists(st.one_of(known_line, line), min_size=1, max_size=4).map(
    lambda ls: "[[call]]\n" + "\n".join(ls))


@settings(max_examples=600, deadline=None)
@given(st.lists(entry, min_size=1, max_size=4))
def test_schedule_shaped_documents_too(entries: list[str]) -> None:
    """Mostly [[call]] tables of known keys: documents the fast path accepts more often."""
    test_fast_parse_agrees_with_tomllib_or_gives_up.hypothesis.inner_test(entries)


def test_reads_what_generated_schedules_look_like() -> None:
    text = ('# generated\n[run]\nloop = "asyncio"\n\n'
            '[[call]]\nlater = 1\nargs = [1, "a", [2.5, true]]\n'
            '[[call]]\nsoon = true\ncallback = "echo"\nname = "caf\u00e9 \\"q\\""\n')
    assert parse(text) == tomllib.loads(text)
    assert parse(text) is not None


GIVE_UP = [
    '[[call]]\nat = 12:30:00\n', '[[call]]\nargs = [\n1]\n', 'x = 1\n[[call]]\n', '[call]\n',
    '[[call]]\nkwargs.sep = ","\n', '[[call]]\nlater = 1\nlater = 2\n', '[[call]]\nargs = [null]\n',
    '[[call]]\nkwargs = {"a": 1}\n', '[[call]]\n"later":1\n', '[[call]]\nlater = NaN\n',
    '[[call]]\nname = "a\\/b"\n', '[[call]]\nlater = 1 # c\n', '[[call]]\n  later = 1\n',
    '[[call]]\n[[call]]\nlater = 1\n', '[[call]]\nlater = 1, "x": 2\n',
    '[[call]]\nlater = 1, "x": 2\nkwargs = { a = "=" }\n', '[[call]]\nname = "a\\ = "\n',
    # found by a fuzzing review: a key repeated on one line, an escape in a key, the marker
    # key written in an array, JSON-style keys beside a stray brace
    '[[call]]\nlater = 1, "later": 2\ncallback = "stop"\n',
    '[[call]]\nlat\\u0065r = 1\ncallback = "stop"\n',
    '[[call]]\nlater = 1\ncallback = "echo"\nargs = [{" ": 0}]\n',
    '[[call]]\n"later": 1\ncallback = "stop"\nname = "{"\n',
    '[[call]]\nsoon = true\ncallback = "stop"\nname = "{"\n[[call]], "later": 1\n',
]


def test_gives_up_on_what_it_does_not_cover() -> None:
    for text in GIVE_UP:
        assert parse(text) is None, text


def test_reads_kwargs_inline_tables() -> None:
    text = ('[[call]]\nsoon = true\ncallback = "echo"\nargs = [1]\n'
            'kwargs = { sep = ", x = 2, {", n = 1, ok = true, f = -1.5e3 }\n'
            '[[call]]\nsoon = true\ncallback = "echo"\nkwargs = {}\n')
    assert parse(text) == tomllib.loads(text)


def test_gives_up_on_inline_tables_it_does_not_cover() -> None:
    for kwargs in ('{ a = 1, }', '{ , a = 1 }', '{ a = 1 b = 2 }', '{ a = { b = 1 } }',
                   '{ "a" = 1 }', '{ a = [1, 2] }', '{ a = 1, a = 2 }', "{ a = 'lit' }",
                   '{ a = 1_000 }', '{ a.b = 1 }', '{ a = }', '{ a = 1 } # c'):
        text = f'[[call]]\nsoon = true\ncallback = "echo"\nkwargs = {kwargs}\n'
        got = parse(text)
        try:
            expected = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            assert got is None, kwargs
            continue
        assert got is None or got == expected, kwargs


def test_counts_kwargs_keys_unless_each_table_has_one() -> None:
    """One key in every table cannot repeat a key; an empty table beside one with two could."""
    one = '[[call]]\nkwargs = { a = 1 }\n[[call]]\nkwargs = { b = "x, y" }\n'
    assert parse(one) == tomllib.loads(one)
    empty_and_two = '[[call]]\nkwargs = { }\n[[call]]\nkwargs = { a = 1, b = 2 }\n'
    assert parse(empty_and_two) == tomllib.loads(empty_and_two)
    for twice in ('[[call]]\nkwargs = {}\n[[call]]\nkwargs = { a = 1, a = 2 }\n',
                  '[[call]]\nkwargs = { a = 1, a = 2 }\n'):
        assert parse(twice) is None


def test_reads_strings_that_start_with_a_colon() -> None:
    """Only a JSON key (a string, then ':') sends a text to tomllib, not a string like ':80'."""
    text = ('[[call]]\nlater = 1\ncallback = "echo"\nargs = [":8080", "x", ":", "a\\":b"]\n'
            'kwargs = { sep = ": " }\n')
    assert parse(text) is not None
    assert parse(text) == tomllib.loads(text)
