"""Front double, data side: search-query parsing and matching, page tokens, and the JSON object shapes.

Pure functions over the workspace (no HTTP): `front.py` serves them. Shapes follow api-notes §1.4-1.5.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from desktop.sim.workspace import SimConversation, SimMessage

#: Conversation statuses the search `is:` filter understands, mapped to a predicate on (status, conversation).
SEARCH_STATUSES = ("open", "archived", "assigned", "unassigned", "snoozed", "trashed", "unreplied",
                   "waiting", "resolved")
_FILTERS = ("after", "before", "during", "is", "inbox", "tag", "from", "to")


class QueryError(ValueError):
    """The search query cannot be parsed (answered as 400 Bad request)."""


@dataclass
class SearchQuery:
    after: float | None = None
    before: float | None = None
    during: float | None = None
    statuses: list[str] = field(default_factory=list)
    inboxes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # lower-cased words and quoted phrases


def tokenize(query: str) -> list[str]:
    """Split on whitespace, keeping "quoted phrases" (and name:"quoted values") together, quotes removed."""
    tokens = []
    for prefix, quoted, bare in re.findall(r'((?:\w+:)?)"([^"]*)"|(\S+)', query):
        tokens.append(bare if bare else prefix + quoted)
    return [t for t in tokens if t]


def _timestamp(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise QueryError(f"Invalid value for {name}: {value!r} (expected a Unix timestamp in seconds)") from None


def parse_query(raw: str) -> SearchQuery:
    """Parse a decoded search query. Unknown `name:value` tokens count as free text, like words."""
    query = SearchQuery()
    for token in tokenize(raw):
        name, sep, value = token.partition(":")
        name = name.lower()
        if not sep or name not in _FILTERS:
            query.terms.append(token.lower())
        elif not value:
            raise QueryError(f"Empty value for filter {name}:")
        elif name in ("after", "before", "during"):
            setattr(query, name, _timestamp(name, value))
        elif name == "is":
            if value.lower() not in SEARCH_STATUSES:
                raise QueryError(f"Unknown status is:{value}")
            query.statuses.append(value.lower())
        elif name == "inbox":
            query.inboxes.append(value)
        elif name == "tag":
            query.tags.append(value)
        elif name == "from":
            query.senders.append(value.lower())
        else:
            query.recipients.append(value.lower())
    return query


def tag_id(tag: Any) -> str:
    """Tags in the workspace are names (or dicts with an id); Front ids look like tag_xxx."""
    if isinstance(tag, dict):
        return str(tag.get("id"))
    slug = re.sub(r"[^a-z0-9]+", "", str(tag).lower())
    return str(tag) if str(tag).startswith("tag_") else f"tag_{slug[:12] or 'x'}"


def _day_bounds(ts: float) -> tuple[float, float]:
    day = time.gmtime(ts)
    start = calendar.timegm((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0))
    return float(start), float(start + 86400)


def _in_window(t: float, query: SearchQuery, inclusive: bool) -> bool:
    if query.during is not None:
        start, end = _day_bounds(query.during)
        if not start <= t < end:
            return False
    if query.after is not None and not (t >= query.after if inclusive else t > query.after):
        return False
    if query.before is not None and not (t <= query.before if inclusive else t < query.before):
        return False
    return True


def _status_ok(conversation: SimConversation, status: str) -> bool:
    current = conversation.status
    if status == "open":
        return current in ("assigned", "unassigned")
    if status == "trashed":
        return current == "deleted"
    if status == "unreplied":
        return bool(conversation.messages) and conversation.messages[-1].is_inbound
    if status in ("snoozed", "waiting", "resolved"):
        return current == status
    return current == status


def matches(conversation: SimConversation, query: SearchQuery, inclusive: bool, haystack: str) -> bool:
    """True if the conversation satisfies every filter; time filters match ANY message's created_at."""
    if conversation.merged_into or not conversation.messages:
        return False
    timed = query.after is not None or query.before is not None or query.during is not None
    if timed and not any(_in_window(m.created_at, query, inclusive) for m in conversation.messages):
        return False
    if any(not _status_ok(conversation, s) for s in query.statuses):
        return False
    if any(i not in conversation.inbox_ids for i in query.inboxes):
        return False
    tag_ids = {tag_id(t) for t in conversation.tags}
    if any(t not in tag_ids for t in query.tags):
        return False
    if any(all(s not in m.from_handle.lower() for m in conversation.messages) for s in query.senders):
        return False
    handles = {h.lower() for m in conversation.messages for _, h in m.to}
    if any(all(r not in h for h in handles) for r in query.recipients):
        return False
    # Whole words/phrases, like a search index: "1007" must not match inside "11007".
    return all(term in haystack and re.search(rf"(?<!\w){re.escape(term)}(?!\w)", haystack)
               for term in query.terms)


def haystack(conversation: SimConversation) -> str:
    """Lower-cased subject and message texts: what free text is searched in."""
    parts = [conversation.subject] + [m.subject + "\n" + m.text for m in conversation.messages]
    return "\n".join(parts).lower()


