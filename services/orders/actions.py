"""The planner's steps on an order: approve (one or many), edit the quantity, reject, cancel, receive. Every state
change is audit-logged; invalid requests raise :class:`services.errors.UserFacingError` with the reason.

Part of :mod:`services.orders` (the lifecycle and rules are in its docstring)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import (
    PurchaseOrder,
    Receipt,
    StockPosition,
    utcnow,
)
from services import audit
from services.errors import UserFacingError
from services.orders import queries
from services.orders.queries import MAX_BATCH, MAX_REASON, OPEN_STATUSES, OrderView, load_order, order_view
from services.orders.recommend import qty_text


def _who(user: str | None) -> str:
    who = (user or "").strip()
    if not who:
        raise UserFacingError("who is acting must be known (user is empty)")
    return who[:255]


def _label(po: PurchaseOrder) -> str:
    return f"order {po.id} ({po.sku.code}, {qty_text(po.qty)} units)"


def _expect(po: PurchaseOrder, allowed: Iterable[str], action: str) -> None:
    allowed = tuple(allowed)
    if po.status not in allowed:
        need = " or ".join(allowed)
        raise UserFacingError(f"cannot {action} {_label(po)}: it is {po.status}, only {need} orders can be")


def _quantity(value: Any, name: str) -> float:
    try:
        qty = float(value)
    except (TypeError, ValueError):
        raise UserFacingError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(qty):
        raise UserFacingError(f"{name} must be a finite number, got {value!r}")
    if qty < 0:
        raise UserFacingError(f"{name} cannot be negative (got {qty_text(qty)})")
    return qty


def _text(value: Any, name: str, *, required: bool) -> str | None:
    text = " ".join(str(value or "").split())
    if not text:
        if required:
            raise UserFacingError(f"a {name} is required")
        return None
    if len(text) > MAX_REASON:
        raise UserFacingError(f"the {name} is too long ({len(text)} characters, at most {MAX_REASON})")
    return text


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise UserFacingError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None


def _approve(session: Session, po: PurchaseOrder, who: str, now: dt.datetime) -> dict[str, Any]:
    _expect(po, ("recommended",), "approve")
    if po.qty <= 0:
        raise UserFacingError(f"cannot approve {_label(po)}: the quantity is 0; edit it or reject the order")
    po.status = "approved"
    po.approved_by = who
    po.approved_at = now
    po.order_date = now.date()
    po.promised_date = now.date() + dt.timedelta(days=round(float(po.sku.lead_time_mean or 0.0)))
    return {"order_id": po.id, "sku": po.sku.code, "qty": po.qty, "supplier": po.supplier}


def approve_order(*, session: Session, order_id: int, user: str) -> OrderView:
    """Approve a recommended order: it becomes on order (order date today, promised date + master lead time).

    Raises
    ------
    UserFacingError
        Unknown order, not ``recommended`` (e.g. already received), or quantity 0.
    """
    who = _who(user)
    po = load_order(session, order_id, lock=True)
    details = _approve(session, po, who, utcnow())
    audit.record(session=session, action="order.approve", user_email=who, target=f"order:{po.id}", details=details)
    session.flush()
    return order_view(po)


def approve_orders(*, session: Session, order_ids: Sequence[int], user: str) -> list[OrderView]:
    """Approve several recommended orders at once: all or none.

    Raises
    ------
    UserFacingError
        No ids, an unknown id, or an order that cannot be approved (the message names it; nothing is approved).
    """
    who = _who(user)
    keys = list(dict.fromkeys(order_ids or []))
    if not keys:
        raise UserFacingError("select at least one order to approve")
    if len(keys) > MAX_BATCH:
        raise UserFacingError(f"approve at most {MAX_BATCH:,} orders at once (got {len(keys):,})")
    now = utcnow()
    orders = [load_order(session, key, lock=True) for key in keys]
    for po in orders:  # check them all first: all or none
        _expect(po, ("recommended",), "approve")
        if po.qty <= 0:
            raise UserFacingError(f"cannot approve {_label(po)}: the quantity is 0; edit it or reject the order")
    for po in orders:
        details = _approve(session, po, who, now)
        audit.record(session=session, action="order.approve", user_email=who, target=f"order:{po.id}", details=details)
    session.flush()
    return [order_view(po) for po in orders]


@dataclass(frozen=True)
class EditResult:
    order: OrderView
    previous_qty: float
    warnings: tuple[str, ...]


def pack_warnings(*, qty: float, moq: float, order_multiple: float) -> tuple[str, ...]:
    """Notes when ``qty`` breaks the SKU's MOQ or order multiple (the planner may still choose it)."""
    notes = []
    if qty > 0 and moq > 0 and qty < moq - 1e-9:
        notes.append(f"below the minimum order quantity {qty_text(moq)}")
    if qty > 0 and order_multiple > 1:
        ratio = qty / order_multiple
        if abs(ratio - round(ratio)) > 1e-6:
            notes.append(f"not a multiple of the order multiple {qty_text(order_multiple)}")
    return tuple(notes)


