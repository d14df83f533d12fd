"""The rules extractor over the presentation catalogue (tests/helpers/catalogue.py): every valid public test
number of ../shared/tracking_number_data in every presentation, and every decoy in every presentation.

Full cross product, no sampling (about 11,000 + 9,000 one-message conversations, a few seconds). Recall
must be 1.000: each text yields exactly its number, with the carrier the text names (or, where it names
none, any courier the number is valid for). No decoy may become a shipment. Skipped cleanly where the
shared folder is absent.
"""

from __future__ import annotations

from collections import Counter

import pytest

from desktop.core.rules_extractor import RulesExtractor
from desktop.core.tracking import normalise, validate
from tests.helpers.catalogue import PRESENTATIONS, conversation, groups, render, tracking_cases
from tests.helpers.catalogue_items import check_digit_decoys, decoy_items, load_numbers

#: The presentation families the issue asks for.
FAMILIES = {"label", "list", "table", "csv", "link", "quoted", "case", "grouping", "service", "punctuation",
            "language", "notice"}


@pytest.fixture(scope="module")
def numbers():
    return load_numbers()


@pytest.fixture(scope="module")
def decoys(numbers):
    return decoy_items() + check_digit_decoys(numbers)


def _shipments(text: str, is_html: bool) -> list[tuple[str, str | None]]:
    result = RulesExtractor().extract_sync(conversation(text, is_html=is_html))
    return [(s.tracking_number, s.courier) for s in result.shipments]


def test_the_catalogue_covers_what_the_issue_lists(numbers, decoys):
    assert len(PRESENTATIONS) >= 40 and len({p.name for p in PRESENTATIONS}) == len(PRESENTATIONS)
    assert {p.family for p in PRESENTATIONS} == FAMILIES
    assert len(numbers) == 171                      # the distinct valid vectors of the data
    kinds = Counter(d.kind for d in decoys)
    assert set(kinds) == {"order", "po", "invoice", "phone", "postcode", "iban", "date", "amount", "sku",
                          "customer", "bad_check_digit"}
    print(f"\ncatalogue: {len(PRESENTATIONS)} presentations x {len(numbers)} numbers = "
          f"{len(PRESENTATIONS) * len(numbers)} texts; {len(decoys)} decoys x {len(PRESENTATIONS)} = "
          f"{len(decoys) * len(PRESENTATIONS)} texts ({dict(kinds)})")


def test_the_decoys_would_fool_a_check_digit(decoys):
    """The labelled decoys mostly DO fit a tracking format (or keeping none of them would prove nothing);
    the bad check digits fit none."""
    labelled = [d for d in decoys if d.kind != "bad_check_digit"]
    fitting = [d for d in labelled if d.value.isalnum() and validate(normalise(d.value) or "")]
    assert len(fitting) >= len(labelled) // 3
    assert all(not validate(d.value) for d in decoys if d.kind == "bad_check_digit")


def test_carrier_grouping():
    assert groups("1Z5R89390357567127") == ["1Z", "5R8", "939", "03", "5756", "7127"]
    assert groups("RB123456785GB") == ["RB", "123", "456", "785", "GB"]
    assert groups("JJD0002257639032011") == ["JJD", "0002", "2576", "3903", "2011"]
    assert groups("986578788855") == ["9865", "7878", "8855"]


def test_rules_recall_is_one_in_every_presentation(numbers):
    failures: list[str] = []
    missed: Counter[str] = Counter()
    cases = tracking_cases(numbers)
    for presentation, entry, text, expected in cases:
        found = _shipments(text, presentation.html)
        if len(found) != 1 or found[0][0] != entry.number or found[0][1] not in expected:
            missed[presentation.family] += 1
            failures.append(f"{presentation.name} {entry.format_id} {text[:120]!r} -> {found}")
    print(f"\nrules recall over {len(cases)} texts: {1 - len(failures) / len(cases):.4f} "
          f"(misses by family: {dict(missed)})")
    assert failures == [], "\n".join(failures[:30])


def test_no_decoy_becomes_a_shipment(decoys):
    kept: list[str] = []
    for presentation in PRESENTATIONS:
        for index, item in enumerate(decoys):
            text = render(presentation, item, index)
            found = _shipments(text, presentation.html)
            if found:
                kept.append(f"{presentation.name} {item.kind} {text[:120]!r} -> {found}")
    print(f"\ndecoys kept: {len(kept)} of {len(decoys) * len(PRESENTATIONS)} texts")
    assert kept == [], "\n".join(kept[:30])
