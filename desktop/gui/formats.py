"""How the GUI writes dates, times and counts: one place, so every view says it the same way.

Dates are ISO 8601 everywhere (2026-11-06, 2026-11-06 14:30): the same in every locale, sortable, and what
the CSV export and the command line print. Counts have thousands separators and agree in number
("1 shipment", "2 shipments").
"""

from __future__ import annotations

import datetime as dt

#: Qt display formats (QDateEdit/QDateTimeEdit.setDisplayFormat) matching `format_date`/`format_time`.
QT_DATE_FORMAT = "yyyy-MM-dd"
QT_DATETIME_FORMAT = "yyyy-MM-dd HH:mm"


def format_time(epoch: float | None) -> str:
    """Local date and time to the minute ("2026-11-06 14:30"); "" for no time."""
    if not epoch:
        return ""
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def format_date(epoch: float | None) -> str:
    """Local date ("2026-11-06"); "" for no time."""
    if not epoch:
        return ""
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d")


def plural(count: int, word: str, words: str | None = None) -> str:
    """"1 shipment", "1,204 shipments" (`words` for irregular plurals, e.g. plural(n, "batch", "batches"))."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"
