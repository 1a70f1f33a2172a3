"""PDF briefings: facts from the latest finished snapshot -> :mod:`reports` -> PDF bytes kept in ``briefing``.

Scopes (:class:`BriefingScope`)
-------------------------------
- the whole portfolio (``portfolio``);
- a segment: any of one category, one location and one ABC class (``portfolio?abc=A&category=Beverages``);
- one SKU (``sku:<code>``).

Where each part of a portfolio briefing comes from
--------------------------------------------------
- Run, data date, grain: the latest finished ``recompute_run`` (:func:`services.watchtower.latest_run`); the change
  columns compare with the finished run before it (:func:`services.watchtower.previous_run`).
- KPIs, whole portfolio: the run's stored KPIs (``recompute_run.kpis``, what the Watchtower shows), with the SKU count
  and the status counts taken from the run's ``sku_snapshot`` rows (as the Watchtower counts them).
- KPIs, segment: computed from the segment's snapshot rows with the engine's own definitions,
  :func:`core.kpi.portfolio_kpis` (sums for inventory value / value at risk / excess, demand-value-weighted WAPE,
  turns = annual cost of goods / inventory value, ...). The per-SKU expected fill rate the engine weights is not
  stored, so it is rebuilt from the stored policy: beta = 1 - n(ROP) / Q with Q = max(lot, D x R), lot = min(EOQ,
  365 days of demand) rounded to MOQ / multiple, sigma_LTD = sqrt(L sigma^2 + D^2 sigma_L^2)
  (:func:`segment_kpis`; the same steps as :func:`core.portfolio.compute_batch`, so on the whole portfolio it gives
  the stored KPIs back while the SKU master is unchanged). The previous run's figures for the segment come from the
  previous run's rows with the same filters (None when that run's rows were pruned).
- Top risks: the 10 SKUs with the highest value at risk (> 0), ties by code, with their status reasons.
- Top movers: the 8 SKUs whose recent demand moved most against the baseline in units per period (the ranking the
  commentary uses, :func:`ai.portfolio_facts`); the change is shown in percent of the baseline.
- Commentary: whole portfolio -> :func:`services.narrative.portfolio_commentary` (Gemini or the offline writer, cached);
  segment -> the offline writer over the segment's own facts (grounded, no model call, so the text never quotes
  whole-portfolio figures as the segment's).
- Purchase orders: ``purchase_order`` rows with status ``recommended`` (:func:`services.orders.list_orders` when that
  module exists) of the SKUs in scope; the :data:`MAX_PO_LINES` most urgent (order-by date, then value) are printed,
  the count and value of all of them are stated.
- Forecast value added: :func:`services.overrides.fva_frame` (overridden periods whose actuals arrived) restricted to
  the SKUs in scope, per category plus a total (:func:`core.accuracy.forecast_value_added`); omitted when empty.
- Company name: ``settings.company_name``.

A SKU briefing reads :func:`services.sku_detail.sku_detail` (history, forecast band, overrides, projected stock,
policy), the open recommended order of that SKU when there is one (else the snapshot's recommendation) and
:func:`services.narrative.sku_commentary`.

Every briefing made through :func:`make_briefing` is stored (the newest :data:`KEEP_BRIEFINGS` are kept) and
audit-logged; :func:`get_briefing` serves it again. Nothing here recomputes the engine.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ai import wording
from core import formats
from core import kpi as core_kpi
from core.calendar import GRAIN_DAYS
from core.portfolio import expected_fill_rates
from db.models import Briefing, PurchaseOrder, RecomputeRun, Sku, SkuSnapshot, utcnow
from reports.data import (
    Commentary,
    ForecastSeries,
    FvaRow,
    MethodNotes,
    Mover,
    PolicyCard,
    PortfolioBriefing,
    PortfolioKpis,
    PurchaseOrderLine,
    RecommendedOrder,
    RiskRow,
    SkuBriefing,
    SkuMaster,
    TimeSeries,
    default_method_notes,
)
from reports.formatting import fmt_money_compact, fmt_pct
from services import audit
from services.backtest.line import briefing_line
from services.errors import UserFacingError
from services.supply import capacity_alerts
from services.watchtower import GridFilters, RunInfo, clean_number, filter_options, latest_run, previous_run
from settings import get_settings

logger = logging.getLogger(__name__)

TOP_RISKS = 10
TOP_MOVERS = 8
MAX_PO_LINES = 25
KEEP_BRIEFINGS = 100
"""Stored briefings kept (older ones are deleted when a new one is stored)."""
MAX_HISTORY_POINTS = 156
"""History periods drawn on a SKU briefing's chart (the latest ones)."""
CURRENCY_SYMBOL = "$"
ABC_CLASSES = ("A", "B", "C")
MAX_VALUE_LEN = 100
PORTFOLIO = "portfolio"
SKU_PREFIX = "sku:"
PORTFOLIO_TITLE = "Portfolio briefing"
SKU_TITLE = "SKU briefing"

Progress = Callable[[float, str], None]


class BriefingNotFoundError(UserFacingError):
    """The SKU or the stored briefing asked for does not exist."""


# --------------------------------------------------------------------------------------------------------------------
# scope


