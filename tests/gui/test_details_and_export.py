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
    view.review_filter.setCurrentIndex(view.review_filter.findData("pending"))
    expected = views.shipment_ids(views.ShipmentFilter(review="pending"))
    assert view.model.rowCount() == len(expected) == 10
    view.select_ids(expected[:2], current=expected[0])
    view.copy_selection()
    lines = QGuiApplication.clipboard().text().splitlines()
    assert [line.split("\t")[0] for line in lines] == [ShipmentRow.get_by_id(i).tracking_number for i in expected[:2]]

    target = tmp_path / "view.csv"
    view.ask_export_path = lambda: str(target)
    view.export_button.click()
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "Number" and len(rows) == 11
    assert [r[0] for r in rows[1:]] == [ShipmentRow.get_by_id(i).tracking_number for i in expected]
    assert all(r[6] == "needs review" for r in rows[1:])
