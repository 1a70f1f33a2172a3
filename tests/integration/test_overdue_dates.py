"""Overdue order-by dates and whole order quantities on both engines (issue 15 item 7): the Orders service, the SKU
page's detail, the API's JSON (api.serialize, what the routes return), the CLI list and the approved-orders CSV.

"Today" is pinned: services.orders.queries.today (orders) and services.sku_detail.utcnow (the SKU page) are patched so
the order-by dates of the seeded run fall before it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile

import pytest

from api import serialize
from db.session import session_scope
from services import orders as svc
from services import sku_detail as detail_svc
from tests.integration.test_orders import fast_forecast, orders_by_sku, run, seed  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_forecast")


def _pin_today(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    monkeypatch.setattr(svc.queries, "today", lambda: day)  # the package's one clock
    monkeypatch.setattr(detail_svc, "utcnow", lambda: dt.datetime.combine(day, dt.time(9, 30)))


def test_overdue_on_orders_sku_detail_api_and_cli(db_url, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    seed()
    run()
    a_need = orders_by_sku("recommended")["A-NEED"][0]
    due = a_need.order_by
    assert due is not None

    _pin_today(monkeypatch, due)  # due today: not overdue yet
    assert orders_by_sku("recommended")["A-NEED"][0].overdue_days is None
    with session_scope() as s:
        assert detail_svc.sku_detail(session=s, code="A-NEED").overdue_days is None
        assert svc.order_totals(session=s).overdue == 0

    _pin_today(monkeypatch, due + dt.timedelta(days=6))
    order = orders_by_sku("recommended")["A-NEED"][0]
    assert order.overdue_days == 6
    with session_scope() as s:
        detail = detail_svc.sku_detail(session=s, code="A-NEED")
        totals = svc.order_totals(session=s)
        one = svc.get_order(session=s, order_id=order.id)
    assert detail.order_by_date == due and detail.overdue_days == 6 and one.overdue_days == 6
    assert totals.overdue >= 1
    # the API's JSON: overdue_days, an integer quantity (order multiple 1), ISO dates
    body = json.loads(json.dumps(serialize.order(order)))
    assert body["overdue_days"] == 6 and body["order_by"] == due.isoformat()
    assert isinstance(body["qty"], int) and body["qty"] == order.qty
    sku_body = json.loads(json.dumps(serialize.sku_full(detail)))
    assert sku_body["overdue_days"] == 6 and sku_body["order_by_date"] == due.isoformat()
    assert isinstance(sku_body["recommended_qty"], int) and sku_body["order_policy"] == "reorder_point"
    # an approved order is placed: never overdue
    with session_scope() as s:
        approved = svc.approve_order(session=s, order_id=order.id, user="planner@example.com")
    assert approved.overdue_days is None
    # the CLI list says it too
    from commands.orders import _list

    _list(type("Args", (), {"status": "recommended", "supplier": None})())
    out = capsys.readouterr().out
    assert "[overdue by 6 days]" in out or "overdue by" in out


def test_exports_and_api_write_whole_quantities(db_url) -> None:
    seed()
    run()
    orders = orders_by_sku("recommended")
    with session_scope() as s:
        svc.approve_orders(session=s, order_ids=[orders[c][0].id for c in ("A-NEED", "G-MULT")], user="p@x.org")
    with session_scope() as s:
        _, content = svc.export_approved(session=s, per_supplier_zip=False)
    text = content.decode("utf-8")
    rows = {r["sku"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["A-NEED"]["quantity"] == f"{orders['A-NEED'][0].qty:.0f}"  # "348", never "348.0"
    assert rows["G-MULT"]["quantity"] == f"{orders['G-MULT'][0].qty:.0f}" and int(rows["G-MULT"]["quantity"]) % 24 == 0
    assert all("." not in r["quantity"] for r in rows.values())
    assert rows["A-NEED"]["order_date"] == svc.today().isoformat()  # ISO in exports
    # the per-supplier zip and the workbook too (issue 23): whole quantities, never "348.0"
    with session_scope() as s:
        _, zipped = svc.export_approved(session=s, per_supplier_zip=True)
        _, book = svc.export_approved_workbook(session=s)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        parts = [csv.DictReader(io.StringIO(archive.read(n).decode("utf-8"))) for n in archive.namelist()]
        assert sorted(r["quantity"] for part in parts for r in part) == sorted(r["quantity"] for r in rows.values())
    with zipfile.ZipFile(io.BytesIO(book)) as archive:  # xlsx = zipped XML: quantity cells
        sheets = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    cells = [v for sheet in sheets for v in re.findall(r'<c r="E\d+"(?: s="\d+")?><v>([^<]*)</v>', sheet)]
    assert sorted(cells) == sorted(r["quantity"] for r in rows.values())
