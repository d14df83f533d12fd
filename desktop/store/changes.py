"""The change counter: one row that every write changing what a table shows bumps, in its own transaction.

Several desktops (or a window and `shipscan` commands) share one database. A window learns that another
process changed something by polling `current()` (one primary-key read, cheap on SQLite and PostgreSQL) and
comparing it with what it saw last (`Watcher`, used by `desktop.gui.teamsync`).

Contracts:
- `bump()` is called INSIDE the write transaction that made the change (scan commits, run starts and ends,
  review actions, registration outcomes, status refreshes), so the counter moves exactly when the change
  commits, and a rolled-back change leaves it as it was.
- The row says which process wrote last (`WRITER`: host, pid and a random part, so a reused pid is another
  writer) and which wrote before it (`previous_writer`, set by the same UPDATE: SQL reads old values on the
  right-hand side). A bump that overwrites another process's unseen change notes that change's value, so
  `Watcher.poll` still reports it although the row now names this process.
- `Watcher.poll()` is True when the counter moved since the last poll because of ANOTHER process (also when
  this process wrote after it); False on the first poll (it only sets the baseline) and for this
  process's own changes. When unsure it says True (an extra refresh, never a missed one).
- No Qt; thread-safe (the poller runs on its own thread with its own connection).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass

from peewee import FloatField, IntegerField, TextField

from desktop.store.tables import BaseTable, database, utcnow

#: This process, as the counter row names it.
WRITER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

_lock = threading.Lock()
#: The highest counter value written by another process that one of our bumps overwrote (0: none).
_foreign_overwritten = 0


class ChangeCounterRow(BaseTable):
    """The single counter row (id 1), created by `desktop.store.migrations_team`."""

    id = IntegerField(primary_key=True)
    value = IntegerField(default=0)
    writer = TextField(null=True)
    previous_writer = TextField(null=True)
    changed_at = FloatField(null=True)

    class Meta:
        table_name = "change_counter"


@dataclass(frozen=True, slots=True)
class Change:
    """The counter as read: its value and the process that wrote it last (None: nobody yet)."""

    value: int
    writer: str | None

    @property
    def mine(self) -> bool:
        return self.writer == WRITER


def bump() -> int:
    """Count one change made by this process; call inside the write transaction. Returns the new value."""
    global _foreign_overwritten
    rows = database.execute_sql(
        "UPDATE change_counter SET value = value + 1, previous_writer = writer, writer = ?, changed_at = ? "
        "WHERE id = 1 RETURNING value, previous_writer", [WRITER, utcnow()]).fetchall()
    if not rows:  # no counter row (a database this code did not migrate): nothing to count in
        return 0
    value, previous = rows[0]
    if previous is not None and previous != WRITER:
        with _lock:  # value - 1 is the other process's change, now hidden behind our name
            _foreign_overwritten = max(_foreign_overwritten, value - 1)
    return value


def current() -> Change:
    """The counter now (Change(0, None) on a database without the counter row)."""
    row = database.execute_sql("SELECT value, writer FROM change_counter WHERE id = 1").fetchone()
    return Change(row[0], row[1]) if row else Change(0, None)


class Watcher:
    """Tells whether another process changed the database since the last look (see the module's contract)."""

    def __init__(self) -> None:
        self.last: int | None = None

    def poll(self) -> bool:
        """Read the counter; True when another process moved it since the previous poll."""
        return self.seen(current())

    def seen(self, change: Change) -> bool:
        """Take `change` as the counter's latest reading; True when it shows another process's change."""
        with _lock:
            last, self.last = self.last, change.value
            if last is None or change.value == last:
                return False
            if change.value < last:  # another database (or one restored from a backup): refresh
                return True
            return not change.mine or last < _foreign_overwritten <= change.value