def _clean_value(value: Any, name: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_VALUE_LEN:
        raise UserFacingError(f"{name} is at most {MAX_VALUE_LEN} characters")
    return text


@dataclass(frozen=True)
class BriefingScope:
    """What a briefing covers: the whole portfolio, a segment (category / location / ABC class, combinable) or a SKU."""

    category: str | None = None
    location: str | None = None
    abc: str | None = None
    sku: str | None = None

    @classmethod
    def make(
        cls,
        *,
        category: str | None = None,
        location: str | None = None,
        abc: str | None = None,
        sku: str | None = None,
    ) -> BriefingScope:
        """A validated scope (blank values mean "not set").

        Raises
        ------
        UserFacingError
            A value over 100 characters, an ABC class other than A/B/C, or a SKU combined with a segment filter.
        """
        category = _clean_value(category, "category")
        location = _clean_value(location, "location")
        sku = _clean_value(sku, "sku")
        abc_value = _clean_value(abc, "abc")
        if abc_value is not None:
            abc_value = abc_value.upper()
            if abc_value not in ABC_CLASSES:
                raise UserFacingError(f"abc must be one of {', '.join(ABC_CLASSES)}, got {abc_value[:20]!r}")
        if sku is not None and (category or location or abc_value):
            raise UserFacingError("a SKU briefing takes no category, location or ABC filter")
        return cls(category=category, location=location, abc=abc_value, sku=sku)

    @classmethod
    def parse(cls, key: str) -> BriefingScope:
        """The scope of a stored key (the inverse of :attr:`key`)."""
        if key.startswith(SKU_PREFIX):
            return cls.make(sku=key[len(SKU_PREFIX) :])
        if key == PORTFOLIO:
            return cls()
        if key.startswith(PORTFOLIO + "?"):
            values = dict(parse_qsl(key[len(PORTFOLIO) + 1 :]))
            return cls.make(category=values.get("category"), location=values.get("location"), abc=values.get("abc"))
        raise ValueError(f"key is not a briefing scope: {key!r}")

    @property
    def is_sku(self) -> bool:
        return self.sku is not None

    @property
    def is_segment(self) -> bool:
        return not self.is_sku and any((self.category, self.location, self.abc))

    @property
    def key(self) -> str:
        """``portfolio``, ``portfolio?abc=A&category=Snacks`` or ``sku:<code>`` (stored in ``briefing.scope``)."""
        if self.sku is not None:
            return SKU_PREFIX + self.sku
        pairs = [(name, getattr(self, name)) for name in ("abc", "category", "location") if getattr(self, name)]
        return PORTFOLIO + ("?" + urlencode(pairs) if pairs else "")

    @property
    def label(self) -> str:
        """``Whole portfolio``, ``Category Snacks · ABC class A`` or ``SKU BEV-00001``."""
        if self.sku is not None:
            return f"SKU {self.sku}"
        parts = []
        if self.category:
            parts.append(f"Category {self.category}")
        if self.location:
            parts.append(f"Location {self.location}")
        if self.abc:
            parts.append(f"ABC class {self.abc}")
        return " \u00b7 ".join(parts) if parts else "Whole portfolio"

    def filters(self) -> GridFilters:
        """The Watchtower filters selecting this segment's snapshot rows."""
        return GridFilters.from_mapping({"category": self.category, "location": self.location, "abc": self.abc})


def scope_label(key: str) -> str:
    """Human label of a stored scope key (the key itself when it cannot be read)."""
    try:
        return BriefingScope.parse(key).label
    except (ValueError, UserFacingError):
        return key


@dataclass(frozen=True)
class ScopeOptions:
    """Values a segment can take in the latest run (empty lists before the first recompute)."""

    run_id: int | None
    categories: list[str]
    locations: list[str]
    abc: list[str]


def scope_options(*, session: Session) -> ScopeOptions:
    """Categories, locations and ABC classes of the SKUs in the latest finished run."""
    run = latest_run(session=session)
    if run is None:
        return ScopeOptions(run_id=None, categories=[], locations=[], abc=[])
    options = filter_options(session=session, run_id=run.id)
    return ScopeOptions(
        run_id=run.id, categories=options["category"], locations=options["location"], abc=options["abc"]
    )


# --------------------------------------------------------------------------------------------------------------------
# snapshot rows

_SNAPSHOT_COLUMNS = (
    "status",
    "status_reason",
    "abc",
    "forecast_per_period",
    "sigma",
    "lead_time_periods",
    "lead_time_std_periods",
    "service_level",
    "reorder_point",
    "eoq",
    "on_hand",
    "on_order",
    "recommended_qty",
    "order_by_periods",
    "days_of_cover",
    "annual_demand",
    "inventory_value",
    "value_at_risk",
    "excess_value",
    "demand_recent",
    "demand_baseline",
    "wape",
    "mase",
    "bias",
    "order_policy",  # a phased-out stopped seller promises no fill rate (core.portfolio.expected_fill_rates)
)
_SKU_COLUMNS = (
    "code",
    "name",
    "category",
    "location",
    "supplier",
    "unit_cost",
    "holding_cost_rate",
    "order_cost",
    "moq",
    "order_multiple",
)


_TEXT_COLUMNS = ("code", "name", "category", "location", "supplier", "status", "status_reason", "abc", "order_policy")


def snapshot_frame(*, session: Session, run_id: int, scope: BriefingScope | None = None) -> pd.DataFrame:
    """The run's snapshot rows in ``scope`` (default: all), with the SKU master fields the briefing needs.

    One row per SKU (columns: code, name, category, location, supplier, unit_cost, holding_cost_rate, order_cost, moq,
    order_multiple and the snapshot columns the briefing reads), ordered by code; numbers as floats (NaN if missing).
    """
    scope = scope or BriefingScope()
    stmt = (
        select(*(getattr(Sku, c) for c in _SKU_COLUMNS), *(getattr(SkuSnapshot, c) for c in _SNAPSHOT_COLUMNS))
        .select_from(SkuSnapshot)
        .join(Sku, Sku.id == SkuSnapshot.sku_id)
        .where(SkuSnapshot.run_id == run_id, *scope.filters().conditions())
        .order_by(Sku.code)
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=[*_SKU_COLUMNS, *_SNAPSHOT_COLUMNS])
    for column in frame.columns:
        if column not in _TEXT_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["name"] = [name or code for code, name in zip(frame["code"], frame["name"], strict=True)]
    frame["status_reason"] = frame["status_reason"].fillna("")
    return frame


def _days_per_period(grain: str | None) -> float:
    return GRAIN_DAYS.get(grain or "weekly", 7.0)


def segment_kpis(frame: pd.DataFrame, *, days_per_period: float) -> dict[str, float]:
    """Portfolio KPIs of the SKUs in ``frame`` (a :func:`snapshot_frame`), by :func:`core.kpi.portfolio_kpis`.

    Same keys as ``recompute_run.kpis`` (fill_rate, inventory_value, value_at_risk, turns, days_of_supply, wape, ...,
    sku_count, count_<status>); the expected fill rate per SKU comes from :func:`core.portfolio.expected_fill_rates`.
    """
    if frame.empty:
        return {"sku_count": 0.0, "inventory_value": 0.0, "value_at_risk": 0.0, "excess_value": 0.0}
    return core_kpi.portfolio_kpis(
        snapshot=frame,
        unit_cost=frame["unit_cost"].to_numpy(dtype=float),
        expected_fill_rate=expected_fill_rates(frame, days_per_period=days_per_period),
    )


def _kpis_with_counts(kpis: Mapping[str, Any], frame: pd.DataFrame) -> PortfolioKpis:
    """The run's KPIs with the SKU count and the status counts of its snapshot rows (as the Watchtower counts)."""
    base = PortfolioKpis.from_mapping(kpis)
    counts = dict.fromkeys(base.status_counts, 0)
    counts.update({str(k): int(v) for k, v in frame["status"].value_counts().items()})
    return PortfolioKpis(
        sku_count=len(frame),
        inventory_value=base.inventory_value,
        value_at_risk=base.value_at_risk,
        fill_rate=base.fill_rate,
        turns=base.turns,
        days_of_supply=base.days_of_supply,
        wape=base.wape,
        status_counts=counts,
    )


# --------------------------------------------------------------------------------------------------------------------
# portfolio pieces


def top_risk_rows(frame: pd.DataFrame, *, limit: int = TOP_RISKS) -> list[RiskRow]:
    """The ``limit`` SKUs with the highest value at risk (> 0), highest first, ties by code."""
    var = frame["value_at_risk"].fillna(0.0)
    # assign before filtering: a Series assigned to an empty frame would bring its whole index back as NaN rows
    rows = frame.assign(_var=var)[var > 0].sort_values(["_var", "code"], ascending=[False, True]).head(limit)
    return [
        RiskRow(
            code=r.code,
            name=r.name,
            category=r.category or "",
            status=r.status,
            reason=r.status_reason or "",
            value_at_risk=clean_number(r.value_at_risk),
            days_of_cover=_cover(r.days_of_cover),
        )
        for r in rows.itertuples(index=False)
    ]


def _cover(value: Any) -> float | None:
    """Days of cover: infinite cover (stock, no demand) is kept (printed as such), NaN becomes None."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def top_mover_rows(frame: pd.DataFrame, *, limit: int = TOP_MOVERS) -> list[Mover]:
    """SKUs with the largest absolute change of recent vs baseline demand (units per period), ties by code.

    ``change_pct`` = (recent / baseline - 1) x 100 (None when the baseline is 0 or unknown).
    """
    recent, baseline = frame["demand_recent"], frame["demand_baseline"]
    move = (recent - baseline).abs()
    rows = frame.assign(_move=move).dropna(subset=["_move"])
    rows = rows[rows["_move"] > 0].sort_values(["_move", "code"], ascending=[False, True]).head(limit)
    out = []
    for r in rows.itertuples(index=False):
        base = clean_number(r.demand_baseline)
        now = clean_number(r.demand_recent)
        change = (now / base - 1.0) * 100.0 if base and now is not None and base > 0 else None
        out.append(Mover(code=r.code, name=r.name, demand_recent=now, demand_baseline=base, change_pct=change))
    return out


@dataclass(frozen=True)
class OrderLine:
    """A recommended purchase order (plain values, from ``purchase_order``)."""

    code: str
    name: str
    supplier: str
    qty: float
    order_by: dt.date | None
    value: float


def recommended_orders(*, session: Session) -> list[OrderLine]:
    """Every purchase order with status ``recommended`` (:func:`services.orders.list_orders` when it exists)."""
    try:
        from services.orders import list_orders
    except ImportError:
        list_orders = None
    if list_orders is not None:
        return [
            OrderLine(code=o.sku, name=o.sku_name, supplier=o.supplier, qty=o.qty, order_by=o.order_by, value=o.value)
            for o in list_orders(session=session, status="recommended")
        ]
    return [_order_line(row) for row in session.execute(_recommended_select())]


def _recommended_select(*conditions: Any) -> Any:
    """SELECT code, name, supplier, qty, order_by, unit_cost of the recommended orders meeting ``conditions``."""
    return (
        select(
            Sku.code,
            Sku.name,
            PurchaseOrder.supplier,
            PurchaseOrder.qty,
            PurchaseOrder.order_by,
            PurchaseOrder.unit_cost,
        )
        .join(Sku, Sku.id == PurchaseOrder.sku_id)
        .where(PurchaseOrder.status == "recommended", *conditions)
    )


def _order_line(row: Any) -> OrderLine:
    """An :class:`OrderLine` from a :func:`_recommended_select` row (value = qty x unit cost)."""
    c, n, s, q, o, u = row
    return OrderLine(code=c, name=n, supplier=s, qty=float(q), order_by=o, value=float(q) * float(u or 0.0))


def _urgent_first(line: OrderLine) -> tuple[Any, ...]:
    return (line.order_by is None, line.order_by or dt.date.max, -line.value, line.code)


def _fva_rows(*, session: Session, codes: set[str] | None) -> list[FvaRow]:
    """Forecast value added per category and in total over the overridden periods of the SKUs in ``codes``."""
    try:
        from services.overrides import fva_frame
    except ImportError:
        return []
    from core.accuracy import forecast_value_added

    try:
        frame = fva_frame(session=session)
    except Exception:  # FVA is an extra: a failure must not stop the briefing
        logger.exception("briefing: forecast value added failed; left out")
        return []
    if codes is not None and not frame.empty:
        frame = frame[frame["sku"].isin(codes)]
    if frame.empty:
        return []
    rows: list[FvaRow] = []
    for by in ("category", "total"):
        table = forecast_value_added(frame=frame, by=by, overridden_only=True)
        for key, r in table.iterrows():
            stat, final, fva = (clean_number(r[c]) for c in ("statistical_wape", "final_wape", "fva_wape"))
            label = "All overridden periods" if by == "total" else str(key)
            rows.append(
                FvaRow(
                    group=label,
                    stat_wape=stat,
                    override_wape=final,
                    fva_points=None if fva is None else fva * 100.0,
                )
            )
    return rows


def _commentary_of(view: Any) -> Commentary | None:
    """:class:`reports.data.Commentary` of a :class:`services.narrative.CommentaryView` (None for none)."""
    if view is None or not getattr(view, "text", "").strip():
        return None
    created = view.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return Commentary(
        text=view.text,
        provider=getattr(view, "provider_label", view.provider),
        model=view.model,
        generated_at=created,
        fell_back=bool(view.fell_back),
    )


def _portfolio_commentary(*, session: Session) -> Commentary | None:
    from services import narrative

    try:
        return _commentary_of(narrative.portfolio_commentary(session=session))
    except Exception:  # the briefing is still useful without its commentary
        logger.exception("briefing: portfolio commentary failed; left out")
        return None


def _segment_commentary(
    *,
    frame: pd.DataFrame,
    kpis: Mapping[str, Any],
    previous_kpis: Mapping[str, Any] | None,
    run: RunInfo,
    now: dt.datetime,
) -> Commentary | None:
    """The offline writer over the segment's own facts (grounded in the segment's numbers, no model call)."""
    from ai import OfflineWriter, portfolio_facts, write_commentary

    try:
        facts = portfolio_facts(
            snapshot=frame.drop(columns=["status_reason"]),
            kpis=kpis,
            previous_kpis=previous_kpis,
            top_n=5,
            grain=run.grain if run.grain in GRAIN_DAYS else "weekly",
            as_of=run.data_as_of,
        )
        written = write_commentary(facts=facts, provider=OfflineWriter())
    except Exception:
        logger.exception("briefing: segment commentary failed; left out")
        return None
    from services.narrative import PROVIDER_LABELS

    return Commentary(
        text=written.text,
        provider=PROVIDER_LABELS.get(written.provider, written.provider),
        model=written.model,
        generated_at=now,
        fell_back=False,
    )


def _service_level_policy(frame: pd.DataFrame) -> str:
    levels = frame["service_level"].dropna()
    if levels.empty:
        return "Cycle service level per SKU from the SKU master."
    low, high = float(levels.min()), float(levels.max())
    span = f"{low:.0%}" if abs(high - low) < 1e-9 else f"{low:.0%} to {high:.0%}"
    return (
        f"Cycle service level per SKU from the SKU master ({span} in this scope); safety stock protects against "
        "the spread of the backtest forecast errors over the lead time."
    )


def _method_notes(frame: pd.DataFrame, *, scope: BriefingScope, run: RunInfo | None) -> MethodNotes:
    base = default_method_notes(service_level_policy=_service_level_policy(frame))
    notes = [
        f"Recommended purchase orders are the open recommendations of the purchase-order list; the {MAX_PO_LINES} "
        "most urgent (earliest order-by date, then highest value) are printed, the totals cover all of them.",
        "Top movers rank SKUs by the absolute change of recent demand against the baseline, in units per period.",
    ]
    if scope.is_segment:
        notes.insert(
            0,
            "Segment figures: the KPIs are computed from this segment's snapshot rows with the engine's definitions "
            "(core.kpi.portfolio_kpis); each SKU's expected fill rate is rebuilt from its stored reorder point, lot "
            "size and lead-time demand. The commentary is written by the offline writer from the segment's facts.",
        )
    if run is not None:
        notes.append(
            f"Snapshot of recompute run {run.id} ({run.grain or 'weekly'} data through {run.data_as_of or 'unknown'})."
        )
    return MethodNotes(service_level_policy=base.service_level_policy, formulas=base.formulas, notes=tuple(notes))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def portfolio_briefing_facts(
    *, session: Session, scope: BriefingScope | None = None, now: dt.datetime | None = None
) -> tuple[PortfolioBriefing, RunInfo | None]:
    """The facts of the portfolio (or segment) briefing of the latest finished run, and that run (None before the
    first recompute: the briefing then says there is nothing to report)."""
    scope = scope or BriefingScope()
    if scope.is_sku:
        raise ValueError("scope: a SKU scope needs sku_briefing_facts")
    now = now or _now()
    settings = get_settings()
    run = latest_run(session=session)
    if run is None:
        facts = PortfolioBriefing(
            company_name=settings.company_name,
            title=PORTFOLIO_TITLE,
            generated_at=now,
            data_as_of=now.date(),
            run_id="none yet",
            scope_label=scope.label,
            kpis=PortfolioKpis(
                sku_count=0,
                inventory_value=None,
                value_at_risk=None,
                fill_rate=None,
                turns=None,
                days_of_supply=None,
                wape=None,
            ),
            method_notes=None,
            currency_symbol=CURRENCY_SYMBOL,
        )
        return facts, None
    days = _days_per_period(run.grain)
    before = previous_run(session=session, run_id=run.id)
    frame = snapshot_frame(session=session, run_id=run.id, scope=scope)
    if scope.is_segment and frame.empty:
        raise UserFacingError(f"No SKU of the latest snapshot (run {run.id}) is in {scope.label}.")
    previous_kpis_map: dict[str, Any] | None
    if scope.is_segment:
        kpis_map: dict[str, Any] = segment_kpis(frame, days_per_period=days)
        kpis = PortfolioKpis.from_mapping(kpis_map)
        previous_kpis_map = None
        if before is not None:
            previous_frame = snapshot_frame(session=session, run_id=before.id, scope=scope)
            if not previous_frame.empty:
                previous_kpis_map = segment_kpis(previous_frame, days_per_period=_days_per_period(before.grain))
        commentary = (
            _segment_commentary(frame=frame, kpis=kpis_map, previous_kpis=previous_kpis_map, run=run, now=now)
            if len(frame)
            else None
        )
    else:
        kpis_map = dict(run.kpis)
        kpis = _kpis_with_counts(kpis_map, frame)
        previous_kpis_map = dict(before.kpis) if before is not None and before.kpis else None
        commentary = _portfolio_commentary(session=session)
    previous = PortfolioKpis.from_mapping(previous_kpis_map) if previous_kpis_map else None

    codes = set(frame["code"])
    lines = [o for o in recommended_orders(session=session) if o.code in codes]
    lines.sort(key=_urgent_first)
    printed = [
        PurchaseOrderLine(
            supplier=o.supplier,
            code=o.code,
            name=o.name,
            qty=o.qty,
            order_by=o.order_by or run.data_as_of or now.date(),
            value=o.value,
        )
        for o in lines[:MAX_PO_LINES]
    ]
    facts = PortfolioBriefing(
        company_name=settings.company_name,
        title=PORTFOLIO_TITLE,
        generated_at=now,
        data_as_of=run.data_as_of or now.date(),
        run_id=str(run.id),
        scope_label=scope.label,
        kpis=kpis,
        previous_kpis=previous,
        top_risks=tuple(top_risk_rows(frame)),
        top_movers=tuple(top_mover_rows(frame)),
        commentary=commentary,
        purchase_orders=tuple(printed),
        purchase_orders_total_count=len(lines),
        purchase_orders_total_value=float(sum(o.value for o in lines)),
        fva=tuple(_fva_rows(session=session, codes=codes if scope.is_segment else None)) if len(frame) else (),
        method_notes=_method_notes(frame, scope=scope, run=run),
        currency_symbol=CURRENCY_SYMBOL,
        policy_backtest=briefing_line(
            session=session,
            category=scope.category,
            abc=scope.abc,
            location=scope.location,
            data_as_of=run.data_as_of,
            money=lambda v: fmt_money_compact(v, CURRENCY_SYMBOL),
            pct=fmt_pct,
        ),
        capacity_alerts=() if scope.is_segment else capacity_lines(session=session),
    )
    return facts, run


def capacity_lines(*, session: Session) -> tuple[str, ...]:
    """One sentence per resource short of capacity in the next 12 periods (chase plan; services.supply)."""
    alerts, unit = capacity_alerts(session=session, horizon=12)
    if not alerts:
        return ()
    lines = [alert.sentence(unit) + "." for alert in alerts[:3]]
    if len(alerts) > 3:
        lines.append(f"{len(alerts) - 3} more resource(s) are short too.")
    return (*lines, "The Supply page compares chase, level and least-cost plans.")


# --------------------------------------------------------------------------------------------------------------------
# one SKU


def sku_briefing_facts(*, session: Session, code: str, now: dt.datetime | None = None) -> tuple[SkuBriefing, RunInfo]:
    """The facts of SKU ``code``'s briefing in the latest finished run, and that run.

    Raises
    ------
    BriefingNotFoundError
        No SKU has that code.
    UserFacingError
        The SKU is not in the latest finished run (or there is none yet).
    """
    from services import sku_detail as detail_service

    code = (code or "").strip()
    if not code:
        raise UserFacingError("sku: give a SKU code")
    now = now or _now()
    detail = detail_service.sku_detail(session=session, code=code)
    if detail is None:
        raise BriefingNotFoundError(f"No SKU {code[:64]!r}.")
    if detail.snapshot is None or detail.run is None:
        raise UserFacingError(f"SKU {code[:64]!r} is not in the latest finished recompute; run a recompute first.")
    run = detail.run
    days = detail.days_per_period
    value = detail.value

    order = _open_order(session=session, code=detail.code)
    projection = detail.projection
    if order is not None and projection is not None and abs(order.qty - (value("recommended_qty") or 0.0)) > 1e-9:
        projection = detail_service.projection_for(detail, order_qty=order.qty)
    recommended: RecommendedOrder | None = None
    qty = order.qty if order is not None else (value("recommended_qty") or 0.0)
    if qty > 0:
        order_by = (order.order_by if order is not None else None) or detail.order_by_date or run.data_as_of
        arrival = None
        if projection is not None and projection.dates:
            step = min(len(projection.dates) - 1, max(0, math.ceil(projection.arrives_at)))
            arrival = projection.dates[step]
        recommended = RecommendedOrder(
            qty=qty, order_by=order_by or now.date(), value=qty * detail.unit_cost, arrival=arrival
        )

    history = detail.history[-MAX_HISTORY_POINTS:]
    first = history[0][0] if history else None
    newest: dict[dt.date, float] = {}
    for o in detail.overrides:  # ordered by period, then time: the newest per period wins
        if first is None or o["period"] >= first:
            newest[o["period"]] = o["qty"]
    forecast = detail.forecast
    per_period = value("forecast_per_period")  # as the SKU page: horizon demand = per-period forecast x horizon
    lead_days = value("lead_time_periods")
    lead_std_days = value("lead_time_std_periods")
    commentary = None
    try:
        from services import narrative

        commentary = _commentary_of(narrative.sku_commentary(session=session, code=detail.code))
    except Exception:
        logger.exception("briefing: SKU commentary failed; left out")
    facts = SkuBriefing(
        company_name=get_settings().company_name,
        title=SKU_TITLE,
        generated_at=now,
        data_as_of=run.data_as_of or now.date(),
        run_id=str(run.id),
        sku=SkuMaster(
            code=detail.code,
            name=detail.name or detail.code,
            category=detail.category or "",
            location=detail.location or "",
            supplier=detail.supplier or "",
            unit_cost=detail.unit_cost,
            unit_price=detail.unit_price,
            moq=detail.moq,
            order_multiple=detail.order_multiple,
            on_hand=value("on_hand"),
            on_order=value("on_order"),
            grain=run.grain or "weekly",
        ),
        status=detail.status or "normal",
        status_reason=value("status_reason") or "",
        policy=PolicyCard(
            demand_class=value("demand_class") or "",
            abc=value("abc") or "",
            xyz=value("xyz") or "",
            service_level=value("service_level"),
            lead_time_mean_days=None if lead_days is None else lead_days * days,
            lead_time_std_days=None if lead_std_days is None else lead_std_days * days,
            lead_time_source=value("lead_time_source") or "",
            safety_stock=value("safety_stock"),
            reorder_point=value("reorder_point"),
            eoq=value("eoq"),
            newsvendor_qty=value("newsvendor_qty"),
            rop_method=value("rop_method") or "",
            rop_method_reason=value("rop_method_reason") or "",
            forecast_model=value("forecast_model") or "",
            mase=value("mase"),
            wape=value("wape"),
            bias=value("bias"),
            runners_up=tuple((s.model, s.mase) for s in detail.model_scores if not s.chosen and s.mase is not None),
            days_of_cover=_cover(detail.snapshot.get("days_of_cover")),
            one_shot=detail.one_shot,
            phase_out=detail.order_policy == "phase_out",
            adi=value("adi"),
            forecast_cv=wording.forecast_cv(value("sigma"), value("forecast_per_period"), value("demand_baseline")),
            critical_ratio=detail.critical_ratio,
            horizon_demand=None if per_period is None else per_period * len(forecast),
            horizon_periods=len(forecast),
        ),
        history=TimeSeries([p for p, _ in history], [q for _, q in history]),
        forecast=ForecastSeries(
            [f["period"] for f in forecast],
            [f["mean"] for f in forecast],
            [f["p10"] if f["p10"] is not None else f["mean"] for f in forecast],
            [f["p90"] if f["p90"] is not None else f["mean"] for f in forecast],
        ),
        overrides=TimeSeries(list(newest), list(newest.values())),
        projected_stock=(
            TimeSeries(projection.dates, projection.with_order) if projection is not None else TimeSeries.empty()
        ),
        recommended_order=recommended,
        commentary=commentary,
        currency_symbol=CURRENCY_SYMBOL,
    )
    return facts, run


def _open_order(*, session: Session, code: str) -> OrderLine | None:
    """The SKU's open recommended purchase order (the earliest), if any."""
    stmt = _recommended_select(Sku.code == code).order_by(PurchaseOrder.order_by, PurchaseOrder.id).limit(1)
    row = session.execute(stmt).first()
    return None if row is None else _order_line(row)


