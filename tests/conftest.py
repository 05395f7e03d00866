"""Fixtures shared by the test modules (plain helpers to import are in helpers.py).

Being here also puts tests/ on sys.path, so ``from helpers import ...`` works from any module.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import RENDER_SCHEDULE, WALL, Run, run_virtual

from timerctl.signals import ENDING


def pytest_configure(config: pytest.Config) -> None:
    """The ending signals at their defaults, whatever this session inherited.

    A suite started in the background (``pytest &`` in a script, ``nohup``) inherits SIGINT
    or SIGHUP ignored, and every CLI child would keep it ignored, as timerctl is meant to (the
    README's signals paragraph); the tests that send those signals would then fail for no
    fault of timerctl's. A test about an ignored signal ignores it itself."""
    for sig in ENDING:
        if signal.getsignal(sig) is signal.SIG_IGN:
            handler = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            signal.signal(sig, handler)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory the test runs in (its cwd). Modules that need files there override it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[ZoneInfo]:
    """Local time is Europe/Berlin: a zone with DST, not UTC (a hidden-assumption catcher)."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield ZoneInfo("Europe/Berlin")
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def no_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No colour forced or refused by the caller's environment; an ordinary colour terminal."""
    for var in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture(scope="module")
def run() -> Run:
    """The renderers' run (``RENDER_SCHEDULE``) on the virtual clock, wall clock at ``WALL``."""
    return run_virtual(RENDER_SCHEDULE, wall_clock=lambda: WALL)
