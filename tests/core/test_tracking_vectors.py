"""Every test number of ../shared/tracking_number_data: valid ones validate with their courier, invalid ones
are refused by their format and by every format unless a documented collision makes them valid elsewhere.

Skipped cleanly where the shared folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.tracking import COURIERS, courier_info, find_candidates, normalise, validate
from desktop.core.tracking.validate import FORMATS_BY_ID
from tests.helpers.shared import tracking_data_dir

#: Definitions without an `id` in the data, by name -> our format id.
UNNAMED = {"UPS Waybill": "ups_waybill", "LaserShip 1LS7 (18)": "lasership_1ls7_18",
           "Old Dominion": "old_dominion", "Old Dominion Guaranteed Shipment": "old_dominion_guaranteed"}

#: Invalid-for-their-format vectors that another format accepts (tracking-notes.md §1.3): number -> formats.
KNOWN_VALID_ELSEWHERE = {"000000000000000": {"fedex_ground"}, "000000000000": {"fedex_12", "purolator_numeric"},
                         "331426749957": {"purolator_numeric"}}


def _definitions() -> list[tuple[str, str, dict]]:
    folder = tracking_data_dir()
    out = []
    for path in sorted(Path(folder).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for definition in data["tracking_numbers"]:
            format_id = definition.get("id") or UNNAMED[definition["name"]]
            out.append((data["courier_code"], format_id, definition["test_numbers"]))
    return out


def _vectors(kind: str) -> list[tuple[str, str, str]]:
    return [(courier, format_id, number) for courier, format_id, tests in _definitions()
            for number in tests[kind]]


def test_the_data_has_the_expected_size():
    valid, invalid = _vectors("valid"), _vectors("invalid")
    assert len(valid) == 192 and len(invalid) == 88
    assert {f for _, f, _ in valid} <= set(FORMATS_BY_ID), "a definition of the data has no format here"
    assert {c for c, _, _ in valid} <= set(COURIERS)


def test_every_valid_vector_validates_with_its_courier_and_format():
    failures = []
    for courier, format_id, raw in _vectors("valid"):
        number = normalise(raw)
        matches = validate(number) if number else []
        if not any(m.courier == courier and m.format_id == format_id for m in matches):
            failures.append((courier, format_id, raw, [m.format_id for m in matches]))
    assert failures == []


def test_every_invalid_vector_is_refused():
    failures = []
    for _courier, format_id, raw in _vectors("invalid"):
        number = normalise(raw)
        matches = {m.format_id for m in validate(number)} if number else set()
        if format_id in matches:
            failures.append((format_id, raw, "accepted by its own format"))
        elif matches and matches != KNOWN_VALID_ELSEWHERE.get(number):
            failures.append((format_id, raw, sorted(matches)))
    assert failures == []


def test_the_known_collisions_are_reported_with_every_courier():
    assert {m.courier for m in validate("78045768393")} == {"old_dominion", "dhl"}
    assert {m.courier for m in validate("287809468872")} == {"fedex", "purolator"}
    assert {m.format_id for m in validate("JFV247545960")} == {"purolator_alpha", "dhl_express_piece_id"}


@pytest.mark.parametrize("kind", ["valid"])
def test_every_valid_vector_is_found_in_a_sentence(kind):
    """Written into a sentence that names the courier, every valid vector (spaced forms included) is found
    and accepted, and the courier chosen is the right one."""
    failures = []
    for courier, format_id, raw in _vectors(kind):
        name = courier_info(courier).name
        text = f"Hello,\nyour parcel left today with {name}. Tracking number: {raw.strip()}\nThanks"
        accepted = [c for c in find_candidates(text) if c.accepted]
        if [(c.number, c.courier) for c in accepted] != [(normalise(raw), courier)]:
            failures.append((format_id, raw, [(c.number, c.courier, c.reasons) for c in accepted]))
    assert failures == []