def edit_quantity(*, session: Session, order_id: int, qty: float, reason: str, user: str) -> EditResult:
    """Change the quantity of a recommended or approved order, keeping the reason (``edit_reason``; every edit is in
    the audit log with the old and new quantity). An edited recommendation survives the next recompute.

    Raises
    ------
    UserFacingError
        Unknown order, received / rejected / cancelled order, quantity not a number, negative or 0, no reason.
    """
    who = _who(user)
    new_qty = _quantity(qty, "quantity")
    if new_qty == 0:
        raise UserFacingError("the quantity must be above 0 (reject the order instead)")
    text = _text(reason, "reason for the change", required=True)
    po = load_order(session, order_id, lock=True)
    _expect(po, OPEN_STATUSES, "edit")
    old = float(po.qty)
    po.qty = new_qty
    po.edit_reason = text
    warnings = pack_warnings(qty=new_qty, moq=float(po.sku.moq), order_multiple=float(po.sku.order_multiple))
    audit.record(
        session=session,
        action="order.edit",
        user_email=who,
        target=f"order:{po.id}",
        details={"sku": po.sku.code, "old_qty": old, "new_qty": new_qty, "reason": text, "warnings": list(warnings)},
    )
    session.flush()
    return EditResult(order=order_view(po), previous_qty=old, warnings=warnings)


def _close(session: Session, po: PurchaseOrder, *, status: str, who: str, reason: str | None, action: str) -> None:
    po.status = status
    po.cancelled_by = who
    po.cancelled_at = utcnow()
    po.status_reason = reason
    audit.record(
        session=session,
        action=action,
        user_email=who,
        target=f"order:{po.id}",
        details={"sku": po.sku.code, "qty": po.qty, "reason": reason},
    )


def reject_order(*, session: Session, order_id: int, user: str, reason: str | None = None) -> OrderView:
    """Reject a recommended order (kept as history; the next recompute recommends again if the need remains).

    The planner's ``reason`` (optional, at most :data:`MAX_REASON` characters) is kept on the order
    (``status_reason``) and in the audit log.

    Raises
    ------
    UserFacingError
        Unknown order or not ``recommended``.
    """
    who = _who(user)
    text = _text(reason, "reason", required=False)
    po = load_order(session, order_id, lock=True)
    _expect(po, ("recommended",), "reject")
    _close(session, po, status="rejected", who=who, reason=text, action="order.reject")
    session.flush()
    return order_view(po)


def reject_orders(
    *, session: Session, order_ids: Sequence[int], user: str, reason: str | None = None
) -> list[OrderView]:
    """Reject several recommended orders: all or none (see :func:`reject_order`)."""
    who = _who(user)
    text = _text(reason, "reason", required=False)
    keys = list(dict.fromkeys(order_ids or []))
    if not keys:
        raise UserFacingError("select at least one order to reject")
    orders = [load_order(session, key, lock=True) for key in keys]
    for po in orders:
        _expect(po, ("recommended",), "reject")
    for po in orders:
        _close(session, po, status="rejected", who=who, reason=text, action="order.reject")
    session.flush()
    return [order_view(po) for po in orders]


