""""Test connection" for the settings dialog: cheap authenticated requests per service.

Uses the endpoint and key typed in the dialog (not the running clients), so a user can check a new key
before saving it. Returns (ok, message); the message never contains the key.

Front is tested with what a scan uses, through the same client: the latest conversation
(`conversations:read`, the scope of search) and its messages (`messages:read`). The inbox list
(`inboxes:read`) is optional: its absence is mentioned, never a failure. A missing scope is named
("Front token lacks the messages:read scope").
"""

from __future__ import annotations

import httpx

from desktop.clients.errors import ApiConnectionError, ApiError, ApiStatusError, ApiTimeout, RateLimited
from desktop.clients.front import FrontClient, MissingScope

TIMEOUT = httpx.Timeout(10.0, connect=5.0)

#: service -> (path appended to the endpoint, header builder); Front has its own probe (`_test_front`).
_PROBES = {
    "openai": ("/models", lambda key: {"Authorization": f"Bearer {key}"}),
    "ship24": ("/public/v1/trackers?limit=1", lambda key: {"Authorization": f"Bearer {key}"}),
}


async def test_connection(service: str, base_url: str, key: str | None,
                          http: httpx.AsyncClient | None = None) -> tuple[bool, str]:
    """Probe `service` at `base_url` with `key`."""
    if not key:
        return False, "No key set."
    owned = http is None
    http = http or httpx.AsyncClient(timeout=TIMEOUT)
    try:
        if service == "front":
            return await _test_front(base_url, key, http)
        path, headers = _PROBES[service]
        try:
            response = await http.get(base_url.rstrip("/") + path, headers=headers(key))
        except httpx.HTTPError as exc:
            return False, f"Cannot reach {base_url}: {type(exc).__name__}"
        return _verdict(service, response.status_code)
    finally:
        if owned:
            await http.aclose()


async def _test_front(base_url: str, key: str, http: httpx.AsyncClient) -> tuple[bool, str]:
    # One attempt per request: a settings dialog wants an answer now, not after retries and backoff.
    front = FrontClient(base_url, key, http=http, max_attempts=1)
    try:
        latest = await front.latest_conversation()
        if latest is not None:
            await front.conversation_messages(latest.id)
        inbox_note = await _inbox_note(front)
    except MissingScope as exc:
        return False, f"Front token lacks the {exc.scope} scope (a scan needs conversations:read and " \
                      "messages:read)."
    except RateLimited:
        return True, "Reachable and the key works, but the rate limit is reached right now."
    except (ApiConnectionError, ApiTimeout) as exc:
        return False, f"Cannot reach {base_url}: {exc.message}"
    except ApiStatusError as exc:
        return _verdict("front", exc.status)
    except ApiError as exc:
        return False, f"Unexpected answer: {exc.message}"
    if latest is None:
        return True, "Connected: the key works (no conversation yet, so messages:read could not be checked)." \
                     + inbox_note
    return True, "Connected: the key can list and read conversations." + inbox_note


async def _inbox_note(front: FrontClient) -> str:
    """"" when the token can list inboxes, else a note that the inbox list is unavailable (not a failure)."""
    try:
        await front.inboxes()
    except MissingScope:
        return " It lacks inboxes:read, so the inbox list is not available: scans cover every inbox."
    except ApiError as exc:
        return f" The inbox list could not be loaded ({exc.message})."
    return ""


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
