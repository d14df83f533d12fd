"""The details pane shows email-derived text as plain text with the number highlighted; copy and CSV export."""

from __future__ import annotations

import csv

from PySide6.QtGui import QGuiApplication

from desktop.gui.details import DetailsPane, front_url, number_pattern
from desktop.store import views
from desktop.store.tables import ShipmentRow, database
from tests.gui.seed import seed_shipments


def test_subject_and_evidence_are_plain_text(window, qtbot):
    seed_shipments(3)
    database.execute_sql("UPDATE conversation SET subject = '<img src=x onerror=alert(1)><b>Bold?</b>'")
    database.execute_sql("UPDATE shipment SET evidence = '<a href=\"http://evil\">click</a> tracking: 1Z 0000-0000 "
                         "0000 0001 &amp; more' WHERE id = 2")
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    view.select_ids([2], current=2)
    details = view.details
    assert details.fields["subject"].text() == "<img src=x onerror=alert(1)><b>Bold?</b>"
    assert details.fields["subject"].textFormat().name == "PlainText"
    text = details.evidence.toPlainText()
    assert text.startswith('<a href="http://evil">click</a>') and "&amp;" in text
    # The number is highlighted although it is written with spaces and dashes.
    highlighted = _highlighted_text(details)
    assert highlighted == "1Z 0000-0000 0000 0001"
    assert details.front_link == "https://app.frontapp.com/open/cnv_seed0000000"
    assert details.carrier_link is None or details.carrier_link.startswith("https://")


def test_flags_read_as_words_never_as_codes(window, qtbot):
    """Every flag a shipment can carry (the extractors' and the holds the policy stores) reads as words in
    the details pane; a stored hold showed as "no_agreeing_context"."""
    from desktop.gui.details import FLAG_TEXT
    from desktop.hold_reasons import STORED_HOLDS

    extractors = {"ambiguous_format", "no_check_digit", "llm_missed", "carrier_disagrees", "llm_only",
                  "text_truncated"}
    assert extractors | STORED_HOLDS <= FLAG_TEXT.keys()
    seed_shipments(2)
    database.execute_sql("""UPDATE shipment SET flags = '["no_check_digit", "no_agreeing_context"]' WHERE id = 2""")
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    view.select_ids([2], current=2)
    assert view.details.fields["flags"].text() == ("the format has no check digit; held: nothing near the number "
                                                   "names its carrier")


def _highlighted_text(details: DetailsPane) -> str:
    block = details.evidence.document().firstBlock()
    parts = []
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.charFormat().fontWeight() == 700:
                parts.append(fragment.text())
            iterator += 1
        block = block.next()
    return "".join(parts)


def test_number_pattern_and_front_url():
    assert number_pattern("1Z999").search("see 1z 99-9 now").group() == "1z 99-9"
    assert front_url("cnv_ab/c?") == "https://app.frontapp.com/open/cnv_ab%2Fc%3F"


def test_copy_and_export_the_current_view(window, qtbot, tmp_path):
    seed_shipments(40)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    view.review_filter.setCurrentIndex(view.review_filter.findData("pending"))
    view.wait()
    expected = views.shipment_ids(views.ShipmentFilter(review="pending"))
    assert view.model.rowCount() == len(expected) == 10
    view.select_ids(expected[:2], current=expected[0])
    view.copy_selection()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert [line.split("\t")[0] for line in lines] == [ShipmentRow.get_by_id(i).tracking_number for i in expected[:2]]

    target = tmp_path / "view.csv"
    view.ask_export_path = lambda: str(target)
    view.export_button.click()
    with target.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "Number" and len(rows) == 11
    assert [r[0] for r in rows[1:]] == [ShipmentRow.get_by_id(i).tracking_number for i in expected]
    assert all(r[6] == "needs review" for r in rows[1:])


# --- issue 11: export keeps numbers as text, links the conversation, never runs a formula ----------------

LONG_NUMBER = "0042123456789012345678901"   # 25 digits with leading zeros: 4.2E+22 in a spreadsheet
HOSTILE = {"order_number": "00123", "supplier": '=HYPERLINK("http://evil","x")', "carrier": "@SUM(A1)"}


def _seed_hostile_row() -> None:
    seed_shipments(3)
    database.execute_sql("UPDATE shipment SET tracking_number = ?, order_number = ?, supplier = ?, carrier = ? "
                         "WHERE id = 2", [LONG_NUMBER, HOSTILE["order_number"], HOSTILE["supplier"],
                                          HOSTILE["carrier"]])
    database.execute_sql("UPDATE conversation SET subject = '-2+3 ok' WHERE id = 'cnv_seed0000000'")


def _xlsx_rows(path) -> tuple[list[list[str]], list[str], str]:
    """(cell texts per row, hyperlink targets, the sheet's XML) of a workbook written by the export."""
    import xml.etree.ElementTree as ET
    import zipfile

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        rels = book.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    root = ET.fromstring(sheet)
    rows = [["".join(c.itertext()) for c in row.findall("m:c", ns)] for row in root.iter(f"{{{ns['m']}}}row")]
    targets = [r.get("Target") for r in ET.fromstring(rels)]
    return rows, targets, sheet


