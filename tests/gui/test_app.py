"""`shipscan --demo` end to end in a subprocess, logging, and the estimate's arithmetic."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import log as applog
from desktop.gui.estimate import compute_estimate
from desktop.gui.scanpanel import preset_range


@pytest.mark.slow
def test_demo_window_opens_and_closes_cleanly(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SHIPSCAN_QUIT_AFTER="1.5",
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "desktop", "--demo"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    log_file = next((tmp_path / "state").rglob("shipscan.log"))
    text = log_file.read_text()
    assert "window opening (demo=True" in text and "window closed" in text
    assert (tmp_path / "data" / "shipscan" / "demo.sqlite3").exists()
    for key in ("demo-front-token", "sk-demo-key", "apik_demo_key"):
        assert key not in text


@pytest.mark.slow
def test_without_a_front_key_the_window_says_which_and_exits_2(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path))
    env.pop("FRONT_API_TOKEN", None)
    result = subprocess.run([sys.executable, "-m", "desktop"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "FRONT_API_TOKEN" in result.stderr


def test_log_redacts_keys_and_caps_length(tmp_path):
    setup = applog.setup(0, tmp_path, console=False)
    try:
        setup.redactor.add_secret("my-very-secret-token")
        logger = logging.getLogger("shipscan.front")
        logger.warning("sent Authorization: Bearer abc.def-123 with my-very-secret-token and sk-live1234567")
        logger.warning("body %s", "x" * 10_000)
        lines = setup.ring.text()
        assert "abc.def-123" not in lines and "my-very-secret-token" not in lines and "sk-live1234567" not in lines
        assert "[...cut]" in lines and len(lines) < 5_000
        for handler in setup.handlers:
            handler.flush()
        assert "my-very-secret-token" not in (tmp_path / "shipscan.log").read_text()
    finally:
        setup.close()


def test_estimate_arithmetic():
    est = compute_estimate(250, 50, extractor="llm", model="gpt-4.1-mini", average_tokens=1000,
                           budget_share=0.8, limit_per_minute=100)
    assert (est.to_scan, est.llm_calls, est.tokens_in) == (200, 200, 200_000)
    assert est.front_requests == 3 + 200 and est.front_rate_per_minute == 80
    # Front-bound: 80 go at once, the other 123 at 80 a minute (the answers would take ~3.4 s at 150 at once).
    assert est.minutes == pytest.approx((203 - 80) / 80)
    assert "80 at once" in est.lines()[2]
    # Latency-bound when the whole range fits one window: 3 pages, then 200 answers 150 at a time.
    small = compute_estimate(60, 0, extractor="llm", model="gpt-4.1-mini", average_tokens=1000,
                             budget_share=0.8, limit_per_minute=100, concurrency=150)
    assert small.minutes == pytest.approx((0.3 + 0.3 + 2.0 + 60 * 2.3 / 150) / 60)
    assert est.cost_usd == pytest.approx((200_000 * 0.40 + 200 * 150 * 1.60) / 1e6)
    rules = compute_estimate(10, 20, extractor="rules", model="unknown", average_tokens=None, budget_share=0.5)
    assert rules.unchanged == 10 and rules.llm_calls == 0 and rules.cost_usd == 0
    mystery = compute_estimate(5, 0, extractor="llm", model="mystery", average_tokens=None, budget_share=1)
    assert mystery.cost_usd is None and "cost unknown" in mystery.lines()[1]
    # The default model reasons: billed as output, from none to the allowance each call reserves.
    default = compute_estimate(72, 0, extractor="llm", model="gpt-5.4-mini", average_tokens=1650, budget_share=0.8)
    assert default.cost_usd == pytest.approx((72 * 1650 * 0.75 + 72 * 150 * 4.50) / 1e6)
    assert default.cost_high_usd == pytest.approx(default.cost_usd + 72 * 1000 * 4.50 / 1e6)
    assert "(about $0.14–0.46, as much as the model reasons)" in default.lines()[1]
    assert est.cost_high_usd is None and "(about $0.13)" in est.lines()[1]    # gpt-4.1-mini does not reason


def test_presets():
    import datetime as dt

    now = dt.datetime(2026, 11, 30, 15, 30)
    since, until = preset_range("today", now)
    assert dt.datetime.fromtimestamp(since) == dt.datetime(2026, 11, 30) and until == now.timestamp()
    assert preset_range("7d", now)[0] == now.timestamp() - 7 * 86400
    assert preset_range("last", now, last_until=now.timestamp() - 3600)[0] == now.timestamp() - 3600
    assert preset_range("last", now, None) == preset_range("7d", now)


def test_core_and_store_do_not_import_qt():
    code = ("import sys, desktop.store.views, desktop.core.pipeline, desktop.gui.estimate, desktop.gui.connection; "
            "print('PySide6' in sys.modules, 'qasync' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert out.stdout.split() == ["False", "False"], out.stderr
