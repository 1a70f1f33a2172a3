"""Read-only queries of the latest snapshot for the Watchtower page (and the JSON API).

Everything here reads ``recompute_run`` / ``sku_snapshot`` / ``sku``: nothing recomputes the portfolio.

- :class:`GridFilters` - the combinable filters (status, category, location, ABC, XYZ, demand class, supplier,
  free text on code and name), to and from a URL query string.
- the finished runs the page compares come from :mod:`services.runs` (:func:`services.runs.latest_run`, ...).
- :func:`kpi_summary` - SKUs per status and the portfolio KPIs of a run with the change since the previous run.
- :func:`filter_options` - the values each filter can take in a run.
- :func:`query_skus` - one sorted, filtered page of SKU rows and the total count (AG Grid's infinite row model).
- :func:`export_csv` - every filtered row as CSV, sorted like the grid, safe against formula injection.
- :func:`status_by_category`, :func:`risk_points` - the data of the two charts.
- :func:`top_risks`, :func:`portfolio_commentary` - the commentary panel (:mod:`services.narrative`'s text, or
  the reasons of the top risks by value at risk when it gives none).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.formats import fmt_date
from db.models import STATUSES, AuditLog, Promotion, RecomputeRun, Sku, SkuSnapshot
from services import audit, kpi_bases, master_data, narrative
from services.runs import RunInfo, run_by_id, running_run
from services.xlsx_export import rows_workbook

logger = logging.getLogger(__name__)

STATUS_LABELS: dict[str, str] = {
    "stockout_risk": "Stockout risk",
    "surge": "Surge",
    "low_velocity": "Low velocity",
    "dead_stock": "Dead stock",
    "overstock": "Overstock",
    "normal": "Normal",
}
DEMAND_CLASSES = ("smooth", "intermittent", "erratic", "lumpy", "no_demand")

MASTER_DATA_VALUES = ("incomplete", "complete")
#: "incomplete" when some master data is still at its default (``sku.defaulted_fields``, services.master_data)
MASTER_DATA = case(
    (and_(Sku.defaulted_fields.is_not(None), Sku.defaulted_fields != ""), "incomplete"), else_="complete"
)
PROMOTION_VALUES = ("planned", "none")
#: "planned" when the SKU has a promotion after the run's data through (the plan, issue 20)
PROMOTION_PLANNED = case(
    (
        exists()
        .where(
            Promotion.sku_id == Sku.id,
            Promotion.promoted.is_(True),
            Promotion.period
            > select(RecomputeRun.data_as_of)
            .where(RecomputeRun.id == SkuSnapshot.run_id)
            .correlate(SkuSnapshot)
            .scalar_subquery(),
        )
        .correlate(Sku, SkuSnapshot),
        "planned",
    ),
    else_="none",
)

#: filter name -> the column it compares (``IN``).
FILTER_COLUMNS: dict[str, Any] = {
    "status": SkuSnapshot.status,
    "category": Sku.category,
    "location": Sku.location,
    "abc": SkuSnapshot.abc,
    "xyz": SkuSnapshot.xyz,
    "demand_class": SkuSnapshot.demand_class,
    "supplier": Sku.supplier,
    "master_data": MASTER_DATA,
    "promotion": PROMOTION_PLANNED,
}
MAX_SEARCH = 100
MAX_PAGE = 1000


def status_label(status: str | None) -> str:
    """Human label of a status (``stockout_risk`` -> ``Stockout risk``)."""
    if not status:
        return ""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def clean_number(value: Any) -> float | None:
    """A finite float or None (NaN / infinite / missing become None, so rows serialise as JSON)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------------------------------------------------
# filters


def _values(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, Iterable) else [raw]
    out: list[str] = []
    for item in items:
        text = str(item).strip() if item is not None else ""
        if text and text not in out:
            out.append(text[:100])
    return tuple(out)


