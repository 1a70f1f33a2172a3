"""Plain typed inputs of the PDF briefings.

The briefing builder never reads the database: a service gathers these facts (from the latest finished
recompute run, its predecessor, the narrative table and the purchase orders) and passes them in.

Conventions
-----------
- Money is in the briefing's currency (``currency_symbol``), floats.
- ``fill_rate``, ``wape``, ``service_level``, ``stat_wape`` and ``override_wape`` are fractions (0.953 = 95.3 %).
- ``change_pct`` of a mover and ``fva_points`` are already in percent / percentage points (45.0 = +45 %).
- Missing numbers are ``None`` (``NaN`` is accepted and shown the same way, as an en dash).
- Series take any sequence (list, tuple, numpy array, pandas Index); dates may be ``date``, ``datetime``,
  pandas ``Timestamp`` or numpy ``datetime64`` and are normalised to ``datetime.date``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from reports.theme import STATUS_ORDER

__all__ = [
    "ApprovalNeeded",
    "Commentary",
    "DecisionLine",
    "ForecastSeries",
    "FvaRow",
    "MeetingPack",
    "MethodNotes",
    "Mover",
    "PolicyCard",
    "PortfolioBriefing",
    "PortfolioKpis",
    "PurchaseOrderLine",
    "RecommendedOrder",
    "RiskRow",
    "SkuBriefing",
    "SkuMaster",
    "TimeSeries",
    "default_method_notes",
]


def _to_date(value: Any, *, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date()
    if hasattr(value, "astype") and "datetime64" in str(getattr(value, "dtype", "")):  # numpy datetime64
        return date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise ValueError(f"{name}: expected a date, got {value!r}")


def _dates(values: Sequence[Any], *, name: str) -> tuple[date, ...]:
    return tuple(_to_date(v, name=name) for v in values)


def _floats(values: Sequence[Any], *, name: str) -> tuple[float, ...]:
    try:
        return tuple(float("nan") if v is None else float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers") from None


def is_missing(value: float | None) -> bool:
    """True when a number is ``None`` or ``NaN``."""
    return value is None or (isinstance(value, float) and math.isnan(value))


# --------------------------------------------------------------------------------------------- shared pieces


@dataclass(frozen=True, slots=True)
class Commentary:
    """Plain-language commentary produced by the ``ai`` package.

    ``fell_back`` is True when the preferred provider failed and the offline writer produced the text.
    """

    text: str
    provider: str
    model: str
    generated_at: datetime
    fell_back: bool = False


@dataclass(frozen=True, slots=True)
class MethodNotes:
    """Short method appendix: the service-level policy and the formulas used, as ``(name, formula)`` pairs."""

    service_level_policy: str
    formulas: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()


def default_method_notes(
    *, service_level_policy: str = "Cycle service level per SKU from the SKU master."
) -> MethodNotes:
    """Method notes matching the engine's maths (docs/architecture.md, The maths), for services that have nothing
    more specific."""
    return MethodNotes(
        service_level_policy=service_level_policy,
        formulas=(
            (
                "Demand pattern",
                "Syntetos-Boylan: ADI and CV² of non-zero demand; smooth / intermittent / erratic / lumpy.",
            ),
            (
                "Forecast",
                "Per SKU, best of seasonal naive, ETS, Croston-SBA / TSB and a gradient-boosting model by "
                "rolling-origin backtest (MASE); p10 / p90 calibrated from backtest errors.",
            ),
            ("Safety stock", "SS = z · √(L·σ_D² + D²·σ_L²), z = Φ⁻¹(CSL), σ_D from backtest errors."),
            ("Reorder point", "ROP = D·L + SS; Poisson / negative-binomial / bootstrap quantile for slow movers."),
            ("EOQ", "Q* = √(2·K·D / h), h = unit cost × holding rate, rounded to MOQ and order multiple."),
            ("Newsvendor", "Q* = F⁻¹(Cu / (Cu + Co)), Cu = price − cost, Co = cost − salvage."),
            (
                "Value at risk",
                "Expected lost margin over the lead time for SKUs short of cover plus excess value at "
                "cost for overstock and dead stock.",
            ),
            ("WAPE", "Σ|actual − forecast| / Σ actual over the backtest windows."),
        ),
    )


# --------------------------------------------------------------------------------------------- portfolio


@dataclass(frozen=True, slots=True)
class PortfolioKpis:
    """Portfolio KPIs of one recompute run.

    ``status_counts`` maps each status of :data:`reports.theme.STATUS_ORDER` to a count (missing keys count 0).
    """

    sku_count: int
    inventory_value: float | None
    value_at_risk: float | None
    fill_rate: float | None
    turns: float | None
    days_of_supply: float | None
    wape: float | None
    status_counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sku_count < 0:
            raise ValueError(f"sku_count must be >= 0, got {self.sku_count}")
        if any(int(v) < 0 for v in self.status_counts.values()):
            raise ValueError("status_counts must be >= 0")

    def count(self, status: str) -> int:
        """Number of SKUs with ``status`` (0 if absent)."""
        return int(self.status_counts.get(status, 0))

    @classmethod
    def from_mapping(cls, kpis: Mapping[str, float | None]) -> PortfolioKpis:
        """Build from the engine's ``PortfolioResult.kpis`` dict (``sku_count``, ``count_<status>``, ...)."""

        def get(key: str) -> float | None:
            value = kpis.get(key)
            return None if is_missing(value) else float(value)  # type: ignore[arg-type]

        counts = {s: int(kpis.get(f"count_{s}") or 0) for s in STATUS_ORDER}
        for key, value in kpis.items():  # keep statuses the engine may add later
            if key.startswith("count_") and key[6:] not in counts and not is_missing(value):
                counts[key[6:]] = int(value)  # type: ignore[arg-type]
        return cls(
            sku_count=int(kpis.get("sku_count") or 0),
            inventory_value=get("inventory_value"),
            value_at_risk=get("value_at_risk"),
            fill_rate=get("fill_rate"),
            turns=get("turns"),
            days_of_supply=get("days_of_supply"),
            wape=get("wape"),
            status_counts=counts,
        )