# --------------------------------------------------------------------------------------------------------------------
# build, store, list


@dataclass(frozen=True)
class BriefingRecord:
    """A stored briefing without its bytes (the list on the Briefings page)."""

    id: int
    scope: str
    scope_label: str
    run_id: int | None
    data_as_of: dt.date | None
    user_email: str | None
    created_at: dt.datetime
    file_name: str
    size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "scope_label": self.scope_label,
            "run_id": self.run_id,
            "data_as_of": self.data_as_of.isoformat() if self.data_as_of else None,
            "user_email": self.user_email,
            "created_at": formats.fmt_datetime(self.created_at),
            "file_name": self.file_name,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True)
class BriefingFile:
    """A briefing's PDF and what describes it.

    ``cover_lines``: the cover's title, scope and facts (for a text preview); ``timings``: seconds per step
    (``read``, ``pdf``, ``store``, ``total``) when it was just built.
    """

    record: BriefingRecord | None
    scope: BriefingScope
    file_name: str
    pdf: bytes
    run_id: int | None
    page_count: int
    cover_lines: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> int | None:
        return self.record.id if self.record else None


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:40] or "x"


def file_name_for(scope: BriefingScope, *, data_as_of: dt.date | None, run_id: int | None) -> str:
    """``briefing-portfolio-2026-03-13-run12.pdf`` (ASCII; the scope's values slugged)."""
    if scope.is_sku:
        what = "sku-" + _slug(scope.sku or "")
    elif scope.is_segment:
        what = "-".join(_slug(getattr(scope, n)) for n in ("category", "location", "abc") if getattr(scope, n))
    else:
        what = "portfolio"
    when = data_as_of.isoformat() if data_as_of else "no-data"
    run = f"-run{run_id}" if run_id is not None else ""
    return f"briefing-{what}-{when}{run}.pdf"


