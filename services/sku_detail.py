"""One SKU's full detail from the latest snapshot (read-only), and the SKU search.

- :func:`sku_detail` - master data, the snapshot row (status, reason, classification, policy, accuracy), demand
  history, the future forecast with its p10-p90 band, backtest forecasts, planner overrides, the models' backtest
  scores and the projected stock.
- :func:`project_stock` - the projected stock over the lead time and beyond (with and without an order).
- :func:`search_skus` - type-ahead over code and name.
- :func:`sku_commentary` - the narrative service's SKU commentary when it exists, else the snapshot's reasons.

Nothing here recomputes the engine: it reads ``sku_snapshot`` and ``forecast`` rows of a finished run.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from core import formats
from core.portfolio import newsvendor_critical_ratio
from db.models import Demand, Forecast, ForecastOverride, RecomputeRun, Sku, SkuSnapshot, utcnow
from services import master_data, narrative
from services.orders import order_by_date  # the one definition, shared with the Orders page
from services.runs import RunInfo, days_per_period, run_by_id, run_scope
from services.watchtower import (
    Commentary,
    clean_number,
    narrative_text,
    status_label,
)

SNAPSHOT_FIELDS = tuple(
    c.key for c in SkuSnapshot.__table__.columns if c.key not in ("id", "run_id", "sku_id")
)  # every engine output column
MAX_PROJECTION = 104


@dataclass(frozen=True)
class ModelScore:
    model: str
    mase: float | None
    chosen: bool


@dataclass(frozen=True)
class Projection:
    """Projected stock per period from now (index 0) onwards, in units.

    ``position``: inventory position (on hand + on order) minus cumulative forecast demand, no new order.
    ``with_order``: the same plus ``order_qty`` once the order placed at ``order_at`` arrives (``arrives_at``).
    ``low`` / ``high``: ``with_order`` if demand ran at p90 / p10 in every period (a deliberately wide range).
    """

    dates: list[dt.date]
    position: list[float]
    with_order: list[float]
    low: list[float]
    high: list[float]
    order_qty: float
    order_at: float
    arrives_at: float
    safety_stock: float | None
    reorder_point: float | None
    stockout_period: int | None  # first period where ``with_order`` is below zero (None when it never is)


#: snapshot values in money: unknown (never $0) while the SKU's unit cost is missing (services.master_data)
MONEY_KEYS = frozenset({"inventory_value", "value_at_risk", "excess_value"})


@dataclass(frozen=True)
class SkuDetail:
    code: str
    name: str
    category: str
    location: str
    supplier: str
    unit_cost: float
    unit_price: float
    moq: float
    order_multiple: float
    lead_time_master_days: float
    lead_time_master_std_days: float
    run: RunInfo | None
    snapshot: dict[str, Any] | None
    days_per_period: float
    history: list[tuple[dt.date, float]] = field(default_factory=list)
    forecast: list[dict[str, Any]] = field(default_factory=list)
    backtest: list[tuple[dt.date, float]] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    model_scores: list[ModelScore] = field(default_factory=list)
    projection: Projection | None = None
    order_by_date: dt.date | None = None
    # the policy the run used to size this SKU's order (core.portfolio.ORDER_POLICIES: "reorder_point" |
    # "newsvendor" | "phase_out"), stored in the snapshot row; None without a snapshot
    order_policy: str | None = None
    one_shot: bool = False  # ordered as a seasonal / one-shot buy with the newsvendor quantity in this run (issue 10)
    critical_ratio: float | None = None  # the newsvendor critical ratio of a one-shot SKU in this run (None otherwise)
    # the SKU master was edited at this time, after the run that last computed this SKU started (a partial run carries
    # other SKUs' rows forward): the snapshot still uses the previous master values (None when it is up to date)
    master_edited_at: dt.datetime | None = None
    # "today" of this view (UTC date it was built): an order-by date before it is overdue (issue 15 item 7)
    as_of: dt.date | None = None
    # master-data fields still at their defaults (services.master_data: unit_cost, category, lead_time_days, supplier)
    defaulted_fields: tuple[str, ...] = ()
    item: str = ""  # the product shared across locations (issue 21; the SKU's own code when not given)

    @property
    def overdue_days(self) -> int | None:
        """Days the recommended order's order-by date is past ``as_of`` (None when not overdue or no order)."""
        if self.order_by_date is None or self.as_of is None:
            return None
        return formats.overdue_days(self.order_by_date, self.as_of)

    @property
    def last_reported(self) -> dt.date | None:
        """The SKU's last reported demand period when the run was computed (None: unknown or no demand)."""
        value = (self.snapshot or {}).get("last_reported")
        return value if isinstance(value, dt.date) else None

    @property
    def reported_behind(self) -> bool:
        """Its last reported period is before the run's data through: the SKU's numbers end there (issue 15)."""
        through = self.run.data_as_of if self.run is not None else None
        return self.last_reported is not None and through is not None and self.last_reported < through

    @property
    def incomplete_master_data(self) -> bool:
        return bool(self.defaulted_fields)

    @property
    def status(self) -> str | None:
        return self.snapshot.get("status") if self.snapshot else None

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    def value(self, key: str) -> Any:
        """A snapshot value (None when missing / NaN; a money value of a SKU without a unit cost is unknown: None)."""
        if not self.snapshot:
            return None
        if key in MONEY_KEYS and "unit_cost" in self.defaulted_fields:
            return None
        raw = self.snapshot.get(key)
        return raw if isinstance(raw, str | dict) else clean_number(raw)

    def periods_to_days(self, periods: float | None) -> float | None:
        return None if periods is None else periods * self.days_per_period


