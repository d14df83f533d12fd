"""Read-only SQL behind the GUI's tables: shipments (paged, sorted, filtered), the retry queue, scan history
(the last in `desktop.store.history_views`, re-exported here).

The shipments table is large (100,000 rows must scroll smoothly), so it is read in two steps:
`shipment_ids(filter, sort)` returns the ordered ids of every matching row in one query (sorting and
filtering happen in SQL), and `shipment_rows(ids)` loads one page of rows by id when the view shows it.
Everything here only reads; writes belong to the pipeline, the outbox and `store.review`.
No Qt here: the GUI's item models adapt these results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from desktop.store import dialect, glance
from desktop.store.history_views import (
    KnownConversations,
    ReviewAction,
    RunView,
    known_conversations,
    last_completed_scan_until,
    runs,
)
from desktop.store.tables import database

__all__ = ["RETRY_STATES", "SHIPMENT_COLUMNS", "KnownConversations", "RetryItem", "RunView", "ShipmentDetail",
           "ShipmentFilter", "ShipmentSort", "ShipmentView", "carriers", "count_shipments", "iter_shipments",
           "known_conversations", "last_completed_scan_until", "registration_counts", "retry_queue", "runs",
           "search_terms", "shipment_detail", "shipment_ids", "shipment_rows", "tracking_counts"]

#: Column key -> SQL expression used to sort on it (the GUI's columns, in display order). The at-a-glance
#: columns' SQL depends on the database (dates): `column_sql(key)` gives the one to run.
SHIPMENT_COLUMNS: dict[str, str] = {
    "number": "s.tracking_number",
    "carrier": "COALESCE(s.carrier, s.courier)",
    "order": "s.order_number",
    "supplier": "s.supplier",
    "shipped": "s.shipped_date",
    "status": "COALESCE(s.milestone, s.status_text)",
    "review": "s.review_state",
    "registration": "r.state",
    "subject": "c.subject",
    "found": "s.found_at",
    # customer, email, checkpoint, checkpoint_at, expected, days, message (SQLite's SQL here)
    **glance.glance_columns_for(dialect.SQLITE),
}


def column_sql(key: str) -> str:
    """The SQL expression of column `key` for the database the store is bound to (found_at when unknown)."""
    if key in glance.GLANCE_KEYS:
        return glance.glance_columns()[key]
    return SHIPMENT_COLUMNS.get(key, SHIPMENT_COLUMNS["found"])


_FROM = ("FROM shipment s JOIN conversation c ON c.id = s.conversation_id "
         "LEFT JOIN registration r ON r.shipment_id = s.id")
_USES_CONVERSATION = re.compile(r"\bc\.")
_USES_REGISTRATION = re.compile(r"\br\.")


def _from_for(sql: str) -> str:
    """`_FROM` with only the joins `sql` (a WHERE and ORDER BY) reads: a query over 100,000 shipments spends
    about a third of its time joining tables it never looks at. Dropping the conversation join keeps the same
    rows: every shipment's conversation exists (a foreign key)."""
    source = "FROM shipment s"
    if _USES_CONVERSATION.search(sql):
        source += " JOIN conversation c ON c.id = s.conversation_id"
    if _USES_REGISTRATION.search(sql):
        source += " LEFT JOIN registration r ON r.shipment_id = s.id"
    return source


@dataclass(frozen=True)
class ShipmentFilter:
    """What the shipments table shows. Empty/None fields do not filter.

    `text` is split into terms (spaces; "a quoted phrase" is one term); each term must match
    (case-insensitively, as a substring) the number, order, supplier, carrier, subject or customer (name
    or email): all terms, in any of them (AND). A number typed with spaces or dashes ("1Z 535J 5403") also matches the stored number.
    `since`/`until` bound `found_at` (epoch seconds, until exclusive). `tracking` is a status group of
    `store.glance.GROUPS` (None or "all": any); "stale" uses `stale_days`.
    """

    text: str = ""
    review: str | None = None
    registration: str | None = None
    carrier: str | None = None
    since: float | None = None
    until: float | None = None
    tracking: str | None = None
    stale_days: int = glance.DEFAULT_STALE_DAYS


