"""A big text parsed in pieces means exactly what the whole text means.

Every case is parsed twice: whole (``parser.loads``) and cut at every ``[[call]]`` line
(``pieces.loads`` with no size floor, one entry a piece). The two must give equal documents,
or fail alike (the pieces fall back to the whole parse, so a text that is not TOML gets the
whole parser's own error).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timerctl.load import parser, pieces

ENTRY = '[[call]]\nlater = 1\ncallback = "echo"\n'


def whole(text: str) -> Any:
    try:
        return parser.loads(text)
    except parser.decode_errors() as exc:
        return type(exc), str(exc)


def in_pieces(text: str, chars: int = 1) -> Any:
    """Cut at every ``[[call]]`` line (``chars`` 1), or at fewer."""
    try:
        return pieces.loads(text, min_chars=0, chars=chars)
    except parser.decode_errors() as exc:
        return type(exc), str(exc)


TRICKY = {
    "plain": ENTRY * 3,
    "preamble": '[run]\nloop = "asyncio"\n# c\n' + ENTRY * 2,
    "crlf": (ENTRY * 3).replace("\n", "\r\n"),
    "header in a multi-line string": ENTRY + 'args = ["""\n[[call]]\nlater = 2\n"""]\n' + ENTRY,
    "header in a literal multi-line string": ENTRY + "args = ['''\n[[call]]\n''']\n" + ENTRY,
    "header in the preamble's string": 'x = """\n[[call]]\nlater = 5\n"""\n' + ENTRY,
    "an array across the cut": ENTRY + "args = [\n1,\n]\n" + ENTRY,
    "a static array then a header": 'call = [{later = 1, callback = "echo"}]\n' + ENTRY,
    "a table then a header": "[call]\nlater = 1\n" + ENTRY,
    "dotted keys then a header": "call.x = 1\n" + ENTRY,
    "spaced header in the preamble": '[[ call ]]\nlater = 1\ncallback = "echo"\n' + ENTRY,
    "[run] among the entries": ENTRY + '[run]\nloop = "asyncio"\n' + ENTRY,
    "[run] twice": '[run]\nloop = "asyncio"\n' + ENTRY + '[run]\nloop = "uvloop"\n' + ENTRY,
    "[run.x] after the preamble's [run]": "[run]\na = 1\n" + ENTRY + "[run.x]\nb = 2\n",
    "sub-tables of entries": ENTRY + "[call.kwargs]\nsep = 1\n" + ENTRY + "[call.kwargs]\n",
    "a sub-table defined twice": ENTRY + "[call.kwargs]\n[call.kwargs]\n" + ENTRY,
    "an array of sub-tables": ENTRY + "[[call.x]]\na = 1\n[[call.x]]\n" + ENTRY,
    "a header with a comment": "[[call]] # one\nlater = 1\n" + ENTRY,
    "a header with junk": ENTRY + "[[call]]x = 1\n" + ENTRY,
    "a header then a deeper one": ENTRY + "[[call]].x]]\n" + ENTRY,
    "an unclosed string at the end": ENTRY * 2 + 'args = ["\n',
    "an unclosed array in the middle": ENTRY + "args = [1,\n" + ENTRY + ENTRY,
    "a duplicate key in an entry": ENTRY + "later = 2\n" + ENTRY,
    "a key before any header": "later = 1\n" + ENTRY,
    "an empty file": "",
    "only comments": "# a\n# b\n",
    "a header at the very end": ENTRY + "[[call]]",
    "no newline at the end": ENTRY + "[[call]]\nsoon = true",
    "a BOM-less unicode name": ENTRY + 'name = "é\u2028"\n' + ENTRY,
}


@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
def test_pieces_mean_what_the_whole_text_means(text: str) -> None:
    assert in_pieces(text) == whole(text)
    assert in_pieces(text, chars=60) == whole(text)


def test_a_big_text_is_cut_and_a_small_one_is_not() -> None:
    text = ENTRY * 20_000
    assert len(text) >= pieces.MIN_CHARS
    starts = pieces.cuts(text)
    assert all(text.startswith("[[call]]", at) for at in starts)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= pieces.PIECE_CHARS and max(gaps) < pieces.PIECE_CHARS + len(ENTRY)
    assert pieces.cuts("x = 1\n" + ENTRY)[0] == 6 and pieces.cuts("x = 1\n") == []
    assert pieces.loads(text) == parser.loads(text)
    assert pieces.loads(ENTRY * 3) == parser.loads(ENTRY * 3)


def test_the_document_keeps_its_key_order() -> None:
    text = '# c\n[run]\nloop = "asyncio"\n' + ENTRY * 3
    assert list(in_pieces(text)) == ["run", "call"] == list(whole(text))


fragment = st.sampled_from(
    [
        "[[call]]\n",
        "[[call]] # h\n",
        "[[ call ]]\n",
        "[call]\n",
        "[run]\n",
        "[call.kwargs]\n",
        "[[call.x]]\n",
        "later = 1\n",
        "soon = true\n",
        'callback = "echo"\n',
        "args = [\n",
        "1,\n",
        "]\n",
        '"""\n',
        "'''\n",
        'x = """\n',
        "y = '''\n",
        "call = []\n",
        "call.x = 1\n",
        "z = {a = 1}\n",
        "# [[call]]\n",
        "\n",
        "[[call]]x\n",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(fragment, max_size=14))
def test_any_cut_of_any_text_means_the_same(parts: list[str]) -> None:
    text = "".join(parts)
    assert in_pieces(text) == whole(text)


body_line = st.sampled_from(
    [
        "later = 1\n",
        "args = [\n1,\n]\n",
        'name = """\n[[call]]\n"""\n',
        "args = ['''\n[[call]]\n''']\n",
        "[call.kwargs]\na = 1\n",
        "[[call.x]]\n",
        "# [[call]]\n",
        "\n",
    ]
)
header = st.sampled_from(["[[call]]\n", "[[call]] # h\n", "[[ call ]]\n", '[["call"]]\n'])
preamble = st.sampled_from(["", '[run]\nloop = "asyncio"\n', "# c\n", "[run]\n[run.x]\n"])
poison = st.sampled_from(
    ["", "", "", "[run]\n", "later = 2\n", "args = [\n", '"""\n', "call = 1\n"]
)


@settings(max_examples=300, deadline=None)
@given(
    preamble,
    st.lists(st.tuples(header, st.lists(body_line, max_size=3)), min_size=2, max_size=8),
    poison,
    st.integers(0, 8),
    st.integers(1, 80),
)
def test_mostly_valid_schedules_cut_anywhere_mean_the_same(
    top: str, entries: list[tuple[str, list[str]]], bad: str, where: int, chars: int
) -> None:
    blocks = [h + "".join(lines) for h, lines in entries]
    blocks.insert(min(where, len(blocks)), bad)
    text = top + "".join(blocks)
    assert in_pieces(text, chars) == whole(text)
