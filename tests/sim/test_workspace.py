"""The seeded workspace generator: determinism, honest ground truth, thread shapes and hostile content."""

from __future__ import annotations

import json
import re
import time
from collections import Counter

import pytest

from desktop.sim import numbers
from desktop.sim.mail_build import default_end
from desktop.sim.workspace import TruthShipment, Workspace, generate_workspace

END = 1_780_000_000.0  # fixed so the tests do not depend on today's date
DAY = 86400.0


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return generate_workspace(seed=7, conversations=300, end=END, days=30)


@pytest.fixture(scope="module")
def big() -> Workspace:
    started = time.perf_counter()
    workspace = generate_workspace(seed=11, conversations=2000, end=END, days=30)
    print(f"\n[figure] generate_workspace(2000 conversations): {time.perf_counter() - started:.3f} s")
    return workspace


def _messages(ws: Workspace):
    return [m for c in ws.conversations for m in c.messages]


def _compact(text: str) -> str:
    return text.replace(" ", "").replace("-", "").upper()


def _message_of(ws: Workspace, shipment: TruthShipment):
    conv = ws.conversation(shipment.conversation_id)
    assert conv is not None
    return conv, next(m for m in conv.messages if m.id == shipment.message_id)


def test_deterministic_for_a_seed(ws):
    again = generate_workspace(seed=7, conversations=300, end=END, days=30)
    assert again.to_json() == ws.to_json()
    other = generate_workspace(seed=8, conversations=300, end=END, days=30)
    assert other.to_json() != ws.to_json()


def test_sizes_ids_and_inboxes(ws):
    assert len(ws.conversations) == 300
    assert len({c.id for c in ws.conversations}) == 300
    assert all(c.id.startswith("cnv_") for c in ws.conversations)
    ids = [m.id for m in _messages(ws)]
    assert len(ids) == len(set(ids)) and all(i.startswith("msg_") for i in ids)
    inbox_ids = {i.id for i in ws.inboxes}
    assert len(ws.inboxes) >= 4 and all(i.startswith("inb_") for i in inbox_ids)
    assert all(c.inbox_ids and set(c.inbox_ids) <= inbox_ids for c in ws.conversations)
    assert {c.inbox_ids[0] for c in ws.conversations} == inbox_ids  # every inbox is used


def test_message_counts_huge_and_merged(ws, big):
    for workspace in (ws, big):
        sizes = [len(c.messages) for c in workspace.conversations if not c.merged_into]
        assert sum(1 for n in sizes if n > 100) == 1  # the huge thread
        assert all(1 <= n <= 8 for n in sizes if n <= 100)
    counts = Counter(len(c.messages) for c in ws.conversations if not c.merged_into)
    assert {1, 2, 3, 4, 5, 6, 7}.issubset(counts)
    merged = [c for c in ws.conversations if c.merged_into]
    assert len(merged) >= 2
    by_id = {c.id: c for c in ws.conversations}
    for absorbed in merged:
        assert absorbed.messages == [] and ws.truth[absorbed.id] == []
        survivor = by_id[absorbed.merged_into]
        assert survivor.messages and not survivor.merged_into


def test_small_workspace_has_no_huge_thread():
    small = generate_workspace(seed=3, conversations=25, end=END, days=5)
    assert len(small.conversations) == 25
    assert all(len(c.messages) <= 8 for c in small.conversations)


def test_timestamps(ws):
    assert ws.end == END and ws.start == END - 30 * DAY
    for conv in ws.conversations:
        times = [m.created_at for m in conv.messages]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert all(ws.start <= t < ws.end for t in times)
        if times:
            assert conv.created_at == times[0]
            assert all(isinstance(t, float) for t in times)


def test_long_lived_conversations_cross_weeks(ws):
    def week(ts):
        return time.strftime("%G-%V", time.gmtime(ts))

    long_lived = [
        c
        for c in ws.conversations
        if len(c.messages) >= 2
        and c.messages[-1].created_at - c.messages[0].created_at > 3 * DAY
        and week(c.messages[0].created_at) != week(c.messages[-1].created_at)
    ]
    assert len(long_lived) >= 5
    days = {time.strftime("%Y-%m-%d", time.gmtime(m.created_at)) for m in long_lived[0].messages}
    assert len(days) >= 2


def test_default_end_is_tomorrow_midnight_utc():
    end = default_end()
    assert end % DAY == 0 and 0 < end - time.time() <= DAY
    assert generate_workspace(seed=1, conversations=5).end == end


def test_truth_covers_every_conversation(ws):
    assert set(ws.truth) == {c.id for c in ws.conversations}
    share = sum(1 for c in ws.conversations if ws.truth[c.id]) / len(ws.conversations)
    assert 0.45 <= share <= 0.7


