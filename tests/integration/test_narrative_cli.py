"""`python cli.py narrative [--sku CODE] [--json] [--regenerate]` on both engines (through cli.main)."""

from __future__ import annotations

import json

import pytest

import cli
from tests.fakes.gemini import FakeGemini, answer, fake_gemini  # noqa: F401  (fixture)
from tests.integration.test_narrative import _fresh_state, build_snapshot, gemini, grounded_answer  # noqa: F401


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["narrative", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_offline(session, capsys) -> None:
    run_id = build_snapshot(session)
    session.commit()
    code, out, _ = run_cli(capsys, "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["scope"], data["run_id"]) == ("portfolio", run_id)
    assert (data["provider"], data["model"]) == ("offline", "offline-v1")
    assert data["grounded"] is True and data["fell_back"] is False and data["cached"] is False
    assert "Hydraulic pump HP-200" in data["text"]
    code, out, _ = run_cli(capsys, "--json")
    assert json.loads(out)["cached"] is True  # the first call committed its row


def test_text_output_names_provider_model_and_check(session, capsys, gemini: FakeGemini) -> None:  # noqa: F811
    build_snapshot(session)
    session.commit()
    code, out, _ = run_cli(capsys, "--sku", "PUMP-200")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Hydraulic pump HP-200 is flagged as stockout risk. Its value at risk is being watched."
    assert "provider: gemini (gemini-2.5-flash)" in lines
    assert "check:    passed (numbers and plain text)" in lines
    assert any(line.startswith("scope:    sku:PUMP-200 (run ") for line in lines)
    assert len(gemini.requests) == 1
    run_cli(capsys, "--sku", "PUMP-200")
    assert len(gemini.requests) == 1  # cached
    code, out, _ = run_cli(capsys, "--sku", "PUMP-200", "--regenerate")
    assert code == 0 and len(gemini.requests) == 2 and "(from the cache)" not in out


def test_a_fallback_is_reported_with_its_reasons(session, capsys, gemini: FakeGemini) -> None:  # noqa: F811
    build_snapshot(session)
    session.commit()
    gemini.script(answer("The portfolio holds 6 SKUs. Value at risk is $123,456."))
    code, out, _ = run_cli(capsys)
    assert code == 0
    assert "provider: offline (offline-v1)" in out
    assert "fallback: Gemini's text failed the number check" in out
    assert "          - number '$123,456' is not in the facts" in out.splitlines()


def test_bad_input_exits_non_zero_with_one_line(session, capsys) -> None:
    code, out, err = run_cli(capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: there is no finished recompute yet: run `python cli.py recompute` first"
    ]
    build_snapshot(session)
    session.commit()
    code, _, err = run_cli(capsys, "--sku", "NOPE")
    assert code == 2 and err.strip() == "error: SKU 'NOPE' is not in the latest finished recompute"
    code, _, err = run_cli(capsys, "--sku", " ")
    assert code == 2 and err.strip() == "error: --sku needs a SKU code"
