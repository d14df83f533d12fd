"""The engine on free text: normalisation, look-alikes, decoys, spaced numbers, carrier links, ranking.

Numbers used (valid under the formats named): UPS 1Z5R89390357567127; FedEx Express 986578788855; DHL
Express 3318810025; USPS IMpb 9400111206206406260787; Purolator 320595463938; FedEx-or-Purolator 287809468872;
UPU S10 RB123456785GB; Amazon TBA010000000000; Old-Dominion-or-DHL 78045768393.
"""

from __future__ import annotations

import pytest

from desktop.core.tracking import (
    COURIERS,
    Candidate,
    courier_info,
    find_candidates,
    normalise,
    occurs_in,
    validate,
)

UPS = "1Z5R89390357567127"
FEDEX = "986578788855"
DHL = "3318810025"
USPS = "9400111206206406260787"
PUROLATOR = "320595463938"
FEDEX_OR_PUROLATOR = "287809468872"


def accepted(text: str) -> list[Candidate]:
    return [c for c in find_candidates(text) if c.accepted]


def numbers(text: str) -> list[tuple[str, str | None]]:
    return [(c.number, c.courier) for c in accepted(text)]


# --- normalise / validate / occurs_in ---------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1z5r 8939 0357 5671 27", "1Z5R-8939-0357-5671-27", "1Z5R\u200b89390357567127",
                                 "\uff11\uff3a5R89390357567127", "1Z5R\u00a08939\u20090357567127",
                                 "1Z5R8939\u20140357567127", "1Z5R89\u00ad390357567127"])
def test_normalise_folds_harmless_variations(raw):
    assert normalise(raw) == UPS


@pytest.mark.parametrize("raw", ["1Z5R8939\u041e357567127",     # Cyrillic O for a zero
                                 "\u0422BA010000000000",         # Cyrillic T
                                 "RB123456785G\u0392",           # Greek Beta
                                 "1Z5R8939.0357567127", "", "   ", "١٢٣٤٥٦٧٨٩٠"])
def test_normalise_refuses_lookalikes_and_junk(raw):
    assert normalise(raw) is None
    assert validate(raw) == []


def test_validate_reports_every_fitting_format():
    assert [m.courier for m in validate(UPS)] == ["ups"]
    assert {m.courier for m in validate(FEDEX_OR_PUROLATOR)} == {"fedex", "purolator"}
    assert all(m.has_check_digit for m in validate(FEDEX_OR_PUROLATOR))
    assert validate("1Z5R89390357567128") == []
    assert validate("RB123456785XX") == []     # not a UPU member country


def test_occurs_in_ignores_separators_case_and_invisible_characters():
    assert occurs_in(UPS, "see 1z5r 8939 0357 5671 27.")
    assert occurs_in(UPS, "see １Ｚ5R\u200b8939-0357-5671-27")
    assert occurs_in("9261290336128704042634", "420902459261290336128704042634")   # ZIP routing prefix
    assert not occurs_in(DHL, "x 133188100251 y")            # a fragment of a longer code
    assert not occurs_in(DHL, "nothing here")


def test_couriers_map_to_ship24_and_tracking_pages():
    assert set(COURIERS) == {"ups", "usps", "fedex", "dhl", "amazon", "ontrac", "lasership", "canada_post",
                             "purolator", "dpd", "s10", "old_dominion", "yodel", "yunexpress", "canpar",
                             "landmark", "speedee", "gofo"}
    assert courier_info("usps").ship24_code == "us-post"
    assert courier_info("ups").tracking_url(UPS).endswith("tracknum=" + UPS)
    assert courier_info("s10").tracking_url("RB123456785GB") == "https://www.ship24.com/tracking?p=RB123456785GB"
    assert courier_info("nope") is None and courier_info(None) is None


# --- finding numbers in text --------------------------------------------------------------------------


