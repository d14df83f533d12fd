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
