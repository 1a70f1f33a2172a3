"""The API over HTTP on the demo (issue 15 items 5 and 7): ``overdue_days`` on purchase orders and SKUs (documented
in the OpenAPI document), whole-number order quantities, ISO dates, and ``order_policy``."""

from __future__ import annotations

import datetime as dt

from tests.integration.test_api import _auth, tokens  # noqa: F401


def test_orders_and_skus_say_overdue_and_quantities_are_whole(demo_app, tokens) -> None:  # noqa: F811
    from services import orders as svc

    client = demo_app.server.test_client()
    body = client.get("/api/v1/purchase-orders?status=recommended&per_page=200", headers=_auth(tokens["viewer"]))
    assert body.status_code == 200
    rows = body.get_json()["data"]
    assert rows, "the demo recommends orders"
    today = svc.today()
    for row in rows:
        due = dt.date.fromisoformat(row["order_by"])
        expected = (today - due).days if due < today else None
        assert row["overdue_days"] == expected, row
        if float(row["order_multiple"]).is_integer():
            assert isinstance(row["qty"], int), row
    late = next((r for r in rows if r["overdue_days"]), None)
    if late is not None:  # the demo's "order now" dates fall before today unless it was built today
        sku = client.get(f"/api/v1/skus/{late['sku']}", headers=_auth(tokens["viewer"])).get_json()["data"]
        assert sku["overdue_days"] == late["overdue_days"] and sku["order_by_date"] == late["order_by"]
        assert sku["order_policy"] in ("reorder_point", "newsvendor")
        assert isinstance(sku["recommended_qty"], int)
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert "overdue_days" in schemas["PurchaseOrder"]["properties"]
    detail = schemas["SkuDetail"]["properties"]
    assert "overdue_days" in detail and "phase_out" in detail["order_policy"]["anyOf"][0]["enum"]
