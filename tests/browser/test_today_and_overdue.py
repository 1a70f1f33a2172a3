"""Issue 15 in headless Chromium: an order-by date before today reads "overdue by N days" in red on the Orders page
and the SKU page (item 7); the Risk and Profit pages at the stored settings read "same as today" on every tile
(item 8); dates show as ISO in the grids and "6 Dec 2026" in prose."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from db.models import PurchaseOrder, Sku, SkuSnapshot
from db.session import session_scope
from services import orders as orders_svc

RED = "rgb(176, 42, 55)"  # layouts.orders.OVERDUE_STYLE = text-danger (the SKU page), #b02a37 in assets/app.css


def _late_order(days: int) -> tuple[int, str, dt.date | None]:
    """Move one recommended order's order-by date ``days`` before today; returns (id, SKU code, old date)."""
    with session_scope() as s:
        order = s.scalars(
            select(PurchaseOrder).where(PurchaseOrder.status == "recommended").order_by(PurchaseOrder.id)
        ).first()
        assert order is not None, "the demo recommends orders"
        old = order.order_by
        order.order_by = orders_svc.today() - dt.timedelta(days=days)
        return order.id, order.sku.code, old


def _restore(order_id: int, old: dt.date | None) -> None:
    with session_scope() as s:
        s.get(PurchaseOrder, order_id).order_by = old


def test_overdue_order_is_red_on_the_orders_and_sku_pages(page_as) -> None:
    order_id, code, old = _late_order(6)
    try:
        wrapped = page_as("viewer")
        pw = wrapped.page
        wrapped.goto("/orders")
        pw.wait_for_selector("#orders-grid .ag-center-cols-container .ag-row")
        pw.evaluate(
            "id => { const api = dash_ag_grid.getApi('orders-grid'); api.ensureNodeVisible(api.getRowNode(id)); }",
            str(order_id),
        )
        row = f"#orders-grid .ag-row[row-id='{order_id}']"
        cell = pw.locator(f"{row} [col-id='order_by']").first
        cell.wait_for()
        due = (orders_svc.today() - dt.timedelta(days=6)).isoformat()
        assert cell.inner_text().strip() == due  # ISO in the grid
        late = pw.locator(f"{row} [col-id='overdue_days']").first
        assert late.inner_text().strip() == "6 days"  # under the header "Overdue by"
        for element in (cell, late):
            assert element.evaluate("e => getComputedStyle(e).color") == RED
        assert "overdue" in pw.inner_text("#orders-page, body")  # the Recommended tile counts it too
        wrapped.goto(f"/sku/{code}")
        flag = pw.locator(".overdue-flag")
        flag.wait_for()
        assert flag.inner_text().strip() == "Overdue by 6 days."
        assert flag.evaluate("e => getComputedStyle(e).color") == RED
        body = pw.inner_text("body")
        assert re.search(r"data through \d{1,2} [A-Z][a-z]{2} \d{4}", body), "prose dates read '6 Dec 2026'"
        assert not re.search(r"\b\d{2}/\d{2}/\d{4}\b", body), "no locale dates like 12/06/2026"
        wrapped.assert_no_console_errors()
    finally:
        _restore(order_id, old)


def _sku(policy_name: str = "reorder_point") -> str:
    with session_scope() as s:
        run_id = s.scalar(select(SkuSnapshot.run_id).order_by(SkuSnapshot.run_id.desc()).limit(1))
        return s.scalar(
            select(Sku.code)
            .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
            .where(SkuSnapshot.run_id == run_id, SkuSnapshot.order_policy == policy_name)
            .order_by(Sku.code)
            .limit(1)
        )


def _deltas(pw) -> list[str]:
    pw.wait_for_selector("#risk-kpis .vs-today, #profit-kpis .vs-today", timeout=30000)
    return [t.strip() for t in pw.locator(".vs-today").all_inner_texts()]


def test_risk_and_profit_at_the_stored_settings_read_same_as_today(page_as) -> None:
    wrapped = page_as("viewer")
    pw = wrapped.page
    paths = ["/risk", f"/risk?sku={_sku()}"]
    one_shot = _sku("newsvendor")
    if one_shot:
        paths.append(f"/risk?sku={one_shot}")
    for path in paths:
        wrapped.goto(path)
        deltas = _deltas(pw)
        assert deltas == ["same as today"] * 6, (path, deltas)
        assert "Today (snapshot)" in pw.inner_text("#risk-detail")
    if one_shot:
        assert "newsvendor quantity" in pw.inner_text("#risk-kpis").lower()
    # a changed lead time moves the numbers away from today
    wrapped.goto("/risk")
    _deltas(pw)
    before = pw.inner_text("#risk-kpis")
    lead = pw.locator("#risk-lt-mean")
    lead.fill(str(float(lead.input_value()) + 14))
    lead.press("Tab")
    pw.wait_for_function(
        "old => { const e = document.querySelector('#risk-kpis'); return e && e.innerText !== old; }", arg=before
    )
    assert any("vs today" in t for t in pw.locator("#risk-kpis .vs-today").all_inner_texts())
    wrapped.goto("/profit")
    deltas = _deltas(pw)
    assert deltas == ["same as today"] * 2, deltas
    assert "per-SKU newsvendors" in pw.inner_text("#profit-kpis")
    wrapped.assert_no_console_errors()