@dataclass(frozen=True)
class ShipmentSort:
    column: str = "found"
    descending: bool = True


@dataclass(frozen=True)
class ShipmentView:
    """One row of the shipments table (display values, already joined)."""

    id: int
    number: str
    carrier: str
    order: str
    supplier: str
    shipped: str
    status: str
    review: str
    registration: str
    subject: str
    found: float
    courier: str
    conversation_id: str
    milestone: str = ""              # Ship24's statusMilestone ("" before the first refresh)
    checkpoint: str = ""             # the latest checkpoint: status (place)
    checkpoint_at: str = ""          # its local time, as Ship24 gives it
    expected: str = ""               # expected delivery date
    days: int | None = None          # days in transit (glance.days_in_transit)
    contact: str = ""                # the conversation's customer as Front names it: "Name <email>"
    message: float | None = None     # the conversation's last message (epoch seconds)

    @property
    def customer(self) -> str:
        """The customer's name (the email when Front knows no name)."""
        name, _sep, _rest = self.contact.partition("<")
        return name.strip() or self.email

    @property
    def email(self) -> str:
        if "<" in self.contact:
            return self.contact.partition("<")[2].rstrip(">").strip()
        return self.contact.strip() if "@" in self.contact else ""

    def value(self, key: str) -> str | float | int | None:
        return getattr(self, key)


@dataclass(frozen=True)
class ShipmentDetail:
    """Everything the details pane shows about one shipment."""

    row: ShipmentView
    evidence: str
    flags: tuple[str, ...]
    confidence: float
    extractor: str
    message_id: str | None
    destination_country: str | None
    destination_postcode: str | None
    validated: bool
    registration_error: str | None
    registration_kind: str | None
    latest_event: str | None
    expected_delivery: str | None
    #: The last review action a person took on it (issue 16's review log), None if none.
    last_review: ReviewAction | None = None


def _where(flt: ShipmentFilter) -> tuple[str, list]:
    clauses: list[str] = []
    params: list = []
    if flt.text.strip():
        text_sql, text_params = _text_clause(flt.text)
        clauses.append(text_sql)
        params += text_params
    if flt.review:
        clauses.append("s.review_state = ?")
        params.append(flt.review)
    if flt.registration:
        clauses.append("r.state = ?")
        params.append(flt.registration)
    if flt.carrier:
        clauses.append("COALESCE(s.carrier, s.courier) = ?")
        params.append(flt.carrier)
    if flt.since is not None:
        clauses.append("s.found_at >= ?")
        params.append(flt.since)
    if flt.until is not None:
        clauses.append("s.found_at < ?")
        params.append(flt.until)
    group_sql, group_params = glance.group_clause(flt.tracking, flt.stale_days)
    if group_sql:
        clauses.append(group_sql)
        params += group_params
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


#: The columns a search term is looked for in (case-insensitive substrings): the shipment's own, and its
#: conversation's, looked up once per conversation rather than once per shipment joined to it.
_TEXT_COLUMNS = ("s.tracking_number", "s.order_number", "s.supplier", "s.carrier")
_CONVERSATION_TEXT_COLUMNS = ("subject", "customer")
#: A "quoted phrase" (the closing quote may be missing while typing) or a word.
_TERM = re.compile(r'"([^"]*)"?|(\S+)')
#: What people put inside a tracking number ("1Z 535J 5403", "1Z-535J-5403"), and quotes. Stored numbers
#: never hold these (the engine normalises every number before saving it), so the typed text is compacted.
_NUMBER_SEPARATORS = re.compile(r'[\s\-./"]+')


def search_terms(text: str) -> list[str]:
    """The terms of a search: words separated by spaces, or "a quoted phrase" kept whole."""
    terms = []
    for match in _TERM.finditer(text):
        term = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
        if term:
            terms.append(term)
    return terms