@dataclass(frozen=True)
class GridFilters:
    """Filters that combine (AND across fields, OR within a field); empty means "all"."""

    status: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    location: tuple[str, ...] = ()
    abc: tuple[str, ...] = ()
    xyz: tuple[str, ...] = ()
    demand_class: tuple[str, ...] = ()
    supplier: tuple[str, ...] = ()
    master_data: tuple[str, ...] = ()
    promotion: tuple[str, ...] = ()
    search: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> GridFilters:
        """Build from a dict of lists (a dcc.Store) or URL query params (a value or a list per key)."""
        data = data or {}
        values = {name: _values(data.get(name)) for name in FILTER_COLUMNS}
        search = data.get("search") or data.get("q") or ""
        if isinstance(search, list | tuple):
            search = search[0] if search else ""
        return cls(**values, search=str(search).strip()[:MAX_SEARCH])

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (lists), the inverse of :meth:`from_mapping`."""
        out: dict[str, Any] = {name: list(getattr(self, name)) for name in FILTER_COLUMNS}
        out["search"] = self.search
        return out

    def to_query(self) -> str:
        """URL query string (``?status=surge&category=Snacks&q=cola``), empty when no filter is set."""
        pairs: list[tuple[str, str]] = [(name, value) for name in FILTER_COLUMNS for value in getattr(self, name)]
        if self.search:
            pairs.append(("q", self.search))
        return "?" + urlencode(pairs) if pairs else ""

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def toggled(self, name: str, value: str) -> GridFilters:
        """A copy with ``value`` added to (or removed from) filter ``name``."""
        if name not in FILTER_COLUMNS:
            raise ValueError(f"name must be one of {sorted(FILTER_COLUMNS)}, got {name!r}")
        current = getattr(self, name)
        new = tuple(v for v in current if v != value) if value in current else (*current, value)
        return GridFilters(**{**{f.name: getattr(self, f.name) for f in fields(self)}, name: new})

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions over ``sku`` joined with ``sku_snapshot``."""
        out: list[ColumnElement[bool]] = []
        for name, column in FILTER_COLUMNS.items():
            values = getattr(self, name)
            if values:
                out.append(column.in_(values))
        if self.search:
            needle = self.search.lower()
            out.append(
                or_(
                    func.lower(Sku.code).contains(needle, autoescape=True),
                    func.lower(Sku.name).contains(needle, autoescape=True),
                )
            )
        return out


# --------------------------------------------------------------------------------------------------------------------
# runs and KPIs


@dataclass(frozen=True)
class Kpi:
    """One KPI of the latest run and its value in the previous run.

    ``kind``: count | money | fraction | number | days; ``good_when``: "up", "down" or None (neutral).
    """

    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str
    good_when: str | None
    hint: str = ""

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def tone(self) -> str:
        """good | bad | neutral (the colour of the change)."""
        delta = self.delta
        if delta is None or abs(delta) < 1e-12 or self.good_when is None:
            return "neutral"
        return "good" if (delta > 0) == (self.good_when == "up") else "bad"


@dataclass(frozen=True)
class KpiSummary:
    run: RunInfo
    previous: RunInfo | None
    status_counts: tuple[Kpi, ...]
    portfolio: tuple[Kpi, ...]
    sku_count: int
    base: str = "previous"  # services.kpi_bases key of what the changes compare with
    caption: str = "previous run"  # the words after "vs" on the tiles