def cancel_order(*, session: Session, order_id: int, user: str, reason: str | None = None) -> OrderView:
    """Cancel an approved order (the supplier will not deliver): it no longer counts as on order.

    The planner's ``reason`` (optional) is kept on the order (``status_reason``) and in the audit log.

    Raises
    ------
    UserFacingError
        Unknown order or not ``approved``.
    """
    who = _who(user)
    text = _text(reason, "reason", required=False)
    po = load_order(session, order_id, lock=True)
    _expect(po, ("approved",), "cancel")
    _close(session, po, status="cancelled", who=who, reason=text, action="order.cancel")
    session.flush()
    return order_view(po)


def receive_order(
    *, session: Session, order_id: int, received_date: dt.date | str, received_qty: float, user: str
) -> OrderView:
    """Mark an approved order received: writes the receipt (lead-time learning) and, when the latest stock count
    predates the delivery, a stock position with the quantity added to on hand.

    Raises
    ------
    UserFacingError
        Unknown order, not ``approved``, quantity not a number / negative / 0, date before the order date or after
        today.
    """
    who = _who(user)
    qty = _quantity(received_qty, "received quantity")
    if qty == 0:
        raise UserFacingError("the received quantity must be above 0 (cancel the order if nothing arrives)")
    when = _date(received_date, "received date")
    po = load_order(session, order_id, lock=True)
    _expect(po, ("approved",), "receive")
    ordered = po.order_date or (po.approved_at.date() if po.approved_at else None)
    if ordered is not None and when < ordered:
        raise UserFacingError(
            f"cannot receive {_label(po)} on {when.isoformat()}: that is before its order date {ordered.isoformat()}"
        )
    if when > queries.today():
        raise UserFacingError(f"the received date {when.isoformat()} is in the future")
    now = utcnow()
    po.status = "received"
    po.received_by = who
    po.received_at = now
    po.received_date = when
    po.received_qty = qty
    order_date = ordered or when
    receipt = session.scalar(
        select(Receipt).where(
            Receipt.sku_id == po.sku_id, Receipt.order_date == order_date, Receipt.received_date == when
        )
    )
    if receipt is None:  # one receipt per (SKU, order date, received date): a second delivery adds to it
        session.add(
            Receipt(
                sku_id=po.sku_id,
                supplier=po.supplier,
                order_date=order_date,
                promised_date=po.promised_date,
                received_date=when,
                quantity=qty,
            )
        )
    else:
        receipt.quantity = float(receipt.quantity) + qty
    stock_added = _add_to_stock(session, po.sku_id, when, qty)
    audit.record(
        session=session,
        action="order.receive",
        user_email=who,
        target=f"order:{po.id}",
        details={
            "sku": po.sku.code,
            "ordered_qty": po.qty,
            "received_qty": qty,
            "order_date": order_date.isoformat(),
            "received_date": when.isoformat(),
            "lead_time_days": (when - order_date).days,
            "stock_position_added": stock_added,
        },
    )
    session.flush()
    return order_view(po)


def _add_to_stock(session: Session, sku_id: int, when: dt.date, qty: float) -> bool:
    latest = session.scalar(
        select(StockPosition).where(StockPosition.sku_id == sku_id).order_by(StockPosition.as_of.desc()).limit(1)
    )
    if latest is not None and latest.as_of >= when:
        return False  # the latest count is from the delivery day or later: it includes the delivery
    session.add(
        StockPosition(
            sku_id=sku_id,
            as_of=when,
            on_hand=(float(latest.on_hand) if latest else 0.0) + qty,
            on_order=float(latest.on_order) if latest else 0.0,
        )
    )
