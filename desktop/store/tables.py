"""peewee tables (the schema). Every query lives in the store's repository modules, not here.

States are plain strings so the database stays readable with the sqlite3 shell:
- ScanRunRow.state: see `desktop.core.events.RunState` values.
- ConversationRow.scan_state: "pending" | "ok" | "no_shipments" | "failed".
- ShipmentRow.review_state: "auto" (validated, registers by itself) | "pending" (waits for a person)
  | "approved" | "rejected".
- RegistrationRow.state: see `desktop.store.outbox` (waiting approval, queued, in flight, registered,
  failed, needs info, paused, dismissed).
"""

from __future__ import annotations

import datetime as dt

from peewee import (
    AutoField,
    BooleanField,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database = DatabaseProxy()


def utcnow() -> float:
    """Timestamps are stored as epoch seconds (float), like Front's."""
    return dt.datetime.now(dt.UTC).timestamp()


class BaseTable(Model):
    class Meta:
        database = database
        legacy_table_names = False


class ScanRunRow(BaseTable):
    id = AutoField()
    started_at = FloatField(default=utcnow)
    finished_at = FloatField(null=True)
    since = FloatField()
    until = FloatField()
    inboxes = TextField(default="[]")          # JSON list of inbox ids
    batch_size = IntegerField()
    concurrent_batches = IntegerField()
    extractor = TextField()
    rescan = BooleanField(default=False)
    state = TextField(default="running", index=True)
    counts = TextField(default="{}")           # JSON: the run's summary counters
    batches = TextField(default="[]")          # JSON: one object per finished batch
    error = TextField(null=True)
    pid = IntegerField(null=True)              # process that runs it; a dead pid means "interrupted"
    #: That process's start time (Linux: /proc/<pid>/stat field 22), so a reused pid is not taken for it.
    pid_started = TextField(null=True)
    started_by = TextField(null=True)          # who started it (desktop.store.actor); issue 16

    class Meta:
        table_name = "scan_run"


class ConversationRow(BaseTable):
    id = TextField(primary_key=True)           # Front's cnv_...
    inbox_id = TextField(null=True, index=True)
    subject = TextField(default="")
    customer = TextField(null=True)
    status = TextField(null=True)
    last_message_id = TextField(null=True)     # as last listed
    last_activity_at = FloatField(null=True, index=True)
    scan_state = TextField(default="pending", index=True)
    scanned_message_id = TextField(null=True)  # last_message_id at the last successful scan
    scanned_at = FloatField(null=True)
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    tokens_in = IntegerField(default=0)        # tokens sent to the LLM at the last scan
    truncated = BooleanField(default=False)
    run = ForeignKeyField(ScanRunRow, null=True, backref="conversations", on_delete="SET NULL")

    class Meta:
        table_name = "conversation"


class ShipmentRow(BaseTable):
    id = AutoField()
    conversation = ForeignKeyField(ConversationRow, backref="shipments", on_delete="CASCADE")
    message_id = TextField(null=True)
    tracking_number = TextField(index=True)    # normalised: upper-case A-Z0-9
    courier = TextField(default="")            # engine courier code ("" when unknown); unique with the number
    carrier = TextField(null=True)             # display name
    courier_code = TextField(null=True)        # Ship24 courier code
    order_number = TextField(null=True)
    supplier = TextField(null=True)
    shipped_date = TextField(null=True)        # ISO date
    destination_country = TextField(null=True)
    destination_postcode = TextField(null=True)
    confidence = FloatField(default=0.0)
    evidence = TextField(default="")
    flags = TextField(default="[]")            # JSON list of strings
    validated = BooleanField(default=False)
    review_state = TextField(default="pending", index=True)
    extractor = TextField(default="")
    found_at = FloatField(default=utcnow, index=True)
    run = ForeignKeyField(ScanRunRow, null=True, backref="shipments", on_delete="SET NULL")
    # Tracking status (from Ship24 results)
    milestone = TextField(null=True, index=True)
    status_text = TextField(null=True)
    latest_event = TextField(null=True)
    latest_event_at = TextField(null=True)
    expected_delivery = TextField(null=True)
    status_checked_at = FloatField(null=True)

    class Meta:
        table_name = "shipment"
        indexes = ((("tracking_number", "courier"), True),)


class RegistrationRow(BaseTable):
    """The durable outbox: one row per shipment, written in the same transaction as the shipment."""

    id = AutoField()
    shipment = ForeignKeyField(ShipmentRow, unique=True, backref="registration", on_delete="CASCADE")
    state = TextField(index=True)
    kind = TextField(null=True)                # temporary | permanent | quota | needs_info (why it waits)
    attempts = IntegerField(default=0)
    next_attempt_at = FloatField(null=True, index=True)
    last_error = TextField(null=True)
    client_tracker_id = TextField(unique=True)
    payload = TextField()                      # JSON sent to Ship24, frozen so every retry is identical
    tracker_id = TextField(null=True)
    registered_at = FloatField(null=True)
    created_at = FloatField(default=utcnow)
    updated_at = FloatField(default=utcnow)
    lease_until = FloatField(null=True)        # an attempt in flight; expired leases are retried
    lease_owner = TextField(null=True)         # pid@host holding the lease (issue 16: never broken while alive)

    class Meta:
        table_name = "registration"


class RegistrationAttemptRow(BaseTable):
    id = AutoField()
    registration = ForeignKeyField(RegistrationRow, backref="attempt_rows", on_delete="CASCADE")
    at = FloatField(default=utcnow)
    outcome = TextField()                      # registered | existing | temporary | permanent | quota | needs_info
    http_status = IntegerField(null=True)
    message = TextField(null=True)

    class Meta:
        table_name = "registration_attempt"


ALL_TABLES = (ScanRunRow, ConversationRow, ShipmentRow, RegistrationRow, RegistrationAttemptRow)