# Page tokens -----------------------------------------------------------------------------------------
def encode_token(state: dict[str, Any]) -> str:
    """Opaque hex page token (like Front's long hex tokens)."""
    return json.dumps(state, separators=(",", ":")).encode("utf-8").hex()


def decode_token(token: str) -> dict[str, Any]:
    try:
        state = json.loads(bytes.fromhex(token).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise QueryError("Invalid page_token") from None
    if not isinstance(state, dict):
        raise QueryError("Invalid page_token")
    return state


# Object shapes ---------------------------------------------------------------------------------------
def _teammate(name: str, handle: str) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    slug = re.sub(r"[^a-z0-9]", "", name.lower())[:10] or "agent"
    return {"_links": {"self": f"/teammates/tea_{slug}"}, "id": f"tea_{slug}", "email": handle,
            "username": slug, "first_name": first, "last_name": last, "is_admin": False,
            "is_available": True, "is_blocked": False, "type": "user", "custom_fields": {},
            "license_type": "regular"}


#: The statuses the API reports (the spec's enum). A snoozed conversation is archived until its reminder
#: (search still finds it with `is:snoozed`).
API_STATUS = {"snoozed": "archived"}


def conversation_json(conversation: SimConversation, base: str, include_updated_at: bool) -> dict[str, Any]:
    """`ConversationResponse` (api-notes §1.4)."""
    url = f"{base}/conversations/{conversation.id}"
    last = conversation.messages[-1] if conversation.messages else None
    related = {"events": f"{url}/events", "followers": f"{url}/followers", "messages": f"{url}/messages",
               "comments": f"{url}/comments", "inboxes": f"{url}/inboxes"}
    if last is not None:
        related["last_message"] = f"{base}/messages/{last.id}?referer=conversation"
    data: dict[str, Any] = {
        "_links": {"self": url, "related": related},
        "id": conversation.id, "type": "conversation", "subject": conversation.subject,
        "status": API_STATUS.get(conversation.status, conversation.status), "ticket_ids": [], "assignee": None,
        "recipient": {"_links": {"related": {"contact": None}}, "name": conversation.customer_name,
                      "handle": conversation.customer_handle, "role": "from"},
        "tags": [_tag_json(t, base) for t in conversation.tags], "links": [], "custom_fields": {},
        "created_at": float(conversation.created_at), "is_private": False, "scheduled_reminders": [],
        "metadata": {},
    }
    if include_updated_at:
        data["updated_at"] = float(conversation.last_activity_at)
    unreplied = [m for m in conversation.messages if m.is_inbound]
    data["waiting_since"] = float(unreplied[-1].created_at) if last is not None and last.is_inbound else None
    return data


def _tag_json(tag: Any, base: str) -> dict[str, Any]:
    ident = tag_id(tag)
    name = tag.get("name", ident) if isinstance(tag, dict) else str(tag)
    return {"_links": {"self": f"{base}/tags/{ident}"}, "id": ident, "name": name, "description": None,
            "highlight": None, "is_private": False, "is_visible_in_conversation_lists": True,
            "created_at": 1_700_000_000.0, "updated_at": 1_700_000_000.0}


def message_json(message: SimMessage, conversation_id: str, base: str) -> dict[str, Any]:
    """`MessageResponse` (api-notes §1.5): HTML body, text, blurb, recipients with roles, attachments."""
    url = f"{base}/messages/{message.id}"
    recipients = [{"_links": {"related": {"contact": None}}, "name": message.from_name,
                   "handle": message.from_handle, "role": "from"}]
    recipients += [{"_links": {"related": {"contact": None}}, "name": name, "handle": handle, "role": "to"}
                   for name, handle in message.to]
    author = None if message.is_inbound else _teammate(message.author_name or message.from_name,
                                                      message.from_handle)
    return {
        "_links": {"self": url, "related": {"conversation": f"{base}/conversations/{conversation_id}",
                                            "message_replied_to": None, "message_seen": f"{url}/seen"}},
        "id": message.id, "message_uid": message.id.removeprefix("msg_"), "type": "email",
        "is_inbound": message.is_inbound, "draft_mode": None, "error_type": None, "version": None,
        "created_at": float(message.created_at), "subject": message.subject, "blurb": message.blurb,
        "author": author, "recipients": recipients, "body": message.body_html, "text": message.text,
        "attachments": [_attachment_json(a, base) for a in message.attachments],
        "signature": None, "metadata": {},
    }


def _attachment_json(attachment: dict[str, Any], base: str) -> dict[str, Any]:
    data = {"id": "fil_x", "filename": "file", "url": "", "content_type": "application/octet-stream",
            "size": 0, "metadata": {"is_inline": False, "cid": None}}
    data.update(attachment)
    if not data["url"]:
        data["url"] = f"{base}/download/{data['id']}"
    return data


def error_body(status: int, title: str, message: str) -> dict[str, Any]:
    return {"_error": {"status": status, "title": title, "message": message}}