def test_spaced_full_width_and_zero_width_numbers_are_found():
    assert numbers("UPS tracking: 1Z 5R8 939 0357 5671 27") == [(UPS, "ups")]
    assert numbers("UPS tracking: \uff11\uff3a\uff15\uff32\uff18\uff19\uff13\uff19\uff10\uff13\uff15\uff17"
                   "\uff15\uff16\uff17\uff11\uff12\uff17") == [(UPS, "ups")]
    assert numbers("UPS tracking: 1Z5R\u200b8939\u200c0357\u2060567127") == [(UPS, "ups")]
    found = accepted("UPS tracking: 1Z 5R8 939 0357 5671 27 thanks")[0]
    assert found.raw == "1Z 5R8 939 0357 5671 27"


def test_lookalike_letters_are_reported_but_refused():
    text = "Your UPS tracking number is 1Z5R8939\u041e357567127."
    candidates = find_candidates(text)
    assert not any(c.accepted for c in candidates)
    assert [c.reasons for c in candidates] == [("lookalike_characters",)]


def test_numbers_on_separate_lines_never_merge():
    text = f"Tracking numbers:\n{DHL}\n8487135506\n"
    assert sorted(numbers(text)) == [(DHL, "dhl"), ("8487135506", "dhl")]


def test_two_numbers_side_by_side_stay_two():
    assert sorted(numbers(f"DHL waybills {DHL} 8487135506")) == [(DHL, "dhl"), ("8487135506", "dhl")]


@pytest.mark.parametrize("text", [
    f"Order #{DHL} is confirmed.",
    f"Order number: {FEDEX}",
    f"PO {FEDEX} approved (FedEx account)",
    f"Invoice {FEDEX} attached, shipped via FedEx",
    "Please call (331) 881-0025 about your DHL parcel",
    "Please call 331-881-0025 about your DHL parcel",
    "Call us on +1 331 881 0025 for DHL questions",
    "Your Amazon order 112-3318810-0025123 has shipped",
    f"Reference: {FEDEX} (FedEx)",
    "Shipped 2026-11-30, ZIP 90210-1234, total $3,318,810,025.00 via DHL",
    f"See https://shop.example.com/orders/{DHL} for your DHL order",
    f"DHL duty paid: ${DHL} or USD {DHL}",
    f"Your DHL order: https://shop.example.com/account/order?id={DHL}",
])
def test_decoys_are_refused(text):
    assert accepted(text) == []


def test_decoy_label_loses_to_a_tracking_label_right_before_it():
    assert numbers(f"Tracking ID: {UPS}") == [(UPS, "ups")]
    assert numbers(f"Order 12345 shipped via FedEx, tracking #: {FEDEX}") == [(FEDEX, "fedex")]


def test_formats_without_check_digit_need_context():
    assert accepted("TBA010000000000") == []
    assert numbers("Amazon tracking: TBA010000000000") == [("TBA010000000000", "amazon")]
    assert accepted("ref 60120172242323") == []                       # any 14 digits: DHL eCommerce
    assert numbers("DHL eCommerce tracking 60120172242323") == [("60120172242323", "dhl")]


def test_strong_formats_need_no_context():
    assert numbers(f"fyi {UPS}") == [(UPS, "ups")]
    assert numbers("item RB123456785GB") == [("RB123456785GB", "s10")]
    assert numbers(f"label {USPS}") == [(USPS, "usps")]


def test_short_numeric_check_digit_formats_need_context():
    assert accepted(f"see {DHL} and {FEDEX}") == []
    [candidate] = [c for c in find_candidates(f"see {DHL}") if c.number == DHL]
    assert "needs_context" in candidate.reasons


@pytest.mark.parametrize("link, courier", [
    (f"https://www.ups.com/track?loc=en_US&tracknum={UPS}", "ups"),
    (f"https://tools.usps.com/go/TrackConfirmAction?tLabels={USPS}", "usps"),
    (f"https://www.fedex.com/fedextrack/?trknbr={FEDEX}", "fedex"),
    (f"https://wwwapps.ups.com/WebTracking/track?track=yes&amp;trackNums={UPS}", "ups"),
    (f"http://www.dhl.com/en/express/tracking.html?brand=DHL&AWB={DHL}", "dhl"),
    (f"https://www.purolator.com/en/shipping/tracker?searchValue={FEDEX_OR_PUROLATOR}", "purolator"),
])
def test_carrier_links_give_context_and_choose_the_courier(link, courier):
    [candidate] = accepted(f"Click here <{link}>")
    assert candidate.courier == courier
    assert any(r.startswith("carrier_link:") for r in candidate.reasons)


