"""Fast synthetic shipments for model tests and the GUI benchmark (bulk SQL, not the pipeline)."""

from __future__ import annotations

import json
import random

from desktop.store import dialect, outbox
from desktop.store import postgres as postgres_sql
from desktop.store.tables import database

CARRIERS = (("ups", "UPS"), ("usps", "USPS"), ("fedex", "FedEx"), ("dhl", "DHL"), ("ontrac", "OnTrac"))
REVIEW = ("auto", "pending", "approved", "rejected")
REGISTRATION = ("queued", "registered", "failed", "waiting_approval", "dismissed")


def seed_shipments(count: int, *, seed: int = 1, start: float = 1_760_000_000.0) -> None:
    """Insert `count` shipments (one conversation per 4), each with an outbox row, in one transaction."""
    rng = random.Random(seed)
    conversations, shipments, registrations = [], [], []
    for i in range(count):
        conversation_id = f"cnv_seed{i // 4:07d}"
        if i % 4 == 0:
            conversations.append((conversation_id, f"Order {1000 + i // 4} <b>where is it</b>", start + i))
        courier, carrier = CARRIERS[i % len(CARRIERS)]
        number = f"1Z{i:016d}"
        shipments.append((i + 1, conversation_id, number, courier, carrier, f"PO-{rng.randrange(99999)}",
                          "Acme Supplies" if i % 3 else "Globex", f"2026-11-{1 + i % 28:02d}",
                          f"Your parcel {number} has shipped", json.dumps(["no_check_digit"] if i % 7 == 0 else []),
                          REVIEW[i % len(REVIEW)], start + i))
        registrations.append((i + 1, REGISTRATION[i % len(REGISTRATION)], "temporary" if i % 5 == 2 else None,
                              i % 3, "HTTP 503 from Ship24" if i % 5 == 2 else None,
                              outbox.client_tracker_id(number, courier), json.dumps({"trackingNumber": number})))
    postgres = dialect.is_postgres()
    with database.atomic():
        if not postgres:
            database.execute_sql("PRAGMA foreign_keys = ON")
        _many("INSERT INTO conversation (id, subject, last_activity_at, scan_state, attempts, tokens_in, truncated) "
              "VALUES (?, ?, ?, 'ok', 0, 0, FALSE)", conversations)
        _many("INSERT INTO shipment (id, conversation_id, tracking_number, courier, carrier, order_number, supplier, "
              "shipped_date, evidence, flags, review_state, found_at, confidence, validated, extractor) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0.9, TRUE, 'rules')", shipments)
        _many("INSERT INTO registration (shipment_id, state, kind, attempts, last_error, client_tracker_id, payload, "
              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)", registrations)
        if postgres:  # explicit ids: move the id sequences past them, as SQLite's rowid does by itself
            for table in ("shipment", "registration"):
                database.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")


def _many(sql: str, rows: list) -> None:
    if dialect.is_postgres():   # psycopg's own placeholders (store.postgres translates the store's `?`)
        database.cursor().executemany(postgres_sql.translate(sql), rows)
    else:
        database.connection().executemany(sql, rows)