def _text_clause(text: str) -> tuple[str, list]:
    """Every term must match one of the text columns (AND); OR the whole text without the separators people
    write inside numbers is part of the tracking number (so "1Z 535J 5403" finds only 1Z535J5403...)."""
    terms = search_terms(text)
    if not terms:  # only quotes typed so far: no filter yet
        return "1 = 1", []
    like = dialect.like()   # case-insensitive on both databases
    sql = "(" + " AND ".join(_term_clause(term, like) for term in terms) + ")"
    per_term = len(_TEXT_COLUMNS) + len(_CONVERSATION_TEXT_COLUMNS)
    params: list = [f"%{_escape_like(term)}%" for term in terms for _column in range(per_term)]
    compact = _NUMBER_SEPARATORS.sub("", text)
    if compact and compact != text.strip():
        sql = f"({sql} OR s.tracking_number {like} ?{_escape_clause(compact)})"
        params.append(f"%{_escape_like(compact)}%")
    return sql, params


def _term_clause(term: str, like: str) -> str:
    """One term in any text column: the shipment's own, or its conversation's (looked up per conversation)."""
    escape = _escape_clause(term)
    in_conversation = " OR ".join(f"cs.{column} {like} ?{escape}" for column in _CONVERSATION_TEXT_COLUMNS)
    return "(" + " OR ".join(
        [f"{column} {like} ?{escape}" for column in _TEXT_COLUMNS]
        + [f"s.conversation_id IN (SELECT cs.id FROM conversation cs WHERE {in_conversation})"]) + ")"


def _escape_clause(term: str) -> str:
    """An ESCAPE clause only for a term that needs one: without it SQLite's LIKE is a few per cent faster
    over 100,000 rows, and a term with no wildcard or backslash means the same either way (PostgreSQL's
    default escape character is the backslash, which such a term does not hold)."""
    return " ESCAPE '\\'" if any(c in term for c in "%_\\") else ""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(sort: ShipmentSort) -> str:
    expr = column_sql(sort.column)
    direction = "DESC" if sort.descending else "ASC"
    # The id breaks ties, so the order is total and stable between reloads.
    return f" ORDER BY {expr} {direction}, s.id {direction}"


def shipment_ids(flt: ShipmentFilter = ShipmentFilter(), sort: ShipmentSort = ShipmentSort()) -> list[int]:
    """Ids of every shipment matching `flt`, in `sort` order (one query; ~20 ms per 100,000 rows)."""
    where, params = _where(flt)
    order = _order(sort)
    cursor = database.execute_sql(f"SELECT s.id {_from_for(where + order)}{where}{order}", params)
    return [row[0] for row in cursor.fetchall()]


def count_shipments(flt: ShipmentFilter = ShipmentFilter()) -> int:
    where, params = _where(flt)
    return database.execute_sql(f"SELECT COUNT(*) {_from_for(where)}{where}", params).fetchone()[0]


def tracking_counts(flt: ShipmentFilter = ShipmentFilter()) -> glance.GroupCounts:
    """How many shipments of `flt` (its status group ignored) each status group holds: one query."""
    flt = replace(flt, tracking=None)
    where, params = _where(flt)
    # The status groups read the registration; the conversation only when the filter does.
    source = _from_for(where + " r.")
    return glance.group_counts(source, where, params, flt.stale_days)


def _row_select() -> str:
    return ("SELECT s.id, s.tracking_number, COALESCE(s.carrier, s.courier, ''), COALESCE(s.order_number, ''), "
            "COALESCE(s.supplier, ''), COALESCE(s.shipped_date, ''), "
            "COALESCE(s.milestone, s.status_text, ''), s.review_state, COALESCE(r.state, ''), "
            "COALESCE(c.subject, ''), s.found_at, s.courier, s.conversation_id, COALESCE(s.milestone, ''), "
            "COALESCE(s.latest_event, ''), COALESCE(s.latest_event_at, ''), COALESCE(s.expected_delivery, ''), "
            f"{glance.days_in_transit()}, COALESCE(c.customer, ''), c.last_activity_at ")


