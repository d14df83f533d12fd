"""Export of the shipments view: an Excel workbook (.xlsx) for spreadsheets, or CSV for other programs.

Why a workbook: a CSV file has no types, so every spreadsheet guesses. Excel, LibreOffice and Google Sheets
all turn "00123" into 123 and a 22-digit number into 1.23E+21 when they open a CSV, and Microsoft's own
advice ("Keeping leading zeros and large numbers") is to import the file as text by hand. Tricks inside
the CSV (="00123", a leading tab or apostrophe) change the value for every other reader and still depend on
the program. An .xlsx cell, by contrast, says it is text (ECMA-376 / ISO/IEC 29500, `t="inlineStr"`),
so every number stays exactly as written, and no cell is ever a formula: spreadsheet formula injection
cannot happen. The conversation link is a real hyperlink.

The CSV stays plain RFC 4180 data (UTF-8 with a byte-order mark, so Excel reads accents right), with the
OWASP rule against formula injection: a cell that starts with = + - @ or a tab/carriage return gets a
leading apostrophe. Numbers are written as they are; the save dialog says to choose the workbook for a
spreadsheet.

No Qt here: the GUI passes the rows (`store.views.iter_shipments`) and a display function.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

from desktop.store.views import ShipmentView

FRONT_OPEN_URL = "https://app.frontapp.com/open/{}"
#: The save dialog's choices; the chosen file's suffix decides the format.
XLSX_FILTER = "Excel workbook, numbers kept as text (*.xlsx)"
CSV_FILTER = "CSV, plain data for other programs (*.csv)"
#: Excel refuses more hyperlinks than this in one sheet; past it, the link stays as text.
MAX_HYPERLINKS = 65_000
#: Cells starting with these are formulas to a spreadsheet (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters XML 1.0 does not allow (control characters an email subject may still carry).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def front_url(conversation_id: str) -> str:
    """The link that opens the conversation in Front (the id percent-encoded, "/" included)."""
    return FRONT_OPEN_URL.format(quote(conversation_id, safe=""))


def export_rows(path: Path, headers: list[str], rows: Iterable[ShipmentView],
                cells: Callable[[ShipmentView], list[str]]) -> int:
    """Write `rows` to `path` (.xlsx: workbook, anything else: CSV) plus the conversation's id and link;
    returns the number of rows written."""
    headers = headers + ["Conversation", "Open in Front"]

    def values() -> Iterable[list[str]]:
        for row in rows:
            yield cells(row) + [row.conversation_id, front_url(row.conversation_id)]

    if path.suffix.lower() == ".xlsx":
        return write_xlsx(path, headers, values())
    return write_csv(path, headers, values())


def neutralise(cell: str) -> str:
    """`cell` made inert for a spreadsheet: a leading apostrophe when it would start a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def write_csv(path: Path, headers: list[str], rows: Iterable[list[str]]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([neutralise(cell) for cell in row])
            count += 1
    return count


def write_xlsx(path: Path, headers: list[str], rows: Iterable[list[str]]) -> int:
    """A one-sheet workbook; every cell is text; the last column's links are hyperlinks."""
    links: list[str] = []
    count = 0
    link_column = _column(len(headers) - 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in _PARTS.items():
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_HEAD.format(cols=_cols(len(headers))).encode())
            sheet.write(_row(1, headers).encode())
            for count, cells in enumerate(rows, start=1):
                sheet.write(_row(count + 1, cells).encode())
                if count <= MAX_HYPERLINKS and cells[-1]:
                    links.append(cells[-1])
            refs = "".join(f'<hyperlink ref="{link_column}{n + 2}" r:id="rId{n + 1}"/>' for n in range(len(links)))
            sheet.write(f"</sheetData>{f'<hyperlinks>{refs}</hyperlinks>' if links else ''}</worksheet>".encode())
        book.writestr("xl/worksheets/_rels/sheet1.xml.rels", _RELS_HEAD + "".join(
            f'<Relationship Id="rId{n + 1}" Type="{_HYPERLINK}" Target="{_attr(url)}" TargetMode="External"/>'
            for n, url in enumerate(links)) + "</Relationships>")
    return count


def _column(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cols(count: int) -> str:
    widths = [24, 14, 14, 20, 12, 18, 14, 16, 40, 17, 22, 48]
    return "".join(f'<col min="{n + 1}" max="{n + 1}" width="{widths[n] if n < len(widths) else 16}" '
                   f'customWidth="1"/>' for n in range(count))


def _row(number: int, cells: list[str]) -> str:
    parts = "".join(f'<c r="{_column(n)}{number}" t="inlineStr"><is><t xml:space="preserve">{_text(cell)}</t></is></c>'
                    for n, cell in enumerate(cells) if cell)
    return f'<row r="{number}">{parts}</row>'


def _text(value: str) -> str:
    return escape(_XML_INVALID.sub("", value))


def _attr(value: str) -> str:
    return escape(_XML_INVALID.sub("", value), {'"': "&quot;"})


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HYPERLINK = f"{_REL}/hyperlink"
_RELS_HEAD = _XML + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
_SHEET_HEAD = (_XML + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
               '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
               'state="frozen"/></sheetView></sheetViews><cols>{cols}</cols><sheetData>')
_PARTS = {
    "[Content_Types].xml": _XML + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": _RELS_HEAD + (
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": _XML + (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Shipments" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": _RELS_HEAD + (
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}
