"""Orders page, Transfers tab (issue 21): the tab and its grid, the planner actions called directly, the export,
the status filter, and the server-side guard over HTTP (a viewer cannot approve)."""

from __future__ import annotations

from typing import Any

import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import select, update

from db.models import AuditLog, Transfer
from db.session import session_scope
from layouts import _ids as ids
from tests.integration.test_orders import fast_forecast  # noqa: F401  (fixture)
from tests.integration.test_orders_page import by_id, text_of, walk
from tests.integration.test_transfers import run, seed
from tests.integration.test_watchtower_data import ensure_app

PLANNER = "planner@example.com"


@pytest.fixture
def proposed(sqlite_db, fast_forecast) -> int:  # noqa: F811
    seed()
    run()
    ensure_app()
    with session_scope() as s:
        return s.scalar(select(Transfer.id).where(Transfer.status == "proposed"))


def status_of(transfer_id: int) -> str:
    with session_scope() as s:
        return s.get(Transfer, transfer_id).status


def test_the_tab_lists_the_proposals_with_their_reason(proposed) -> None:
    from layouts import orders

    tree = orders.layout()
    tabs = by_id(tree, ids.ORDERS_TABS)
    assert "transfers" in [t.tab_id for t in tabs.children]
    grid = by_id(tree, ids.TRANSFERS_GRID)
    [row] = grid.rowData
    assert (row["id"], row["item"], row["from_location"], row["to_location"], row["status"]) == (
        proposed,
        "COLA",
        "Rotterdam",
        "Berlin",
        "proposed",
    )
    assert "reorder point" in row["reason"] and row["cost"] > 0
    assert by_id(tree, ids.TRANSFERS_APPROVE).disabled is True  # outside a request nobody is a planner
    assert "policy maximum" in text_of(tree)


def test_actions_edit_approve_receive_and_the_messages(proposed) -> None:
    from callbacks import transfers as cb

    def do(action: str, **kw: Any):
        values = {"qty": None, "reason": None, "receive_qty": None, "receive_date": None, **kw}
        return cb.apply(action, selected=[proposed], user=PLANNER, **values)

    message, changed = cb.apply(
        "edit", selected=[], qty=5, reason="x", receive_qty=None, receive_date=None, user=PLANNER
    )
    assert not changed and "Tick" in message.children
    message, changed = do("edit", qty=5)
    assert not changed and "reason for the change is required" in message.children
    message, changed = do("edit", qty=5, reason="half a pallet")
    assert changed and "5 units now" in message.children
    message, changed = do("approve")
    assert changed and "on order at the receiver" in message.children and status_of(proposed) == "approved"
    message, changed = do("reject")
    assert not changed and message.color == "danger" and "only proposed" in message.children
    message, changed = do("receive", receive_date="1999-01-01")
    assert not changed and "must be between" in message.children
    message, changed = do("receive")
    assert changed and status_of(proposed) == "received"
    with session_scope() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.target == f"transfer:{proposed}")))
    assert actions == ["transfer.edit", "transfer.approve", "transfer.receive"]
    rows, selected = cb.refresh(1, "received")
    assert [r["id"] for r in rows] == [proposed] and selected == []
    assert cb.refresh(1, "open")[0] == [] and len(cb.refresh(1, "bogus")[0]) == 0
    download = cb.export(1)
    assert download["filename"].startswith("transfers-") and download["content"].startswith("id,item,")
    with pytest.raises(PreventUpdate):
        cb.export(None)


def _act_body(transfer_id: int) -> dict[str, Any]:
    from auth.guard import CALLBACK_KEY_ROLES

    key = next(k for k in CALLBACK_KEY_ROLES if f"{ids.TRANSFERS_MESSAGE}.children" in k)
    buttons = (ids.TRANSFERS_APPROVE, ids.TRANSFERS_EDIT_SAVE, ids.TRANSFERS_REJECT, ids.TRANSFERS_RECEIVE)
    states = [
        (ids.TRANSFERS_GRID, "selectedRows", [{"id": transfer_id}]),
        (ids.TRANSFERS_EDIT_QTY, "value", None),
        (ids.TRANSFERS_REASON, "value", None),
        (ids.TRANSFERS_RECEIVE_QTY, "value", None),
        (ids.TRANSFERS_RECEIVE_DATE, "value", None),
        (ids.TRANSFERS_VERSION, "data", 0),
    ]
    return {
        "output": key,
        "outputs": [
            {"id": ids.TRANSFERS_MESSAGE, "property": "children"},
            {"id": ids.TRANSFERS_VERSION, "property": "data"},
            {"id": ids.TRANSFERS_REASON, "property": "value"},
        ],
        "inputs": [
            {"id": b, "property": "n_clicks", "value": 1 if b == ids.TRANSFERS_REJECT else None} for b in buttons
        ],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in states],
        "changedPropIds": [f"{ids.TRANSFERS_REJECT}.n_clicks"],
    }


def test_only_planners_act_over_http(client_as) -> None:
    with session_scope() as s:
        ids_ = list(s.scalars(select(Transfer.id).order_by(Transfer.id)))
        assert len(ids_) >= 2, "the demo has two transfer proposals"
        target = ids_[-1]
        # the shared demo app is also used by tests that act on its proposals (the API fuzz approves): start from a
        # proposal
        s.execute(update(Transfer).where(Transfer.id == target).values(status="proposed"))
    viewer = client_as("viewer")
    assert viewer.get("/orders").status_code == 200
    assert viewer.post("/_dash-update-component", json=_act_body(target)).status_code == 403
    assert status_of(target) == "proposed"
    planner = client_as("planner")
    response = planner.post("/_dash-update-component", json=_act_body(target))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert status_of(target) == "rejected"


def test_the_sku_page_lists_the_item_at_the_other_locations(proposed) -> None:
    from layouts import sku

    tree = sku.layout(code="COLA-BER")
    panel = by_id(tree, ids.SKU_LOCATIONS)
    text = text_of(panel)
    assert "Same item (COLA) at other locations" in text
    assert "COLA-RTM" in text and "Rotterdam" in text and "800" in text
    assert "WATER" not in text
    single = sku.layout(code="WATER-BER")
    assert not [c for c in walk(single) if getattr(c, "id", None) == ids.SKU_LOCATIONS]


def test_the_watchtower_groups_the_items_held_at_several_locations(proposed) -> None:
    from callbacks import watchtower as cb
    from layouts import watchtower

    tree = watchtower.layout()
    assert by_id(tree, ids.WATCHTOWER_ITEMS_SLOT).children is None  # filled after the charts (issue 23)
    panel = cb.items("charts drawn", {})
    assert panel.id == ids.WATCHTOWER_ITEMS
    text = text_of(panel)
    assert "COLA" in text and "Berlin" in text and "Rotterdam" in text and "1 open" in text
    assert "WATER" not in text  # one location: not an item group
    assert "COLA" in text_of(cb.items("charts drawn", {"location": ["Berlin"]}))
    with session_scope() as s:
        [group] = svc_groups(s)
        assert svc_groups(s, locations=("Paris",)) == []  # the location filter keeps the items held there
    assert (
        group["skus"] == 2
        and group["on_hand"] == 800
        and {p["location"] for p in group["places"]}
        == {
            "Berlin",
            "Rotterdam",
        }
    )


def svc_groups(session: Any, **kwargs: Any) -> list[dict[str, Any]]:
    from services.transfers import item_groups

    return item_groups(session=session, **kwargs)