def _add_periods(start: dt.date, periods: float, per: float) -> dt.date:
    return start + dt.timedelta(days=round(periods * per))


def project_stock(
    *,
    on_hand: float,
    on_order: float,
    demand: Sequence[float],
    demand_low: Sequence[float] | None = None,
    demand_high: Sequence[float] | None = None,
    order_qty: float,
    order_at: float,
    lead_time: float,
    safety_stock: float | None = None,
    reorder_point: float | None = None,
    start: dt.date,
    period_days: float,
) -> Projection:
    """Project the stock one period at a time.

    position_k = on_hand + on_order - sum_{j<=k} demand_j (k = 0 is now, before any demand);
    with_order_k = position_k + order_qty * [k >= order_at + lead_time] (the order arrives one lead time after it
    is placed). ``demand_low`` / ``demand_high`` (p10 / p90 per period) give the band of ``with_order``.
    """
    if lead_time < 0 or not math.isfinite(lead_time):
        raise ValueError(f"lead_time must be a finite number >= 0, got {lead_time!r}")
    if order_at < 0:
        raise ValueError(f"order_at must be >= 0, got {order_at!r}")
    if order_qty < 0:
        raise ValueError(f"order_qty must be >= 0, got {order_qty!r}")
    demand = [max(0.0, clean_number(d) or 0.0) for d in demand]
    low_d = [max(0.0, clean_number(d) or 0.0) for d in (demand_high or demand)]
    high_d = [max(0.0, clean_number(d) or 0.0) for d in (demand_low or demand)]
    arrives = order_at + lead_time
    n = len(demand)
    start_level = (clean_number(on_hand) or 0.0) + (clean_number(on_order) or 0.0)
    position, with_order, low, high = [start_level], [], [start_level], [start_level]
    used = low_used = high_used = 0.0
    for k in range(1, n + 1):
        used += demand[k - 1]
        low_used += low_d[k - 1] if k - 1 < len(low_d) else demand[k - 1]
        high_used += high_d[k - 1] if k - 1 < len(high_d) else demand[k - 1]
        position.append(start_level - used)
        low.append(start_level - low_used)
        high.append(start_level - high_used)
    for k in range(n + 1):
        extra = order_qty if order_qty > 0 and k >= arrives else 0.0
        with_order.append(position[k] + extra)
        low[k] += extra
        high[k] += extra
    stockout = next((k for k, v in enumerate(with_order) if v < 0), None)
    dates = [_add_periods(start, k, period_days) for k in range(n + 1)]
    return Projection(
        dates=dates,
        position=position,
        with_order=with_order,
        low=low,
        high=high,
        order_qty=float(order_qty),
        order_at=float(order_at),
        arrives_at=float(arrives),
        safety_stock=clean_number(safety_stock),
        reorder_point=clean_number(reorder_point),
        stockout_period=stockout,
    )


def _snapshot_dict(row: SkuSnapshot) -> dict[str, Any]:
    return {key: getattr(row, key) for key in SNAPSHOT_FIELDS}


def _model_scores(snapshot: dict[str, Any]) -> list[ModelScore]:
    chosen = snapshot.get("forecast_model")
    scores = snapshot.get("model_scores") or {}
    out = [ModelScore(model=str(m), mase=clean_number(v), chosen=m == chosen) for m, v in scores.items()]
    if chosen and not any(s.chosen for s in out):
        out.append(ModelScore(model=str(chosen), mase=clean_number(snapshot.get("mase")), chosen=True))
    out.sort(key=lambda s: (not s.chosen, s.mase is None, s.mase if s.mase is not None else 0.0, s.model))
    return out


