"""Data page for issue 21: a lanes file through upload -> check -> import, the Lanes tab (grid and export), the
column reference, and the SKU grid's item column (shown, edited with the import's rules)."""

from __future__ import annotations

from typing import Any

from db.models import Sku
from db.session import session_scope
from layouts import _ids as ids
from tests.integration.test_ingest_datapage import by_id, cb, data_url, page, text_of  # noqa: F401  (fixtures)

LANES = "from_location,to_location,lead_time_days,cost_per_unit,min_qty\nBerlin,Paris,2,0.2,12\nParis,Berlin,3,-1,\n"


def _seed() -> None:
    with session_scope() as s:
        s.add_all([Sku(code="C-BER", location="Berlin", item="COLA"), Sku(code="C-PAR", location="Paris")])


def test_lanes_upload_check_import_grid_and_export(cb) -> None:  # noqa: F811
    from callbacks import data_lanes

    _seed()
    staged, _message, _ = cb.stage_upload(data_url(LANES), "lanes.csv", "lanes", None)
    progress: list[Any] = []
    preview, disabled, *_ = cb.check_upload(progress.append, staged, "lanes", "reject", False, None)
    assert disabled is True and "negative value" in text_of(preview) and "line 3" in text_of(preview)
    preview, disabled, label, *_ = cb.check_upload(progress.append, staged, "lanes", "skip", False, None)
    assert disabled is False and label == "Import 1 rows"
    summary, *_ = cb.run_import(progress.append, 1, staged, "lanes", "skip", False, None, 0)
    assert "1 inserted" in text_of(summary)
    [row] = data_lanes.load_lanes(1)
    assert (row["from_location"], row["to_location"], row["cost_per_unit"], row["min_qty"]) == (
        "Berlin",
        "Paris",
        0.2,
        12,
    )
    download = data_lanes.export_lanes(1)
    assert download["filename"].startswith("lanes-") and "Berlin,Paris,2.0,0.2,12.0" in download["content"]


def test_the_sku_grid_shows_and_edits_the_item(cb, page) -> None:  # noqa: F811
    _seed()
    tree = page.layout()
    assert "item" in [c["field"] for c in by_id(tree, ids.DATA_SKU_GRID).columnDefs]
    assert by_id(tree, ids.DATA_LANES_GRID) is not None
    assert "Import them with the kind 'Lanes'" in text_of(tree)
    skus, *_ = cb.load_tables(1)
    rows = {r["sku"]: r for r in skus}
    assert rows["C-BER"]["item"] == "COLA" and rows["C-PAR"]["item"] == "C-PAR"  # NULL reads as the code
    change = [{"colId": "item", "newValue": "COLA", "oldValue": "C-PAR", "data": rows["C-PAR"]}]
    message, _version = cb.edit_sku(change, 1)
    assert "danger" not in str(message)
    blank = [{"colId": "item", "newValue": "", "oldValue": "COLA", "data": rows["C-PAR"]}]
    message, _ = cb.edit_sku(blank, 2)
    assert "item: missing value" in text_of(message)
    with session_scope() as s:
        assert s.get(Sku, rows["C-PAR"]["id"]).item == "COLA"