def test_ten_digits_rank_dhl_over_phone_by_context():
    text = f"Questions? Call 331-881-0025.\nYour DHL waybill: {'8487135506'}"
    assert numbers(text) == [("8487135506", "dhl")]


def test_twelve_digits_fedex_or_purolator_decided_by_the_carrier_named():
    assert numbers(f"Purolator tracking: {FEDEX_OR_PUROLATOR}") == [(FEDEX_OR_PUROLATOR, "purolator")]
    assert numbers(f"FedEx tracking: {FEDEX_OR_PUROLATOR}") == [(FEDEX_OR_PUROLATOR, "fedex")]
    [candidate] = accepted(f"Tracking number: {FEDEX_OR_PUROLATOR}")
    assert candidate.courier == "fedex" and candidate.ambiguous


def test_eleven_digits_old_dominion_or_dhl_by_context():
    assert numbers("Old Dominion PRO number 78045768393") == [("78045768393", "old_dominion")]
    assert numbers("DHL tracking 78045768393") == [("78045768393", "dhl")]


def test_hyphenated_words_are_not_carrier_names():
    assert accepted(f"Two follow-ups about {DHL}") == []


def test_the_nearest_carrier_word_wins():
    text = f"Box 1 went with FedEx. Box 2: Purolator tracking {FEDEX_OR_PUROLATOR}"
    assert numbers(text) == [(FEDEX_OR_PUROLATOR, "purolator")]


def test_ranking_puts_accepted_and_stronger_first():
    text = f"Order #{FEDEX}. UPS tracking {UPS}. DHL {DHL}."
    ranked = find_candidates(text)
    assert ranked[0].number == UPS
    assert [c.accepted for c in ranked] == sorted((c.accepted for c in ranked), reverse=True)
    assert ranked[-1].number == FEDEX and not ranked[-1].accepted


def test_offsets_and_context_point_at_the_number():
    text = f"Hello.\nYour UPS tracking number is {UPS}.\nBye"
    [candidate] = accepted(text)
    assert text[candidate.start:candidate.end] == UPS == candidate.raw
    assert candidate.context == f"Your UPS tracking number is {UPS}."


# --- pieces of a longer spaced number ---------------------------------------------------------------


def test_a_piece_of_a_mistyped_spaced_number_is_refused():
    """A USPS number with a wrong check digit: "1777 6317 0669" inside it passes FedEx's check by chance."""
    candidates = find_candidates("Tracking: 9400 2914 1777 6317 0669 07")
    assert not any(c.accepted for c in candidates)
    [piece] = [c for c in candidates if c.number == "177763170669"]
    assert "part_of_longer_code" in piece.reasons


def _with_check(body: str) -> str | None:
    """`body` completed by the first check character that makes it valid under some format (else None)."""
    return next((body + d for d in "0123456789" if validate(body + d)), None)


