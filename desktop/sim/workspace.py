"""The simulated Front workspace: inboxes, conversations, messages and the ground truth.

`generate_workspace(seed, conversations, end, days)` builds a deterministic workspace for a seed. The
HTTP simulators serve it; tests and benchmarks score extraction against `Workspace.truth`.

Contract (relied on by the Front/OpenAI simulators, tests and benchmarks):
- every conversation id is a key of `truth` (its list may be empty);
- a truth number is normalised (A-Z0-9), occurs in its message's `text` once spaces/dashes are removed,
  and is attributed to the FIRST message carrying it (quoted copies later do not add shipments);
- decoys (order/PO/invoice/phone numbers, wrong-check-digit look-alikes) never appear in `truth`;
- merged conversations have `merged_into` set and no messages; the survivor holds the messages.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class SimInbox:
    id: str
    name: str


@dataclass(slots=True)
class SimMessage:
    """One message as Front would return it (`text` is Front's plain-text `text` field)."""

    id: str
    created_at: float
    is_inbound: bool
    author_name: str | None
    from_name: str
    from_handle: str
    to: list[tuple[str, str]]
    subject: str
    body_html: str
    text: str
    blurb: str
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class SimConversation:
    """A conversation; `messages` are oldest first. `created_at` is the first message's time."""

    id: str
    subject: str
    status: str
    inbox_ids: list[str]
    tags: list[str]
    created_at: float
    messages: list[SimMessage]
    merged_into: str | None = None
    customer_name: str = ""
    customer_handle: str = ""

    @property
    def last_activity_at(self) -> float:
        """Time of the newest message (or creation time when there is none, e.g. merged)."""
        return self.messages[-1].created_at if self.messages else self.created_at


@dataclass(frozen=True, slots=True)
class TruthShipment:
    """One real shipment in a conversation (what a perfect extractor should find)."""

    conversation_id: str
    message_id: str
    tracking_number: str
    courier: str
    carrier: str
    order_number: str | None = None
    supplier: str | None = None
    shipped_date: str | None = None
    destination_country: str | None = None
    destination_postcode: str | None = None


@dataclass(slots=True)
class Workspace:
    """Everything the simulators serve, plus the ground truth."""

    seed: int
    inboxes: list[SimInbox]
    conversations: list[SimConversation]
    truth: dict[str, list[TruthShipment]]
    start: float = 0.0
    end: float = 0.0
    #: conversation id -> wrong-check-digit numbers written into it (never real shipments; for tests)
    decoys: dict[str, list[str]] = field(default_factory=dict)

    @property
    def truth_by_number(self) -> dict[str, TruthShipment]:
        """Normalised number -> shipment (numbers are unique across the workspace)."""
        return {s.tracking_number: s for items in self.truth.values() for s in items}

    def conversation(self, conversation_id: str) -> SimConversation | None:
        """The conversation with this id, or None."""
        for conv in self.conversations:
            if conv.id == conversation_id:
                return conv
        return None

    def truth_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The truth as plain JSON-ready data: {conversation_id: [shipment dicts]}."""
        return {cid: [asdict(s) for s in items] for cid, items in self.truth.items()}

    def write_truth(self, path: str | Path) -> None:
        """Write the truth as JSON {conversation_id: [shipment dicts]}."""
        Path(path).write_text(json.dumps(self.truth_dict(), indent=1), encoding="utf-8")

    def to_json(self) -> str:
        """Serialise the whole workspace (inverse of `from_json`)."""
        data = {
            "seed": self.seed,
            "start": self.start,
            "end": self.end,
            "inboxes": [asdict(i) for i in self.inboxes],
            "conversations": [asdict(c) for c in self.conversations],
            "truth": self.truth_dict(),
            "decoys": self.decoys,
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> Workspace:
        """Rebuild a workspace written by `to_json`."""
        data = json.loads(raw)
        convs = [_conversation_from_dict(c) for c in data["conversations"]]
        truth = {cid: [TruthShipment(**s) for s in items] for cid, items in data["truth"].items()}
        return cls(
            seed=data["seed"],
            inboxes=[SimInbox(**i) for i in data["inboxes"]],
            conversations=convs,
            truth=truth,
            start=data.get("start", 0.0),
            end=data.get("end", 0.0),
            decoys=data.get("decoys", {}),
        )


def _conversation_from_dict(data: dict[str, Any]) -> SimConversation:
    messages = []
    for m in data["messages"]:
        m = dict(m)
        m["to"] = [tuple(pair) for pair in m["to"]]
        messages.append(SimMessage(**m))
    data = dict(data, messages=messages)
    return SimConversation(**data)


def generate_workspace(
    seed: int = 7, conversations: int = 300, end: float | None = None, days: int = 30
) -> Workspace:
    """Build a deterministic workspace for `seed`.

    `end` is epoch seconds (default: today 00:00 UTC + 1 day); message times fall in the `days` days
    before it. See the module docstring for the guarantees.
    """
    from desktop.sim.mail_build import build_workspace  # local: keeps the dataclasses import-light

    return build_workspace(seed=seed, conversations=conversations, end=end, days=days)
