"""`shipscan scan --inbox ID` with a wrong Front token: the refusal is said as the scan says it."""

from __future__ import annotations

import os
import subprocess
import sys

from desktop.sim import DEMO_KEYS, SimConfig, start_simulators
from tests.helpers.synthetic import synthetic_workspace


def test_inbox_check_with_a_wrong_front_token_says_the_key_was_refused(tmp_path):
    """Probe: with --inbox the inbox check ran first and printed only "front: HTTP 401: ..."."""
    with start_simulators(synthetic_workspace(5), SimConfig.for_tests()) as sims:
        env = {**os.environ, "FRONT_API_TOKEN": "wrong-front-token-0123", "FRONT_API_URL": sims.front_url,
               "OPENAI_API_KEY": DEMO_KEYS["openai"], "OPENAI_BASE_URL": sims.openai_url}
        done = subprocess.run([sys.executable, "-m", "desktop", "scan", "--since", "2020-01-01", "--inbox",
                               "inb_a", "--db", str(tmp_path / "s.sqlite3")],
                              capture_output=True, text=True, env=env, timeout=120)
        refused = sims.front.log.status_counts[401]
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == "shipscan scan: Front refused the key (HTTP 401): JSON Web Token error"
    assert refused == 1
    assert "wrong-front-token-0123" not in done.stdout + done.stderr