def status_counts(*, session: Session, run_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """SKUs per status for each run (from ``sku_snapshot``; statuses with none are 0)."""
    out: dict[int, dict[str, int]] = {rid: dict.fromkeys(STATUSES, 0) for rid in run_ids}
    if not run_ids:
        return out
    rows = session.execute(
        select(SkuSnapshot.run_id, SkuSnapshot.status, func.count())
        .where(SkuSnapshot.run_id.in_(list(run_ids)))
        .group_by(SkuSnapshot.run_id, SkuSnapshot.status)
    ).all()
    for run_id, status, count in rows:
        out[run_id][status] = int(count)
    return out


def _accuracy(wape: Any) -> float | None:
    value = clean_number(wape)
    return None if value is None else max(0.0, 1.0 - value)


#: (key, label, kind, good_when, how to read it from recompute_run.kpis)
PORTFOLIO_KPIS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("inventory_value", "Inventory value", "money", None, "on hand at unit cost"),
    ("value_at_risk", "Value at risk", "money", "down", "lost margin + excess at cost"),
    ("fill_rate", "Fill rate", "fraction", "up", "expected, demand-value weighted"),
    ("turns", "Turns", "number", "up", "annual cost of goods / inventory"),
    ("days_of_supply", "Days of supply", "days", "down", "inventory / daily cost of goods"),
    ("forecast_accuracy", "Forecast accuracy", "fraction", "up", "1 - WAPE over the backtest"),
)
STATUS_GOOD_WHEN = {"normal": "up"}


def _kpi_value(kpis: Mapping[str, Any], key: str) -> float | None:
    if key == "forecast_accuracy":
        return _accuracy(kpis.get("wape"))
    return clean_number(kpis.get(key))


def kpi_summary(*, session: Session, run_id: int | None = None, base: str | None = None) -> KpiSummary | None:
    """SKUs per status and portfolio KPIs of a run (default: latest) with the values of the comparison ``base``
    (:mod:`services.kpi_bases`: the previous finished run by default, last week, a closed cycle)."""
    run = run_by_id(session=session, run_id=run_id)
    if run is None:
        return None
    chosen = kpi_bases.resolve(session=session, run=run, key=base)
    previous = chosen.run
    counts = status_counts(session=session, run_ids=[run.id] + ([previous.id] if previous else []))
    now = counts[run.id]
    before = counts.get(previous.id) if previous else None
    if before is not None and not any(before.values()) and previous is not None:
        # the previous run's snapshot rows were pruned: fall back to its stored KPI counts
        before = {s: int(clean_number(previous.kpis.get(f"count_{s}")) or 0) for s in STATUSES}
    status_kpis = tuple(
        Kpi(
            key=status,
            label=status_label(status),
            value=float(now[status]),
            previous=float(before[status]) if before is not None else None,
            kind="count",
            good_when=STATUS_GOOD_WHEN.get(status, "down"),
        )
        for status in STATUSES
    )
    portfolio = tuple(
        Kpi(
            key=key,
            label=label,
            value=_kpi_value(run.kpis, key),
            previous=_kpi_value(previous.kpis, key) if previous else None,
            kind=kind,
            good_when=good,
            hint=hint,
        )
        for key, label, kind, good, hint in PORTFOLIO_KPIS
    )
    return KpiSummary(
        run=run,
        previous=previous,
        status_counts=status_kpis,
        portfolio=portfolio,
        sku_count=sum(now.values()),
        base=chosen.key,
        caption=chosen.caption,
    )


# --------------------------------------------------------------------------------------------------------------------
# filter options and rows


#: filters whose values are a fixed vocabulary of the engine (offered whole, no query needed).
FIXED_OPTIONS: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "abc": ("A", "B", "C"),
    "xyz": ("X", "Y", "Z"),
    "demand_class": DEMAND_CLASSES,
    "master_data": MASTER_DATA_VALUES,
    "promotion": PROMOTION_VALUES,
}


def filter_options(*, session: Session, run_id: int | None = None) -> dict[str, list[str]]:
    """The values each filter offers: the engine's fixed vocabularies (statuses, ABC, XYZ, demand classes) and the
    distinct categories, locations and suppliers of the SKU master (three small indexed ``DISTINCT`` queries).

    ``run_id`` is accepted for symmetry with the other queries; master values do not depend on the run.
    """
    out: dict[str, list[str]] = {}
    for name in FILTER_COLUMNS:
        if name in FIXED_OPTIONS:
            out[name] = list(FIXED_OPTIONS[name])
            continue
        column = FILTER_COLUMNS[name]
        values = session.scalars(select(column).where(column.is_not(None)).distinct())
        out[name] = sorted((v for v in values if v), key=str.lower)
    return out


