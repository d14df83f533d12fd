"""Held groups: a conversation whose numbers are too many for one order waits as ONE review item.

`desktop.core.policy` holds every new shipment of such a conversation with the flag `policy.GROUP_HOLD`
("too_many_numbers"). This module reads those shipments back grouped by conversation and lets a person
act on the group as a whole. Contracts:
- A group's members are the conversation's shipments that still carry the flag, still wait for review
  (review state "pending") and whose outbox row still waits for approval. Approving or rejecting one of
  them on its own takes it out of the group; nothing else does.
- `release` approves the members it is given (those the person saw: a scan that added more since does
  not make the click spend more) and queues them for registration; `reject` rejects them (never
  registered). Each is ONE transaction and returns the shipment ids it changed.
- Nothing here registers anything: releasing queues; the registration worker sends.
All SQL of held groups lives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from desktop import hold_reasons as policy  # the core's hold words, without importing the core
from desktop.store import outbox, reviewlog
from desktop.store.tables import database, utcnow

#: The members of held groups (s = shipment, r = registration); a JSON flag list holds the quoted flag.
_MEMBER = ("s.review_state = 'pending' AND r.state = 'waiting_approval' AND s.flags LIKE ?")
_FLAG_LIKE = f'%"{policy.GROUP_HOLD}"%'
_FROM = ("FROM shipment s JOIN registration r ON r.shipment_id = s.id "
         "JOIN conversation c ON c.id = s.conversation_id")


@dataclass(frozen=True, slots=True)
class HeldGroup:
    """One held conversation: what `shipscan queue` and the GUI show as a single review item."""

    conversation_id: str
    subject: str
    customer: str | None
    count: int
    shipment_ids: tuple[int, ...]
    found_at: float

    @property
    def label(self) -> str:
        """The conversation as the reviewer knows it: its id, and its subject when it has one."""
        return f'{self.conversation_id} ("{self.subject}")' if self.subject else self.conversation_id

    @property
    def reason(self) -> str:
        return policy.group_reason(self.label, self.count)

    def to_json(self) -> dict:
        return {"conversation_id": self.conversation_id, "subject": self.subject, "customer": self.customer,
                "count": self.count, "limit": policy.MAX_AUTO_PER_CONVERSATION, "reason": self.reason,
                "found_at": self.found_at, "shipment_ids": list(self.shipment_ids)}


@dataclass(frozen=True, slots=True)
class HeldNumber:
    """One member of a held group, with the text around its number (for the evidence view)."""

    shipment_id: int
    number: str
    carrier: str
    evidence: str


def held_groups(conversation_id: str | None = None) -> list[HeldGroup]:
    """Every held group (or only `conversation_id`'s), the most recently found first."""
    where, params = _MEMBER, [_FLAG_LIKE]
    if conversation_id is not None:
        where += " AND s.conversation_id = ?"
        params.append(conversation_id)
    cursor = database.execute_sql(
        f"SELECT s.conversation_id, COALESCE(c.subject, ''), c.customer, s.id, s.found_at {_FROM} "
        f"WHERE {where} ORDER BY s.conversation_id, s.id", params)
    groups: dict[str, list] = {}
    for cid, subject, customer, sid, found in cursor.fetchall():
        group = groups.setdefault(cid, [subject, customer, [], found])
        group[2].append(sid)
        group[3] = max(group[3], found)
    found_groups = [HeldGroup(cid, subject, customer, len(ids), tuple(ids), found)
                    for cid, (subject, customer, ids, found) in groups.items()]
    return sorted(found_groups, key=lambda g: (-g.found_at, g.conversation_id))


def group(conversation_id: str) -> HeldGroup | None:
    groups = held_groups(conversation_id)
    return groups[0] if groups else None


def held_shipment_ids() -> set[int]:
    """Ids of every shipment that is part of a held group (so lists can show the group instead)."""
    cursor = database.execute_sql(f"SELECT s.id {_FROM} WHERE {_MEMBER}", [_FLAG_LIKE])
    return {row[0] for row in cursor.fetchall()}


def evidence(conversation_id: str, limit: int = 500) -> list[HeldNumber]:
    """The group's numbers with their evidence, in the order they were found (at most `limit`)."""
    cursor = database.execute_sql(
        f"SELECT s.id, s.tracking_number, COALESCE(s.carrier, s.courier, ''), COALESCE(s.evidence, '') {_FROM} "
        f"WHERE {_MEMBER} AND s.conversation_id = ? ORDER BY s.id LIMIT ?", [_FLAG_LIKE, conversation_id, limit])
    return [HeldNumber(*row) for row in cursor.fetchall()]


def release(conversation_id: str, shipment_ids: Iterable[int]) -> list[int]:
    """A person released the group: its members among `shipment_ids` are approved and queued."""
    return _act(conversation_id, shipment_ids, review_state="approved", state=outbox.QUEUED)


def reject(conversation_id: str, shipment_ids: Iterable[int]) -> list[int]:
    """A person rejected the group: its members among `shipment_ids` are rejected, never registered."""
    return _act(conversation_id, shipment_ids, review_state="rejected", state=outbox.DISMISSED)


def _act(conversation_id: str, shipment_ids: Iterable[int], *, review_state: str, state: str) -> list[int]:
    wanted = sorted(set(shipment_ids))
    with database.atomic("IMMEDIATE"):
        members = set(_members(conversation_id))
        ids = [sid for sid in wanted if sid in members]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            database.execute_sql(f"UPDATE shipment SET review_state = ? WHERE id IN ({marks})",
                                 [review_state, *chunk])
            database.execute_sql(
                "UPDATE registration SET state = ?, kind = NULL, next_attempt_at = NULL, attempts = 0, "
                f"updated_at = ? WHERE shipment_id IN ({marks})", [state, utcnow(), *chunk])
        reviewlog.record("release" if review_state == "approved" else "reject_held", ids)
    return ids


def _members(conversation_id: str) -> list[int]:
    cursor = database.execute_sql(f"SELECT s.id {_FROM} WHERE {_MEMBER} AND s.conversation_id = ?",
                                  [_FLAG_LIKE, conversation_id])
    return [row[0] for row in cursor.fetchall()]
