"""Transfers between locations (issue 21) on SQLite and PostgreSQL, through real recomputes: one item full at one
location and empty at another gets a proposal within its bounds; none without a lane or where buying is cheaper;
the receiver's purchase shrinks; approve / edit / reject / receive with audit rows; an approved transfer moves both
positions in the next recompute; the CLI's JSON shape."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from db.models import AuditLog, Demand, Lane, PurchaseOrder, Sku, SkuSnapshot, StockPosition, Transfer
from db.session import session_scope
from services import transfers as svc
from services.errors import UserFacingError
from tests.integration.test_orders import DATES, LAST, fast_forecast  # noqa: F401  (fixture)

WEEKLY = 20.0


def seed(*, full: float = 40 * WEEKLY, lane_cost: float | None = 0.1, order_cost: float = 20.0) -> None:
    """COLA at Rotterdam (``full`` on hand: 40 weeks of demand by default) and Berlin (empty), WATER at Berlin only."""
    with session_scope() as s:
        for code, location, item, on_hand in (
            ("COLA-RTM", "Rotterdam", "COLA", full),
            ("COLA-BER", "Berlin", "COLA", 0.0),
            ("WATER-BER", "Berlin", "WATER", 0.0),
        ):
            sku = Sku(
                code=code,
                name=code,
                location=location,
                item=item,
                unit_cost=2.0,
                unit_price=4.0,
                order_cost=order_cost,
                lead_time_mean=14.0,
                lead_time_std=2.0,
                supplier="Acme",
            )
            s.add(sku)
            s.flush()
            s.add_all([Demand(sku_id=sku.id, period=d, quantity=WEEKLY + (k % 3) - 1) for k, d in enumerate(DATES)])
            s.add(StockPosition(sku_id=sku.id, as_of=LAST, on_hand=on_hand, on_order=0.0))
        if lane_cost is not None:
            s.add(Lane(from_location="Rotterdam", to_location="Berlin", lead_time_days=2, cost_per_unit=lane_cost))


def run() -> int:
    from services.recompute import recompute

    with session_scope() as s:
        summary = recompute(session=s, triggered_by="tests")
    assert summary.status == "finished"
    return int(summary.run_id)


def snapshot(run_id: int, code: str) -> SkuSnapshot:
    with session_scope() as s:
        row = s.scalars(
            select(SkuSnapshot)
            .join(Sku, Sku.id == SkuSnapshot.sku_id)
            .where(SkuSnapshot.run_id == run_id, Sku.code == code)
        ).one()
        s.expunge(row)
        return row


def proposals() -> list[svc.TransferView]:
    with session_scope() as s:
        return svc.list_transfers(session=s, status="proposed")


def test_a_full_location_gives_to_an_empty_one_within_the_bounds(db_url, fast_forecast) -> None:  # noqa: F811
    seed()
    run_id = run()
    [t] = proposals()
    giver, receiver = snapshot(run_id, "COLA-RTM"), snapshot(run_id, "COLA-BER")
    assert (t.item, t.from_sku, t.to_sku, t.from_location, t.to_location) == (
        "COLA",
        "COLA-RTM",
        "COLA-BER",
        "Rotterdam",
        "Berlin",
    )
    assert t.quantity > 0
    assert t.quantity <= receiver.order_up_to - receiver.inventory_position + 1e-9  # never above the receiver's need
    assert giver.on_hand - t.quantity >= giver.reorder_point  # the giver stays at or above its reorder point
    assert giver.on_hand - t.quantity >= giver.reorder_point + giver.eoq - 1e-9  # ... + lot
    assert t.cost == pytest.approx(t.quantity * 0.1)
    assert "Berlin is at 0 units" in t.reason and "Rotterdam holds 800" in t.reason and "order cost 20.00" in t.reason
    with session_scope() as s:  # the receiver's purchase is reduced by the proposal
        order = s.scalars(
            select(PurchaseOrder).join(Sku, Sku.id == PurchaseOrder.sku_id).where(Sku.code == "COLA-BER")
        ).first()
    if order is not None:
        assert order.recommended_qty - order.qty == pytest.approx(t.quantity)
        assert f"transfer {t.id}" in order.reason
        assert receiver.recommended_qty == pytest.approx(order.qty)
    else:
        assert receiver.recommended_qty == 0
    assert {t.to_sku for t in proposals()} == {"COLA-BER"}  # WATER has one location: nothing to move


def test_no_lane_no_transfer(db_url, fast_forecast) -> None:  # noqa: F811
    seed(lane_cost=None)
    run()
    assert proposals() == []


def test_none_where_buying_is_cheaper(db_url, fast_forecast) -> None:  # noqa: F811
    seed(lane_cost=5.0)  # 5 a unit vs an order cost of 20 and 2 of margin on the ~34 units 12 faster days protect
    run()
    assert proposals() == []


def test_approved_transfer_moves_both_positions_and_the_lifecycle_is_audited(db_url, fast_forecast) -> None:  # noqa: F811
    seed()
    first = run()
    [t] = proposals()
    with session_scope() as s:
        edited = svc.edit_transfer(session=s, transfer_id=t.id, qty=t.quantity - 1, reason="truck space", user="pl@x")
    assert edited.quantity == t.quantity - 1 and edited.edit_reason == "truck space"
    with session_scope() as s:
        approved = svc.approve_transfer(session=s, transfer_id=t.id, user="pl@x")
    assert approved.status == "approved" and approved.expected_date is not None
    with session_scope() as s, pytest.raises(UserFacingError, match="only proposed"):
        svc.reject_transfer(session=s, transfer_id=t.id, user="pl@x")
    second = run()
    qty = approved.quantity
    assert snapshot(second, "COLA-RTM").on_hand == pytest.approx(snapshot(first, "COLA-RTM").on_hand - qty)
    assert snapshot(second, "COLA-BER").on_order == pytest.approx(snapshot(first, "COLA-BER").on_order + qty)
    with session_scope() as s:
        assert s.get(Transfer, t.id).status == "approved"  # a recompute never touches an approved transfer
        received = svc.receive_transfer(session=s, transfer_id=t.id, user="pl@x")
    assert received.status == "received" and received.received_qty == qty
    with session_scope() as s:
        actions = [a for (a,) in s.execute(select(AuditLog.action).where(AuditLog.target == f"transfer:{t.id}"))]
        stock = {
            code: s.scalars(
                select(StockPosition.on_hand)
                .join(Sku, Sku.id == StockPosition.sku_id)
                .where(Sku.code == code)
                .order_by(StockPosition.as_of.desc())
            ).first()
            for code in ("COLA-RTM", "COLA-BER")
        }
    assert actions == ["transfer.edit", "transfer.approve", "transfer.receive"]
    assert stock == {"COLA-RTM": 800 - qty, "COLA-BER": qty}


def test_reject_and_bad_requests(db_url, fast_forecast) -> None:  # noqa: F811
    seed()
    run()
    [t] = proposals()
    with session_scope() as s:
        for kwargs, message in (
            ({"qty": -1, "reason": "x"}, "above 0"),
            ({"qty": "many", "reason": "x"}, "must be a number"),
            ({"qty": 5, "reason": " "}, "reason for the change is required"),
            ({"qty": 10_000, "reason": "x"}, "has 800 on hand"),
        ):
            with pytest.raises(UserFacingError, match=message):
                svc.edit_transfer(session=s, transfer_id=t.id, user="pl@x", **kwargs)
        with pytest.raises(UserFacingError, match="no transfer 999"):
            svc.approve_transfer(session=s, transfer_id=999, user="pl@x")
        with pytest.raises(UserFacingError, match="only approved"):
            svc.receive_transfer(session=s, transfer_id=t.id, user="pl@x")
        rejected = svc.reject_transfer(session=s, transfer_id=t.id, user="pl@x", reason="local promo")
    assert (rejected.status, rejected.status_reason) == ("rejected", "local promo")
    run()  # a rejected proposal stays rejected; the next run proposes afresh
    assert len(proposals()) == 1
    with session_scope() as s:
        document = svc.transfers_json(session=s)
        csv_text = svc.export_csv(session=s)
    assert [set(d) for d in document["transfers"]] == [set(svc.JSON_FIELDS)] * 2
    assert {d["status"] for d in document["transfers"]} == {"proposed", "rejected"}
    assert json.loads(json.dumps(document, default=str))
    assert csv_text.splitlines()[0].startswith("id,item,from_location,to_location")


def test_cli_imports_lanes_and_lists_transfers_as_json(db_url, fast_forecast, tmp_path, capsys) -> None:  # noqa: F811
    import cli

    seed(lane_cost=None)
    lanes = tmp_path / "lanes.csv"
    lanes.write_text("from_location,to_location,lead_time_days,cost_per_unit\nRotterdam,Berlin,2,0.1\n")
    assert cli.main(["import", "lanes", str(lanes)]) == 0  # committed, then the recompute proposes over the lane
    capsys.readouterr()
    assert cli.main(["transfers", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [t] = document["transfers"]
    assert set(t) == set(svc.JSON_FIELDS)
    assert (t["item"], t["from_sku"], t["to_sku"], t["status"]) == ("COLA", "COLA-RTM", "COLA-BER", "proposed")
    assert cli.main(["transfers", "--status", "approved"]) == 0
    assert "0 transfer(s)" in capsys.readouterr().out
    assert cli.main(["export", "lanes", "-"]) == 0
    assert "Rotterdam,Berlin,2.0,0.1,1.0" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("from_location,to_location,lead_time_days,cost_per_unit\nAtlantis,Berlin,2,0.1\n")
    assert cli.main(["import", "lanes", str(bad)]) != 0
    assert "unknown location" in capsys.readouterr().out


def test_an_edited_proposal_stands_and_keeps_lowering_the_purchase(db_url, fast_forecast) -> None:  # noqa: F811
    seed()
    run()
    [t] = proposals()
    with session_scope() as s:
        svc.edit_transfer(session=s, transfer_id=t.id, qty=10, reason="one pallet", user="pl@x")
    second = run()
    by_id = {p.id: p for p in proposals()}
    assert by_id.pop(t.id).quantity == 10  # the edited proposal stands
    [extra] = by_id.values()  # the receiver counts it as on its way: a second one covers the rest of its need
    receiver = snapshot(second, "COLA-BER")
    assert extra.quantity <= receiver.order_up_to - (receiver.inventory_position + 10) + 1e-9
    with session_scope() as s:
        order = s.scalars(
            select(PurchaseOrder)
            .join(Sku, Sku.id == PurchaseOrder.sku_id)
            .where(Sku.code == "COLA-BER", PurchaseOrder.run_id == second)
        ).first()
    if order is not None:
        assert order.recommended_qty - order.qty == pytest.approx(10 + extra.quantity)
        assert f"transfer {t.id}" in order.reason and f"transfer {extra.id}" in order.reason
        assert receiver.recommended_qty == pytest.approx(order.qty)
    else:
        assert receiver.recommended_qty == 0