_STATUS_RANK = case({s: i for i, s in enumerate(STATUSES)}, value=SkuSnapshot.status, else_=len(STATUSES))

#: grid column id -> (sort expression, invert). ``accuracy`` is 1 - WAPE, so it sorts on WAPE the other way.
SORT_COLUMNS: dict[str, tuple[Any, bool]] = {
    "code": (Sku.code, False),
    "name": (Sku.name, False),
    "status": (_STATUS_RANK, False),
    "reason": (SkuSnapshot.status_reason, False),
    "category": (Sku.category, False),
    "location": (Sku.location, False),
    "supplier": (Sku.supplier, False),
    "abc": (SkuSnapshot.abc, False),
    "xyz": (SkuSnapshot.xyz, False),
    "demand_class": (SkuSnapshot.demand_class, False),
    "days_of_cover": (SkuSnapshot.days_of_cover, False),
    "on_hand": (SkuSnapshot.on_hand, False),
    "reorder_point": (SkuSnapshot.reorder_point, False),
    "recommended_qty": (SkuSnapshot.recommended_qty, False),
    "order_by_periods": (SkuSnapshot.order_by_periods, False),
    "value_at_risk": (SkuSnapshot.value_at_risk, False),
    "inventory_value": (SkuSnapshot.inventory_value, False),
    "accuracy": (SkuSnapshot.wape, True),
}
DEFAULT_SORT: tuple[tuple[str, str], ...] = (("value_at_risk", "desc"), ("status", "asc"))


def parse_sort(sort_model: Sequence[Mapping[str, Any]] | None) -> list[tuple[str, str]]:
    """AG Grid's sortModel (``[{"colId": "value_at_risk", "sort": "desc"}]``) -> known (column, direction) pairs."""
    out: list[tuple[str, str]] = []
    for item in sort_model or []:
        col = str(item.get("colId", ""))
        direction = str(item.get("sort", "asc")).lower()
        if col in SORT_COLUMNS and direction in ("asc", "desc"):
            out.append((col, direction))
    return out or list(DEFAULT_SORT)


def _order_by(sort: Sequence[tuple[str, str]]) -> list[Any]:
    clauses: list[Any] = []
    for col, direction in sort:
        expr, invert = SORT_COLUMNS[col]
        descending = (direction == "desc") != invert
        clauses.append(expr.desc().nulls_last() if descending else expr.asc().nulls_last())
    clauses.append(Sku.code.asc())  # stable order for paging
    return clauses


_ROW_COLUMNS = (
    Sku.code,
    Sku.name,
    Sku.category,
    Sku.location,
    Sku.supplier,
    SkuSnapshot.status,
    SkuSnapshot.status_reason,
    SkuSnapshot.abc,
    SkuSnapshot.xyz,
    SkuSnapshot.demand_class,
    SkuSnapshot.days_of_cover,
    SkuSnapshot.on_hand,
    SkuSnapshot.reorder_point,
    SkuSnapshot.recommended_qty,
    SkuSnapshot.order_by_periods,
    SkuSnapshot.value_at_risk,
    SkuSnapshot.inventory_value,
    SkuSnapshot.wape,
    Sku.defaulted_fields,
    SkuSnapshot.last_reported,
)


def _base(run_id: int, filters: GridFilters, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(SkuSnapshot)
        .join(Sku, Sku.id == SkuSnapshot.sku_id)
        .where(and_(SkuSnapshot.run_id == run_id, *filters.conditions()))
    )


def _through(session: Session, run_id: int) -> dt.date | None:
    return session.scalar(select(RecomputeRun.data_as_of).where(RecomputeRun.id == run_id))


