"""Another desktop on the same database: a second Python process that runs store code against `target`.

Two apps in one test process cannot have separate stores (the tables are bound to one global proxy), so
team-mode tests act through a real second process, as a colleague's desktop would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_as(target: str | Path, who: str, code: str, timeout: float = 60) -> str:
    """Run `code` (Python; `review`, `undo`, `outbox`, `holds`, `scans`, `changes` are imported) in a new
    process with the database `target` open and the actor set to `who`; returns its stdout.

    Raises:
        AssertionError: the process failed (its stderr is in the message).
    """
    script = textwrap.dedent("""
        import sys
        from desktop.store.db import open_database
        from desktop.store import actor, changes, holds, outbox, review, scans, undo
        open_database(sys.argv[1])
        actor.set_name(sys.argv[2])
    """) + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(target), who], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout
