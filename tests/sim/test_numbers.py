"""The simulator's own tracking-number toolkit: generation, validation against the public test vectors,
wrong-check decoys, carrier-style spacing and the context-gated text search."""

from __future__ import annotations

import json
import random

import pytest

from desktop.sim import numbers
from desktop.sim.numbers_check import luhn_check, mod7_check, mod10_check, mod37_36_check, s10_check
from desktop.sim.numbers_formats import FORMATS
from tests.helpers.shared import tracking_data_dir

# tracking_number_data (courier_code, id or name) -> the simulator's format id
VECTOR_FORMATS = {
    ("ups", "ups"): "ups_1z",
    ("ups", "UPS Waybill"): "ups_waybill",
    ("usps", "usps_20"): "usps_20",
    ("usps", "usps_impb_n"): "usps_impb_n",
    ("usps", "usps_legacy"): "usps_legacy",
    ("usps", "usps_impb_c"): "usps_impb_c",
    ("fedex", "fedex_12"): "fedex_12",
    ("fedex", "fedex_34"): "fedex_34",
    ("fedex", "fedex_astra_32"): "fedex_astra_32",
    ("fedex", "fedex_ground"): "fedex_15",
    ("fedex", "fedex_ground_sscc_18"): "fedex_sscc_18",
    ("fedex", "fedex_ground_96"): "fedex_96_22",
    ("fedex", "fedex_ground_gsn"): "fedex_34",
    ("dhl", "dhl_express"): "dhl_express",
    ("dhl", "dhl_express_piece_id"): "dhl_piece_id",
    ("dhl", "dhl_ecommerce"): "dhl_ecommerce",
    ("dhl", "dhl_ecommerce_14"): "dhl_ecommerce_14",
    ("amazon", "amazon_logistics"): "amazon_tba",
    ("amazon", "amazon_international"): "amazon_intl",
    ("canada_post", "canada_post"): "canada_post",
    ("canpar", "canpar_22"): "canpar",
    ("dpd", "dpd"): "dpd",
    ("dpd", "dpd_14"): "dpd",
    ("gofo", "gofo_us"): "gofo",
    ("landmark", "landmark_global"): "landmark",
    ("lasership", "lasership_lx"): "lasership_lx",
    ("lasership", "lasership_1ls7"): "lasership_1ls7",
    ("lasership", "LaserShip 1LS7 (18)"): "lasership_1ls7_18",
    ("lasership", "lasership_1lscx"): "lasership_1lscx",
    ("old_dominion", "Old Dominion"): "old_dominion",
    ("old_dominion", "Old Dominion Guaranteed Shipment"): "old_dominion",
    ("ontrac", "ontrac_c"): "ontrac",
    ("ontrac", "ontrac_d"): "ontrac",
    ("purolator", "purolator_numeric"): "purolator_12",
    ("purolator", "purolator_alpha"): "purolator_alpha",
    ("s10", "s10"): "s10",
    ("speedee", "speedee"): "speedee",
    ("yodel", "yodel"): "yodel",
    ("yunexpress", "yunexpress"): "yunexpress",
}
BY_ID = {f.fid: f for f in FORMATS}
CHECKED = [c for c in numbers.COURIERS if any(f.courier == c and f.has_check_digit for f in FORMATS)]


def _vectors():
    folder = tracking_data_dir()
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for fmt in data["tracking_numbers"]:
            key = (data["courier_code"], fmt.get("id") or fmt["name"])
            yield key, fmt["test_numbers"]["valid"], fmt["test_numbers"]["invalid"]


def test_every_vector_format_is_mapped():
    assert {key for key, _valid, _invalid in _vectors()} == set(VECTOR_FORMATS)


def test_valid_vectors_validate():
    failures = []
    for key, valid, _invalid in _vectors():
        fmt = BY_ID[VECTOR_FORMATS[key]]
        for raw in valid:
            number = numbers.normalise(raw)
            if not fmt.matches(number) or not numbers.is_valid(key[0], raw):
                failures.append((key, raw))
    assert failures == []


def test_invalid_vectors_fail_their_format():
    failures = [
        (key, raw)
        for key, _valid, invalid in _vectors()
        for raw in invalid
        if BY_ID[VECTOR_FORMATS[key]].matches(numbers.normalise(raw))
    ]
    assert failures == []


@pytest.mark.parametrize("courier", numbers.COURIERS)
def test_generated_numbers_are_valid_and_unambiguous(courier):
    rng = random.Random(courier)
    for variant in numbers.variants(courier):
        for _ in range(40):
            number, display = numbers.generate(courier, rng, variant)
            assert numbers.is_valid(courier, number), (variant, number)
            assert numbers.detect(number) == [courier], (variant, number)
            assert numbers.normalise(display) == number
            assert number.isascii() and number.isalnum() and number == number.upper()


def test_generation_covers_the_contract_formats():
    rng = random.Random(3)
    lengths = {
        v: {len(numbers.generate("usps", rng, v)[0]) for _ in range(20)} for v in numbers.variants("usps")
    }
    assert lengths["usps_22"] == {22} and lengths["usps_26"] == {26}
    assert lengths["usps_30"] == {30} and lengths["usps_34"] == {34} and lengths["usps_20"] == {20}
    fedex = {len(numbers.generate("fedex", rng, v)[0]) for v in numbers.variants("fedex")}
    assert fedex == {12, 15, 18, 22, 32, 34}
    assert numbers.generate("ups", rng, "ups_1z")[0].startswith("1Z")
    assert numbers.generate("amazon", rng)[0][:3] in ("TBA", "TBC")
    dhl = {numbers.generate("dhl", rng, "dhl_express")[0].__len__() for _ in range(40)}
    assert dhl == {10, 11}


def test_generation_is_deterministic_for_a_seed():
    def run(seed):
        rng = random.Random(seed)
        return [numbers.generate(c, rng) for c in numbers.COURIERS for _ in range(5)]

    assert run(11) == run(11)
    assert run(11) != run(12)


@pytest.mark.parametrize("courier", CHECKED)
def test_wrong_check_decoys_fail_everywhere(courier):
    rng = random.Random(f"decoy-{courier}")
    for _ in range(40):
        bad = numbers.wrong_check(courier, rng)
        assert not numbers.is_valid(courier, bad)
        assert numbers.detect(bad) == []
        # same shape as a real one: a format of that courier matches the pattern, only the check fails
        assert any(f.courier == courier and f.pattern.fullmatch(bad) for f in FORMATS)


def test_wrong_check_refuses_couriers_without_check_digit():
    with pytest.raises(ValueError):
        numbers.wrong_check("amazon", random.Random(1))


def test_check_digit_algorithms_on_known_values():
    assert s10_check("12345678") == "5"  # RB123456785GB
    assert mod7_check("331881002") == "5"  # 3318810025
    assert luhn_check("7992739871") == "3"
    assert mod10_check("5R8939035756712", 1, 2) == "7"  # 1Z5R89390357567127
    assert mod37_36_check("09980000020033") == "F"  # DPD 099800000200 33F


def test_spaced_keeps_the_number():
    rng = random.Random(5)
    for courier in numbers.COURIERS:
        number, _ = numbers.generate(courier, rng)
        shown = numbers.spaced(number, rng)
        assert " " in shown and numbers.normalise(shown) == number


def test_spaced_ups_style():
    rng = random.Random(0)
    forms = {numbers.spaced("1Z5R89390357567127", rng) for _ in range(30)}
    assert "1Z 5R8 939 03 5756 7127" in forms


def test_normalise_folds_hostile_text():
    assert numbers.normalise("１Ｚ５Ｒ８９３９０３５７５６７１２７") == "1Z5R89390357567127"
    assert numbers.normalise("1Z5R8\u200b9390-3575 67127") == "1Z5R89390357567127"


def test_find_numbers_with_context():
    rng = random.Random(9)
    ups, _ = numbers.generate("ups", rng, "ups_1z")
    fedex, _ = numbers.generate("fedex", rng, "fedex_12")
    tba, _ = numbers.generate("amazon", rng)
    usps, _ = numbers.generate("usps", rng, "usps_22")
    text = (
        f"Your order shipped via UPS: {numbers.spaced(ups, rng)}. FedEx tracking {fedex}.\n"
        f"Amazon Logistics tracking ID {tba}.\n"
        f'<a href="https://tools.usps.com/go/TrackConfirmAction?tLabels={usps}">Track</a>'
    )
    found = dict(numbers.find_numbers(text))
    assert found == {ups: "ups", fedex: "fedex", tba: "amazon", usps: "usps"}


def test_find_numbers_rejects_decoys():
    rng = random.Random(4)
    bad = numbers.wrong_check("ups", rng)
    tba, _ = numbers.generate("amazon", rng)
    assert numbers.is_valid("dhl", "3318810025")  # a valid DHL waybill, used below as other things
    text = (
        "Order number 3318810025 confirmed. PO 4500123456. Call +1 (555) 201-3344.\n"
        f"The UPS tracking number {bad} does not work.\nReference {tba} for your records.\n"
        "Questions about your DHL shipment? Call 331-881-0025 or +44 33 1881 0025."
    )
    assert numbers.find_numbers(text) == []


def test_find_numbers_handles_soft_breaks_and_full_width():
    ups = "1Z5R89390357567127"
    assert numbers.find_numbers(f"UPS tracking {ups[:9]}=\n{ups[9:]}") == [(ups, "ups")]
    wide = "".join(chr(ord(c) + 0xFEE0) for c in ups)
    assert numbers.find_numbers(f"UPS tracking {wide}") == [(ups, "ups")]
