"""`shipscan scan` progress when stderr is not a terminal (issue 13, item 9): plain lines at most every
~15 s and at least that often while the scan runs, long rate-limit waits, the run's failure; stdout
untouched (`--json` stays one object)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time

import pytest

from desktop.commands.scan import ProgressView
from desktop.core.events import ErrorReported, Progress, RateLimitWait
from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from tests.helpers.synthetic import synthetic_workspace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _progress(done: int, elapsed: float) -> Progress:
    return Progress(listed=100, done=done, scanned=done, unchanged=0, failed=0, shipments=done // 10,
                    listing_complete=False, elapsed=elapsed, eta_seconds=60.0)


def _lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().split("\n") if line]


def test_plain_progress_lines_come_at_most_every_interval():
    stream, clock = io.StringIO(), Clock()
    view = ProgressView(stream, terminal=False, clock=clock)
    for second in range(1, 41):
        clock.now += 1.0
        view(_progress(second, float(second)))
    lines = _lines(stream)
    assert lines == ["progress: 15/100+ conversations, 1 shipments, 0 failed, ~60 s left, 15 s",
                     "progress: 30/100+ conversations, 3 shipments, 0 failed, ~60 s left, 30 s"]
    assert "\r" not in stream.getvalue()


def test_long_rate_limit_waits_are_printed_once_and_short_ones_not():
    stream, clock = io.StringIO(), Clock()
    view = ProgressView(stream, terminal=False, clock=clock)
    view(RateLimitWait("front", 4.0, "Front rate limit"))
    for _ in range(20):                       # every conversation held by one wait reports it
        view(RateLimitWait("openai", 42.0, "OpenAI rate limit (429)"))
    clock.now += 16.0
    view(_progress(3, 16.0))
    assert _lines(stream) == ["waiting 42 s for openai: OpenAI rate limit (429)",
                              "progress: 3/100+ conversations, 0 shipments, 0 failed, ~60 s left, 16 s "
                              "(waiting: openai for 26 s more)"]


def test_the_failure_of_the_run_is_one_line_on_a_terminal_and_off_it():
    for terminal in (False, True):
        stream = io.StringIO()
        view = ProgressView(stream, terminal=terminal)
        view(ErrorReported("scan", "OpenAI refused the key (HTTP 401): Incorrect API key provided"))
        view.close()
        assert _lines(stream) == ["scan failed: OpenAI refused the key (HTTP 401): Incorrect API key provided"]


def test_the_heartbeat_prints_while_nothing_happens():
    stream = io.StringIO()

    async def main():
        view = ProgressView(stream, terminal=False, interval=0.2)
        view.start()
        await asyncio.sleep(0.75)
        view.close()
        await asyncio.sleep(0.3)              # closed: no more lines
    asyncio.run(main())
    lines = _lines(stream)
    assert 3 <= len(lines) <= 4, lines
    assert all(line.startswith("progress: no conversation finished yet, ") for line in lines)


@pytest.mark.slow
def test_a_scan_held_by_a_silent_server_shows_progress_in_a_log(tmp_path):
    """A Front that never answers: the scan's stderr, a file here, still gets a line within ~15 s."""
    ws = synthetic_workspace(20)
    config = SimConfig.for_tests()
    config.front.faults.timeout_rate, config.front.faults.timeout_hold_seconds = 1.0, 25.0
    err_path, out_path = tmp_path / "stderr.log", tmp_path / "stdout.log"
    with start_simulators(ws, config) as sims:
        env = {**os.environ, "FRONT_API_TOKEN": DEMO_KEYS["front"], "FRONT_API_URL": sims.front_url}
        with open(err_path, "w") as err, open(out_path, "w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "desktop", "scan", "--since", "2020-01-01", "--extractor", "rules",
                 "--json", "--db", str(tmp_path / "s.sqlite3")], stdout=out, stderr=err, env=env)
            try:
                deadline = time.monotonic() + 25
                while "progress:" not in err_path.read_text() and time.monotonic() < deadline:
                    time.sleep(0.2)
                waited = 25 - (deadline - time.monotonic())
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait()
    text = err_path.read_text()
    assert "progress: no conversation finished yet, 1" in text, text
    assert 14 <= waited <= 20, waited
    assert out_path.read_text() == ""
