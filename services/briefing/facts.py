"""The facts a briefing prints, read from the latest finished snapshot: the portfolio's (or a segment's) KPIs with the
change since the previous run, top risks and movers, recommended orders, forecast value added, the commentary and
the method notes; a SKU's history, forecast band, overrides, projected stock, policy and commentary (sources in
:mod:`services.briefing`)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ai import OfflineWriter, portfolio_facts, wording, write_commentary
from core.accuracy import forecast_value_added
from core.consensus import layer_fva
from db.models import PurchaseOrder, Sku
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
from services import narrative
from services import sku_detail as detail_service
from services.backtest.line import briefing_line
from services.briefing.meeting import meeting_pack
from services.briefing.scope import (
    CURRENCY_SYMBOL,
    MAX_HISTORY_POINTS,
    MAX_PO_LINES,
    PORTFOLIO_TITLE,
    SKU_TITLE,
    TOP_MOVERS,
    TOP_RISKS,
    BriefingNotFoundError,
    BriefingScope,
)
from services.consensus_layers import fva_frame as layer_fva_frame
from services.errors import UserFacingError
from services.narrative import PROVIDER_LABELS
from services.orders import list_orders
from services.overrides import fva_frame
from services.runs import RunInfo, known_grain, latest_run, previous_run, segment_kpis, snapshot_frame
from services.supply import capacity_alerts
from services.watchtower import clean_number
from settings import get_settings

logger = logging.getLogger(__name__)


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
    """Every purchase order with status ``recommended`` (:func:`services.orders.list_orders`)."""
    return [
        OrderLine(code=o.sku, name=o.sku_name, supplier=o.supplier, qty=o.qty, order_by=o.order_by, value=o.value)
        for o in list_orders(session=session, status="recommended")
    ]


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
    return rows + _layer_fva_rows(session=session, codes=codes)


LAYER_LABELS = {"commercial": "Commercial adjustments (vs after overrides)", "consensus": "Consensus (vs statistical)"}


def _layer_fva_rows(*, session: Session, codes: set[str] | None) -> list[FvaRow]:
    """The consensus layers' forecast value added (:mod:`core.consensus`): the commercial layer against the forecast
    after overrides and the whole consensus against the statistical forecast, over the periods with actuals."""
    try:
        frame = layer_fva_frame(session=session)
        if codes is not None and not frame.empty:
            frame = frame[frame["code"].isin(codes)]
        table = layer_fva(frame=frame, by=dict.fromkeys(LAYER_LABELS)) if not frame.empty else None
    except Exception:  # FVA is an extra: a failure must not stop the briefing
        logger.exception("briefing: forecast value added of the consensus layers failed; left out")
        return []
    if table is None:
        return []
    return [
        FvaRow(
            group=LAYER_LABELS[r["layer"]],
            stat_wape=clean_number(r["wape_before"]),
            override_wape=clean_number(r["wape_after"]),
            fva_points=None if clean_number(r["fva_wape"]) is None else float(r["fva_wape"]) * 100.0,
        )
        for r in table.to_dict(orient="records")
    ]


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
    try:
        facts = portfolio_facts(
            snapshot=frame.drop(columns=["status_reason"]),
            kpis=kpis,
            previous_kpis=previous_kpis,
            top_n=5,
            grain=known_grain(run.grain),
            as_of=run.data_as_of,
        )
        written = write_commentary(facts=facts, provider=OfflineWriter())
    except Exception:
        logger.exception("briefing: segment commentary failed; left out")
        return None
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


def _orders_note(printed: int, total: int) -> str:
    """What the purchase-order section lists, with the numbers it really lists (issue 23: the note said 25 of 15)."""
    head = "Recommended purchase orders are the open recommendations of the purchase-order list"
    if total > printed:
        return (
            f"{head}; the {printed:,} most urgent of {total:,} (earliest order-by date, then highest value) are "
            "printed, the totals cover all of them."
        )
    return (
        f"{head}; all {total:,} are printed, the most urgent first (earliest order-by date, then highest value; "
        f"a briefing lists at most {MAX_PO_LINES:,})."
    )


def _method_notes(
    frame: pd.DataFrame, *, scope: BriefingScope, run: RunInfo | None, orders: tuple[int, int] = (0, 0)
) -> MethodNotes:
    """``orders``: (printed, total) recommended order lines."""
    base = default_method_notes(service_level_policy=_service_level_policy(frame))
    notes = [
        _orders_note(*orders),
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
    *,
    session: Session,
    scope: BriefingScope | None = None,
    now: dt.datetime | None = None,
    since_cycle: str | None = None,
    since_run: int | None = None,
    since_date: dt.date | None = None,
) -> tuple[PortfolioBriefing, RunInfo | None]:
    """The facts of the portfolio (or segment) briefing of the latest finished run, and that run (None before the
    first recompute: the briefing then says there is nothing to report). ``since_cycle``: the cycle the meeting
    pack's "what changed" compares the latest closed cycle with (default: the one before it); ``since_run`` /
    ``since_date``: compare the latest run with that run / the latest run finished by that date instead."""
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
    days = run.days_per_period
    before = previous_run(session=session, run_id=run.id)
    frame = snapshot_frame(session=session, run_id=run.id, where=scope.filters().conditions())
    if scope.is_segment and frame.empty:
        raise UserFacingError(f"No SKU of the latest snapshot (run {run.id}) is in {scope.label}.")
    previous_kpis_map: dict[str, Any] | None
    if scope.is_segment:
        kpis_map: dict[str, Any] = segment_kpis(frame, days_per_period=days)
        kpis = PortfolioKpis.from_mapping(kpis_map)
        previous_kpis_map = None
        if before is not None:
            previous_frame = snapshot_frame(session=session, run_id=before.id, where=scope.filters().conditions())
            if not previous_frame.empty:
                previous_kpis_map = segment_kpis(previous_frame, days_per_period=before.days_per_period)
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
        method_notes=_method_notes(frame, scope=scope, run=run, orders=(len(printed), len(lines))),
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
        meeting_pack=meeting_pack(
            session=session,
            scope=scope,
            frame=frame,
            lines=lines,
            now=now,
            since_cycle=since_cycle,
            since_run_id=since_run,
            since_date=since_date,
        ),
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
