"""`shipscan extract`: files in, shipments out (human and --json), errors per file, extractor choice."""

from __future__ import annotations

import json

import pytest

from desktop import cli

UPS = "1Z5R89390357567127"
FEDEX = "986578788855"


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "ups.txt"
    good.write_text(f"Hello,\nyour UPS tracking number is {UPS}.\nCall 331-881-0025 with questions.\n")
    page = tmp_path / "fedex.html"
    page.write_text(f"<p>Order #4711 shipped.</p><p>FedEx tracking: <b>{FEDEX}</b></p>")
    return good, page, tmp_path / "missing.eml"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["extract", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_one_array_one_object_per_file_and_errors_do_not_stop_the_rest(capsys, files):
    good, page, missing = files
    code, out, err = run(capsys, "--extractor", "rules", "--json", str(good), str(missing), str(page))
    assert code == 1
    result = json.loads(out)
    assert [r["file"] for r in result] == [str(good), str(missing), str(page)]
    assert result[1]["shipments"] == [] and "no such file" in result[1]["error"]
    assert result[0]["error"] is None and result[2]["error"] is None
    [ups] = result[0]["shipments"]
    assert set(ups) == {"tracking_number", "carrier", "courier_code", "confidence", "evidence", "flags"}
    assert (ups["tracking_number"], ups["carrier"], ups["courier_code"]) == (UPS, "UPS", "ups")
    assert UPS in ups["evidence"] and ups["flags"] == [] and 0 < ups["confidence"] <= 1
    assert [s["tracking_number"] for s in result[2]["shipments"]] == [FEDEX]


def test_human_output_and_exit_code_zero(capsys, files):
    good, page, _ = files
    code, out, _ = run(capsys, "--extractor", "rules", str(good), str(page))
    assert code == 0
    assert f"{good}: 1 shipment" in out and f"{UPS}  UPS" in out and f"{FEDEX}  FedEx" in out


def test_standard_input(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"UPS: {UPS}".encode())))
    code, out, _ = run(capsys, "--extractor", "rules", "--json", "-")
    assert code == 0 and json.loads(out)[0]["shipments"][0]["tracking_number"] == UPS


def test_without_a_key_the_rules_extractor_is_used_and_said(capsys, files):
    good, _, _ = files
    code, out, err = run(capsys, "--json", str(good))
    assert code == 0 and "rules extractor" in err and "OPENAI_API_KEY" in err
    assert json.loads(out)[0]["shipments"][0]["tracking_number"] == UPS
    code, _, err = run(capsys, "--extractor", "llm", str(good))
    assert code == 0 and "rules extractor" in err


def test_demo_uses_the_llm_simulator(capsys, files):
    pytest.importorskip("desktop.core.llm_extractor")
    good, page, _ = files
    code, out, err = run(capsys, "--demo", "--json", str(good), str(page))
    assert code == 0, err
    assert "rules extractor" not in err
    result = json.loads(out)
    assert [s["tracking_number"] for s in result[0]["shipments"]] == [UPS]
    assert [s["tracking_number"] for s in result[1]["shipments"]] == [FEDEX]


def test_a_configured_key_makes_llm_the_default(capsys, files, monkeypatch):
    pytest.importorskip("desktop.core.llm_extractor")
    from desktop.sim import DEMO_KEYS, start_simulators
    from desktop.sim.workspace import generate_workspace

    good, _, _ = files
    with start_simulators(generate_workspace(seed=7, conversations=10)) as sims:
        monkeypatch.setenv("OPENAI_API_KEY", DEMO_KEYS["openai"])
        monkeypatch.setenv("OPENAI_BASE_URL", sims.openai_url)
        code, out, err = run(capsys, "--json", str(good))
        calls = sims.openai.log.calls
    assert code == 0, err
    assert "rules extractor" not in err
    assert json.loads(out)[0]["shipments"][0]["tracking_number"] == UPS
    assert calls >= 1


# -- issue 13, item 5: hostile inputs ------------------------------------------------------------------------


def _run_extract(*argv, stdin=None, timeout=60):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "desktop", "extract", "--extractor", "rules", "--json", *argv],
                          capture_output=True, timeout=timeout, stdin=stdin)


def test_dev_zero_is_capped_with_a_clear_error():
    """Probe: `extract /dev/zero` grew to 1.9 GB, then MemoryError."""
    import json

    proc = _run_extract("/dev/zero")
    assert proc.returncode == 1
    assert "more than 50 MB" in json.loads(proc.stdout)[0]["error"]


def test_a_fifo_nobody_writes_to_does_not_hang(tmp_path):
    """Probe: a FIFO hung forever."""
    import json
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = _run_extract(str(fifo), timeout=45)
    assert proc.returncode == 1 and "no data for 10 s" in json.loads(proc.stdout)[0]["error"]


def test_too_much_on_stdin_is_an_error_not_zero_shipments():
    """Probe: more than 50 MB on stdin was cut silently to "0 shipments", rc 0."""
    import subprocess
    import sys

    code = ("import sys\nfrom desktop.commands.extract import read_capped\n"
            "from desktop.core.documents import DocumentError\n"
            "try:\n    read_capped('-', limit=1000)\nexcept DocumentError as e:\n    print(e); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], input=b"x" * 5000, capture_output=True, timeout=30)
    assert proc.returncode == 3 and b"standard input" in proc.stdout


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_a_file_with_a_byte_order_mark_is_decoded(tmp_path, encoding):
    """Probe: UTF-16/UTF-32 files with a BOM were read as Windows-1252: 0 shipments, rc 0."""
    import json

    from tests.helpers.hostile import bom_encoded

    path = tmp_path / "note.txt"
    path.write_bytes(bom_encoded("Your UPS tracking number is 1Z999AA10123456784", encoding))
    proc = _run_extract(str(path))
    assert [s["tracking_number"] for s in json.loads(proc.stdout)[0]["shipments"]] == ["1Z999AA10123456784"]


def test_arabic_indic_digits_and_bidi_controls(tmp_path):
    """Probe: Arabic-Indic digits were ignored while full-width ones were read; a right-to-left override
    reached the evidence shown to reviewers."""
    import json

    from tests.helpers.hostile import arabic_indic, bidi_evidence

    path = tmp_path / "note.txt"
    path.write_text(f"USPS tracking {arabic_indic('9205590164917312751089')}\n{bidi_evidence('1Z999AA10123456784')}",
                    encoding="utf-8")
    shipments = json.loads(_run_extract(str(path)).stdout)[0]["shipments"]
    assert {s["tracking_number"] for s in shipments} >= {"9205590164917312751089", "1Z999AA10123456784"}
    assert not any(ch in s["evidence"] for s in shipments for ch in "\u202e\u202c")
