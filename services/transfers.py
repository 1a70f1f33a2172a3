"""Transfers between locations (issue 21): proposals after each recompute, the planner's approve / edit / reject /
receive steps, the list the Orders page, the API and the CLI show, and the CSV export.

Lifecycle (``transfer.status``)::

    proposed --approve--> approved --receive--> received
        \\--reject--> rejected

Rules:

- :func:`propose_after_run` runs inside a recompute's write transaction (services.recompute.store_run), after the
  recommended purchase orders were synced. It deletes the proposals nobody acted on (``proposed``, no quantity
  edit), then, per item held at two or more locations, asks :func:`core.transfers.propose_transfers` for moves over
  the lanes, using the run's snapshot (on hand, on order, reorder point, order-up-to, lot = the EOQ, forecast) and
  the SKU master (costs, supplier lead time). An edited proposal still standing counts as already moved.
- The receiver's recommended purchase (its ``recommended`` order of this run, not edited by anyone) and its snapshot
  ``recommended_qty`` are reduced by the proposed quantity (a new proposal's, or an edited one's still standing;
  never below 0; an order reduced to 0 is deleted); the order's reason says so.
- An approved transfer counts as on order at the receiver (expected after the lane's lead time, ``expected_date``)
  and is taken from the giver's on hand in the next recompute (services.engine_inputs).
- Receiving writes the stock: the receiver's latest count gets the received quantity added (a position dated on the
  received date, when the count predates it) and the giver's the shipped quantity taken off (when its count
  predates the approval).
- Every state change is audit-logged (``transfer.approve``, ``transfer.edit``, ``transfer.reject``,
  ``transfer.receive``). Invalid requests raise :class:`services.errors.UserFacingError` with the reason.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.calendar import GRAIN_DAYS
from core.transfers import Proposal, Route, Stocking, propose_transfers
from db.models import (
    TRANSFER_STATUSES,
    Lane,
    PurchaseOrder,
    RecomputeRun,
    Sku,
    SkuSnapshot,
    StockPosition,
    Transfer,
    utcnow,
)
from services import audit
from services.csv_safety import safe_frame
from services.errors import UserFacingError

MAX_REASON = 500
JSON_FIELDS = (
    "id",
    "item",
    "from_location",
    "to_location",
    "from_sku",
    "to_sku",
    "quantity",
    "cost",
    "reason",
    "status",
)


# --------------------------------------------------------------------------------------------------------------------
# proposals


def _stockings(session: Session, run_id: int, grain: str | None) -> dict[str, list[Stocking]]:
    """The run's SKUs of every item held at two or more locations, as :class:`core.transfers.Stocking` per item."""
    item = func.coalesce(Sku.item, Sku.code)
    shared = select(item).where(Sku.active.is_(True)).group_by(item).having(func.count(func.distinct(Sku.location)) > 1)
    rows = session.execute(
        select(
            item.label("item"),
            Sku.id,
            Sku.location,
            Sku.unit_cost,
            Sku.unit_price,
            Sku.order_cost,
            Sku.lead_time_mean,
            SkuSnapshot.on_hand,
            SkuSnapshot.on_order,
            SkuSnapshot.reorder_point,
            SkuSnapshot.order_up_to,
            SkuSnapshot.eoq,
            SkuSnapshot.forecast_per_period,
            SkuSnapshot.lead_time_periods,
        )
        .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
        .where(SkuSnapshot.run_id == run_id, Sku.active.is_(True), item.in_(shared))
        .order_by(item, Sku.location, Sku.code)
    ).all()
    days = GRAIN_DAYS.get(grain or "weekly", 7.0)
    pending = _edited_proposals(session)
    by_item: dict[str, list[Stocking]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for r in rows:
        if (r.item, r.location) in seen:  # two SKUs of one item at one location: the first (by code) represents it
            continue
        seen.add((r.item, r.location))
        moved_out, moved_in = pending.get(r.id, (0.0, 0.0))
        lead = _finite(r.lead_time_periods) * days if r.lead_time_periods is not None else float(r.lead_time_mean)
        by_item[r.item].append(
            Stocking(
                sku_id=int(r.id),
                location=r.location,
                on_hand=_finite(r.on_hand) - moved_out,
                on_order=_finite(r.on_order) + moved_in,
                reorder_point=_finite(r.reorder_point),
                order_up_to=_finite(r.order_up_to),
                lot=_finite(r.eoq),
                forecast_per_day=_finite(r.forecast_per_period) / days,
                unit_cost=_finite(r.unit_cost),
                unit_price=_finite(r.unit_price),
                order_cost=_finite(r.order_cost),
                supplier_lead_time_days=lead,
            )
        )
    return by_item


def _finite(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _edited_proposals(session: Session) -> dict[int, tuple[float, float]]:
    """Per SKU: (units leaving, units arriving) in proposals a planner edited (kept across runs)."""
    moves: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for t in session.scalars(
        select(Transfer).where(Transfer.status == "proposed", Transfer.edit_reason.is_not(None))
    ).unique():
        moves[t.from_sku_id][0] += float(t.qty)
        moves[t.to_sku_id][1] += float(t.qty)
    return {k: (v[0], v[1]) for k, v in moves.items()}


def _routes(session: Session) -> list[Route]:
    return [
        Route(
            from_location=lane.from_location,
            to_location=lane.to_location,
            lead_time_days=float(lane.lead_time_days),
            cost_per_unit=float(lane.cost_per_unit),
            min_qty=float(lane.min_qty),
        )
        for lane in session.scalars(select(Lane))
    ]


def propose_after_run(*, session: Session, run_id: int) -> int:
    """Replace the untouched proposals with this run's and reduce the receivers' purchases; returns the count.

    Works in the session's open transaction (the recompute calls it before committing the run); does not commit.
    """
    session.execute(
        delete(Transfer)
        .where(Transfer.status == "proposed", Transfer.edit_reason.is_(None))
        .execution_options(synchronize_session=False)
    )
    routes = _routes(session)
    grain = session.scalar(select(RecomputeRun.grain).where(RecomputeRun.id == run_id))
    now = utcnow()
    standing = [(t, _as_proposal(t)) for t in session.scalars(select(Transfer).where(Transfer.status == "proposed"))]
    if not routes:
        _reduce_purchases(session, run_id, standing)
        return 0
    made: list[tuple[Transfer, Proposal]] = []
    for item, stockings in _stockings(session, run_id, grain).items():
        for proposal in propose_transfers(stockings=stockings, lanes=routes):
            transfer = Transfer(
                run_id=run_id,
                item=item,
                from_sku_id=proposal.from_sku_id,
                to_sku_id=proposal.to_sku_id,
                from_location=proposal.from_location,
                to_location=proposal.to_location,
                qty=proposal.quantity,
                proposed_qty=proposal.quantity,
                cost_per_unit=proposal.cost_per_unit,
                lead_time_days=proposal.lead_time_days,
                status="proposed",
                reason=proposal.reason,
                created_at=now,
            )
            made.append((transfer, proposal))
    session.add_all(t for t, _ in made)
    session.flush()  # one round trip for every proposal's id
    _reduce_purchases(session, run_id, standing + made)  # edited proposals still standing lower the purchase too
    return len(made)


def _as_proposal(t: Transfer) -> Proposal:
    """A stored (edited) proposal in the shape :func:`_reduce_purchases` takes."""
    return Proposal(
        from_sku_id=t.from_sku_id,
        to_sku_id=t.to_sku_id,
        from_location=t.from_location,
        to_location=t.to_location,
        quantity=float(t.qty),
        cost=float(t.qty) * float(t.cost_per_unit),
        buy_cost=float("nan"),
        lead_time_days=float(t.lead_time_days),
        cost_per_unit=float(t.cost_per_unit),
        reason=t.reason,
    )


def _reduce_purchases(session: Session, run_id: int, made: list[tuple[Transfer, Proposal]]) -> None:
    """Each receiver's untouched recommended order of this run (and its snapshot row) less the proposed quantities;
    an order reduced to nothing is deleted."""
    if not made:
        return
    receivers = sorted({p.to_sku_id for _, p in made})
    orders: dict[int, PurchaseOrder] = {}
    snapshots: dict[int, SkuSnapshot] = {}
    for start in range(0, len(receivers), 900):  # SQLite allows 999 bound parameters
        chunk = receivers[start : start + 900]
        for order in session.scalars(
            select(PurchaseOrder).where(
                PurchaseOrder.sku_id.in_(chunk),
                PurchaseOrder.run_id == run_id,
                PurchaseOrder.status == "recommended",
                PurchaseOrder.edit_reason.is_(None),
            )
        ).unique():
            orders.setdefault(order.sku_id, order)
        for row in session.scalars(
            select(SkuSnapshot).where(SkuSnapshot.run_id == run_id, SkuSnapshot.sku_id.in_(chunk))
        ):
            snapshots[row.sku_id] = row
    for transfer, proposal in made:
        order = orders.get(proposal.to_sku_id)
        if order is None:
            continue
        left = max(float(order.qty) - proposal.quantity, 0.0)
        if proposal.to_sku_id in snapshots:
            snapshots[proposal.to_sku_id].recommended_qty = left
        if left <= 0:
            session.delete(order)
            del orders[proposal.to_sku_id]
            continue
        order.qty = left
        order.reason = (
            f"{order.reason} Reduced by {proposal.quantity:,.0f} units proposed for transfer {transfer.id} from "
            f"{proposal.from_location}."
        ).strip()
    session.flush()


# --------------------------------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class TransferView:
    """One transfer as the pages, the API and the CLI show it (plain values)."""

    id: int
    item: str
    from_location: str
    to_location: str
    from_sku: str
    to_sku: str
    quantity: float
    proposed_qty: float | None
    cost_per_unit: float
    cost: float
    lead_time_days: float
    status: str
    reason: str
    edit_reason: str | None
    status_reason: str | None
    created_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None
    expected_date: dt.date | None
    received_by: str | None
    received_date: dt.date | None
    received_qty: float | None

    def as_json(self) -> dict[str, Any]:
        """The issue's JSON shape (``python cli.py transfers --json`` and the API)."""
        return {name: getattr(self, name) for name in JSON_FIELDS}

    def as_row(self) -> dict[str, Any]:
        """Every field, dates as ISO text (grids and the CSV export)."""
        out = dict(self.__dict__)
        for key in ("created_at", "approved_at"):
            out[key] = out[key].isoformat(timespec="minutes") if out[key] else None
        for key in ("expected_date", "received_date"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def _view(t: Transfer) -> TransferView:
    return TransferView(
        id=t.id,
        item=t.item,
        from_location=t.from_location,
        to_location=t.to_location,
        from_sku=t.from_sku.code,
        to_sku=t.to_sku.code,
        quantity=float(t.qty),
        proposed_qty=t.proposed_qty,
        cost_per_unit=float(t.cost_per_unit),
        cost=round(float(t.qty) * float(t.cost_per_unit), 2),
        lead_time_days=float(t.lead_time_days),
        status=t.status,
        reason=t.reason,
        edit_reason=t.edit_reason,
        status_reason=t.status_reason,
        created_at=t.created_at,
        approved_by=t.approved_by,
        approved_at=t.approved_at,
        expected_date=t.expected_date,
        received_by=t.received_by,
        received_date=t.received_date,
        received_qty=t.received_qty,
    )


def list_transfers(*, session: Session, status: str | None = None, limit: int = 5000) -> list[TransferView]:
    """Transfers, newest first; ``status`` one of proposed / approved / received / rejected (None: all)."""
    query = select(Transfer).order_by(Transfer.id.desc()).limit(limit)
    if status is not None:
        if status not in TRANSFER_STATUSES:
            raise UserFacingError(f"status must be one of {', '.join(TRANSFER_STATUSES)}, not {status!r}")
        query = query.where(Transfer.status == status)
    return [_view(t) for t in session.scalars(query).unique()]


def transfers_json(*, session: Session, status: str | None = None) -> dict[str, Any]:
    """``{"transfers": [{id, item, from_location, to_location, from_sku, to_sku, quantity, cost, reason, status}]}``."""
    return {"transfers": [t.as_json() for t in list_transfers(session=session, status=status)]}


def item_locations(*, session: Session, code: str) -> list[dict[str, Any]]:
    """The other locations of ``code``'s item in the latest finished run: sku, location, on hand, days of cover,
    status (None where the SKU has no snapshot row)."""
    sku = session.scalar(select(Sku).where(Sku.code == code))
    if sku is None:
        return []
    item = sku.item or sku.code
    run_id = session.scalar(
        select(RecomputeRun.id).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(1)
    )
    snapshot = (SkuSnapshot.sku_id == Sku.id) & (SkuSnapshot.run_id == (run_id or -1))
    rows = session.execute(
        select(Sku.code, Sku.location, SkuSnapshot.on_hand, SkuSnapshot.days_of_cover, SkuSnapshot.status)
        .outerjoin(SkuSnapshot, snapshot)
        .where(func.coalesce(Sku.item, Sku.code) == item, Sku.id != sku.id)
        .order_by(Sku.location, Sku.code)
    ).all()
    keys = ("sku", "location", "on_hand", "days_of_cover", "status")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def item_groups(*, session: Session, locations: tuple[str, ...] = (), limit: int = 100) -> list[dict[str, Any]]:
    """One row per item stocked at two or more locations, in the latest finished run (the Watchtower's "by item"
    view): item, name, SKU count, on hand in total, open transfers, and per location its SKU, status and cover.
    ``locations``: only items held at one of them. Items with a location at risk first, then by item."""
    run_id = session.scalar(
        select(RecomputeRun.id).where(RecomputeRun.status == "finished").order_by(RecomputeRun.id.desc()).limit(1)
    )
    if run_id is None:
        return []
    item = func.coalesce(Sku.item, Sku.code)
    shared = select(item).where(Sku.active.is_(True)).group_by(item).having(func.count(func.distinct(Sku.location)) > 1)
    query = (
        select(item.label("item"), Sku.code, Sku.name, Sku.location, SkuSnapshot.status, SkuSnapshot.on_hand)
        .add_columns(SkuSnapshot.days_of_cover)
        .join(SkuSnapshot, (SkuSnapshot.sku_id == Sku.id) & (SkuSnapshot.run_id == run_id))
        .where(Sku.active.is_(True), item.in_(shared))
        .order_by(item, Sku.location, Sku.code)
    )
    groups: dict[str, dict[str, Any]] = {}
    for r in session.execute(query):
        group = groups.setdefault(r.item, {"item": r.item, "name": r.name, "on_hand": 0.0, "places": []})
        group["on_hand"] += _finite(r.on_hand)
        group["places"].append(
            {"sku": r.code, "location": r.location, "status": r.status, "days_of_cover": r.days_of_cover}
        )
    open_moves = dict(
        session.execute(
            select(Transfer.item, func.count())
            .where(Transfer.status.in_(("proposed", "approved")))
            .group_by(Transfer.item)
        ).all()
    )
    rows = [
        {**g, "skus": len(g["places"]), "open_transfers": int(open_moves.get(g["item"], 0))}
        for g in groups.values()
        if not locations or any(p["location"] in locations for p in g["places"])
    ]
    rows.sort(key=lambda g: (not any(p["status"] == "stockout_risk" for p in g["places"]), g["item"]))
    return rows[:limit]


def export_csv(*, session: Session, status: str | None = None) -> str:
    """Transfers as spreadsheet-safe CSV (every field; newest first)."""
    rows = [t.as_row() for t in list_transfers(session=session, status=status)]
    columns = list(TransferView.__dataclass_fields__)
    buffer = io.StringIO()
    safe_frame(pd.DataFrame(rows, columns=columns)).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------------------------
# planner actions


def _load(session: Session, transfer_id: Any) -> Transfer:
    try:
        key = int(transfer_id)
    except (TypeError, ValueError):
        raise UserFacingError(f"transfer id must be a whole number, got {transfer_id!r}") from None
    transfer = session.scalars(select(Transfer).where(Transfer.id == key).with_for_update(of=Transfer)).unique().first()
    if transfer is None:
        raise UserFacingError(f"there is no transfer {key}")
    return transfer


def _who(user: str | None) -> str:
    who = (user or "").strip()
    if not who:
        raise UserFacingError("who is acting must be known (user is empty)")
    return who[:255]


def _label(t: Transfer) -> str:
    return f"transfer {t.id} ({t.item}, {t.qty:,.0f} units {t.from_location} -> {t.to_location})"


def _expect(t: Transfer, allowed: tuple[str, ...], action: str) -> None:
    if t.status not in allowed:
        raise UserFacingError(f"cannot {action} {_label(t)}: it is {t.status}, only {' or '.join(allowed)} ones can be")


def _quantity(value: Any, name: str) -> float:
    try:
        qty = float(value)
    except (TypeError, ValueError):
        raise UserFacingError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(qty) or qty <= 0:
        raise UserFacingError(f"{name} must be a number above 0, got {value!r}")
    return qty


def _text(value: Any, name: str, *, required: bool) -> str | None:
    text = " ".join(str(value or "").split())
    if not text and required:
        raise UserFacingError(f"a {name} is required")
    if len(text) > MAX_REASON:
        raise UserFacingError(f"the {name} is too long ({len(text)} characters, at most {MAX_REASON})")
    return text or None


def approve_transfer(*, session: Session, transfer_id: Any, user: str) -> TransferView:
    """Approve a proposed transfer: the giver ships now, the receiver expects it after the lane's lead time."""
    who = _who(user)
    t = _load(session, transfer_id)
    _expect(t, ("proposed",), "approve")
    now = utcnow()
    t.status, t.approved_by, t.approved_at = "approved", who, now
    t.expected_date = now.date() + dt.timedelta(days=math.ceil(float(t.lead_time_days)))
    audit.record(
        session=session,
        action="transfer.approve",
        user_email=who,
        target=f"transfer:{t.id}",
        details={"item": t.item, "qty": t.qty, "from": t.from_location, "to": t.to_location},
    )
    session.flush()
    return _view(t)


def edit_transfer(*, session: Session, transfer_id: Any, qty: Any, reason: Any, user: str) -> TransferView:
    """Change a proposed transfer's quantity, with a reason (kept; the proposal survives later recomputes)."""
    who = _who(user)
    quantity = _quantity(qty, "the quantity")
    why = _text(reason, "reason for the change", required=True)
    t = _load(session, transfer_id)
    _expect(t, ("proposed",), "edit")
    giver_stock = _latest_stock(session, t.from_sku_id)
    if giver_stock is not None and quantity > float(giver_stock.on_hand):
        raise UserFacingError(
            f"cannot move {quantity:,.0f} units: {t.from_location} has {float(giver_stock.on_hand):,.0f} on hand"
        )
    before = float(t.qty)
    t.qty, t.edit_reason = quantity, why
    audit.record(
        session=session,
        action="transfer.edit",
        user_email=who,
        target=f"transfer:{t.id}",
        details={"item": t.item, "from_qty": before, "to_qty": quantity, "reason": why},
    )
    session.flush()
    return _view(t)


def reject_transfer(*, session: Session, transfer_id: Any, user: str, reason: Any = None) -> TransferView:
    """Reject a proposed transfer (the reason is optional and kept)."""
    who = _who(user)
    why = _text(reason, "reason", required=False)
    t = _load(session, transfer_id)
    _expect(t, ("proposed",), "reject")
    t.status, t.rejected_by, t.rejected_at, t.status_reason = "rejected", who, utcnow(), why
    audit.record(
        session=session,
        action="transfer.reject",
        user_email=who,
        target=f"transfer:{t.id}",
        details={"item": t.item, "qty": t.qty, "reason": why},
    )
    session.flush()
    return _view(t)


def receive_transfer(
    *, session: Session, transfer_id: Any, user: str, received_qty: Any = None, received_date: Any = None
) -> TransferView:
    """Mark an approved transfer received (quantity: the transfer's when not given; date: today when not given) and
    write both locations' stock (module docstring)."""
    who = _who(user)
    t = _load(session, transfer_id)
    _expect(t, ("approved",), "receive")
    qty = float(t.qty) if received_qty in (None, "") else _quantity(received_qty, "the received quantity")
    today = utcnow().date()
    try:
        when = today if received_date in (None, "") else dt.date.fromisoformat(str(received_date).strip()[:10])
    except ValueError:
        raise UserFacingError(f"the received date must be a date (YYYY-MM-DD), got {received_date!r}") from None
    shipped = t.approved_at.date() if t.approved_at else when
    if when < shipped or when > today:
        raise UserFacingError(f"the received date {when.isoformat()} must be between {shipped.isoformat()} and today")
    t.status, t.received_by, t.received_at, t.received_date, t.received_qty = "received", who, utcnow(), when, qty
    added = _adjust_stock(session, t.to_sku_id, when, qty)
    taken = _adjust_stock(session, t.from_sku_id, shipped, -float(t.qty))
    audit.record(
        session=session,
        action="transfer.receive",
        user_email=who,
        target=f"transfer:{t.id}",
        details={
            "item": t.item,
            "qty": t.qty,
            "received_qty": qty,
            "received_date": when.isoformat(),
            "receiver_stock_written": added,
            "giver_stock_written": taken,
        },
    )
    session.flush()
    return _view(t)


def _latest_stock(session: Session, sku_id: int) -> StockPosition | None:
    return session.scalar(
        select(StockPosition).where(StockPosition.sku_id == sku_id).order_by(StockPosition.as_of.desc()).limit(1)
    )


def _adjust_stock(session: Session, sku_id: int, when: dt.date, qty: float) -> bool:
    """A stock position dated ``when`` with ``qty`` added to the latest count's on hand (never below 0), unless the
    latest count is from ``when`` or later (it includes the move already)."""
    latest = _latest_stock(session, sku_id)
    if latest is not None and latest.as_of >= when:
        return False
    session.add(
        StockPosition(
            sku_id=sku_id,
            as_of=when,
            on_hand=max((float(latest.on_hand) if latest else 0.0) + qty, 0.0),
            on_order=float(latest.on_order) if latest else 0.0,
        )
    )
    return True
