"""What an OpenAI-compatible server's rate-limit headers said, remembered for the next run.

Before its first answer a client knows nothing of the account's limits, so it sends only a blind few
(`llm_pacing.BLIND_REQUESTS`, `BLIND_TOKENS`) and waits for that answer, a full answer time (a second or
more) in which a scan could have had a hundred calls in flight. The limits rarely change, so the client
remembers them per server and model (in a small JSON file the caller names: not a secret, no key in it)
and the next run starts from them. Only from half of them: the bucket may hold less than a full minute's
worth (another run, another desktop on the same account), and the first answer corrects it either way.

Contract: `load(path, server, model)` is (requests, tokens, period) or None, never an exception (a missing,
unreadable or malformed file is simply no memory); `save` writes atomically and ignores failures.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger("shipscan.llm")

#: The share of the remembered bucket a new run may spend before the first answer corrects it.
START_SHARE = 0.5


def _key(server: str, model: str) -> str:
    return f"{server.rstrip('/')} {model}"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load(path: Path, server: str, model: str) -> tuple[float, float, float] | None:
    entry = _read(path).get(_key(server, model))
    try:
        requests, tokens, period = (float(entry[k]) for k in ("requests", "tokens", "period"))
    except (TypeError, KeyError, ValueError):
        return None
    if min(requests, tokens, period) <= 0:
        return None
    return requests, tokens, period


def save(path: Path, server: str, model: str, requests: float, tokens: float, period: float) -> None:
    data = _read(path)
    data[_key(server, model)] = {"requests": requests, "tokens": tokens, "period": period}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(out.name, path)
    except OSError as exc:
        log.info("could not remember the OpenAI limits in %s: %s", path, exc)
