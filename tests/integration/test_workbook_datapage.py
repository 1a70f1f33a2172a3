"""Data page with workbooks: the check reads the matching sheet and fills the sheet picker, picking a sheet checks
it again and the import reads it; Excel exports keep the role check and the audit (callbacks called directly and
over HTTP)."""

from __future__ import annotations

import base64
import io
import json
import os

import pytest
import python_calamine as calamine
import xlsxwriter
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from db.models import AuditLog, Demand
from db.session import session_scope
from layouts import _ids as ids
from services.ingest import uploads
from settings import get_settings
from tests.integration.test_api import _a_sku_code, _auth, isolated, tokens_isolated  # noqa: F401 - fixtures
from tests.integration.test_ingest_datapage import cb, text_of, triggered  # noqa: F401 - the fixture


def workbook_url() -> str:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Read me").write(0, 0, "Sales per week")
    for name, rows in (("North", [("0101", 1)]), ("South", [("0101", 2), ("0202", 3)])):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["week", "item", "units"])
        for r, (code, qty) in enumerate(rows, start=1):
            sheet.write_string(r, 0, "2024-01-01")
            sheet.write_string(r, 1, code)
            sheet.write_number(r, 2, qty)
    book.close()
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return f"data:{kind};base64," + base64.b64encode(buffer.getvalue()).decode()


def test_the_sheet_picker_and_the_import_of_the_picked_sheet(cb) -> None:  # noqa: F811
    staged, message, _ = cb.stage_upload(workbook_url(), "sales.xlsx", "demand", None)
    assert "Received sales.xlsx" in text_of(message)
    out = cb.check_upload(lambda *_: None, staged, "demand", "reject", True, None, False)
    preview, disabled, label = out[:3]
    options, value, style, read = out[-4:]
    assert [o["value"] for o in options] == ["Read me", "North", "South"] and value == read == "North"
    assert style == {"display": "block"} and disabled is False and label == "Import 1 rows"
    assert "Excel workbook (.xlsx), sheet 'North'" in text_of(preview)
    with pytest.raises(PreventUpdate):
        cb.sheet_changed("North", "North", staged)  # the check itself set the picker: nothing to do
    picked = cb.sheet_changed("South", "North", staged)
    assert picked["sheet"] == "South" and picked["token"] == staged["token"]
    out = cb.check_upload(lambda *_: None, picked, "demand", "reject", True, None, False)
    assert out[2] == "Import 2 rows" and out[-1] == "South"
    summary, *_ = cb.run_import(lambda *_: None, 1, picked, "demand", "reject", True, None, 0)
    assert "2 inserted" in text_of(summary)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Demand)) == 2
    sheets = get_settings().data_dir / "uploads" / "sheets"
    assert list(sheets.glob("*.csv")) == []  # each check and import removes the sheet it wrote
    left = sheets / "killed-import.csv"
    left.write_text("date,sku,quantity\n")
    os.utime(left, (0, 0))
    uploads.cleanup()
    assert not left.exists()


def test_a_csv_hides_the_sheet_picker(cb) -> None:  # noqa: F811
    csv = "data:text/csv;base64," + base64.b64encode(b"date,sku,quantity\n2024-01-01,A,1\n").decode()
    staged, *_ = cb.stage_upload(csv, "a.csv", "demand", None)
    out = cb.check_upload(lambda *_: None, staged, "demand", "reject", True, None, False)
    assert out[-4:] == ([], None, {"display": "none"}, None)


def test_the_excel_export_of_a_table(cb) -> None:  # noqa: F811
    cb.add_sku(1, "EVIL-1", "=EVIL()", None, None, None, None, 0)
    prop = json.dumps({"table": "skus", "type": ids.DATA_EXPORT_XLSX}) + ".n_clicks"
    sent = triggered(prop, cb.export_workbook, [1])
    assert sent["filename"].startswith("skus-") and sent["filename"].endswith(".xlsx")
    book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(base64.b64decode(sent["content"])))
    header, *rows = book.get_sheet_by_name("skus").to_python()
    assert header[:2] == ["sku", "name"] and ["EVIL-1", "'=EVIL()"] in [r[:2] for r in rows]
    with session_scope() as session:
        last = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert (last.action, last.target, last.details["format"]) == ("data.export", "export:skus", "xlsx")


