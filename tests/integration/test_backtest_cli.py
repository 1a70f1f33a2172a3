"""`python cli.py backtest-policy [--periods N] [--sku CODE] [--category X] [--abc A] [--json]` on both engines."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

import cli
from db.models import PolicyBacktest
from services import demo

END = dt.date(2026, 1, 5)
DOCUMENT_KEYS = {"periods", "portfolio", "baseline", "frontier", "skus"}
POINT_KEYS = ["average_inventory_value", "cycle_service_level", "fill_rate", "target_service_level"]
SKU_KEYS = [
    "average_inventory_units",
    "average_inventory_value",
    "code",
    "cycle_service_level",
    "demand",
    "fill_rate",
    "orders",
    "stockout_periods",
]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["backtest-policy", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def stored(session) -> list[str]:
    portfolio = demo.generate(skus=16, periods=60, end=END)
    demo.store(session=session, portfolio=portfolio)
    session.commit()
    return portfolio.skus["code"].tolist()


def test_json_document_shape(session, stored, capsys) -> None:
    code, out, err = run_cli(capsys, "--json", "--periods", "13")
    assert code == 0 and err == ""  # no progress lines with --json
    doc = json.loads(out)
    assert DOCUMENT_KEYS | {"excluded", "comparison"} <= set(doc)
    assert doc["periods"] == 13
    assert sorted(doc["portfolio"]) == POINT_KEYS and sorted(doc["baseline"]) == POINT_KEYS
    assert all(sorted(f) == ["average_inventory_value", "fill_rate", "service_target"] for f in doc["frontier"])
    assert [r["code"] for r in doc["skus"]] == sorted(stored) and all(sorted(r) == SKU_KEYS for r in doc["skus"])
    assert isinstance(doc["skus"][0]["stockout_periods"], int) and isinstance(doc["skus"][0]["orders"], int)
    assert sorted(doc["comparison"]) == [
        "baseline_fill_at_equal_inventory",
        "baseline_inventory_at_equal_fill",
        "fill_gap_at_equal_inventory",
        "inventory_ratio_at_equal_fill",
        "verdict",
    ]
    assert session.scalar(select(func.count()).select_from(PolicyBacktest)) == 1  # stored


def test_tables_and_progress(session, stored, capsys) -> None:
    category = demo.generate(skus=16, periods=60, end=END).skus["category"].iloc[0]
    code, out, err = run_cli(capsys, "--category", category, "--periods", "13", "--no-store")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Policy backtest · Category {category} · weekly data through {END.isoformat()}"
    assert lines[1].startswith("Replayed the last 13 weeks (") and "after fitting on the 47 before" in lines[1]
    assert any(line.lstrip().startswith("engine ") for line in lines)
    assert any(line.lstrip().startswith("textbook (own targets)") for line in lines)
    assert "Textbook frontier (one service target for every SKU):" in lines
    assert "100%  finished:" in err and "fit and replay: batch 1 of 1" in err
    assert session.scalar(select(func.count()).select_from(PolicyBacktest)) == 0  # --no-store


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--periods", "60"), "error: periods 60 is longer than the history allows: it holds 60 weeks and the fit"),
        (("--periods", "0"), "error: periods must be at least 1, got 0"),
        (("--category", "Nope"), "error: no active SKU in category 'Nope'"),
        (("--sku", "NOPE"), "error: no SKU 'NOPE'"),
        (("--sku", "A", "--category", "B"), "error: a one-SKU backtest takes no category or ABC class"),
        (("--abc", "Q"), "error: abc must be one of A, B, C, got 'Q'"),
        (("--workers", "0"), "error: --workers must be at least 1"),
    ],
)
def test_bad_input_is_one_line_on_stderr(session, stored, capsys, args, message) -> None:
    code, out, err = run_cli(capsys, "--quiet", *args)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1
