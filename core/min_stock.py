"""The planner's minimum stock (insurance spares): a per-SKU floor on the reorder point and the order-up-to level.

Some parts are held for the cost of their absence, not for their demand: a refinery's spare pump seal may not be
used for years, and no forecast of its history (zero) justifies stock. The planner knows this; the engine cannot.
The SKU master's ``min_stock`` column (units, blank = none) states it, and the policy honours it after the policy
stage (:func:`apply_min_stock`), for the SKUs where it is set (finite and > 0):

- reorder point s' = max(s, m) and order-up-to level S' = max(S, m), m = min_stock: at every review the
  inventory position is brought back to at least m (with s' = S' = m: one-for-one replenishment of each unit used,
  the base-stock policy of slow, expensive spares);
- the order of today is recomputed on the floored levels: when the position p <= s', q = max(lot, S' - p), rounded
  up to the pack; a SKU without forecast demand is ordered too (the floor is the reason, not the demand);
- a stopped seller (phase-out) with a floor is not phased out (the floor says the planner keeps it), like a positive
  forecast override (:func:`core.portfolio.phase_out_stopped_sellers` gets the mask without these SKUs);
- the reason says so: "Planner's minimum stock m: reorder point s -> s', order-up-to S -> S'".

Source: Silver, Pyke & Thomas, *Inventory and Production Management in Supply Chains* (4th ed., 2017), section
7.6 (insurance-type spares: the decision to stock at least one unit is a judgment on the cost of a shortage) and
section 7.9.3 ((S - 1, S) one-for-one replenishment of slow movers); the min / max (s, S) of the replay is the
same policy with s = S - 1 in units (core.backtest orders when p <= s).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from core import policy
from core.replenishment import ReplenishmentPolicy


def min_stock_floor(min_stock: Any, n: int) -> np.ndarray:
    """The floor of each SKU, (n,): ``min_stock`` where finite and > 0, else NaN (no floor). ``None``: no floors.

    Raises
    ------
    ValueError
        ``min_stock`` of another length.
    """
    if min_stock is None:
        return np.full(n, np.nan)
    m = np.asarray(min_stock, dtype=float).reshape(-1)
    if m.shape != (n,):
        raise ValueError(f"min_stock must have {n} values, got shape {np.shape(min_stock)}")
    return np.where(np.isfinite(m) & (m > 0), m, np.nan)


def apply_min_stock(
    floor: np.ndarray,
    pol: ReplenishmentPolicy,
    *,
    on_hand: np.ndarray,
    on_order: np.ndarray,
    moq: np.ndarray,
    order_multiple: np.ndarray,
) -> ReplenishmentPolicy:
    """Floor the reorder point and order-up-to level of the SKUs with a minimum stock (module docstring); the order
    of today and the reason follow. ``floor`` from :func:`min_stock_floor`; one-shot (newsvendor) SKUs are left
    alone (no replenishment to floor). Other rows are returned unchanged; ``pol`` is not modified."""
    m = np.asarray(floor, dtype=float)
    on = np.isfinite(m) & (pol.order_policy != "newsvendor")
    if not on.any():
        return pol
    s_old = np.nan_to_num(np.asarray(pol.reorder_point, dtype=float))
    big_old = np.nan_to_num(np.asarray(pol.order_up_to, dtype=float))
    s_new = np.where(on, np.maximum(s_old, np.nan_to_num(m)), pol.reorder_point)
    big_new = np.where(on, np.maximum(big_old, np.nan_to_num(m)), pol.order_up_to)
    position = np.asarray(on_hand, dtype=float) + np.asarray(on_order, dtype=float)
    lot = np.nan_to_num(np.asarray(pol.lot, dtype=float))
    raw = np.maximum(np.maximum(lot, big_new - position), 0.0)
    packed = np.asarray(policy.round_up_to_pack(quantity=raw, moq=moq, order_multiple=order_multiple), dtype=float)
    trigger = on & (position <= s_new)
    qty = np.where(on, np.where(trigger, np.where(raw > 0, packed, 0.0), 0.0), pol.recommended_qty)
    order_by = np.where(on & trigger, 0.0, pol.order_by_periods)
    reason = np.asarray(pol.reason, dtype=object).copy()
    for i in np.flatnonzero(on):
        note = (
            f"Planner's minimum stock {_num(m[i])}: reorder point {_num(s_old[i])} -> {_num(s_new[i])}, "
            f"order-up-to {_num(big_old[i])} -> {_num(big_new[i])}"
            if s_new[i] > s_old[i] or big_new[i] > big_old[i]
            else f"Planner's minimum stock {_num(m[i])} (below the policy's reorder point: no effect)"
        )
        reason[i] = f"{reason[i]}; {note}" if reason[i] else note
    return replace(
        pol,
        reorder_point=s_new,
        order_up_to=big_new,
        recommended_qty=qty,
        order_by_periods=order_by,
        reason=reason,
        order_policy=np.where(on & (pol.order_policy == "phase_out"), "reorder_point", pol.order_policy).astype(object),
    )


def _num(x: float) -> str:
    x = float(x)
    return f"{x:,.0f}" if x == int(x) or abs(x) >= 100 else f"{x:,.1f}"


__all__ = ["apply_min_stock", "min_stock_floor"]