def _xlsx_body(app, table: str) -> dict:
    """The request the Excel button of ``table`` sends (its output carries Dash's allow_duplicate suffix)."""
    key = next(k for k, spec in app.callback_map.items() if ids.DATA_EXPORT_XLSX in json.dumps(spec["inputs"]))
    button = {"id": {"type": ids.DATA_EXPORT_XLSX, "table": table}, "property": "n_clicks", "value": 1}
    changed = json.dumps({"table": table, "type": ids.DATA_EXPORT_XLSX}, separators=(",", ":")) + ".n_clicks"
    return {
        "output": key,
        "outputs": {"id": ids.DATA_DOWNLOAD, "property": key.split(".", 1)[1]},
        "inputs": [[button]],
        "changedPropIds": [changed],
    }


def test_excel_exports_keep_the_role_check_over_http(demo_app, client_as) -> None:
    viewer = client_as("viewer")
    refused = viewer.post("/_dash-update-component", json=_xlsx_body(demo_app, "audit"))
    assert refused.status_code == 403 and "user_email" not in refused.get_data(as_text=True)
    allowed = viewer.post("/_dash-update-component", json=_xlsx_body(demo_app, "skus"))
    assert allowed.status_code == 200
    payload = allowed.get_json()["response"][ids.DATA_DOWNLOAD]["data"]
    assert payload["filename"].endswith(".xlsx") and payload["base64"] is True
    anonymous = demo_app.server.test_client().post("/_dash-update-component", json=_xlsx_body(demo_app, "skus"))
    assert anonymous.status_code in (401, 403)


def test_import_a_workbook_through_the_api(isolated, tokens_isolated) -> None:  # noqa: F811
    client = isolated.server.test_client()
    planner = _auth(tokens_isolated["planner"])
    code = _a_sku_code(client, tokens_isolated["viewer"])
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Notes").write(0, 0, "counted on Friday")
    for name, on_hand in (("Stock", 12), ("Stock B", 30)):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, ["sku", "on_hand"])
        sheet.write_string(1, 0, code)
        sheet.write_number(1, 1, on_hand)
    book.close()

    def post(**form: str):
        data = {"file": (io.BytesIO(buffer.getvalue()), "count.xlsx"), "dry_run": "true", **form}
        return client.post("/api/v1/imports/stock", headers=planner, data=data, content_type="multipart/form-data")

    first = post().get_json()["data"]
    assert first["status"] == "checked" and first["format"]["sheet"] == "Stock"
    assert first["format"]["sheets"] == ["Notes", "Stock", "Stock B"]
    assert post(sheet="Stock B").get_json()["data"]["format"]["sheet"] == "Stock B"
    missing = post(sheet="Nope")
    assert missing.status_code == 422
    assert "the workbook has no sheet 'Nope'" in missing.get_json()["error"]["message"]
    locked = {
        "file": (io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le")), "x.xlsx")
    }
    refused = client.post("/api/v1/imports/stock", headers=planner, data=locked, content_type="multipart/form-data")
    assert refused.status_code == 422 and "password-protected" in refused.get_json()["error"]["message"]


def test_problems_name_the_sheet_and_its_rows(cb) -> None:  # noqa: F811
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Week 3")
    sheet.write(0, 0, "Sales, week 3")  # a title row: the header is row 2
    sheet.write_row(1, 0, ["date", "sku", "quantity"])
    sheet.write_row(2, 0, ["2024-01-15", "0101", 4])
    sheet.write_row(3, 0, ["2024-01-15", "0202", "many"])
    book.close()
    url = "data:application/octet-stream;base64," + base64.b64encode(buffer.getvalue()).decode()
    staged, *_ = cb.stage_upload(url, "week3.xlsx", "demand", None)
    out = cb.check_upload(lambda *_: None, staged, "demand", "reject", True, None, False)
    text = text_of(out[0])
    assert "sheet 'Week 3', row 4" in text and "column 'quantity'" in text and "not a number" in text
    assert out[1] is True  # nothing to import