def projection_for(detail: SkuDetail, *, order_qty: float | None = None) -> Projection | None:
    """The projected stock of ``detail`` (with the recommended order, or ``order_qty`` instead)."""
    snap = detail.snapshot
    if not snap:
        return None
    lead = detail.value("lead_time_periods") or 0.0
    order_at = detail.value("order_by_periods")
    order_at = max(0.0, order_at) if order_at is not None else 0.0
    qty = (detail.value("recommended_qty") or 0.0) if order_qty is None else max(0.0, float(order_qty))
    per_period = detail.value("forecast_per_period") or 0.0
    mean = [f["mean"] for f in detail.forecast]
    p10 = [f["p10"] if f["p10"] is not None else f["mean"] for f in detail.forecast]
    p90 = [f["p90"] if f["p90"] is not None else f["mean"] for f in detail.forecast]
    length = min(MAX_PROJECTION, max(len(mean), math.ceil(order_at + lead) + 4, 8))
    if len(mean) < length:  # beyond the forecast horizon: the average forecast per period
        tail = length - len(mean)
        mean += [per_period] * tail
        p10 += [per_period] * tail
        p90 += [per_period] * tail
    start = _now_date(detail)
    return project_stock(
        on_hand=detail.value("on_hand") or 0.0,
        on_order=detail.value("on_order") or 0.0,
        demand=mean[:length],
        demand_low=p10[:length],
        demand_high=p90[:length],
        order_qty=qty,
        order_at=order_at,
        lead_time=lead,
        safety_stock=detail.value("safety_stock"),
        reorder_point=detail.value("reorder_point"),
        start=start,
        period_days=detail.days_per_period,
    )


def _now_date(detail: SkuDetail) -> dt.date:
    """The start of the first future period ("now" for the projection)."""
    if detail.forecast:
        return detail.forecast[0]["period"]
    if detail.run and detail.run.data_as_of:
        return _add_periods(detail.run.data_as_of, 1, detail.days_per_period)
    if detail.history:
        return _add_periods(detail.history[-1][0], 1, detail.days_per_period)
    return dt.date.today()


def _critical_ratio(sku: Sku, detail: SkuDetail) -> float | None:
    """The newsvendor critical ratio re-derived from the SKU master (horizon = the run's forecast periods): only for
    snapshot rows written before migration 0005, which did not store it."""
    if detail.snapshot is None or not detail.forecast:
        return None
    ratio = newsvendor_critical_ratio(
        unit_price=np.array([sku.unit_price], dtype=float),
        unit_cost=np.array([sku.unit_cost], dtype=float),
        salvage_value=np.array([sku.salvage_value], dtype=float),
        holding_cost_rate=np.array([sku.holding_cost_rate], dtype=float),
        horizon_years=len(detail.forecast) * detail.days_per_period / 365.25,
        service_level=np.array([detail.value("service_level") or sku.service_level_target], dtype=float),
    )
    return clean_number(ratio[0])


def _order_policy(sku: Sku, detail: SkuDetail) -> SkuDetail:
    """``order_policy``, ``one_shot`` and ``critical_ratio`` as the run computed them (the snapshot's columns).

    Rows written before migration 0005 have no stored policy: those fall back to the SKU master's ``one_shot`` flag
    and a critical ratio re-derived from the master (what the pages did before the columns existed)."""
    if detail.snapshot is None:
        return detail
    policy = detail.value("order_policy")
    if policy:
        one_shot = policy == "newsvendor"
        ratio = detail.value("critical_ratio") if one_shot else None
    else:
        one_shot = bool(sku.one_shot)
        policy = "newsvendor" if one_shot else "reorder_point"
        ratio = _critical_ratio(sku, detail) if one_shot else None
    return replace(detail, order_policy=policy, one_shot=one_shot, critical_ratio=ratio)


def computed_by(*, session: Session, run_id: int, code: str) -> RecomputeRun | None:
    """The run that computed ``code``'s snapshot row of run ``run_id``: the run itself, or for a partial run that
    carried the SKU forward, the run it was carried from (followed back until a run computed it).

    A partial run's scope lists at most 1,000 codes: when the list is cut short the run is taken as the one."""
    run = session.get(RecomputeRun, int(run_id))
    seen: set[int] = set()
    while run is not None and run.id not in seen:
        seen.add(run.id)
        scope = run_scope(run)
        if not scope or not scope.get("partial"):
            return run
        codes = scope.get("skus") or []
        if code in codes or len(codes) < int(scope.get("sku_count") or 0):
            return run
        carried = scope.get("carried_from")
        if carried is None:
            return run
        run = session.get(RecomputeRun, int(carried))
    return run