def _row(r: Any, through: dt.date | None = None) -> dict[str, Any]:
    behind = r.last_reported is not None and through is not None and r.last_reported < through
    return {
        "code": r.code,
        "name": r.name,
        "category": r.category,
        "location": r.location,
        "supplier": r.supplier,
        "status": r.status,
        "status_label": status_label(r.status),
        "reason": r.status_reason,
        "abc": r.abc,
        "xyz": r.xyz,
        "demand_class": r.demand_class,
        "days_of_cover": clean_number(r.days_of_cover),
        "on_hand": clean_number(r.on_hand),
        "reorder_point": clean_number(r.reorder_point),
        "recommended_qty": clean_number(r.recommended_qty),
        "order_by_periods": clean_number(r.order_by_periods),
        "value_at_risk": clean_number(r.value_at_risk),
        "inventory_value": clean_number(r.inventory_value),
        "accuracy": _accuracy(r.wape),
        "incomplete_master_data": master_data.describe(master_data.parse(r.defaulted_fields)),
        # its history ends before the run's data through (issue 15): ISO date of its last reported period, else None
        "last_reported": fmt_date(r.last_reported) if behind else None,
    }


@dataclass(frozen=True)
class SkuPage:
    rows: list[dict[str, Any]]
    total: int
    run_id: int


SKU_FILTERS = frozenset(
    name for name, column in FILTER_COLUMNS.items() if getattr(column, "class_", None) is not SkuSnapshot
)


def count_skus(*, session: Session, run_id: int, filters: GridFilters) -> int:
    """How many SKUs of the run match the filters (without the join to ``sku`` when no filter needs it)."""
    if filters.search or any(getattr(filters, name) for name in SKU_FILTERS):
        return int(session.scalar(_base(run_id, filters, func.count())) or 0)
    stmt = select(func.count()).select_from(SkuSnapshot).where(SkuSnapshot.run_id == run_id, *filters.conditions())
    return int(session.scalar(stmt) or 0)


def query_skus(
    *,
    session: Session,
    run_id: int,
    filters: GridFilters | None = None,
    sort: Sequence[tuple[str, str]] | None = None,
    start: int = 0,
    limit: int = 100,
    with_total: bool = True,
) -> SkuPage:
    """Rows ``start .. start + limit`` of the run's SKUs matching ``filters``, sorted by ``sort``.

    ``sort`` holds (column, "asc"|"desc") pairs from :data:`SORT_COLUMNS` (default: value at risk, highest first).
    """
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    if not 0 < limit <= MAX_PAGE:
        raise ValueError(f"limit must be in 1..{MAX_PAGE}, got {limit}")
    filters = filters or GridFilters()
    sort = list(sort) if sort else list(DEFAULT_SORT)
    for col, direction in sort:
        if col not in SORT_COLUMNS or direction not in ("asc", "desc"):
            raise ValueError(f"sort has an unknown column or direction: {(col, direction)!r}")
    stmt = _base(run_id, filters, *_ROW_COLUMNS).order_by(*_order_by(sort)).offset(start).limit(limit)
    through = _through(session, run_id)
    rows = [_row(r, through) for r in session.execute(stmt)]
    if with_total:
        total = count_skus(session=session, run_id=run_id, filters=filters)
    else:
        total = start + len(rows)
    return SkuPage(rows=rows, total=total, run_id=run_id)


# --------------------------------------------------------------------------------------------------------------------
# CSV export

#: (header, row key) in export order.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("SKU", "code"),
    ("Name", "name"),
    ("Status", "status_label"),
    ("Reason", "reason"),
    ("Category", "category"),
    ("Location", "location"),
    ("Supplier", "supplier"),
    ("ABC", "abc"),
    ("XYZ", "xyz"),
    ("Demand class", "demand_class"),
    ("Days of cover", "days_of_cover"),
    ("On hand", "on_hand"),
    ("Reorder point", "reorder_point"),
    ("Recommended order", "recommended_qty"),
    ("Order within (periods)", "order_by_periods"),
    ("Value at risk", "value_at_risk"),
    ("Inventory value", "inventory_value"),
    ("Forecast accuracy", "accuracy"),
    ("Incomplete master data", "incomplete_master_data"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formula injection: text starting with = + - @ (or tab / CR) gets a leading apostrophe.

    Numbers are left as numbers. Source: OWASP, "CSV Injection".
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, float):
        return round(value, 4)
    return value