@dataclass(frozen=True, slots=True)
class RiskRow:
    """One row of the top-risks table (the service passes them already ranked, at most 10)."""

    code: str
    name: str
    category: str
    status: str
    reason: str
    value_at_risk: float | None
    days_of_cover: float | None


@dataclass(frozen=True, slots=True)
class Mover:
    """A SKU whose recent demand moved most against its baseline; ``change_pct`` in percent (45.0 = +45 %)."""

    code: str
    name: str
    demand_recent: float | None
    demand_baseline: float | None
    change_pct: float | None


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    """A recommended purchase order line; ``value`` = qty x unit cost."""

    supplier: str
    code: str
    name: str
    qty: float
    order_by: date
    value: float | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "order_by", _to_date(self.order_by, name="order_by"))


@dataclass(frozen=True, slots=True)
class FvaRow:
    """Forecast value added of planner overrides for one group.

    ``fva_points`` = (stat WAPE - override WAPE) x 100: positive means the overrides improved accuracy.
    """

    group: str
    stat_wape: float | None
    override_wape: float | None
    fva_points: float | None


@dataclass(frozen=True, slots=True)
class DecisionLine:
    """One decision of the log as the meeting pack prints it (issue 19): when, what kind, the SKU, who, what, and
    its outcome (``outcome_state``: known / pending / none)."""

    at: datetime
    kind: str
    sku: str
    user: str
    what: str
    outcome: str
    outcome_state: str


@dataclass(frozen=True, slots=True)
class ApprovalNeeded:
    """An at-risk SKU whose recommended order awaits approval: the risk and the order that answers it."""

    code: str
    name: str
    status: str
    value_at_risk: float | None
    days_of_cover: float | None
    qty: float
    order_value: float | None
    order_by: date | None


@dataclass(frozen=True, slots=True)
class MeetingPack:
    """The S&OP meeting pack pages after the executive summary (issue 19 item 4).

    ``decisions`` were made since ``since`` (the last briefing of the scope, or a look-back); ``outcomes`` are
    earlier decisions whose outcome is now known; ``needed`` are recommended orders awaiting approval on at-risk
    SKUs (:class:`PurchaseOrderLine`); ``changes`` are lines of "what changed since ``changes_label``" (cycle totals
    and the largest SKU changes), empty when there is nothing to compare.
    """

    since: datetime | None
    since_label: str
    decisions: Sequence[DecisionLine] = ()
    decisions_total: int = 0
    outcomes: Sequence[DecisionLine] = ()
    needed: Sequence[ApprovalNeeded] = ()
    changes_label: str = ""
    changes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PortfolioBriefing:
    """Everything the portfolio briefing prints.

    ``previous_kpis`` is the previous finished run (None for the first run). ``purchase_orders`` are the lines to
    print; ``purchase_orders_total_count`` / ``_value`` describe all recommended lines when the service printed
    only the first ones (None = the printed lines are all of them).
    """

    company_name: str
    title: str
    generated_at: datetime
    data_as_of: date
    run_id: str
    scope_label: str
    kpis: PortfolioKpis
    previous_kpis: PortfolioKpis | None = None
    top_risks: Sequence[RiskRow] = ()
    top_movers: Sequence[Mover] = ()
    commentary: Commentary | None = None
    purchase_orders: Sequence[PurchaseOrderLine] = ()
    purchase_orders_total_count: int | None = None
    purchase_orders_total_value: float | None = None
    fva: Sequence[FvaRow] = ()
    method_notes: MethodNotes | None = None
    currency_symbol: str = "$"
    policy_backtest: str | None = None
    """One line on the latest policy replay of this scope (fill rate and inventory against the target), or None."""
    capacity_alerts: Sequence[str] = ()  # resources short of capacity in the supply plan's horizon (issue 18)
    meeting_pack: MeetingPack | None = None  # decisions, outcomes, decisions needed, what changed (issue 19)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_as_of", _to_date(self.data_as_of, name="data_as_of"))
        object.__setattr__(self, "run_id", str(self.run_id))


