"""Output never makes a call late, and nothing is cut short (issues 14 and 15).

Subprocess tests run the installed entry point without PYTHONUNBUFFERED unless they test it,
and synchronise on what the process wrote (its stdout, stderr or --record file), never on
sleeps.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from helpers import TIMERCTL, clean_env, wait_until

from timerctl.events import CallRecord
from timerctl.render import writer
from timerctl.render.samples import EXACT_POINTS, Samples

ENDLESS = '[[call]]\nname = "tick"\nsoon = true\nevery = 0.001\ncallback = "echo"\nargs = ["t"]\n'
HOUR = '[[call]]\nname = "late"\nlater = 3600\ncallback = "echo"\n'  # silent for an hour


def env(**extra: str) -> dict[str, str]:
    e = clean_env(**extra)
    e.pop("PYTHONUNBUFFERED", None)
    return e


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def limit_file_size(size: int) -> Any:
    """preexec_fn: a disk that takes ``size`` bytes a file (RLIMIT_FSIZE: EFBIG beyond)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


# -- whole writes ---------------------------------------------------------------------------


def test_write_all_retries_a_short_write_and_then_reports_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    got: list[bytes] = []

    def short(fd: int, data: Any) -> int:
        if len(got) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        chunk = bytes(data[:5])
        got.append(chunk)
        return len(chunk)

    monkeypatch.setattr(os, "write", short)
    with pytest.raises(OSError) as err:
        writer.write_all(1, b"x" * 100)
    assert err.value.errno == errno.ENOSPC and len(got) == 3
    got.clear()
    writer.write_all(1, b"abcdefghijkl")
    assert b"".join(got) == b"abcdefghijkl"


def big_schedule(here: Path) -> None:
    (here / "big.toml").write_text(
        '[[call]]\nname = "t"\nsoon = true\nevery = 0.001\n'
        'count = 100000\ncallback = "echo"\nargs = ["' + "x" * 40 + '"]\n'
    )


def test_plan_onto_a_full_disk_under_pythonunbuffered_exits_74(here: Path) -> None:
    """Was: exit 0 with 65,536 bytes written of megabytes (the short write was dropped)."""
    big_schedule(here)
    with open("plan.txt", "w") as out:
        proc = subprocess.run(
            [TIMERCTL, "plan", "big.toml", "--limit", "50000", "--format", "plain"],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(PYTHONUNBUFFERED="1"),
            preexec_fn=limit_file_size(65536),
            timeout=60,
        )
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr == "timerctl: cannot write to stdout: File too large\n"


