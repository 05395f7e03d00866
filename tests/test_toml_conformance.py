"""The loader's parse step against the official TOML 1.0 test corpus (toml-test).

tests/toml-test/ holds the cases its ``files-toml-1.0.0`` list names (toml-test v2.1.0, MIT,
LICENSE beside them): every valid document must parse to the value its JSON gives, every
invalid one must be refused with a located ``ScheduleError``, never an exception of another
kind. The parse step is what ``load`` does before any schedule rule: bytes -> text -> TOML.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from timerctl.errors import ScheduleError
from timerctl.load import source, toml

CORPUS = Path(__file__).resolve().parent / "toml-test"
CASES = (CORPUS / "files-toml-1.0.0").read_text().split()
VALID = sorted(c for c in CASES if c.startswith("valid/") and c.endswith(".toml"))
INVALID = sorted(c for c in CASES if c.startswith("invalid/"))


def parse_step(data: bytes, name: str) -> dict[str, Any]:
    text = source.decode(data, name)
    source.check_text(text, name)
    return toml.parse(text, name)


def expected(tagged: Any) -> Any:
    """toml-test's tagged JSON ({"type": "integer", "value": "1"}) as Python values."""
    if isinstance(tagged, list):
        return [expected(v) for v in tagged]
    if set(tagged) != {"type", "value"} or not isinstance(tagged["value"], str):
        return {k: expected(v) for k, v in tagged.items()}
    kind, value = tagged["type"], tagged["value"]
    if kind == "string":
        return value
    if kind == "integer":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value == "true"
    if kind in ("datetime", "datetime-local"):
        return datetime.fromisoformat(value.replace("z", "Z").replace(" ", "T"))
    if kind == "date-local":
        return date.fromisoformat(value)
    if kind == "time-local":
        return time.fromisoformat(value)
    raise AssertionError(f"unknown type {kind}")


def same(got: Any, want: Any) -> bool:
    if isinstance(want, float):
        return type(got) is float and ((math.isnan(want) and math.isnan(got)) or got == want)
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(same(got[k], want[k]) for k in want)
        )
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(same, got, want))
    return type(got) is type(want) and got == want


def test_the_corpus_is_all_there() -> None:
    assert (CORPUS / "LICENSE").read_text().startswith("The MIT License")
    assert len(VALID) > 200 and len(INVALID) > 450
    assert all((CORPUS / c).is_file() for c in CASES)


@pytest.mark.parametrize("case", VALID)
def test_valid_documents_mean_what_their_json_says(case: str) -> None:
    doc = parse_step((CORPUS / case).read_bytes(), case)
    answer = CORPUS / case.replace(".toml", ".json")
    if answer.exists():
        want = expected(json.loads(answer.read_text()))
        assert same(doc, want), (doc, want)


@pytest.mark.parametrize("case", INVALID)
def test_invalid_documents_are_refused_and_located(case: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_step((CORPUS / case).read_bytes(), case)
    (problem,) = info.value.problems
    assert problem.line >= 1 and problem.message.isprintable()