# --------------------------------------------------------------------------------------------- single SKU


@dataclass(frozen=True, slots=True)
class TimeSeries:
    """Dates and quantities of equal length."""

    dates: Sequence[date]
    values: Sequence[float]

    def __post_init__(self) -> None:
        dates = _dates(self.dates, name="dates")
        values = _floats(self.values, name="values")
        if len(dates) != len(values):
            raise ValueError(f"values: length {len(values)} differs from dates length {len(dates)}")
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return len(self.dates)

    @classmethod
    def empty(cls) -> TimeSeries:
        """A series with no points."""
        return cls((), ())


@dataclass(frozen=True, slots=True)
class ForecastSeries:
    """Forecast mean and the p10 / p90 band over the horizon."""

    dates: Sequence[date]
    mean: Sequence[float]
    p10: Sequence[float]
    p90: Sequence[float]

    def __post_init__(self) -> None:
        dates = _dates(self.dates, name="dates")
        object.__setattr__(self, "dates", dates)
        for name in ("mean", "p10", "p90"):
            values = _floats(getattr(self, name), name=name)
            if len(values) != len(dates):
                raise ValueError(f"{name}: length {len(values)} differs from dates length {len(dates)}")
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return len(self.dates)

    @classmethod
    def empty(cls) -> ForecastSeries:
        """A forecast with no points."""
        return cls((), (), (), ())


@dataclass(frozen=True, slots=True)
class SkuMaster:
    """SKU master fields and the stock position."""

    code: str
    name: str
    category: str = ""
    location: str = ""
    supplier: str = ""
    unit_cost: float | None = None
    unit_price: float | None = None
    moq: float | None = None
    order_multiple: float | None = None
    on_hand: float | None = None
    on_order: float | None = None
    grain: str = "weekly"


@dataclass(frozen=True, slots=True)
class PolicyCard:
    """Inventory policy and forecast facts of one SKU (the engine snapshot's columns).

    ``service_level`` is a fraction; lead times are in days; quantities in units; ``runners_up`` are
    ``(model, MASE)`` pairs of the models that were not chosen, best first.

    The order policy follows :class:`services.sku_detail.SkuDetail`: ``one_shot`` (a seasonal / one-time buy ordered
    with the newsvendor quantity instead of a reorder point) and its ``critical_ratio`` (the newsvendor alpha*, None
    for other SKUs); ``horizon_demand`` is the forecast demand over the ``horizon_periods`` forecast periods
    (forecast per period x periods, the engine's mu_h).
    """

    demand_class: str
    abc: str
    xyz: str
    service_level: float | None
    lead_time_mean_days: float | None
    lead_time_std_days: float | None
    lead_time_source: str
    safety_stock: float | None
    reorder_point: float | None
    eoq: float | None
    newsvendor_qty: float | None
    rop_method: str
    rop_method_reason: str
    forecast_model: str
    mase: float | None
    wape: float | None
    bias: float | None
    runners_up: Sequence[tuple[str, float]] = ()
    days_of_cover: float | None = None
    one_shot: bool = False
    critical_ratio: float | None = None
    horizon_demand: float | None = None
    horizon_periods: int | None = None
    phase_out: bool = False
    """A stopped seller phased out by the engine (``order_policy`` "phase_out"): not replenished."""
    adi: float | None = None
    """Mean interval between periods with demand (worded by ai.wording's ADI bands)."""
    forecast_cv: float | None = None
    """Forecast-error sigma / forecast per period (worded by ai.wording's CV bands, as on the SKU page)."""


@dataclass(frozen=True, slots=True)
class RecommendedOrder:
    """The recommended order of one SKU; ``arrival`` is the expected receipt date (drawn on the stock chart)."""

    qty: float
    order_by: date
    value: float | None = None
    arrival: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "order_by", _to_date(self.order_by, name="order_by"))
        if self.arrival is not None:
            object.__setattr__(self, "arrival", _to_date(self.arrival, name="arrival"))


@dataclass(frozen=True, slots=True)
class SkuBriefing:
    """Everything the single-SKU briefing prints."""

    company_name: str
    title: str
    generated_at: datetime
    data_as_of: date
    run_id: str
    sku: SkuMaster
    status: str
    status_reason: str
    policy: PolicyCard
    history: TimeSeries = field(default_factory=TimeSeries.empty)
    forecast: ForecastSeries = field(default_factory=ForecastSeries.empty)
    overrides: TimeSeries = field(default_factory=TimeSeries.empty)
    projected_stock: TimeSeries = field(default_factory=TimeSeries.empty)
    recommended_order: RecommendedOrder | None = None
    commentary: Commentary | None = None
    currency_symbol: str = "$"

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_as_of", _to_date(self.data_as_of, name="data_as_of"))
        object.__setattr__(self, "run_id", str(self.run_id))