_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF written by fpdf2 (page objects are not compressed); 0 for bytes that are not a PDF."""
    return len(_PAGE.findall(pdf)) if pdf.startswith(b"%PDF") else 0


def _cover_lines(facts: PortfolioBriefing | SkuBriefing) -> tuple[str, ...]:
    from reports.formatting import fmt_date, fmt_datetime

    subtitle = (
        facts.scope_label if isinstance(facts, PortfolioBriefing) else f"{facts.sku.code} \u2014 {facts.sku.name}"
    )
    return (
        facts.title,
        subtitle,
        f"Company: {facts.company_name}",
        f"Generated: {fmt_datetime(facts.generated_at)}",
        f"Data as of: {fmt_date(facts.data_as_of)}",
        f"Run: {facts.run_id}",
    )


def build_briefing(
    *, session: Session, scope: BriefingScope, progress: Progress | None = None, now: dt.datetime | None = None
) -> BriefingFile:
    """Gather the facts of ``scope`` and build the PDF (not stored: see :func:`make_briefing`)."""
    from reports import build_portfolio_briefing, build_sku_briefing

    say = progress or (lambda _f, _m: None)
    t0 = time.perf_counter()
    say(0.05, "reading the snapshot")
    if scope.is_sku:
        sku_facts, run = sku_briefing_facts(session=session, code=scope.sku or "", now=now)
        facts: PortfolioBriefing | SkuBriefing = sku_facts
        run_id: int | None = run.id
        data_as_of = run.data_as_of
    else:
        facts, run_info = portfolio_briefing_facts(session=session, scope=scope, now=now)
        run_id = run_info.id if run_info else None
        data_as_of = run_info.data_as_of if run_info else None
    t1 = time.perf_counter()
    say(0.4, "drawing the PDF")
    pdf = build_sku_briefing(facts) if isinstance(facts, SkuBriefing) else build_portfolio_briefing(facts)
    t2 = time.perf_counter()
    return BriefingFile(
        record=None,
        scope=scope,
        file_name=file_name_for(scope, data_as_of=data_as_of, run_id=run_id),
        pdf=pdf,
        run_id=run_id,
        page_count=pdf_page_count(pdf),
        cover_lines=_cover_lines(facts),
        timings={"read": t1 - t0, "pdf": t2 - t1},
    )


def _record(row: Briefing, data_as_of: dt.date | None) -> BriefingRecord:
    return BriefingRecord(
        id=int(row.id),
        scope=row.scope,
        scope_label=scope_label(row.scope),
        run_id=row.run_id,
        data_as_of=data_as_of,
        user_email=row.user_email,
        created_at=row.created_at,
        file_name=row.file_name,
        size_bytes=int(row.size_bytes),
    )


def store_briefing(*, session: Session, briefing: BriefingFile, user: str | None) -> BriefingRecord:
    """Add ``briefing`` to the ``briefing`` table (flushed; the caller commits) and keep the newest
    :data:`KEEP_BRIEFINGS`."""
    row = Briefing(
        scope=briefing.scope.key[:200],
        run_id=briefing.run_id,
        user_email=(user or None) and user[:255],
        created_at=utcnow(),
        file_name=briefing.file_name[:255],
        size_bytes=len(briefing.pdf),
        pdf=briefing.pdf,
    )
    session.add(row)
    session.flush()
    kept = list(session.scalars(select(Briefing.id).order_by(Briefing.id.desc()).limit(KEEP_BRIEFINGS)))
    if len(kept) >= KEEP_BRIEFINGS:
        session.execute(delete(Briefing).where(Briefing.id < min(kept)).execution_options(synchronize_session=False))
    as_of = session.scalar(select(RecomputeRun.data_as_of).where(RecomputeRun.id == row.run_id)) if row.run_id else None
    return _record(row, as_of)


def make_briefing(
    *,
    session: Session,
    scope: BriefingScope,
    user: str | None,
    store: bool = True,
    progress: Progress | None = None,
    source: str = "app",
) -> BriefingFile:
    """Build the briefing of ``scope`` from the latest finished run, store it (unless ``store=False``) and
    audit-log it (action ``briefing.create``, ``source`` = app / api / cli).

    Raises
    ------
    BriefingNotFoundError
        A SKU scope with an unknown code.
    UserFacingError
        A SKU that is not in the latest finished run.
    """
    t0 = time.perf_counter()
    built = build_briefing(session=session, scope=scope, progress=progress)
    say = progress or (lambda _f, _m: None)
    timings = dict(built.timings)
    record = None
    if store:
        say(0.9, "saving")
        t1 = time.perf_counter()
        record = store_briefing(session=session, briefing=built, user=user)
        timings["store"] = time.perf_counter() - t1
    audit.record(
        session=session,
        action="briefing.create",
        user_email=user,
        target=scope.key[:255],
        details={
            "briefing_id": record.id if record else None,
            "run_id": built.run_id,
            "size_bytes": len(built.pdf),
            "source": source,
        },
    )
    timings["total"] = time.perf_counter() - t0
    say(1.0, "done")
    return BriefingFile(
        record=record,
        scope=scope,
        file_name=built.file_name,
        pdf=built.pdf,
        run_id=built.run_id,
        page_count=built.page_count,
        cover_lines=built.cover_lines,
        timings=timings,
    )


def list_briefings(*, session: Session, limit: int = 20) -> list[BriefingRecord]:
    """The newest stored briefings (without their bytes), newest first."""
    if not 0 < limit <= KEEP_BRIEFINGS:
        raise ValueError(f"limit must be in 1..{KEEP_BRIEFINGS}, got {limit}")
    stmt = (
        select(
            Briefing.id,
            Briefing.scope,
            Briefing.run_id,
            RecomputeRun.data_as_of,
            Briefing.user_email,
            Briefing.created_at,
            Briefing.file_name,
            Briefing.size_bytes,
        )
        .outerjoin(RecomputeRun, RecomputeRun.id == Briefing.run_id)
        .order_by(Briefing.id.desc())
        .limit(limit)
    )
    return [
        BriefingRecord(
            id=int(i),
            scope=s,
            scope_label=scope_label(s),
            run_id=r,
            data_as_of=a,
            user_email=u,
            created_at=c,
            file_name=f,
            size_bytes=int(n),
        )
        for i, s, r, a, u, c, f, n in session.execute(stmt)
    ]


def get_briefing(*, session: Session, briefing_id: Any, user: str | None = None) -> BriefingFile:
    """A stored briefing with its PDF; the download is audit-logged (action ``briefing.download``).

    Raises
    ------
    BriefingNotFoundError
        No stored briefing has that id (it may have been pruned).
    """
    try:
        key = int(briefing_id)
    except (TypeError, ValueError):
        raise BriefingNotFoundError(f"No briefing {str(briefing_id)[:40]!r}.") from None
    row = session.get(Briefing, key) if 0 < key < 2**63 else None
    if row is None:
        raise BriefingNotFoundError(
            f"No briefing {key}; it may have been removed (the newest {KEEP_BRIEFINGS} are kept)."
        )
    as_of = session.scalar(select(RecomputeRun.data_as_of).where(RecomputeRun.id == row.run_id)) if row.run_id else None
    record = _record(row, as_of)
    audit.record(
        session=session,
        action="briefing.download",
        user_email=user,
        target=row.scope[:255],
        details={"briefing_id": key},
    )
    try:
        scope = BriefingScope.parse(row.scope)
    except (ValueError, UserFacingError):
        scope = BriefingScope()
    return BriefingFile(
        record=record,
        scope=scope,
        file_name=row.file_name,
        pdf=bytes(row.pdf),
        run_id=row.run_id,
        page_count=pdf_page_count(bytes(row.pdf)),
        cover_lines=(
            record.scope_label,
            f"Made {formats.fmt_datetime(record.created_at)} by {record.user_email or 'the command line'}",
            f"Run: {record.run_id if record.run_id is not None else 'none'}",
            f"Data as of: {record.data_as_of or 'unknown'}",
        ),
    )


# --------------------------------------------------------------------------------------------------------------------
# preview


@dataclass(frozen=True)
class Preview:
    """Page 1 of a PDF as PNG (``png`` None when no renderer is installed: show ``cover_lines`` instead).

    ``method``: "pdftoppm" (poppler-utils), "pypdfium2", or "text".
    """

    png: bytes | None
    method: str
    page_count: int
    cover_lines: tuple[str, ...] = ()


def _pdftoppm(pdf: bytes, *, dpi: int) -> bytes | None:
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        target = Path(folder) / "page"
        try:
            subprocess.run(
                [exe, "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", str(source), str(target)],
                check=True,
                timeout=30,
                capture_output=True,
            )
        except (subprocess.SubprocessError, OSError):
            logger.warning("briefing preview: pdftoppm failed", exc_info=True)
            return None
        png = target.with_suffix(".png")
        return png.read_bytes() if png.exists() else None


def _pypdfium2(pdf: bytes, *, dpi: int) -> bytes | None:
    try:
        import pypdfium2  # type: ignore[import-not-found]
    except ImportError:
        return None
    import io

    try:
        document = pypdfium2.PdfDocument(pdf)
        image = document[0].render(scale=dpi / 72).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()
    except Exception:  # fall back to the text preview
        logger.warning("briefing preview: pypdfium2 failed", exc_info=True)
        return None


RENDERERS: tuple[tuple[str, Callable[..., bytes | None]], ...] = (("pdftoppm", _pdftoppm), ("pypdfium2", _pypdfium2))


def render_preview(*, pdf: bytes, cover_lines: Sequence[str] = (), dpi: int = 60) -> Preview:
    """Page 1 of ``pdf`` as PNG with the first renderer installed (pdftoppm, then pypdfium2); without one (or when
    it fails) a text preview: the page count and ``cover_lines``. Never raises for a missing renderer."""
    if not 20 <= dpi <= 300:
        raise ValueError(f"dpi must be in 20..300, got {dpi}")
    pages = pdf_page_count(pdf)
    for name, render in RENDERERS:
        png = render(pdf, dpi=dpi)
        if png:
            return Preview(png=png, method=name, page_count=pages, cover_lines=tuple(cover_lines))
    return Preview(png=None, method="text", page_count=pages, cover_lines=tuple(cover_lines))