def _master_edited_at(session: Session, sku: Sku, run: RunInfo | None) -> dt.datetime | None:
    """When the SKU master was edited after the run that computed this SKU loaded it (None when it was not)."""
    if run is None or sku.updated_at is None:
        return None
    computing = computed_by(session=session, run_id=run.id, code=sku.code)
    started = computing.started_at if computing is not None else run.started_at
    return sku.updated_at if started is not None and sku.updated_at > started else None


def sku_name(*, session: Session, code: str) -> str | None:
    """The name of SKU ``code`` (None when there is no such SKU): the SKU page's browser-tab title."""
    return session.scalar(select(Sku.name).where(Sku.code == (code or "").strip()).limit(1))


def sku_detail(*, session: Session, code: str, run_id: int | None = None) -> SkuDetail | None:
    """Everything the SKU page shows for ``code`` (None when no SKU has that code).

    The snapshot, forecasts and scores come from run ``run_id`` (default: the latest finished run); a SKU that the
    run does not cover (added since) comes back with ``snapshot=None`` and its history only.
    """
    code = (code or "").strip()
    if not code:
        return None
    sku = session.scalar(select(Sku).where(Sku.code == code))
    if sku is None:
        return None
    run = run_by_id(session=session, run_id=run_id)
    snap_row = (
        session.scalar(select(SkuSnapshot).where(SkuSnapshot.run_id == run.id, SkuSnapshot.sku_id == sku.id))
        if run
        else None
    )
    snapshot = _snapshot_dict(snap_row) if snap_row is not None else None
    history = [
        (p, float(q))
        for p, q in session.execute(
            select(Demand.period, Demand.quantity).where(Demand.sku_id == sku.id).order_by(Demand.period)
        )
    ]
    forecast: list[dict[str, Any]] = []
    backtest: list[tuple[dt.date, float]] = []
    if run is not None and snapshot is not None:
        rows = session.execute(
            select(
                Forecast.period, Forecast.kind, Forecast.mean, Forecast.p10, Forecast.p50, Forecast.p90, Forecast.uplift
            )
            .where(Forecast.run_id == run.id, Forecast.sku_id == sku.id)
            .order_by(Forecast.period)
        )
        for period, kind, mean, p10, p50, p90, uplift in rows:
            if kind == "backtest":
                value = clean_number(mean)
                if value is not None:
                    backtest.append((period, value))
            else:
                forecast.append(
                    {
                        "period": period,
                        "mean": clean_number(mean) or 0.0,
                        "p10": clean_number(p10),
                        "p50": clean_number(p50),
                        "p90": clean_number(p90),
                        "uplift": clean_number(uplift),  # units planned promotions add (issue 20)
                    }
                )
    overrides = [
        {
            "period": o.period,
            "qty": float(o.qty),
            "statistical_qty": clean_number(o.statistical_qty),
            "reason": o.reason,
            "user_email": o.user_email,
            "created_at": o.created_at,
        }
        for o in session.scalars(
            select(ForecastOverride)
            .where(ForecastOverride.sku_id == sku.id)
            .order_by(ForecastOverride.period, ForecastOverride.created_at)
        )
    ]
    detail = SkuDetail(
        code=sku.code,
        name=sku.name,
        category=sku.category,
        location=sku.location,
        supplier=sku.supplier,
        unit_cost=sku.unit_cost,
        unit_price=sku.unit_price,
        moq=sku.moq,
        order_multiple=sku.order_multiple,
        lead_time_master_days=sku.lead_time_mean,
        lead_time_master_std_days=sku.lead_time_std,
        run=run if snapshot is not None else None,
        snapshot=snapshot,
        days_per_period=days_per_period(run.grain if run else None),
        history=history,
        forecast=forecast,
        backtest=backtest,
        overrides=overrides,
        model_scores=_model_scores(snapshot) if snapshot else [],
        defaulted_fields=tuple(master_data.parse(sku.defaulted_fields)),
        item=sku.item or sku.code,
    )
    detail = _order_policy(sku, detail)
    if snapshot is not None:
        detail = replace(detail, master_edited_at=_master_edited_at(session, sku, detail.run))
    projection = projection_for(detail)
    order_by = None
    if snapshot is not None and run is not None and (detail.value("recommended_qty") or 0) > 0:
        order_by = order_by_date(
            data_as_of=run.data_as_of,
            order_by_periods=detail.value("order_by_periods") or 0.0,
            grain=run.grain,
            last_reported=detail.last_reported,
        )
    return replace(detail, projection=projection, order_by_date=order_by, as_of=utcnow().date())


