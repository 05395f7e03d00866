"""The test helpers themselves: a helper that lies makes every test that uses it lie."""

from __future__ import annotations

import pytest
from helpers import registry_with, schedule

from timerctl.errors import ScheduleError
from timerctl.registry import REGISTRY


def test_registry_with_keeps_every_builtin_and_its_validator() -> None:
    """A test registry is the real one plus plugins: the built-ins' load-time checks stay."""
    reg = registry_with(extra=lambda: "x")
    for name in REGISTRY.names():
        spec = REGISTRY.get(name)
        assert spec is not None
        if spec.origin != "built-in":
            continue
        mine = reg.get(name)
        assert mine is not None, name
        assert (mine.func, mine.validate, mine.entry_params, mine.origin) == (
            spec.func,
            spec.validate,
            spec.entry_params,
            spec.origin,
        ), name
    extra = reg.get("extra")
    assert extra is not None and extra.origin == "plugin tests"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('callback = "sleep"\nargs = [-1]', "sleep takes a finite number of seconds >= 0, not -1"),
        ('callback = "echo"\nkwargs = {sep = 3}', "sep must be a string, not 3"),
    ],
)
def test_a_schedule_loaded_with_registry_with_is_checked_like_a_real_one(
    call: str, message: str
) -> None:
    text = f'[[call]]\nname = "x"\nsoon = true\n{call}\n'
    with pytest.raises(ScheduleError) as real:
        schedule(text)
    with pytest.raises(ScheduleError) as test:
        schedule(text, registry=registry_with())
    told = [str(p) for p in real.value.problems]
    assert len(told) == 1 and message in told[0]
    assert [str(p) for p in test.value.problems] == told
