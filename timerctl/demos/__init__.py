"""The demos: schedule files shipped in the package, with what each one shows.

A demo is not a special code path: it is a schedule run by the normal engine and renderers. Only
``--classic`` adds the seed program's own framing lines around the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Demo:
    name: str
    description: str
    lesson: str
    #: ``--classic`` prints the seed's "clock time:" / "loop time:" lines (call_at only)
    clock_lines: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.toml"

    def text(self) -> str:
        return resources.files(__name__).joinpath(self.filename).read_text(encoding="utf-8")


DEMOS: dict[str, Demo] = {
    d.name: d
    for d in (
        Demo(
            "call-soon",
            "the seed's call_soon program: two callbacks, run in the order scheduled",
            "Callbacks scheduled with call_soon run in the order they were scheduled (FIFO).",
        ),
        Demo(
            "call-later",
            "the seed's call_later program: timers at 0.2 s and 0.1 s, and one call_soon",
            "call_soon ran first although it was registered last: 'soon' beats any timer.\n"
            "The timers ran by due time (0.1 s before 0.2 s), not in registration order.",
        ),
        Demo(
            "call-at",
            "the seed's call_at program: deadlines on the loop's own monotonic clock",
            "The loop's clock (loop.time(), monotonic) is not the wall clock (time.time()):\n"
            "call_at takes loop time, so a deadline is t0 = loop.time() plus seconds.",
            clock_lines=True,
        ),
        Demo(
            "drift",
            "a 30 ms callback every 0.1 s: fixed-rate holds its grid, fixed-delay drifts",
            "fixed-rate (due at first + k*every via call_at) stayed on its grid;\n"
            "fixed-delay (due 0.1 s after each call returned, as a call_later chain) drifted\n"
            "30 ms per tick.",
        ),
        Demo(
            "blocking",
            "one callback blocks the loop for 200 ms: every call due meanwhile is late",
            "While a callback runs, nothing else can: the ticks due during the 200 ms block\n"
            "all fired late, then ran back to back. Keep callbacks short or make them async.",
        ),
    )
}