def export_csv(
    *, session: Session, run_id: int, filters: GridFilters | None = None, sort: Sequence[tuple[str, str]] | None = None
) -> str:
    """Every SKU of the run that matches ``filters``, sorted like the grid, as CSV text (header row first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header for header, _ in EXPORT_COLUMNS])
    for row in _export_rows(session, run_id, filters, sort):
        writer.writerow([csv_safe(row[key]) if row[key] is not None else "" for _, key in EXPORT_COLUMNS])
    return buffer.getvalue()


def export_xlsx(
    *, session: Session, run_id: int, filters: GridFilters | None = None, sort: Sequence[tuple[str, str]] | None = None
) -> bytes:
    """The rows of :func:`export_csv` as an Excel workbook (numbers as numbers, frozen header; formula-safe text)."""
    rows = [[csv_safe(row[key]) for _, key in EXPORT_COLUMNS] for row in _export_rows(session, run_id, filters, sort)]
    return rows_workbook(f"Watchtower run {run_id}", [header for header, _ in EXPORT_COLUMNS], rows)


def _export_rows(
    session: Session, run_id: int, filters: GridFilters | None, sort: Sequence[tuple[str, str]] | None
) -> Iterator[dict[str, Any]]:
    filters = filters or GridFilters()
    sort = list(sort) if sort else list(DEFAULT_SORT)
    stmt = _base(run_id, filters, *_ROW_COLUMNS).order_by(*_order_by(sort))
    through = _through(session, run_id)
    for r in session.execute(stmt):
        yield _row(r, through)


# --------------------------------------------------------------------------------------------------------------------
# charts


@dataclass(frozen=True)
class CategoryStatus:
    category: str
    status: str
    skus: int
    value_at_risk: float
    at_risk: int = 0  # SKUs with value at risk > 0


def status_by_category(*, session: Session, run_id: int, filters: GridFilters | None = None) -> list[CategoryStatus]:
    """SKUs and value at risk per (category, status) among the filtered SKUs."""
    filters = filters or GridFilters()
    stmt = _base(
        run_id,
        filters,
        Sku.category,
        SkuSnapshot.status,
        func.count(),
        func.coalesce(func.sum(SkuSnapshot.value_at_risk), 0.0),
        func.count(case((SkuSnapshot.value_at_risk > 0, 1))),
    ).group_by(Sku.category, SkuSnapshot.status)
    return [
        CategoryStatus(category=c, status=s, skus=int(n), value_at_risk=clean_number(v) or 0.0, at_risk=int(k))
        for c, s, n, v, k in session.execute(stmt)
    ]


@dataclass(frozen=True)
class RiskPoints:
    rows: list[dict[str, Any]]
    total_at_risk: int  # filtered SKUs with value at risk > 0 (rows holds at most ``limit`` of them)


def risk_points(
    *,
    session: Session,
    run_id: int,
    filters: GridFilters | None = None,
    limit: int = 1000,
    total_at_risk: int | None = None,
) -> RiskPoints:
    """The filtered SKUs with value at risk > 0, highest first (at most ``limit``): code, name, status, cover, VaR.

    ``total_at_risk`` (e.g. summed from :func:`status_by_category`) saves the count query when more than ``limit``
    SKUs are at risk.
    """
    filters = filters or GridFilters()
    at_risk = SkuSnapshot.value_at_risk > 0
    stmt = (
        _base(
            run_id,
            filters,
            Sku.code,
            Sku.name,
            Sku.category,
            SkuSnapshot.status,
            SkuSnapshot.days_of_cover,
            SkuSnapshot.value_at_risk,
        )
        .where(at_risk)
        .order_by(SkuSnapshot.value_at_risk.desc().nulls_last(), Sku.code)
        .limit(limit)
    )
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "category": r.category,
            "status": r.status,
            "days_of_cover": clean_number(r.days_of_cover),
            "value_at_risk": clean_number(r.value_at_risk) or 0.0,
        }
        for r in session.execute(stmt)
    ]
    if len(rows) < limit:
        total = len(rows)
    elif total_at_risk is not None:
        total = total_at_risk
    else:
        total = int(session.scalar(_base(run_id, filters, func.count()).where(at_risk)) or 0)
    return RiskPoints(rows=rows, total_at_risk=total)


# --------------------------------------------------------------------------------------------------------------------
# commentary


def top_risks(*, session: Session, run_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The SKUs with the highest value at risk (> 0) and their reasons, highest first."""
    stmt = (
        _base(
            run_id,
            GridFilters(),
            Sku.code,
            Sku.name,
            SkuSnapshot.status,
            SkuSnapshot.status_reason,
            SkuSnapshot.value_at_risk,
        )
        .where(SkuSnapshot.value_at_risk > 0)
        .order_by(SkuSnapshot.value_at_risk.desc().nulls_last(), Sku.code)
        .limit(limit)
    )
    return [
        {
            "code": r.code,
            "name": r.name,
            "status": r.status,
            "status_label": status_label(r.status),
            "reason": r.status_reason,
            "value_at_risk": clean_number(r.value_at_risk) or 0.0,
        }
        for r in session.execute(stmt)
    ]


