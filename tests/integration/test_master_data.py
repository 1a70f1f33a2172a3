"""Incomplete master data, end to end on SQLite and PostgreSQL: a SKU created with defaults is flagged, the Watchtower
and the API filter on it, the API SKU object and the orders say so, the exports carry it and the commentary facts
never hold a $0 value for it; the SKU master import clears the flag."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy.orm import Session

from services import datatables as dtab
from services import orders as order_svc
from services import watchtower as wt
from services.narrative import sku_facts_for_run
from services.recompute import recompute
from services.run_export import export_results
from services.runs import latest_run
from services.sku_detail import sku_detail
from tests.conftest import make_user
from tests.integration.test_ingest import run
from tests.integration.test_ingest_coverage import HISTORY, MASTER


def _portfolio(session: Session, tmp_path: Path) -> int:
    assert run(session, tmp_path, MASTER, kind="skus").status == "committed"
    assert run(session, tmp_path, HISTORY).status == "committed"
    new = "date,product_name,demand\n2026-11-09,Mystery snack,40\n2026-11-16,Mystery snack,45\n"
    assert run(session, tmp_path, new, create_skus=True).status == "committed"
    run(session, tmp_path, "sku,on_hand\nMystery snack,0\n", kind="stock")
    outcome = recompute(session=session, triggered_by="test")
    session.commit()
    assert outcome.status == "finished"
    return outcome.run_id


def test_flag_filter_api_orders_exports_and_facts(session: Session, tmp_path: Path) -> None:
    run_id = _portfolio(session, tmp_path)
    incomplete = wt.query_skus(
        session=session, run_id=run_id, filters=wt.GridFilters(master_data=("incomplete",)), start=0, limit=50
    )
    assert [r["code"] for r in incomplete.rows] == ["Mystery snack"] and incomplete.total == 1
    assert incomplete.rows[0]["incomplete_master_data"] == "unit cost, category, lead time, supplier"
    complete = wt.query_skus(session=session, run_id=run_id, filters=wt.GridFilters(master_data=("complete",)))
    assert complete.total == 4
    assert wt.filter_options(session=session)["master_data"] == ["incomplete", "complete"]
    assert "Incomplete master data" in wt.export_csv(session=session, run_id=run_id).splitlines()[0]

    detail = sku_detail(session=session, code="Mystery snack")
    assert detail.defaulted_fields == ("unit_cost", "category", "lead_time_days", "supplier")
    orders = order_svc.list_orders(session=session, status="recommended", sku="Mystery snack")
    assert orders and all(o.unit_cost_missing for o in orders)
    assert not any(o.unit_cost_missing for o in order_svc.list_orders(session=session, sku="GS-1"))

    facts = sku_facts_for_run(session=session, run=latest_run(session=session), code="Mystery snack")
    assert facts.incomplete_master_data == ["unit cost", "category", "lead time", "supplier"]
    assert facts.value_at_risk is None  # quantity x an unknown cost: unknown, never $0
    from ai.providers.offline import write_sku

    text = write_sku(facts)
    assert "master data is incomplete" in text and "$0" not in text

    out = io.StringIO()
    export_results(session=session, what="snapshot", target=out)
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["Mystery snack"]["defaulted_fields"] == "unit_cost,category,lead_time_days,supplier"
    assert rows["GS-1"]["defaulted_fields"] == ""
    exported = {r["sku"]: r for r in csv.DictReader(io.StringIO(dtab.export_text(session=session, table="skus")))}
    assert exported["Mystery snack"]["unit_cost"] == "" and exported["Mystery snack"]["supplier"] == ""
    assert exported["Mystery snack"]["incomplete_master_data"] == "unit cost, category, lead time, supplier"

    # the SKU master provides the fields: the flag goes
    run(
        session,
        tmp_path,
        "sku,unit_cost,category,lead_time_days,supplier\nMystery snack,1.1,Snacks,10,Acme\n",
        kind="skus",
    )
    assert sku_detail(session=session, code="Mystery snack").defaulted_fields == ()


def test_api_sku_object_and_filter(session: Session, tmp_path: Path) -> None:
    _portfolio(session, tmp_path)
    from app import create_app
    from db.session import session_scope
    from services import users

    make_user("api-planner@example.com", "planner")
    with session_scope() as s:
        token = users.create_token(session=s, email="api-planner@example.com", name="tests")
    client = create_app().server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/skus?master_data=incomplete", headers=headers).get_json()
    assert [s["code"] for s in listed["data"]] == ["Mystery snack"]
    assert listed["data"][0]["incomplete_master_data"] is True
    assert listed["data"][0]["defaulted_fields"] == ["unit_cost", "category", "lead_time_days", "supplier"]
    one = client.get("/api/v1/skus/GS-1", headers=headers).get_json()["data"]
    assert one["incomplete_master_data"] is False and one["defaulted_fields"] == []
    bad = client.get("/api/v1/skus?master_data=maybe", headers=headers)
    assert bad.status_code == 400
    orders = client.get("/api/v1/purchase-orders?sku=Mystery%20snack", headers=headers).get_json()["data"]
    assert orders and all(o["unit_cost_missing"] is True and o["value"] is None for o in orders)
    document = client.get("/api/v1/openapi.json").get_json()
    assert "defaulted_fields" in document["components"]["schemas"]["Sku"]["properties"]
