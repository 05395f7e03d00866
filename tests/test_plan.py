"""`plan` predicts the order a run follows, without invoking anything."""

import json

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timerctl import engine
from timerctl.cli import cli
from timerctl.events import CallRecord
from timerctl.load import load_text
from timerctl.plan import make_plan

NOW = 1_800_000_000.0


def schedule_text(entries: list[dict]) -> str:
    out = []
    for i, e in enumerate(entries):
        out.append("[[call]]")
        out.append(f'name = "e{i}"')
        out.append(e["timing"])
        if e.get("every"):
            out.append(f"every = {e['every']}")
            out.append(f"count = {e['count']}")
            out.append(f'mode = "{e["mode"]}"')
        out.append('callback = "echo"')
        out.append(f"args = [{i}]")
    return "\n".join(out) + "\n"


entry = st.fixed_dictionaries(
    {
        "timing": st.one_of(
            st.just("soon = true"),
            st.integers(0, 50).map(lambda ms: f"later = {ms / 100}"),
            st.integers(0, 50).map(lambda ms: f"at = {ms / 100}"),
        ),
        "every": st.one_of(st.none(), st.integers(1, 30).map(lambda ms: ms / 100)),
        "count": st.integers(1, 5),
        "mode": st.sampled_from(["fixed-rate", "fixed-delay"]),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entry, min_size=1, max_size=6))
def test_plan_order_equals_virtual_run_order(entries: list[dict]) -> None:
    schedule = load_text(schedule_text(entries), "gen.toml", now=NOW)
    plan = make_plan(schedule, NOW, limit=1000)
    # equal due times included: timerctl runs them in the order they were scheduled
    records: list[CallRecord] = []
    engine.run(
        schedule, lambda e: records.append(e) if isinstance(e, CallRecord) else None, virtual=True
    )
    assert [(r.entry, r.n) for r in records] == [(s.call.name, s.n) for s in plan.steps]
    assert [round(r.t, 9) for r in records] == [round(s.due, 9) for s in plan.steps]


def test_plan_expands_repeats_up_to_the_limit_and_counts_the_rest() -> None:
    text = (
        '[[call]]\nname = "hb"\nsoon = true\nevery = 1\ncallback = "echo"\n'
        '[[call]]\nname = "ten"\nlater = 0.5\nevery = 1\ncount = 10\ncallback = "echo"\n'
    )
    plan = make_plan(load_text(text, "s.toml"), NOW, limit=6)
    assert [(s.call.name, s.n) for s in plan.steps] == [
        ("hb", 1),
        ("ten", 1),
        ("hb", 2),
        ("ten", 2),
        ("hb", 3),
        ("ten", 3),
    ]
    assert plan.more == {"hb": None, "ten": 7}
    assert any("until stopped" in n for n in plan.notes)


def test_plan_notes_what_users_trip_over() -> None:
    text = (
        '[[call]]\nlater = 1\ncallback = "echo"\n'
        '[[call]]\nat = 1\ncallback = "echo"\n'
        '[[call]]\nlater = 90000\ncallback = "echo"\n'
    )
    notes = " | ".join(make_plan(load_text(text, "s.toml"), NOW).notes)
    assert "later#1, at#1 are due at the same moment (T+1s): they run in the order" in notes
    assert "more than a day" in notes


def test_plan_cli_calls_nothing_and_formats(tmp_path) -> None:
    marker = tmp_path / "marker"
    plugin = tmp_path / "plan_marker_plugin.py"
    plugin.write_text(
        "from timerctl import callback\n"
        "@callback('touch_marker')\n"
        "def touch(path: str) -> str:\n"
        "    open(path, 'w').close()\n"
        "    return 'touched'\n"
    )
    sched = tmp_path / "s.toml"
    sched.write_text(
        f'[run]\nplugins = ["plan_marker_plugin"]\n'
        f'[[call]]\nsoon = true\ncallback = "touch_marker"\nargs = ["{marker}"]\n'
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        result = CliRunner().invoke(cli, ["plan", str(sched), "--format", "jsonl"])
    finally:
        sys.path.remove(str(tmp_path))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows[0]["event"] == "plan" and rows[0]["callback"] == "touch_marker"
    assert not marker.exists()


def test_plan_of_an_invalid_schedule_exits_2(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[call]]\nlater = "soon"\ncallback = "echo"\n')
    result = CliRunner().invoke(cli, ["plan", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2:1: error: 'later' = 'soon' cannot be read at 'soon'" in result.output