@dataclass(frozen=True)
class Commentary:
    """What the commentary panel shows: the narrative's text when it gives one, else the snapshot's reasons."""

    source: str  # "narrative" | "snapshot"
    text: str | None = None
    items: tuple[dict[str, Any], ...] = ()
    provider: str | None = None
    view: Any = None  # the narrative service's own object (services.narrative.CommentaryView) when it gave one


def narrative_text(result: Any) -> str | None:
    """Text of whatever the narrative service returns (a str or an object with ``.text``)."""
    text = result if isinstance(result, str) else getattr(result, "text", None)
    return text.strip() if isinstance(text, str) and text.strip() else None


def portfolio_commentary(*, session: Session, run_id: int, limit: int = 5) -> Commentary:
    """The portfolio commentary: :func:`services.narrative.portfolio_commentary` when it gives a text, else the top
    risks' reasons."""
    try:
        result = narrative.portfolio_commentary(session=session)
    except Exception:
        logger.exception("portfolio commentary failed; showing the snapshot's reasons")
        result = None
    text = narrative_text(result)
    if text:
        return Commentary(
            source="narrative", text=text, provider=getattr(result, "provider", None), view=_view_of(result)
        )
    return Commentary(source="snapshot", items=tuple(top_risks(session=session, run_id=run_id, limit=limit)))


def _view_of(result: Any) -> Any:
    return None if isinstance(result, str) else result


# --------------------------------------------------------------------------------------------------------------------
# recompute cancel requests (the job runs in another process, possibly on another host: the audit log carries it)

CANCEL_ACTION = "recompute.cancel_requested"


def request_recompute_cancel(*, session: Session, user: str | None) -> int | None:
    """Ask a running recompute to stop; recorded in the audit log (which the job polls). Returns the running run id."""
    running = running_run(session=session)
    audit.record(
        session=session,
        action=CANCEL_ACTION,
        user_email=user,
        target=f"recompute_run {running.id}" if running else None,
        details={"run_id": running.id if running else None},
    )
    return running.id if running else None


def recompute_cancel_requested(*, session: Session, since: dt.datetime) -> bool:
    """True when someone asked to cancel a recompute at or after ``since`` (naive UTC)."""
    stmt = select(AuditLog.id).where(AuditLog.action == CANCEL_ACTION, AuditLog.created_at >= since).limit(1)
    return session.scalar(stmt) is not None
