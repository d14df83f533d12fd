"""desktop/core/tracking/links.py and labels.py: the rules the presentation catalogue relies on, one by one."""

from __future__ import annotations

from urllib.parse import quote

from desktop.core.tracking import find_candidates
from desktop.core.tracking.labels import close_label, column_header
from desktop.core.tracking.links import is_tracking_link, link_at

UPS = "1Z5R89390357567127"
DHL_14 = "60120172242323"     # any 14 digits fit DHL eCommerce: accepted only on close evidence


def _link(text: str) -> tuple[bool, str | None]:
    return link_at(text, text.index(UPS))


def test_the_innermost_link_of_a_redirector_decides():
    inner = f"https://www.ups.com/track?tracknum={UPS}"
    assert _link(f"see {inner}") == (True, "ups")
    assert _link(f"https://eur02.safelinks.protection.outlook.com/?url={quote(inner, safe='')}&data=x") == \
        (True, "ups")
    assert _link(f"https://www.shop-example.de/sendungsverfolgung.html?piececode={UPS}") == (True, "")
    assert _link(f"https://www.shop-example.com/account/orders/{UPS}") == (True, None)
    assert _link(f"Tracking: {UPS}") == (False, None)


def test_tracking_links_are_recognised_through_redirectors():
    assert is_tracking_link("https://www.google.com/url?q=" + quote("https://www.laposte.fr/suivi?code=X", safe=""))
    assert not is_tracking_link("https://www.shop-example.com/account/orders/123")


def test_a_close_label_touches_the_number():
    assert close_label("Tracking number: ", [])
    assert close_label("Ihre Sendungsnummer lautet ", [])
    assert close_label("> ", ["Your tracking number:"])
    assert not close_label("Tracking for order 4711, parcel ", [])
    assert not close_label("We will send the tracking link. Meanwhile call ", [])


def test_the_column_header_names_the_cell():
    assert column_header("SO-1,2026-05-01,UPS,", ["order_id,date,carrier,tracking_number,status"]) == "tracking"
    assert column_header("| FedEx | ", ["| Carrier | Order number |", "|---|---|"]) == "order"
    assert column_header("plain prose ", ["a, b"]) is None


def test_loose_formats_need_close_evidence():
    accepted = lambda text: [c.number for c in find_candidates(text) if c.accepted]  # noqa: E731
    assert accepted(f"Tracking number: {DHL_14}") == [DHL_14]
    assert accepted(f"Tracking updates follow by mail.\nReference list: {DHL_14}") == []
    assert accepted(f"Bestellnummer lautet {DHL_14}. Versand mit DHL.") == []


def test_separators_and_service_names():
    accepted = lambda text: [c.number for c in find_candidates(text) if c.accepted]  # noqa: E731
    assert accepted(f"- UPS - {UPS}") == [UPS]
    assert accepted("FedEx 2Day 9865 7878 8855") == ["986578788855"]
    assert accepted("Amazon Tracking No.: TBB 0000 0000 0000") == []   # the prefix belongs to the code
