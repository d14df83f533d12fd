""""Test connection" for the settings dialog: one cheap authenticated request per service.

Uses the endpoint and key typed in the dialog (not the running clients), so a user can check a new key
before saving it. Returns (ok, message); the message never contains the key.
"""

from __future__ import annotations

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=5.0)

#: service -> (path appended to the endpoint, header builder)
_PROBES = {
    "front": ("/inboxes", lambda key: {"Authorization": f"Bearer {key}"}),
    "openai": ("/models", lambda key: {"Authorization": f"Bearer {key}"}),
    "ship24": ("/public/v1/trackers?limit=1", lambda key: {"Authorization": f"Bearer {key}"}),
}


async def test_connection(service: str, base_url: str, key: str | None,
                          http: httpx.AsyncClient | None = None) -> tuple[bool, str]:
    """Probe `service` at `base_url` with `key`."""
    if not key:
        return False, "No key set."
    path, headers = _PROBES[service]
    url = base_url.rstrip("/") + path
    owned = http is None
    http = http or httpx.AsyncClient(timeout=TIMEOUT)
    try:
        response = await http.get(url, headers=headers(key))
    except httpx.HTTPError as exc:
        return False, f"Cannot reach {base_url}: {type(exc).__name__}"
    finally:
        if owned:
            await http.aclose()
    return _verdict(service, response.status_code)


def _verdict(service: str, status: int) -> tuple[bool, str]:
    if status < 300:
        return True, "Connected: the key works."
    if status in (401, 403):
        return False, f"The server refused the key (HTTP {status})."
    if status == 404 and service == "openai":
        # OpenAI-compatible servers (Ollama, simulators) may lack /models yet accept chat calls.
        return True, "Reachable (this server has no model list; the key could not be checked)."
    if status == 429:
        return True, "Reachable and the key works, but the rate limit is reached right now."
    return False, f"Unexpected answer: HTTP {status}."
