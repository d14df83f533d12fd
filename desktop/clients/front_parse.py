"""Reading Front's answers: the search query, conversations and messages as domain objects, errors typed.

Contract: pure functions, no I/O. `search_query` is the query for activity in [since, until);
`parse_conversation`/`parse_message` turn one `_results` item into a `ConversationRef`/`Message` or raise
`MalformedResponse`; `json_object` is an answer's JSON object (else `MalformedResponse`); `status_error`
maps a failed answer to the `desktop.clients.errors` family. `desktop.clients.front` re-exports the
public names.
"""

from __future__ import annotations

import math
import re
from typing import Any

import httpx

from desktop.clients.errors import ApiStatusError, AuthError, MalformedResponse, NotFound, ServerError
from desktop.domain import ConversationRef, Message

SERVICE = "front"
_MESSAGE_ID = re.compile(r"/messages/(msg_[^/?#]+)")


def search_query(since: float, until: float, inbox: str | None = None) -> str:
    """The search query for activity in [since, until).

    Whether Front's bounds are inclusive is not documented, so `after:` starts one second early: a
    conversation just outside the range costs a little, one inside it must never be missed.
    """
    parts = [f"after:{math.floor(since) - 1}", f"before:{math.ceil(until)}"]
    if inbox:
        parts.append(f"inbox:{inbox}")
    return " ".join(parts)


def parse_conversation(raw: Any, inbox: str | None = None) -> ConversationRef:
    """One conversation of a listing; `inbox` is the inbox searched, used when the item names none."""
    if not isinstance(raw, dict) or not raw.get("id"):
        raise MalformedResponse(SERVICE, "a conversation without an id")
    related = (raw.get("_links") or {}).get("related") or {}
    found = _MESSAGE_ID.search(str(related.get("last_message") or ""))
    activity = raw.get("updated_at") or raw.get("created_at") or 0.0
    inboxes = tuple(str(i.get("id") if isinstance(i, dict) else i) for i in raw.get("inboxes") or ())
    recipient = raw.get("recipient") or {}
    return ConversationRef(
        id=str(raw["id"]), subject=str(raw.get("subject") or ""), status=str(raw.get("status") or ""),
        inbox_ids=inboxes or ((inbox,) if inbox else ()), last_message_id=found.group(1) if found else None,
        last_activity_at=float(activity), customer=_person(recipient.get("name"), recipient.get("handle")))


def parse_message(raw: Any, conversation_id: str) -> Message:
    """One message of `conversation_id`; the sender is the "from" recipient, else the author's name."""
    if not isinstance(raw, dict) or not raw.get("id"):
        raise MalformedResponse(SERVICE, "a message without an id")
    sender = None
    for recipient in raw.get("recipients") or ():
        if isinstance(recipient, dict) and recipient.get("role") == "from":
            sender = _person(recipient.get("name"), recipient.get("handle"))
            break
    author = raw.get("author") or {}
    if sender is None and isinstance(author, dict):
        sender = " ".join(p for p in (author.get("first_name"), author.get("last_name")) if p) or None
    return Message(
        id=str(raw["id"]), conversation_id=conversation_id, created_at=float(raw.get("created_at") or 0.0),
        is_inbound=bool(raw.get("is_inbound")), sender=sender or "", subject=str(raw.get("subject") or ""),
        body_html=str(raw.get("body") or ""), text=raw.get("text"), blurb=str(raw.get("blurb") or ""))


def _person(name: Any, handle: Any) -> str | None:
    if name and handle and name != handle:
        return f"{name} <{handle}>"
    return str(name or handle) if (name or handle) else None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; `MalformedResponse` when it is not JSON or not an object."""
    try:
        data = response.json()
    except ValueError as exc:
        raise MalformedResponse(SERVICE, f"invalid JSON (HTTP {response.status_code})") from exc
    if not isinstance(data, dict):
        raise MalformedResponse(SERVICE, "the answer is not a JSON object")
    return data


def error_message(response: httpx.Response) -> str:
    """Front's `_error` message (or title) of a failed answer, else its text or reason phrase."""
    try:
        error = response.json().get("_error") or {}
        return str(error.get("message") or error.get("title") or response.reason_phrase)
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase


def status_error(response: httpx.Response) -> ApiStatusError:
    """The typed error for a failed answer's status (401/403 auth, 404, 5xx, any other)."""
    status, message = response.status_code, error_message(response)
    if status in (401, 403):
        return AuthError(SERVICE, status, message)
    if status == 404:
        return NotFound(SERVICE, status, message)
    if status >= 500:
        return ServerError(SERVICE, status, message)
    return ApiStatusError(SERVICE, status, message)