@dataclass(frozen=True)
class SkuHit:
    code: str
    name: str
    category: str
    status: str | None


def search_skus(*, session: Session, text: str, limit: int = 15, run_id: int | None = None) -> list[SkuHit]:
    """SKUs whose code or name contains ``text`` (case-insensitive): exact code first, then code prefixes, then the
    rest by code; with each SKU's status in the run (default: latest)."""
    needle = (text or "").strip().lower()[:100]
    if not needle:
        return []
    if not 0 < limit <= 100:
        raise ValueError(f"limit must be in 1..100, got {limit}")
    run = run_by_id(session=session, run_id=run_id)
    code_l = func.lower(Sku.code)
    rank = case((code_l == needle, 0), (code_l.startswith(needle, autoescape=True), 1), else_=2)
    stmt = (
        select(Sku.code, Sku.name, Sku.category, SkuSnapshot.status)
        .outerjoin(
            SkuSnapshot,
            (SkuSnapshot.sku_id == Sku.id) & (SkuSnapshot.run_id == (run.id if run else -1)),
        )
        .where(or_(code_l.contains(needle, autoescape=True), func.lower(Sku.name).contains(needle, autoescape=True)))
        .order_by(rank, Sku.code)
        .limit(limit)
    )
    return [SkuHit(code=c, name=n, category=cat, status=s) for c, n, cat, s in session.execute(stmt)]


def sku_commentary(*, session: Session, detail: SkuDetail) -> Commentary:
    """:func:`services.narrative.sku_commentary` when it gives a text, else the snapshot's reasons."""
    if detail.snapshot is not None:
        try:
            result = narrative.sku_commentary(session=session, code=detail.code)
        except Exception:  # noqa: BLE001 - the panel must still show the facts when the narrative fails
            result = None
        text = narrative_text(result)
        if text:
            return Commentary(
                source="narrative",
                text=text,
                provider=getattr(result, "provider", None),
                view=None if isinstance(result, str) else result,
            )
    items: list[dict[str, Any]] = []
    if detail.snapshot is not None:
        items.append({"label": detail.status_label, "status": detail.status, "reason": detail.value("status_reason")})
        reason = detail.value("rop_method_reason")
        if reason:
            items.append({"label": "Reorder rule", "status": None, "reason": reason})
    return Commentary(source="snapshot", items=tuple(items))


@dataclass(frozen=True)
class SkuSummary:
    """A SKU's master fields and snapshot row, without history or forecasts (API lists)."""

    code: str
    name: str
    category: str
    location: str
    supplier: str
    snapshot: dict[str, Any] | None
    order_multiple: float = 1.0  # whole -> the API's recommended_qty is a whole number (core.formats.order_quantity)
    defaulted_fields: tuple[str, ...] = ()
    item: str = ""  # the product shared across locations (issue 21)
    data_through: dt.date | None = None  # the run's data_as_of

    @property
    def last_reported(self) -> dt.date | None:
        value = (self.snapshot or {}).get("last_reported")
        return value if isinstance(value, dt.date) else None

    @property
    def reported_behind(self) -> bool:
        """Its last reported period is before the run's data through (issue 15)."""
        last = self.last_reported
        return last is not None and self.data_through is not None and last < self.data_through


def sku_summaries(*, session: Session, run_id: int, codes: list[str]) -> list[SkuSummary]:
    """Master fields and snapshot rows of ``codes`` in run ``run_id``, in the order given, with one query."""
    if not codes:
        return []
    rows = session.execute(
        select(Sku, SkuSnapshot)
        .outerjoin(SkuSnapshot, (SkuSnapshot.sku_id == Sku.id) & (SkuSnapshot.run_id == run_id))
        .where(Sku.code.in_(codes))
    ).all()
    through = session.scalar(select(RecomputeRun.data_as_of).where(RecomputeRun.id == run_id))
    found = {
        sku.code: SkuSummary(
            code=sku.code,
            name=sku.name,
            category=sku.category,
            location=sku.location,
            supplier=sku.supplier,
            snapshot=_snapshot_dict(snap) if snap is not None else None,
            order_multiple=sku.order_multiple,
            defaulted_fields=tuple(master_data.parse(sku.defaulted_fields)),
            data_through=through,
            item=sku.item or sku.code,
        )
        for sku, snap in rows
    }
    return [found[code] for code in codes if code in found]