def shipment_rows(ids: Sequence[int]) -> dict[int, ShipmentView]:
    """The rows with these ids (missing ids, e.g. deleted since, are simply absent)."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    cursor = database.execute_sql(f"{_row_select()}{_FROM} WHERE s.id IN ({marks})", list(ids))
    return {row[0]: ShipmentView(*row) for row in cursor.fetchall()}


def iter_shipments(flt: ShipmentFilter, sort: ShipmentSort) -> Iterator[ShipmentView]:
    """Every matching row in order, streamed (for the CSV export of the current view; on PostgreSQL the
    client holds the result, as a plain cursor does)."""
    where, params = _where(flt)
    cursor = database.execute_sql(f"{_row_select()}{_FROM}{where}{_order(sort)}", params)
    for row in cursor:
        yield ShipmentView(*row)


def shipment_detail(shipment_id: int) -> ShipmentDetail | None:
    rows = shipment_rows([shipment_id])
    if shipment_id not in rows:
        return None
    extra = database.execute_sql(
        "SELECT s.evidence, s.flags, s.confidence, s.extractor, s.message_id, s.destination_country, "
        "s.destination_postcode, s.validated, r.last_error, r.kind, s.latest_event, s.expected_delivery, "
        "l.at, l.actor, l.action, s.tracking_number, l.note "
        "FROM shipment s LEFT JOIN registration r ON r.shipment_id = s.id "
        # the last review action in the same round trip (a shared database may be far away)
        "LEFT JOIN review_log l ON l.id = (SELECT MAX(id) FROM review_log WHERE shipment_id = s.id) "
        "WHERE s.id = ?", [shipment_id]).fetchone()
    last_review = ReviewAction(extra[12], extra[13], extra[14], shipment_id, *extra[15:]) if extra[12] is not None else None
    return ShipmentDetail(rows[shipment_id], extra[0] or "", _flags(extra[1]), extra[2] or 0.0, extra[3] or "",
                          extra[4], extra[5], extra[6], bool(extra[7]), extra[8], extra[9], extra[10], extra[11],
                          last_review)


def _flags(raw: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def carriers() -> list[str]:
    """Distinct carrier names present, for the filter's drop-down."""
    cursor = database.execute_sql(
        "SELECT DISTINCT COALESCE(carrier, courier) AS name FROM shipment WHERE COALESCE(carrier, courier) != '' "
        "ORDER BY name")
    return [row[0] for row in cursor.fetchall()]


# --------------------------------------------------------------------------- retry queue

#: Registration states the retry queue lists: everything that waits for the worker or for a person.
RETRY_STATES = ("queued", "failed", "paused")


@dataclass(frozen=True)
class RetryItem:
    registration_id: int
    shipment_id: int
    number: str
    carrier: str
    state: str
    kind: str
    attempts: int
    last_error: str
    next_attempt_at: float | None
    updated_at: float | None
    destination_country: str | None
    destination_postcode: str | None
    review: str = ""               # the shipment's review state ("auto", "approved", ...)
    conversation_id: str = ""
    subject: str = ""


def retry_queue(states: Sequence[str] = RETRY_STATES) -> list[RetryItem]:
    """Registrations that wait or failed, oldest first: a stable order, so a view's rows do not move
    when a row's state or next attempt changes (the view sorts on request)."""
    marks = ",".join("?" * len(states))
    cursor = database.execute_sql(
        "SELECT r.id, s.id, s.tracking_number, COALESCE(s.carrier, s.courier, ''), r.state, "
        "COALESCE(r.kind, ''), r.attempts, COALESCE(r.last_error, ''), r.next_attempt_at, r.updated_at, "
        "s.destination_country, s.destination_postcode, s.review_state, s.conversation_id, "
        "COALESCE(c.subject, '') "
        "FROM registration r JOIN shipment s ON s.id = r.shipment_id "
        f"LEFT JOIN conversation c ON c.id = s.conversation_id WHERE r.state IN ({marks}) "
        "ORDER BY r.id", list(states))
    return [RetryItem(*row) for row in cursor.fetchall()]


def registration_counts() -> dict[str, int]:
    cursor = database.execute_sql("SELECT state, COUNT(*) FROM registration GROUP BY state")
    return {state: count for state, count in cursor.fetchall()}
