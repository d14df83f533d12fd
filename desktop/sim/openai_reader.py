"""OpenAI double, the "model": read the prompt's text as a small real model does, mistakes included.

`read(text)` is what the model understands of the text it was sent, by the simulator's own code only (never
the workspace's answer key, never the product's engine): the tracking numbers `numbers.find_numbers` finds
with their context, each with its carrier, the "[message <id> ...]" header above it, the line holding it,
and an order/PO number, a supplier and a ship date read from the same message.

`make_mistakes(found, text, config, rng)` then applies the errors a small model makes, each a switch of
`OpenAISimConfig` (a probability): it leaves numbers out (`missed_number_rate`), misreads one character of
a number (`misread_digit_rate`), names another carrier (`wrong_carrier_rate`), offers an order, invoice or
phone number of the text as a tracking number (`decoy_number_rate`) and invents a plausible number that is
nowhere in the text (`invented_number_rate`). Malformed JSON, refusals and cut-offs are decided by the
caller (`openai_sim`), from the same per-request random generator, so one seed gives one set of answers.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desktop.sim import numbers

_HEADER = re.compile(r"\[message\s+(msg_[A-Za-z0-9_]+)")
_SUPPLIER = re.compile(r"\|\s*from\s+[^(\]|]*\(([^)\]]{2,60})\)")
_ORDER = re.compile(r"\b(?:order|PO|purchase order)\s*(?:number|no\.?|#)?\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{2,20})\b",
                    re.I)
_DATES = (  # (pattern, strptime format): the forms the notices write a ship date in
    (re.compile(r"\b(\d{4}-\d{2}-\d{2})\b"), "%Y-%m-%d"),
    (re.compile(r"\b(\d{2}\.\d{2}\.\d{4})\b"), "%d.%m.%Y"),
    (re.compile(r"\b([A-Z][a-z]{2} \d{1,2}, \d{4})\b"), "%b %d, %Y"),
)
_SHIP_DATE = re.compile(r"\b(?:ship(?:ped)?|dispatch(?:ed)?)(?: on| date)?\W{0,6}", re.I)
#: What a careless reader takes for a tracking number: a labelled order/invoice/PO number or a phone.
_DECOYS = (
    re.compile(r"\b(?:order|invoice|inv|PO|ref(?:erence)?|account)\s*(?:number|no\.?|#)?\s*[:#-]?\s*"
               r"((?:[A-Z]{2,4}-)?\d[\d-]{5,})", re.I),
    re.compile(r"(\+?\d{1,2}[ -]?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}|\+\d{2} \d{2} \d{4} \d{4})"),
)


@dataclass
class Found:
    """One shipment as the model will report it."""

    tracking_number: str
    courier: str
    carrier: str
    message_id: str | None = None
    order_number: str | None = None
    supplier: str | None = None
    shipped_date: str | None = None
    destination_country: str | None = None
    destination_postcode: str | None = None
    confidence: float = 0.9
    evidence: str = ""

    def value(self, name: str) -> Any:
        return getattr(self, name, None) if name in KNOWN_FIELDS else None


KNOWN_FIELDS = frozenset({"tracking_number", "courier", "carrier", "message_id", "order_number", "supplier",
                          "shipped_date", "destination_country", "destination_postcode", "confidence",
                          "evidence"})


# Reading ---------------------------------------------------------------------------------------------------
def segments(text: str) -> list[tuple[str | None, str]]:
    """The text split at "[message msg_x ..." headers: [(message id or None, text)], header lines kept."""
    parts: list[tuple[str | None, str]] = []
    last, current = 0, None
    for header in _HEADER.finditer(text):
        parts.append((current, text[last:header.start()]))
        current, last = header.group(1), header.start()
    parts.append((current, text[last:]))
    return [(mid, part) for mid, part in parts if part]


def read(text: str) -> list[Found]:
    """The shipments a careful model would report for `text` (before `make_mistakes`), first seen first."""
    parts = segments(text)
    found = []
    for number, courier in numbers.find_numbers(text):
        mid, part = next(((m, p) for m, p in parts if number in numbers.normalise(p)), (None, text))
        found.append(Found(number, courier, numbers.CARRIER_NAMES.get(courier, courier), mid,
                           order_number=_first(_ORDER, part), supplier=_first(_SUPPLIER, part),
                           shipped_date=_ship_date(part), confidence=0.9, evidence=evidence(text, number)))
    return found


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    hit = pattern.search(text)
    return hit.group(1).strip() if hit else None


def _ship_date(text: str) -> str | None:
    """The first date written after a "ship date"/"shipped on" label, as YYYY-MM-DD."""
    for label in _SHIP_DATE.finditer(text):
        window = text[label.end():label.end() + 24]
        for pattern, form in _DATES:
            hit = pattern.search(window)
            if hit:
                try:
                    return datetime.strptime(hit.group(1), form).date().isoformat()
                except ValueError:
                    continue
    return None


def locate(text: str, number: str) -> re.Match[str] | None:
    """Where `number` is written in `text`, spaces, dashes and case ignored."""
    return re.search(r"[\s\-\u200b]*".join(re.escape(c) for c in number), text, re.I)


def evidence(text: str, number: str) -> str:
    """The line holding `number` (the number itself when it is not in the text)."""
    found = locate(text, number)
    if not found:
        return number
    start = text.rfind("\n", 0, found.start()) + 1
    end = text.find("\n", found.end())
    return text[start:end if end >= 0 else len(text)].strip()[:200]


def decoy_numbers(text: str) -> list[str]:
    """Order, invoice, PO and phone numbers written in `text`, as a careless model would copy them."""
    seen: list[str] = []
    for pattern in _DECOYS:
        for hit in pattern.finditer(text):
            value = hit.group(1).strip()
            if sum(c.isdigit() for c in value) >= 6 and value not in seen:
                seen.append(value)
    return seen


# Mistakes --------------------------------------------------------------------------------------------------
def make_mistakes(found: list[Found], text: str, cfg: Any, rng: random.Random) -> list[Found]:
    """`found` with a small model's errors applied (see the module docstring); the order of draws is fixed,
    so one generator state gives one answer."""
    kept = []
    for item in found:
        if rng.random() < cfg.missed_number_rate:
            continue
        if rng.random() < cfg.misread_digit_rate:
            item.tracking_number = _misread(item.tracking_number, rng)
            item.confidence = 0.8
        if rng.random() < cfg.wrong_carrier_rate:
            item.courier = rng.choice([c for c in numbers.COURIERS if c != item.courier])
            item.carrier = numbers.CARRIER_NAMES.get(item.courier, item.courier)
        kept.append(item)
    decoys = decoy_numbers(text)
    if decoys and rng.random() < cfg.decoy_number_rate:
        value = rng.choice(decoys)
        courier = kept[0].courier if kept else rng.choice(("ups", "fedex", "usps"))
        kept.append(Found(value, courier, numbers.CARRIER_NAMES.get(courier, courier), _header_above(text, value),
                          confidence=0.6, evidence=evidence(text, numbers.normalise(value))))
    if rng.random() < cfg.invented_number_rate:
        kept.append(_invented(text, rng))
    return kept


def _misread(number: str, rng: random.Random) -> str:
    """One digit read as another (a 5 for a 6, a 1 for a 7): the check digit then rarely holds."""
    places = [i for i, c in enumerate(number) if c.isdigit()]
    if not places:
        return number
    at = rng.choice(places)
    return number[:at] + rng.choice([d for d in "0123456789" if d != number[at]]) + number[at + 1:]


def _header_above(text: str, value: str) -> str | None:
    where = text.find(value)
    headers = [h for h in _HEADER.finditer(text) if where < 0 or h.start() < where]
    return headers[-1].group(1) if headers else None


def _invented(text: str, rng: random.Random) -> Found:
    """A valid-looking number (right check digit) that, by construction, is nowhere in `text`."""
    squashed = numbers.normalise(text)
    while True:
        courier = rng.choice(("ups", "fedex", "usps", "dhl"))
        number = numbers.generate(courier, rng)[0]
        if number not in squashed:
            break
    first = _HEADER.search(text)
    return Found(number, courier, numbers.CARRIER_NAMES[courier], first.group(1) if first else None,
                 confidence=0.7, evidence=f"Tracking number {number}")
