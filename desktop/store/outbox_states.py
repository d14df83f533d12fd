"""The states of a registration outbox row (`RegistrationRow.state`); see `desktop.store.outbox`.

Contract: these strings are stored in the database and shown by `shipscan queue --json`: never renamed.
They live in their own module so the outbox and the tracking-status queries share them without importing
each other; `desktop.store.outbox` re-exports every name.
"""

from __future__ import annotations

WAITING_APPROVAL = "waiting_approval"
QUEUED = "queued"
REGISTERED = "registered"
FAILED = "failed"
PAUSED = "paused"
DISMISSED = "dismissed"
STATES = (WAITING_APPROVAL, QUEUED, REGISTERED, FAILED, PAUSED, DISMISSED)
