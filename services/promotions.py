"""The Promotions table of the Data page and the API (issue 20): rows to show, edit and delete.

Rows come from the import of kind ``promotions`` (:mod:`services.ingest.promotions`); a planner may change a row's
price or promotion (the import's rules: a price is a number >= 0, a promotion is 0/1, yes/no or a label) or delete
rows. Every change is audited; the next recompute uses it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import formats
from db.models import Forecast, Promotion, Sku
from services import audit
from services.errors import UserFacingError as RecordError  # not services.datatables: the orders import this module

EDITABLE = ("price", "promotion")
FALSE_LABELS = frozenset({"0", "false", "no", "n", "none", ""})  # promotion cells meaning "no promotion"
TRUE_LABELS = frozenset({"1", "true", "yes", "y"})  # a promotion without a label


def _shown(promoted: bool, label: str | None) -> str:
    return label if label else ("yes" if promoted else "no")


def promotion_rows(
    *, session: Session, sku_code: str | None = None, since: dt.date | None = None, limit: int = 100_000
) -> list[dict[str, Any]]:
    """Rows (id, sku, name, period, price, promotion, features as text), by SKU then period; only ``sku_code`` /
    periods from ``since`` when given."""
    query = (
        select(Promotion, Sku.code, Sku.name)
        .join(Sku, Sku.id == Promotion.sku_id)
        .order_by(Sku.code, Promotion.period)
        .limit(limit)
    )
    if sku_code is not None:
        query = query.where(Sku.code == sku_code)
    if since is not None:
        query = query.where(Promotion.period >= since)
    return [
        {
            "id": p.id,
            "sku": code,
            "name": name,
            "period": formats.fmt_date(p.period),
            "date": p.period.isoformat(),
            "price": p.price,
            "promoted": bool(p.promoted),
            "promotion": _shown(p.promoted, p.label),
            "features": ", ".join(f"{k} {v:g}" for k, v in sorted((p.features or {}).items())),
        }
        for p, code, name in session.execute(query)
    ]


def _price(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"price: not a number ({value!r})") from None
    if not math.isfinite(number) or number < 0:
        raise RecordError(f"price: must be a number >= 0, not {value!r}")
    return number


def _promotion(value: Any) -> tuple[bool, str | None]:
    text = "" if value is None else str(value).strip()
    if len(text) > 100:
        raise RecordError("promotion: at most 100 characters")
    low = text.lower()
    if low in FALSE_LABELS:
        return False, None
    return True, (None if low in TRUE_LABELS else text)


def save_promotion(*, session: Session, row_id: int, values: dict[str, Any], user: str | None) -> Promotion:
    """Change a row's price and / or promotion (import rules); raises RecordError naming the column."""
    row = session.get(Promotion, int(row_id))
    if row is None:
        raise RecordError(f"no promotion row with id {row_id}")
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise RecordError(f"only {', '.join(EDITABLE)} can be changed here, not {', '.join(sorted(unknown))}")
    details: dict[str, Any] = {}
    if "price" in values:
        row.price = details["price"] = _price(values["price"])
    if "promotion" in values:
        row.promoted, row.label = _promotion(values["promotion"])
        details["promotion"] = _shown(row.promoted, row.label)
    session.flush()
    code = session.scalar(select(Sku.code).where(Sku.id == row.sku_id))
    target = f"promotion:{code}:{row.period.isoformat()}"
    audit.record(session=session, action="data.edit", user_email=user, target=target[:255], details=details)
    return row


def delete_promotions(*, session: Session, ids: list[int], user: str | None) -> int:
    """Delete promotion rows by id; returns the count."""
    clean = sorted({int(i) for i in ids})
    if not clean:
        return 0
    removed = session.execute(delete(Promotion).where(Promotion.id.in_(clean))).rowcount or 0
    audit.record(
        session=session,
        action="data.delete",
        user_email=user,
        target="promotions",
        details={"ids": clean[:500], "count": removed},
    )
    return removed


def uplift_notes(*, session: Session, run_id: int) -> dict[int, str]:
    """SKU id -> a sentence on what planned promotions add to the run's forecast (for the order reasons), for the
    SKUs whose planned uplift totals at least half a unit."""
    rows = session.execute(
        select(Forecast.sku_id, func.sum(Forecast.uplift), func.min(Forecast.period))
        .where(Forecast.run_id == run_id, Forecast.kind == "future", Forecast.uplift > 0.05)
        .group_by(Forecast.sku_id)
    ).all()
    return {
        int(sku_id): f"planned promotions add {total:,.0f} units to the forecast (from {formats.fmt_date(first)})"
        for sku_id, total, first in rows
        if total is not None and total >= 0.5
    }
