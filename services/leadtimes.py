"""Lead times learned from receipts: per supplier and overall for one SKU (:func:`lead_time_stats`, the SKU page's
lead-time card), with the rule the recompute applies to choose them over the SKU master's figures.

Receiving an order (:func:`services.orders.receive_order`) writes the receipts; :func:`core.leadtime.learn_lead_times`
does the statistics.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.leadtime import learn_lead_times
from db.models import Receipt, Sku
from settings import get_settings


@dataclass(frozen=True)
class LeadTimeStat:
    """Real lead times of one SKU from one supplier, from its receipts."""

    supplier: str
    receipts: int
    mean_days: float | None
    std_days: float | None
    on_time_rate: float | None
    mean_delay_days: float | None
    first_received: dt.date | None
    last_received: dt.date | None


@dataclass(frozen=True)
class LeadTimeInfo:
    """What the SKU page shows: per-supplier statistics, the SKU-level figures the recompute uses and the source."""

    sku: str
    by_supplier: list[LeadTimeStat]
    receipts: int
    mean_days: float | None
    std_days: float | None
    on_time_rate: float | None
    min_receipts: int
    master_mean_days: float
    master_std_days: float
    source: str  # "receipts" when the recompute uses the learned figures, else "master"

    @property
    def receipts_needed(self) -> int:
        return max(0, self.min_receipts - self.receipts)


def _clean(value: Any) -> float | None:
    """A finite float, or None (missing, not a number, NaN or infinite)."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def lead_time_stats(*, session: Session, code: str, min_receipts: int | None = None) -> LeadTimeInfo | None:
    """Lead times learned from the SKU's receipts, per supplier and overall (:func:`core.leadtime.learn_lead_times`).

    ``source`` is ``"receipts"`` when the SKU has at least ``min_receipts`` usable receipts (default: settings
    ``receipts_min_for_learned_lead_time``) -- the rule the recompute applies -- else ``"master"``.
    None when no SKU has that code.
    """
    if min_receipts is None:
        min_receipts = get_settings().receipts_min_for_learned_lead_time
    sku = session.scalar(select(Sku).where(Sku.code == (code or "").strip()))
    if sku is None:
        return None
    rows = session.execute(
        select(Receipt.supplier, Receipt.order_date, Receipt.promised_date, Receipt.received_date).where(
            Receipt.sku_id == sku.id
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["supplier", "order_date", "promised_date", "received_date"])
    frame["sku"] = sku.code
    per_supplier: list[LeadTimeStat] = []
    total = learn_lead_times(receipts=frame, by=("sku",)) if not frame.empty else pd.DataFrame()
    if not frame.empty:
        stats = learn_lead_times(receipts=frame, by=("supplier",))
        dates = frame.groupby("supplier")["received_date"].agg(["min", "max"])
        for supplier, s in stats.iterrows():
            per_supplier.append(
                LeadTimeStat(
                    supplier=str(supplier),
                    receipts=int(s["count"]),
                    mean_days=_clean(s["lead_time_mean_days"]),
                    std_days=_clean(s["lead_time_std_days"]),
                    on_time_rate=_clean(s["on_time_rate"]),
                    mean_delay_days=_clean(s["mean_delay_days"]),
                    first_received=dates.loc[supplier, "min"],
                    last_received=dates.loc[supplier, "max"],
                )
            )
        per_supplier.sort(key=lambda s: (-s.receipts, s.supplier))
    count = int(total["count"].iloc[0]) if len(total) else 0
    mean = _clean(total["lead_time_mean_days"].iloc[0]) if len(total) else None
    return LeadTimeInfo(
        sku=sku.code,
        by_supplier=per_supplier,
        receipts=count,
        mean_days=mean,
        std_days=_clean(total["lead_time_std_days"].iloc[0]) if len(total) else None,
        on_time_rate=_clean(total["on_time_rate"].iloc[0]) if len(total) else None,
        min_receipts=int(min_receipts),
        master_mean_days=float(sku.lead_time_mean),
        master_std_days=float(sku.lead_time_std),
        source="receipts" if count >= min_receipts and mean is not None else "master",
    )
