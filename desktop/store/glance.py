"""Tracking at a glance: the status groups of the shipments table, their SQL, and their counts in one query.

A group is a named SQL condition over the shipments table's join (`shipment s`, `conversation c`,
`registration r`; see `store.views`). The groups an agent asks about:

- in_transit: registered and on its way: no carrier scan yet, label created, in transit, or waiting at a
  pickup point;
- out_for_delivery; delivered;
- exception: an exception or a failed delivery attempt (someone must act);
- stale ("not updated for N days"): registered, not delivered, and its latest checkpoint (or, before the
  first one, its registration) is older than N days;
- not_registered: not (yet) with Ship24, and not rejected or dismissed (those never will be).

A shipment may be in two groups (an exception not updated for a week). Ship24 gives checkpoint times in
the place's local time without an offset; they are compared as text with a UTC cutoff, so "N days" is
exact to within the place's UTC offset (hours), which is enough for days. The SQL is the same on SQLite
and PostgreSQL but for dates (`store.dialect`). No Qt here.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from desktop.store import dialect
from desktop.store.tables import database

#: (key, label) of the groups, in the order the filter bar shows them ("all" matches everything).
GROUPS: tuple[tuple[str, str], ...] = (
    ("all", "All"), ("in_transit", "In transit"), ("out_for_delivery", "Out for delivery"),
    ("delivered", "Delivered"), ("exception", "Exception"), ("stale", "Not updated for {days} days"),
    ("not_registered", "Not registered"))
DEFAULT_STALE_DAYS = 5

_MILESTONE = "COALESCE(s.milestone, 'pending')"
_REGISTERED = "r.state = 'registered'"
QUOTED_AT = "'@'"


def _conditions() -> dict[str, str]:
    """Group key -> SQL condition, for the database the store is bound to (cached per dialect)."""
    return _conditions_for(dialect.name())


@functools.cache
def _conditions_for(kind: str) -> dict[str, str]:
    # The time a registered shipment last changed: its latest checkpoint, else its registration (ISO text).
    last_change = f"COALESCE(s.latest_event_at, {dialect.epoch_to_iso('r.registered_at', kind)})"
    return {
        "in_transit": f"({_REGISTERED} AND {_MILESTONE} IN ('pending', 'info_received', 'in_transit', "
                      "'available_for_pickup'))",
        "out_for_delivery": "(s.milestone = 'out_for_delivery')",
        "delivered": "(s.milestone = 'delivered')",
        "exception": "(s.milestone IN ('exception', 'failed_attempt'))",
        "stale": f"({_REGISTERED} AND {_MILESTONE} != 'delivered' AND {last_change} < ?)",
        "not_registered": "(COALESCE(r.state, '') NOT IN ('registered', 'dismissed') "
                          "AND s.review_state != 'rejected')",
    }


def days_in_transit() -> str:
    """SQL of the days in transit: from the shipped date (else the day it was found) to delivery, or to
    today (UTC)."""
    return _days_in_transit_for(dialect.name())


@functools.cache
def _days_in_transit_for(kind: str) -> str:
    delivered = "s.milestone = 'delivered' AND s.latest_event_at IS NOT NULL"
    if kind == dialect.POSTGRESQL:
        # The same figure from day numbers, not dates as text: a third of the time over 100,000 rows.
        later = (f"CASE WHEN {delivered} THEN {dialect.pg_iso_day('substr(s.latest_event_at, 1, 10)')} "
                 f"ELSE {dialect.PG_TODAY_DAY} END")
        earlier = (f"CASE WHEN s.shipped_date IS NULL THEN {dialect.pg_epoch_day('s.found_at')} "
                   f"ELSE {dialect.pg_iso_day('s.shipped_date')} END")
        return f"({later} - {earlier})"
    later = f"CASE WHEN {delivered} THEN substr(s.latest_event_at, 1, 10) ELSE {dialect.today(kind)} END"
    earlier = f"COALESCE(s.shipped_date, {dialect.epoch_to_date('s.found_at', kind)})"
    return dialect.days_between(later, earlier, kind)


def _email(kind: str) -> str:
    """The customer as stored from Front ("Name <email>", or only one of them): the email part, else ""."""
    at = dialect.instr("c.customer", "'<'", kind)
    return (f"CASE WHEN {at} > 0 THEN rtrim(substr(c.customer, {at} + 1), '>') "
            f"WHEN {dialect.instr('c.customer', QUOTED_AT, kind)} > 0 THEN c.customer ELSE '' END")


def glance_columns() -> dict[str, str]:
    """Column key -> SQL of the at-a-glance columns (sortable like the others: `views.column_sql`), for the
    database the store is bound to."""
    return glance_columns_for(dialect.name())


@functools.cache
def glance_columns_for(kind: str) -> dict[str, str]:
    return {"customer": "c.customer", "email": _email(kind), "checkpoint": "s.latest_event",
            "checkpoint_at": "s.latest_event_at", "expected": "s.expected_delivery",
            "days": _days_in_transit_for(kind),
            "message": "c.last_activity_at"}


#: The at-a-glance column keys, in display order.
GLANCE_KEYS = ("customer", "email", "checkpoint", "checkpoint_at", "expected", "days", "message")


def stale_cutoff(days: int, now: float | None = None) -> str:
    """The ISO time (UTC, no offset, as checkpoints are stored) `days` days before `now`."""
    moment = dt.datetime.fromtimestamp(now if now is not None else dt.datetime.now(dt.UTC).timestamp(), dt.UTC)
    return (moment - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")


def group_clause(group: str | None, stale_days: int) -> tuple[str, list]:
    """(SQL condition, params) of `group`; ("", []) for None, "all" or an unknown key (no filter)."""
    condition = _conditions().get(group or "")
    if condition is None:
        return "", []
    return condition, [stale_cutoff(stale_days)] if group == "stale" else []


@dataclass(frozen=True)
class GroupCounts:
    """How many shipments each group holds (key -> count; "all" = every shipment counted)."""

    counts: dict[str, int]

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)


def group_counts(from_sql: str, where: str, params: list, stale_days: int) -> GroupCounts:
    """Every group's count in ONE query over `from_sql` + `where` (the view's other filters), so the filter
    bar's numbers are what clicking a group shows. ~40 ms per 100,000 shipments."""
    conditions = _conditions()
    sums = ", ".join(f"SUM(CASE WHEN {conditions[key]} THEN 1 ELSE 0 END)" for key, _label in GROUPS[1:])
    cutoff = [stale_cutoff(stale_days)]
    row = database.execute_sql(f"SELECT COUNT(*), {sums} {from_sql}{where}", cutoff + list(params)).fetchone()
    return GroupCounts({key: int(value or 0) for (key, _label), value in zip(GROUPS, row, strict=True)})
