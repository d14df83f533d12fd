"""Reading .txt, .html, .eml files and standard input into a Conversation."""

from __future__ import annotations

import base64
import io
import sys

import pytest

from desktop.core.documents import DocumentError, read_document
from desktop.core.textprep import prepare
from desktop.core.tracking import occurs_in

UPS = "1Z5R89390357567127"
FEDEX = "986578788855"

EML = f"""From: "UPS" <noreply@ups.com>
To: you@example.com
Subject: =?utf-8?q?Your_UPS_package_=E2=9C=93?=
Date: Mon, 02 Nov 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: multipart/alternative; boundary="YY"

--YY
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Tracking number: 1Z5R8939035=
7567127
--YY
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p style=3D"color:red">Caf=C3=A9 tracking number: 1Z5R8939035=
7567127</p>
--YY--
--XX
Content-Type: message/rfc822

From: shop@example.com
Subject: Fwd order
Date: Sun, 01 Nov 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{base64.b64encode(f"FedEx tracking {FEDEX}".encode()).decode()}
--XX--
"""


def test_eml_multipart_quoted_printable_and_attached_message(tmp_path):
    path = tmp_path / "mail.eml"
    path.write_bytes(EML.encode())
    conv = read_document(str(path))
    assert conv.ref.subject == "Your UPS package \u2713"
    assert [m.sender for m in conv.messages] == ["shop@example.com", "UPS <noreply@ups.com>"]   # oldest first
    forwarded, main = conv.messages
    assert "Caf\u00e9 tracking number: " + UPS in main.body_html       # soft break and =C3=A9 decoded
    assert main.text.strip() == f"Tracking number: {UPS}"
    assert forwarded.text == f"FedEx tracking {FEDEX}" and forwarded.body_html == ""
    assert main.created_at == 1793613600.0
    text = prepare(conv).llm_text
    assert occurs_in(UPS, text) and occurs_in(FEDEX, text)


def test_txt_and_html_files(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_bytes(b"\xef\xbb\xbfUPS tracking " + UPS.encode())
    [message] = read_document(str(txt)).messages
    assert message.text == f"UPS tracking {UPS}" and message.body_html == ""
    legacy = tmp_path / "b.txt"
    legacy.write_bytes(f"Caf\u00e9 \u2013 FedEx {FEDEX}".encode("cp1252"))
    assert read_document(str(legacy)).messages[0].text == f"Caf\u00e9 \u2013 FedEx {FEDEX}"
    page = tmp_path / "c.html"
    page.write_text(f"<p>UPS&nbsp;tracking {UPS}</p>", encoding="utf-8")
    assert read_document(str(page)).messages[0].body_html.startswith("<p>")


@pytest.mark.parametrize("content, kind", [(EML, "eml"), (f"<html><p>UPS {UPS}</p></html>", "html"),
                                           (f"UPS {UPS}", "txt")])
def test_standard_input_is_sniffed(monkeypatch, content, kind):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content.encode())))
    conv = read_document("-")
    assert conv.ref.id == "file:stdin"
    assert occurs_in(UPS, prepare(conv).full_text)
    assert bool(conv.messages[-1].body_html) == (kind != "txt")


def test_unreadable_files_raise_document_error(tmp_path):
    with pytest.raises(DocumentError, match="no such file"):
        read_document(str(tmp_path / "missing.eml"))
    with pytest.raises(DocumentError, match="is a directory"):
        read_document(str(tmp_path))
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"From: a@b.c\nSubject: x\nContent-Type: image/png\n\n\x89PNG")
    with pytest.raises(DocumentError, match="no text or HTML body"):
        read_document(str(empty))
