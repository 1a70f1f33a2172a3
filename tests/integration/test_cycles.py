"""S&OP cycles on both engines: close, list and compare through the CLI, and the issue's done-when: after a demand
re-import raising three SKUs eightfold and a recompute, `cycle compare` puts those three among the ten largest changes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

import cli
from db.models import AuditLog, Demand, Sku, SopCycle, SopCyclePeriod, SopCycleSku
from db.session import session_scope
from services import cycles


@pytest.fixture
def portfolio(db_url: str) -> str:
    from services import demo
    from services.recompute import recompute

    with session_scope() as session:
        demo.store(session=session, portfolio=demo.generate(skus=30, periods=104, seed=19))
    with session_scope() as session:
        recompute(session=session, triggered_by="tests")
    return db_url


def _run(capsys, *argv: str) -> str:
    status = cli.main(list(argv))
    out = capsys.readouterr()
    assert status == 0, out.err
    return out.out


def _three_mid_skus() -> list[str]:
    """Three SKUs of middling volume (not the biggest: their eightfold must stand out on its own)."""
    with session_scope() as session:
        rows = session.execute(
            select(Sku.code, func.sum(Demand.quantity))
            .join(Demand, Demand.sku_id == Sku.id)
            .group_by(Sku.code)
            .having(func.sum(Demand.quantity) > 0)
            .order_by(func.sum(Demand.quantity), Sku.code)
        ).all()
    middle = len(rows) // 2
    return [code for code, _ in rows[middle - 1 : middle + 2]]


def _eightfold_file(codes: list[str], folder: Path) -> Path:
    path = folder / "demand-8x.csv"
    with session_scope() as session:
        rows = session.execute(
            select(Demand.period, Sku.code, Demand.quantity)
            .join(Sku, Sku.id == Demand.sku_id)
            .where(Sku.code.in_(codes))
            .order_by(Sku.code, Demand.period)
        ).all()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "sku", "quantity"])
        for period, code, quantity in rows:
            writer.writerow([period.isoformat(), code, quantity * 8])
    return path


def test_close_list_compare_and_the_eightfold_skus_lead_the_changes(portfolio, capsys, tmp_path) -> None:
    out = _run(capsys, "cycle", "close", "--name", "Nov 2026")
    assert "closed cycle 'Nov 2026'" in out
    codes = _three_mid_skus()
    _run(capsys, "import", "demand", str(_eightfold_file(codes, tmp_path)))  # recomputes after the import
    _run(capsys, "cycle", "close", "--name", "Dec 2026")

    listed = json.loads(_run(capsys, "cycle", "list", "--json"))["data"]
    assert [c["name"] for c in listed] == ["Dec 2026", "Nov 2026"]
    assert listed[0]["run_id"] > listed[1]["run_id"]

    doc = json.loads(_run(capsys, "cycle", "compare", "Nov 2026", "Dec 2026", "--json"))["data"]
    top10 = [s["code"] for s in doc["skus"][:10]]
    assert set(codes) <= set(top10), (codes, top10)
    changes = [abs(s["change"]) for s in doc["skus"]]
    assert changes == sorted(changes, reverse=True)
    for entry in doc["skus"]:
        if entry["code"] in codes:
            assert entry["demand_b"] > 4 * entry["demand_a"] > 0
            assert entry["change"] == pytest.approx(entry["demand_b"] - entry["demand_a"], abs=0.02)
            assert entry["change_pct"] == pytest.approx(entry["change"] / entry["demand_a"] * 100, rel=1e-3)
            # revenue and margin are of the demand the plan serves: a SKU on a full line may serve less
            assert 0 <= entry["margin_b"] <= entry["revenue_b"] <= entry["demand_b"] * 1e6
    keys = {"code", "demand_a", "demand_b", "change", "change_pct", "ending_inventory_a", "ending_inventory_b"}
    assert keys <= set(doc["skus"][0])
    demand = doc["totals"]["demand"]
    assert demand["change"] == pytest.approx(sum(s["change"] for s in doc["skus"]), abs=1.0)
    assert {"revenue", "margin", "inventory_value", "open_orders_value", "recommended_orders_value"} <= set(
        doc["totals"]
    )
    by_category = {c["category"]: c for c in doc["by_category"]}
    assert sum(c["change"] for c in by_category.values()) == pytest.approx(demand["change"], abs=1.0)
    assert doc["periods"] and {"demand_a", "demand_b"} <= set(doc["periods"][0])

    text = _run(capsys, "cycle", "compare", "Nov 2026", "Dec 2026", "--limit", "5")
    assert "largest SKU changes" in text and any(code in text for code in codes)

    with session_scope() as session:
        cycle = session.scalar(select(SopCycle).where(SopCycle.name == "Dec 2026"))
        skus = session.scalar(select(func.count()).select_from(SopCycleSku).where(SopCycleSku.cycle_id == cycle.id))
        periods = session.scalar(
            select(func.count()).select_from(SopCyclePeriod).where(SopCyclePeriod.cycle_id == cycle.id)
        )
        assert skus == cycle.totals["sku_count"] > 0 and periods == skus * cycle.totals["horizon"]
        assert session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "cycle.close")) == 2


def test_cycle_errors_are_one_line(portfolio, capsys) -> None:
    _run(capsys, "cycle", "close", "--name", "Once")
    assert cli.main(["cycle", "close", "--name", "Once"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert cli.main(["cycle", "close", "--name", "   "]) == 2
    assert "needs a name" in capsys.readouterr().err
    assert cli.main(["cycle", "compare", "Once", "Never"]) == 2
    assert "no cycle named 'Never'" in capsys.readouterr().err


def test_no_cycle_before_the_first_recompute(db_url) -> None:
    with session_scope() as session, pytest.raises(cycles.CycleError, match="recompute"):
        cycles.close_cycle(session=session, name="Empty", user=None)