@pytest.mark.parametrize("unbuffered", [True, False])
def test_plan_into_head_exits_141(here: Path, unbuffered: bool) -> None:
    big_schedule(here)
    e = clean_env(PYTHONUNBUFFERED="1") if unbuffered else env()
    proc = subprocess.Popen(
        [TIMERCTL, "plan", "big.toml", "--limit", "50000", "--format", "plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=e,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"# plan of big.toml")
    proc.stdout.close()  # | head -1
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""


# -- a reader that goes away, a slow one ----------------------------------------------------


@pytest.mark.parametrize("fmt", ["plain", "jsonl"])
def test_a_reader_gone_is_noticed_while_the_loop_is_idle(here: Path, fmt: str) -> None:
    """`timerctl run hour.toml | head -1` ended an hour later: the closed pipe was only seen
    at the next write."""
    (here / "hour.toml").write_text(HOUR)
    proc = subprocess.Popen(
        [TIMERCTL, "run", "hour.toml", "--format", fmt, "--record", "rec.jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=30) == 141
    assert proc.stderr.read() == b""
    records = lines(here / "rec.jsonl")
    assert records[-1]["event"] == "end" and records[-1]["reason"] == "closed"
    assert records[-1]["exit_code"] == 141


def test_a_reader_that_stops_reading_costs_memory_not_the_run(here: Path) -> None:
    """Nobody reads stdout while 20,000 records are written: the run goes on to its end
    (policy block, whose limit is not reached), then the reader gets every record."""
    (here / "s.toml").write_text(
        '[[call]]\nname = "t"\nsoon = true\nevery = 0.0001\n'
        'count = 20000\ncallback = "echo"\nargs = ["t"]\n'
    )
    proc = subprocess.Popen(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl", "--record", "rec.jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    assert proc.stdout is not None
    rec = here / "rec.jsonl"
    # the run ends (its end record is in --record) while stdout holds ~6 MB nobody read
    wait_until(
        lambda: rec.exists() and rec.read_text().endswith('"exit_code":0}\n'),
        what="the end record in --record",
    )
    out = proc.stdout.read().decode()
    assert proc.wait(timeout=30) == 0
    got = [json.loads(line) for line in out.splitlines()]
    assert sum(r["event"] == "call" for r in got) == 20000
    assert got[-1]["event"] == "end"


def backlog_run(here: Path, policy: str) -> tuple[subprocess.Popen[bytes], Path]:
    (here / "s.toml").write_text(
        '[[call]]\nname = "t"\nsoon = true\nevery = 0.001\n'
        'count = 20000\ncallback = "echo"\nargs = ["t"]\n'
    )
    proc = subprocess.Popen(
        [
            TIMERCTL,
            "run",
            "s.toml",
            "--clock",
            "virtual",
            "--format",
            "jsonl",
            "--record",
            "rec.jsonl",
            "--on-backlog",
            policy,
            "--backlog-limit",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    return proc, here / "rec.jsonl"


def test_on_backlog_drop_drops_and_counts_and_record_keeps_all(here: Path) -> None:
    proc, rec = backlog_run(here, "drop")
    assert proc.stdout is not None and proc.stderr is not None
    # nobody reads stdout until the run is over (its end is in --record): it drops meanwhile
    wait_until(
        lambda: (
            rec.exists()
            and rec.read_text().endswith("}\n")
            and '"event":"end"' in rec.read_text()[-400:]
        ),
        what="the end record",
    )
    err = proc.stderr.readline().decode()  # said once
    assert err.startswith("timerctl: stdout's reader is 1.0 MiB behind")
    assert "records are dropped" in err and "(--on-backlog drop)" in err
    out = proc.stdout.read().decode().splitlines()
    assert proc.wait(timeout=30) == 0
    assert proc.stderr.read() == b""  # never a flood
    got = [json.loads(line) for line in out]
    backlog = [r for r in got if r["event"] == "backlog"]
    assert backlog and backlog[0]["policy"] == "drop" and backlog[0]["pending"] >= 1 << 20
    end = got[-1]
    calls = sum(r["event"] == "call" for r in got)
    assert end["event"] == "end" and end["dropped"] > 0 and calls + end["dropped"] == 20000
    recorded = lines(rec)
    assert sum(r["event"] == "call" for r in recorded) == 20000
    assert recorded[-1]["dropped"] == end["dropped"]


def test_on_backlog_block_loses_nothing(here: Path) -> None:
    proc, rec = backlog_run(here, "block")
    assert proc.stdout is not None and proc.stderr is not None
    err = proc.stderr.readline().decode()
    assert "calls wait for it (nothing is lost) (--on-backlog block)" in err
    out = proc.stdout.read().decode().splitlines()
    assert proc.wait(timeout=30) == 0
    got = [json.loads(line) for line in out]
    assert sum(r["event"] == "call" for r in got) == 20000
    assert any(r["event"] == "backlog" and r["policy"] == "block" for r in got)
    assert "dropped" not in got[-1]
    assert [r for r in lines(rec) if r["event"] != "start"] == [
        r for r in got if r["event"] != "start"
    ]


def test_sigterm_is_acted_on_while_nobody_reads_stdout(here: Path) -> None:
    """`timerctl run x.toml | sleep 30`: the loop never waits on the pipe, so a signal ends
    the run at once (it waits at most a second for the reader at the end)."""
    (here / "s.toml").write_text(ENDLESS)
    proc = subprocess.Popen(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl", "--record", "rec.jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    rec = here / "rec.jsonl"
    wait_until(
        lambda: rec.exists() and rec.stat().st_size > 500_000,
        what="more records than the pipe holds",
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 143
    assert lines(rec)[-1]["reason"] == "terminated"


# -- --record, --svg, --html on a full disk --------------------------------------------------


def test_record_onto_dev_full_names_the_file_and_stdout_goes_on(here: Path) -> None:
    (here / "s.toml").write_text('[[call]]\nsoon = true\ncallback = "echo"\nargs = ["x"]\n')
    proc = subprocess.run(
        [
            TIMERCTL,
            "run",
            "s.toml",
            "--clock",
            "virtual",
            "--format",
            "jsonl",
            "--record",
            "/dev/full",
        ],
        capture_output=True,
        text=True,
        env=env(),
        timeout=30,
    )
    assert proc.returncode == 74
    assert proc.stderr == "timerctl: cannot write to /dev/full: No space left on device\n"
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["event"] for r in out] == ["start", "call", "end"]
    assert out[-1]["exit_code"] == 74


def test_record_filling_the_disk_says_so_once_and_stdout_gets_its_end(here: Path) -> None:
    (here / "s.toml").write_text(
        '[[call]]\nsoon = true\nevery = 0.001\ncount = 2000\ncallback = "echo"\nargs = ["x"]\n'
    )
    proc = subprocess.run(
        [
            TIMERCTL,
            "run",
            "s.toml",
            "--clock",
            "virtual",
            "--format",
            "plain",
            "--record",
            "rec.jsonl",
        ],
        capture_output=True,
        text=True,
        env=env(),
        timeout=30,
        preexec_fn=limit_file_size(65536),
    )
    assert proc.returncode == 74
    assert proc.stderr == "timerctl: cannot write to rec.jsonl: File too large\n"
    assert proc.stdout.count(" echo('x') ") == 2000
    assert proc.stdout.splitlines()[-1].startswith("# done: 2000 calls")
    assert proc.stdout.splitlines()[-1].endswith("exit 74")


@pytest.mark.parametrize("option", ["--svg", "--html"])
def test_an_export_onto_a_full_disk_names_the_file(here: Path, option: str) -> None:
    (here / "s.toml").write_text(
        '[[call]]\nsoon = true\nevery = 0.001\ncount = 300\ncallback = "echo"\nargs = ["x"]\n'
    )
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--clock", "virtual", "--format", "jsonl", option, "out.x"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=60,
        preexec_fn=limit_file_size(16384),
    )
    assert proc.returncode == 74
    assert proc.stderr == "timerctl: cannot write to out.x: File too large\n"


# -- Ctrl-C ------------------------------------------------------------------------------------


def test_a_double_ctrl_c_in_a_blocking_callback_still_ends_the_record(here: Path) -> None:
    (here / "s.toml").write_text(
        '[[call]]\nname = "hi"\nsoon = true\ncallback = "echo"\n'
        'args = ["hi"]\n[[call]]\nname = "block"\nsoon = true\n'
        'callback = "sleep"\nargs = [30]\n'
    )
    proc = subprocess.Popen(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl", "--record", "rec.jsonl"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env(),
    )
    rec = here / "rec.jsonl"
    wait_until(
        lambda: rec.exists() and '"entry":"hi"' in rec.read_text(), what="the first call's record"
    )
    # Ctrl-C until it exits (two sent at once may arrive as one: signals do not queue)
    for _ in range(100):
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(0.2)
            break
        except subprocess.TimeoutExpired:
            continue
    assert proc.wait(timeout=20) == 130
    end = lines(rec)[-1]
    assert end["event"] == "end" and end["reason"] == "interrupted"
    assert end["exit_code"] == 130


# -- the start record ------------------------------------------------------------------------


def test_the_start_record_carries_the_seed_and_it_replays_the_jitter(here: Path) -> None:
    (here / "s.toml").write_text(
        '[[call]]\nname = "j"\nlater = 0.1\nevery = 0.1\ncount = 5\n'
        'jitter = 0.05\ncallback = "echo"\n'
    )

    def run(*extra: str) -> list[dict[str, Any]]:
        proc = subprocess.run(
            [TIMERCTL, "run", "s.toml", "--clock", "virtual", "--format", "jsonl", *extra],
            capture_output=True,
            text=True,
            env=env(),
            timeout=30,
        )
        return [json.loads(line) for line in proc.stdout.splitlines()]

    first = run()
    seed = first[0]["seed"]
    assert isinstance(seed, int)
    again = run("--seed", str(seed))
    assert again[0]["seed"] == seed
    dues = [[r["due"] for r in recs if r["event"] == "call"] for recs in (first, again)]
    assert dues[0] == dues[1] and len(set(dues[0])) == 5


def test_a_soon_call_is_due_when_the_loop_starts_not_before_start_up(here: Path) -> None:
    """Its lateness was measured from t0, before the header was written and every entry put
    on the loop: start-up counted as lateness, and set the run's max."""
    many = "".join(f'[[call]]\nname = "l{i}"\nlater = 60\ncallback = "echo"\n' for i in range(5000))
    (here / "s.toml").write_text(
        '[[call]]\nname = "first"\nsoon = true\ncallback = "stop"\n' + many
    )
    proc = subprocess.run(
        [TIMERCTL, "run", "s.toml", "--format", "jsonl"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=60,
    )
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    start, call = got[0], got[1]
    assert call["entry"] == "first"
    assert call["due"] > start["loop_t0"]  # after 5,000 entries were armed
    assert call["late"] == pytest.approx(call["loop_time"] - call["due"])


# -- report ----------------------------------------------------------------------------------


def recording(here: Path) -> Path:
    (here / "s.toml").write_text(
        '[[call]]\nsoon = true\nevery = 0.1\ncount = 3\ncallback = "echo"\n'
    )
    subprocess.run(
        [TIMERCTL, "run", "s.toml", "--clock", "virtual", "--record", "rec.jsonl"],
        stdout=subprocess.DEVNULL,
        env=env(),
        check=True,
        timeout=30,
    )
    return here / "rec.jsonl"


def test_report_of_dev_zero_is_a_located_error(here: Path) -> None:
    proc = subprocess.run(
        [TIMERCTL, "report", "/dev/zero"], capture_output=True, text=True, env=env(), timeout=30
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "/dev/zero:1: error: a line of more than 1 MiB: not a timerctl record"
    )


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ('"late":0.0,', '"late":"0.0",', "'late' must be a finite number, not \"0.0\""),
        ('"late":0.0,', '"late":null,', "'late' must be a finite number, not null"),
        ('"t":0.1,', '"t":NaN,', "'t' must be a finite number, not nan"),
        ('"seq":2,', '"seq":true,', "'seq' must be an integer, not true"),
    ],
)
def test_report_of_a_malformed_recording_is_a_located_error(
    here: Path, before: str, after: str, message: str
) -> None:
    rec = recording(here)
    text = rec.read_text().splitlines()
    line = next(i for i, t in enumerate(text) if '"event":"call"' in t and before in t)
    text[line] = text[line].replace(before, after, 1)
    rec.write_text("\n".join(text) + "\n")
    proc = subprocess.run(
        [TIMERCTL, "report", "rec.jsonl"], capture_output=True, text=True, env=env(), timeout=30
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == (
        f"rec.jsonl:{line + 1}: error: not a timerctl record: {message}"
    )
    assert proc.stdout == ""


# -- the rich view's memory ------------------------------------------------------------------


def test_the_rich_views_samples_stay_flat_on_an_endless_run() -> None:
    """They kept 20 bytes of every call: 4 MB more per 200,000 calls, without end."""
    r = CallRecord(
        seq=1,
        entry="tick",
        kind="later",
        callback="echo",
        args=(),
        kwargs={},
        n=1,
        due=0.0,
        loop_time=0.0,
        t=0.0,
        wall_time=0.0,
        late=0.0002,
        duration=0.0,
    )
    samples = Samples()
    tracemalloc.start()
    try:
        sizes = []
        for block in range(3):
            for k in range(block * EXACT_POINTS, (block + 1) * EXACT_POINTS):
                r.t = k * 0.001
                samples.add(r)
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert samples.count == 3 * EXACT_POINTS and samples.t is None
    assert sizes[2] - sizes[1] < 10_000  # flat past the exact points (was 2,000,000)
    assert sum(samples.histogram) == samples.count
    points = list(samples.points())
    assert max(t for t, *_ in points) == pytest.approx(samples.t_max, rel=0.01)


# -- the writer itself ------------------------------------------------------------------------


def _drain(fd: int) -> bytes:
    got = bytearray()
    while chunk := os.read(fd, 1 << 20):
        got += chunk
    return bytes(got)


def test_a_write_into_a_full_pipe_is_queued_not_waited_for() -> None:
    r, w = os.pipe()
    out = writer.Writer(w, "stdout")
    record = "x" * 299 + "\n"
    for _ in range(4000):  # 1.2 MB into a 64 KiB pipe nobody reads: returns all the same
        out.write(record)
    assert out.pending > 0
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(_drain(r)))
    reader.start()
    assert out.close() is True
    os.close(w)
    reader.join(10)
    assert got == [record.encode() * 4000]


def test_policy_drop_counts_what_it_drops_and_keeps_what_is_forced() -> None:
    r, w = os.pipe()
    out = writer.Writer(w, "stdout", policy=writer.Backlog.DROP, limit=100_000)
    for _ in range(4000):
        out.write("y" * 299 + "\n")
    assert out.dropped > 0 and out.take_notice() is not None and out.take_notice() is None
    with out.forced():
        out.write("the end\n")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(_drain(r)))
    reader.start()
    assert out.close() is True
    os.close(w)
    reader.join(10)
    assert got[0].endswith(b"the end\n")
    assert got[0].count(b"\n") == 4000 - out.dropped + 1