def test_truth_numbers_are_valid_and_unique(ws):
    shipments = [s for items in ws.truth.values() for s in items]
    assert len(ws.truth_by_number) == len(shipments)
    for s in shipments:
        assert re.fullmatch(r"[A-Z0-9]+", s.tracking_number)
        assert numbers.is_valid(s.courier, s.tracking_number), s
        assert s.courier in numbers.COURIERS and s.carrier


def test_truth_numbers_occur_in_their_first_message(ws):
    for conv in ws.conversations:
        for s in ws.truth[conv.id]:
            assert s.conversation_id == conv.id
            _conv, message = _message_of(ws, s)
            assert s.tracking_number in _compact(message.text), s
            first = next(m for m in conv.messages if s.tracking_number in _compact(m.text))
            assert first.id == s.message_id


def test_checksum_free_truth_has_carrier_context(ws, big):
    for workspace in (ws, big):
        for s in workspace.truth_by_number.values():
            if numbers.has_check_digit(s.tracking_number):
                continue
            _conv, message = _message_of(workspace, s)
            assert s.carrier.lower() in message.text.lower(), s


def test_truth_fields_are_printed(ws):
    for s in ws.truth_by_number.values():
        _conv, message = _message_of(ws, s)
        conv = ws.conversation(s.conversation_id)
        whole = "\n".join(m.text for m in conv.messages)
        if s.order_number:
            assert s.order_number in whole
        if s.destination_postcode:
            assert s.destination_postcode in whole and s.destination_country
        if s.supplier:
            assert s.supplier in whole
        if s.shipped_date:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s.shipped_date)


def test_decoys_are_absent_from_truth(ws, big):
    for workspace in (ws, big):
        decoys = [d for items in workspace.decoys.values() for d in items]
        assert decoys
        for cid, items in workspace.decoys.items():
            text = _compact("\n".join(m.text for m in workspace.conversation(cid).messages))
            for decoy in items:
                assert decoy not in workspace.truth_by_number
                assert numbers.detect(decoy) == []
                assert decoy in text


def test_all_couriers_appear(big):
    couriers = Counter(s.courier for s in big.truth_by_number.values())
    assert set(couriers) == set(numbers.COURIERS)
    assert len(big.conversations) == 2000


def test_several_parcels_in_one_message(ws):
    per_message = Counter(s.message_id for s in ws.truth_by_number.values())
    assert max(per_message.values()) >= 2


def test_hostile_content_present(ws):
    msgs = _messages(ws)

    def some(pred):
        return any(pred(m) for m in msgs)

    assert some(lambda m: "display:none" in m.body_html and "&nbsp;" in m.body_html)
    assert some(lambda m: "&amp;" in m.body_html and "<table" in m.body_html)
    assert some(lambda m: "<script" in m.body_html) and some(lambda m: "<style" in m.body_html)
    assert some(lambda m: m.body_html.count("<blockquote") >= 2)  # nested quotes
    assert some(lambda m: "=\n" in m.text)  # quoted-printable soft breaks
    assert some(lambda m: re.search("[\u200b\u200c\u2060]", m.text))
    assert some(lambda m: re.search("[\uff10-\uff19]", m.text))  # full-width digits
    assert some(lambda m: "---------- Forwarded message ---------" in m.text)
    assert some(lambda m: re.search(r" wrote:\n> ", m.text))
    assert some(lambda m: "Phone:" in m.text)  # signatures
    for url in (
        "fedex.com/fedextrack/?trknbr=",
        "tools.usps.com/go/TrackConfirmAction?tLabels=",
        "ups.com/track?",
    ):
        assert some(lambda m, u=url: u in m.body_html), url
    assert all(m.text and m.body_html and isinstance(m.blurb, str) for m in msgs)


def test_numbers_spaced_and_link_only(ws):
    spaced = link_only = 0
    for s in ws.truth_by_number.values():
        _conv, message = _message_of(ws, s)
        if s.tracking_number not in message.text and s.tracking_number in _compact(message.text):
            spaced += 1
        visible = re.sub(r'href="[^"]*"', "", message.body_html)
        if s.tracking_number in message.body_html and s.tracking_number not in _compact(
            visible.replace("&nbsp;", "")
        ):
            link_only += 1
    assert spaced >= 3 and link_only >= 1


def test_round_trip_and_truth_file(ws, tmp_path):
    again = Workspace.from_json(ws.to_json())
    assert again.to_json() == ws.to_json()
    assert again.conversations[0] == ws.conversations[0]
    path = tmp_path / "truth.json"
    ws.write_truth(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == set(ws.truth)
    assert sum(len(v) for v in data.values()) == len(ws.truth_by_number)
    one = next(v[0] for v in data.values() if v)
    assert set(one) >= {
        "conversation_id",
        "message_id",
        "tracking_number",
        "courier",
        "carrier",
        "order_number",
        "supplier",
        "shipped_date",
        "destination_country",
        "destination_postcode",
    }