def test_export_workbook_keeps_long_numbers_and_zeros_as_text_with_a_link(window, qtbot, tmp_path):
    _seed_hostile_row()
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    target = tmp_path / "view.xlsx"
    view.ask_export_path = lambda: str(target)
    view.export_button.click()
    rows, links, sheet = _xlsx_rows(target)
    header, body = rows[0], rows[1:]
    assert header[-2:] == ["Conversation", "Open in Front"] and len(body) == 3
    row = next(r for r in body if r[0] == LONG_NUMBER)
    assert row[2] == "00123" and row[3] == HOSTILE["supplier"] and row[1] == HOSTILE["carrier"]
    assert row[-1] == "https://app.frontapp.com/open/cnv_seed0000000"
    assert "<f>" not in sheet and "<v>" not in sheet      # no formula, no number: every cell is text
    assert sheet.count('t="inlineStr"') == sum(len(r) for r in rows)
    assert sorted(links) == sorted(r[-1] for r in body)  # the link column is made of real hyperlinks
    assert "Exported 3 shipments" in window.messages.history[-1].text


def test_export_csv_neutralises_formulas_and_links_the_conversation(window, qtbot, tmp_path):
    _seed_hostile_row()
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    target = tmp_path / "view.csv"
    view.ask_export_path = lambda: str(target)
    view.export_button.click()
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    row = next(r for r in rows[1:] if r[0] == LONG_NUMBER)
    assert row[3] == "'" + HOSTILE["supplier"] and row[1] == "'" + HOSTILE["carrier"]
    assert row[2] == "00123"
    assert row[-1] == "https://app.frontapp.com/open/cnv_seed0000000" and rows[0][-1] == "Open in Front"
    subjects = {r[8] for r in rows[1:]}
    assert "'-2+3 ok" in subjects
    starts = {cell[:1] for r in rows[1:] for cell in r}
    assert not starts & {"=", "+", "-", "@"}


# --- issue 11: the details pane follows the filter ---------------------------------------------------------


def test_details_pane_forgets_a_shipment_the_filter_removed(window, qtbot):
    seed_shipments(8)
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    view.select_ids([2], current=2)
    number = ShipmentRow.get_by_id(2).tracking_number
    assert view.details.fields["number"].text() == number and view.details.front_button.isEnabled()
    opened = []
    view.details.open_url = lambda url: opened.append(url.toString()) or True

    view.text_filter.setText(ShipmentRow.get_by_id(5).tracking_number)   # only shipment 5 is left
    view.apply_filter()
    view.wait()
    assert view.model.ids() == [5]
    assert view.details.fields["number"].text() == "" and view.details.front_link is None
    assert not view.details.front_button.isEnabled()
    view.details.front_button.click()
    assert opened == []

    view.select_ids([5], current=5)
    view.text_filter.setText("no such shipment anywhere")                 # 0 rows
    view.apply_filter()
    view.wait()
    assert view.model.rowCount() == 0
    assert view.details.fields["number"].text() == "" and not view.details.front_button.isEnabled()
    assert view.count_label.text() == "0 shipments"


# --- issue 11: no browser -> copy link; S10 numbers have a tracking page ------------------------------------


def test_no_browser_offers_the_link_to_copy(window, qtbot):
    seed_shipments(3)
    database.execute_sql("UPDATE shipment SET courier = 's10', carrier = 'Postal service', "
                         "tracking_number = 'RB123456785GB' WHERE id = 1")
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    view.select_ids([1], current=1)
    details = view.details
    assert details.carrier_link == "https://www.ship24.com/tracking?p=RB123456785GB"
    assert details.carrier_button.isEnabled()
    details.open_url = lambda _url: False   # what QDesktopServices.openUrl answers when no browser starts
    assert details.fallback.isHidden()
    details.front_button.click()
    assert details.fallback.isVisible()
    assert "https://app.frontapp.com/open/cnv_seed0000000" in details.fallback_text.text()
    details.copy_link_button.click()
    assert QGuiApplication.clipboard().text() == "https://app.frontapp.com/open/cnv_seed0000000"
    details.carrier_button.click()
    details.copy_link_button.click()
    assert QGuiApplication.clipboard().text() == "https://www.ship24.com/tracking?p=RB123456785GB"
    view.select_ids([2], current=2)         # another shipment: the old link goes away
    assert details.fallback.isHidden()


def test_the_details_name_a_registration_error_by_its_first_sentence():
    from desktop.gui.details import _headline

    paused = ("Ship24 quota used up: the Ship24 plan has no shipments left this billing period. Registration is "
              "paused and nothing is lost. Upgrade the Ship24 plan or wait for the next period.")
    assert _headline(paused) == "Ship24 quota used up: the Ship24 plan has no shipments left this billing period"
    assert _headline("timeout") == "timeout"
    assert len(_headline("x" * 500)) == 160


def test_details_say_who_reviewed_it_last(window, qtbot):
    """Team mode (issue 16): the pane names the last review action on the shipment, by whom and when."""
    from desktop.store import actor, history_views, review

    seed_shipments(5)
    actor.set_name("alice")
    try:
        review.approve([4])   # it waits for approval
        review.reject([4])
    finally:
        actor.set_name(None)
    assert [a.action for a in history_views.review_actions()] == ["reject", "approve"]
    view = window.shipments
    window.tabs.setCurrentWidget(view)
    view.reload()
    view.wait()
    view.select_ids([4], current=4)
    text = view.details.fields["review"].text()
    assert text.startswith("rejected (alice rejected, ") and "approved" not in text
    view.select_ids([1], current=1)
    assert "(" not in view.details.fields["review"].text()        # never reviewed by a person
