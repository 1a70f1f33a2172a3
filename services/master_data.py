"""Master data completeness: which fields of a SKU are still at their defaults because nobody provided them.

A SKU created from a demand, stock or receipts file (``--create-skus``), by the M5 importer or from a code alone gets
the documented defaults: unit cost 0, category "Uncategorised", a lead time of 14 days, supplier "Unassigned". Those
are placeholders, not facts: a $0 unit cost makes every value (inventory, value at risk, an order's value) $0.
``sku.defaulted_fields`` keeps the list (comma-separated import names, NULL when complete); it is set where SKUs are
created with defaults and each field is cleared when the SKU master import, the Data page or the API provides it. A
unit cost is flagged exactly when it is not above 0 (a zero cost is never a real purchase price here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

#: tracked fields (import names), in display order
TRACKED: tuple[str, ...] = ("unit_cost", "category", "lead_time_days", "supplier")
LABELS: dict[str, str] = {
    "unit_cost": "unit cost",
    "category": "category",
    "lead_time_days": "lead time",
    "supplier": "supplier",
}
#: a value equal to the placeholder is not information (the unit cost: 0)
PLACEHOLDERS: dict[str, object] = {"category": "Uncategorised", "supplier": "Unassigned", "unit_cost": 0.0}
#: import name -> sku table column
TABLE_COLUMNS: dict[str, str] = {
    "unit_cost": "unit_cost",
    "category": "category",
    "lead_time_days": "lead_time_mean",
    "supplier": "supplier",
}
ALL_DEFAULTED = ",".join(TRACKED)
UNIT_COST_MISSING = "unit cost missing: value unknown"


def parse(text: str | None) -> list[str]:
    """The stored text as a list of tracked field names (unknown names dropped, display order)."""
    if not text:
        return []
    given = {part.strip() for part in str(text).split(",")}
    return [name for name in TRACKED if name in given]


def join(names: Iterable[str]) -> str | None:
    """A set of field names as stored (display order; None when empty = complete)."""
    chosen = set(names)
    text = ",".join(name for name in TRACKED if name in chosen)
    return text or None


def describe(names: Iterable[str]) -> str:
    """``["unit_cost", "supplier"]`` -> ``"unit cost, supplier"``."""
    return ", ".join(LABELS[name] for name in TRACKED if name in set(names))


def is_provided(name: str, value: object) -> bool:
    """Whether ``value`` for field ``name`` is real information (not blank, not the placeholder)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    if isinstance(value, str) and not value.strip():
        return False
    placeholder = PLACEHOLDERS.get(name)
    if placeholder is None:
        return True
    if isinstance(placeholder, float):
        try:
            return float(value) > 0  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    return str(value).strip() != placeholder


def updated(
    *, current: str | None, provided: Mapping[str, object], is_new: bool, unit_cost: float | None
) -> str | None:
    """The new ``defaulted_fields`` of one SKU after a write.

    ``current`` is the stored text (ignored for a new SKU, which starts with every tracked field defaulted);
    ``provided`` maps import names to the values the write gives (None / blank = not given); ``unit_cost`` is the
    SKU's unit cost after the write (0 keeps or puts ``unit_cost`` on the list).
    """
    names = set(TRACKED) if is_new else set(parse(current))
    names -= {name for name in TRACKED if is_provided(name, provided.get(name))}
    if unit_cost is None or not unit_cost > 0:
        names.add("unit_cost")
    else:  # the unit cost is the one field whose value alone says whether it is known
        names.discard("unit_cost")
    return join(names)


def updated_frame(
    *,
    frame: pd.DataFrame,
    existing: pd.DataFrame,
) -> np.ndarray:
    """``defaulted_fields`` for every row of an upsert ``frame`` (sku table column names; NaN/None = not given).

    ``existing``: code, unit_cost, defaulted_fields of the SKUs already stored. Vectorised with one bit per field.
    """
    n = len(frame)
    stored = existing.set_index("code") if len(existing) else pd.DataFrame(columns=["unit_cost", "defaulted_fields"])
    codes = frame["code"].astype(object)
    known = codes.isin(stored.index).to_numpy()
    current = stored["defaulted_fields"].reindex(codes).to_numpy(dtype=object)
    bits = np.zeros(n, dtype=np.int64)
    full = (1 << len(TRACKED)) - 1
    parsed_bits = {text: sum(1 << TRACKED.index(x) for x in parse(text)) for text in set(current[known].tolist())}
    bits[known] = [parsed_bits[t] for t in current[known].tolist()]
    bits[~known] = full
    for i, name in enumerate(TRACKED):
        column = TABLE_COLUMNS[name]
        if column not in frame.columns:
            continue
        values = frame[column]
        if name == "unit_cost":
            given = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float) > 0
        elif name == "lead_time_days":
            given = pd.to_numeric(values, errors="coerce").notna().to_numpy()
        else:
            text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
            given = ((text != "") & (text != PLACEHOLDERS[name])).to_numpy()
        bits[given] &= ~(1 << i)
    cost_given = (
        pd.to_numeric(frame["unit_cost"], errors="coerce").to_numpy(dtype=float)
        if "unit_cost" in frame.columns
        else np.full(n, np.nan)
    )
    cost_stored = pd.to_numeric(stored["unit_cost"].reindex(codes), errors="coerce").to_numpy(dtype=float)
    cost = np.where(np.isnan(cost_given), np.where(known, cost_stored, 0.0), cost_given)
    unit_bit = 1 << TRACKED.index("unit_cost")
    bits = np.where(cost > 0, bits & ~unit_bit, bits | unit_bit)
    labels = {b: join(name for j, name in enumerate(TRACKED) if b & (1 << j)) for b in np.unique(bits).tolist()}
    return np.array([labels[b] for b in bits.tolist()], dtype=object)