def _random_valid(rng) -> str:
    digits = "0123456789"
    while True:
        kind = rng.choice(("usps22", "usps20", "fedex12", "fedex15", "ups"))
        if kind == "usps22":
            body = rng.choice(("92", "93", "94")) + "".join(rng.choice(digits) for _ in range(19))
        elif kind == "ups":
            body = "1Z" + "".join(rng.choice(digits + "ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(6)) \
                + "".join(rng.choice(digits) for _ in range(9))
        else:
            size = {"usps20": 20, "fedex12": 12, "fedex15": 15}[kind]
            body = "".join(rng.choice(digits) for _ in range(size - 1))
        number = _with_check(body)
        if number:
            return number


def _wrong_check(rng, number: str) -> str | None:
    """`number` with its last (check) character changed so that no format accepts it."""
    for digit in rng.sample("0123456789", 10):
        wrong = number[:-1] + digit
        if wrong != number and not validate(wrong):
            return wrong
    return None


def test_mistyped_numbers_printed_in_groups_give_nothing():
    """200 random wrong-check USPS/FedEx/UPS-like numbers, printed in groups of four under a tracking label:
    before the fix about two thirds of them yielded a shorter, "valid" number of another format."""
    import random

    rng = random.Random(20261130)
    failures, tried = [], 0
    while tried < 200:
        wrong = _wrong_check(rng, _random_valid(rng))
        if wrong is None:
            continue
        tried += 1
        text = "Tracking: " + " ".join(wrong[i:i + 4] for i in range(0, len(wrong), 4))
        found = accepted(text)
        if found:
            failures.append((text, [(c.number, c.courier) for c in found]))
    assert failures == []


def test_no_piece_of_a_simulated_mistyped_number_is_accepted():
    """The simulated workspace quotes mistyped numbers, some in spaced groups under "Tracking:"."""
    from desktop.sim.workspace import generate_workspace

    ws = generate_workspace(seed=7, conversations=300)
    spaced_seen, pieces = 0, []
    for conversation_id, decoys in ws.decoys.items():
        for message in ws.conversation(conversation_id).messages:
            spaced_seen += sum(f"Tracking: {d[:4]} " in message.text for d in decoys)
            pieces += [(c.number, c.raw) for c in accepted(message.text) if any(c.number in d for d in decoys)]
    assert spaced_seen and pieces == []


@pytest.mark.parametrize("text, expected", [
    ("Tracking: 9400 1000 0000 0000 0000 06", [("9400100000000000000006", "usps")]),
    ("USPS tracking 9400 1000 0000 0000 0000 06 2026-11-30", [("9400100000000000000006", "usps")]),
    ("USPS tracking 9400 1000 0000 0000 0000 06 90210", [("9400100000000000000006", "usps")]),
    ("USPS tracking 9400 1000 0000 0000 0000 06 shipped on 2026-11-30, ZIP 90210-1234",
     [("9400100000000000000006", "usps")]),
    ("UPS tracking: 1Z 999 AA1 012 3456 784 (2 boxes)", [("1Z999AA10123456784", "ups")]),
    ("Box 2 UPS 1Z 999 AA1 012 3456 784", [("1Z999AA10123456784", "ups")]),
    ("Yodel tracking JJD 0002 2576 3903 2011 2026-11-30", [("JJD0002257639032011", "yodel")]),
    ("UPS: 1Z 999 AA1 012 3456 784 1Z 5R8 939 0357 5671 27", [("1Z999AA10123456784", "ups"), (UPS, "ups")]),
    ("Tracking numbers: 123456789012 987654321098", [("123456789012", "fedex"), ("987654321098", "fedex")]),
    ("Tracking numbers:\n9400 1000 0000 0000 0000 06\n1Z 999 AA1 012 3456 784",
     [("1Z999AA10123456784", "ups"), ("9400100000000000000006", "usps")]),
])
def test_legit_spaced_numbers_are_still_accepted(text, expected):
    assert sorted(numbers(text)) == sorted(expected)


@pytest.mark.slow
def test_find_candidates_speed_on_large_texts():
    """Benchmark (prints figures, asserts only correctness): 5 MB of prose with numbers, and hostile text."""
    import random
    import time

    rng = random.Random(1)
    words = ("the package order was shipped today please call us at our office with any questions thanks "
             "for your patience and tracking number").split()
    lines: list[str] = []
    size = 0
    while size < 5_000_000:
        line = " ".join(rng.choice(words) for _ in range(12))
        roll = rng.random()
        if roll < 0.05:
            line += f"\nOrder #{rng.randint(10**9, 10**10 - 1)}"
        elif roll < 0.10:
            line += f"\nUPS tracking {UPS}"
        lines.append(line)
        size += len(line) + 1
    text = "\n".join(lines)
    started = time.perf_counter()
    found = find_candidates(text)
    elapsed = time.perf_counter() - started
    print(f"\nfind_candidates: {len(text) / 1e6:.1f} MB of prose in {elapsed:.2f} s "
          f"({len(text) / 1e6 / elapsed:.1f} MB/s), {len(found)} candidates")
    assert {c.number for c in found if c.accepted} == {UPS}
    hostile = " ".join(str(rng.randint(0, 9)) for _ in range(2_500_000))
    started = time.perf_counter()
    find_candidates(hostile)
    print(f"find_candidates: {len(hostile) / 1e6:.1f} MB of spaced single digits (window budget) in "
          f"{time.perf_counter() - started:.2f} s")
