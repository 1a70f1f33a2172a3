"""The SKU page's order and override panels (/sku/<code>): the forecast-override form with the override trail
(:func:`override_panel`), the lead times learned from receipts with the SKU's open orders (:func:`lead_time_panel`),
and :func:`newest_per_period`, the override in use per period for the charts. Data from :mod:`services.overrides`,
:mod:`services.leadtimes` and :mod:`services.orders`; callbacks/orders.py saves overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.forecast.engine import DEFAULT_MODEL, SWITCH_MARGIN
from core.formats import fmt_order_qty, overdue_text
from db.session import session_scope
from layouts import _ids as ids
from layouts._charts import (
    SECTION_CLASS,
    fmt_date,
    fmt_date_prose,
    fmt_datetime,
    fmt_days,
    fmt_pct,
    fmt_qty,
)
from layouts._components import allowed, group_label
from services import leadtimes
from services import orders as svc
from services import overrides as ovr


def override_options(periods: list[ovr.PeriodOption]) -> list[dict[str, str]]:
    out = []
    for p in periods:
        text = f"{fmt_date(p.period)} · forecast {fmt_qty(p.statistical)}"
        if p.override is not None:
            text += f" · override {fmt_qty(p.override)}"
        out.append({"label": text, "value": p.period.isoformat()})
    return out


def override_history_table(history: list[ovr.OverrideView], *, limit: int = 15) -> Any:
    if not history:
        return html.P("No overrides yet for this SKU.", className="small text-secondary mb-0")
    rows = [
        html.Tr(
            [
                html.Td(fmt_date(o.period)),
                html.Td(fmt_qty(o.qty), className="text-end"),
                html.Td(fmt_qty(o.statistical_qty), className="text-end text-secondary"),
                html.Td(o.reason),
                html.Td(o.user_email, className="text-secondary"),
                html.Td(fmt_datetime(o.created_at), className="text-secondary text-nowrap"),
                html.Td(
                    dbc.Badge("in use", color="primary") if o.active else dbc.Badge("superseded", color="light"),
                    className="text-end",
                ),
            ],
            className=None if o.active else "opacity-75",
        )
        for o in history[:limit]
    ]
    more = len(history) - limit
    return html.Div(
        [
            dbc.Table(
                [
                    html.Thead(
                        html.Tr(
                            [
                                html.Th("Period"),
                                html.Th("Override", className="text-end"),
                                html.Th("Statistical", className="text-end"),
                                html.Th("Reason"),
                                html.Th("By"),
                                html.Th("When (UTC)"),
                                html.Th(html.Span("Actions", className="visually-hidden")),
                            ]
                        )
                    ),
                    html.Tbody(rows),
                ],
                size="sm",
                className="small mb-1",
            ),
            html.Div(f"and {more:,} older override(s)", className="small text-secondary") if more > 0 else None,
        ]
    )


def override_card(*, code: str, periods: list[ovr.PeriodOption], history: list[ovr.OverrideView]) -> dbc.Card:
    planner = allowed("planner")
    if not periods:
        form: Any = html.P(
            "Overrides need a forecast for this SKU: they become possible after its next recompute.",
            className="small text-secondary",
        )
    elif not planner:
        form = html.P("Overriding the forecast needs the planner role.", className="small text-secondary")
    else:
        form = html.Div(
            [
                dcc.Dropdown(
                    id=ids.SKU_OVERRIDE_PERIODS,
                    options=override_options(periods),
                    multi=True,
                    placeholder="Future periods to override",
                    className="mb-2",
                ),
                dbc.InputGroup(
                    [
                        group_label("Units per period", ids.SKU_OVERRIDE_QTY),
                        dbc.Input(id=ids.SKU_OVERRIDE_QTY, type="number", min=0, step="any"),
                        dbc.Input(
                            id=ids.SKU_OVERRIDE_REASON,
                            placeholder="Reason (e.g. promotion, lost customer)",
                            maxLength=ovr.MAX_REASON,
                            style={"minWidth": "220px"},
                        ),
                        dbc.Button("Save override", id=ids.SKU_OVERRIDE_SAVE, color="primary"),
                    ],
                    size="sm",
                ),
                html.Div(id=ids.SKU_OVERRIDE_RESULT, className="mt-2"),
            ],
            className="mb-3",
        )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span("Override the forecast", className=SECTION_CLASS),
                        html.Span(
                            " kept with who, when and why; saving one recomputes this SKU at once "
                            "(the newest per period counts)",
                            className="small text-secondary",
                        ),
                    ]
                ),
                form,
                html.Div(override_history_table(history), id=ids.SKU_OVERRIDE_HISTORY),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )


def lead_time_card(info: leadtimes.LeadTimeInfo | None, open_orders: list[svc.OrderView]) -> dbc.Card:
    children: list[Any] = [html.Div("Lead times from receipts", className=SECTION_CLASS)]
    if info is None:
        children.append(html.P("Unknown SKU.", className="small text-secondary"))
    else:
        if info.source == "receipts":
            used = (
                f"The safety stock uses the learned lead time {fmt_days(info.mean_days)} ± {fmt_days(info.std_days)} "
                f"({info.receipts:,} receipts; master data {fmt_days(info.master_mean_days)})."
            )
        else:
            used = (
                f"The safety stock uses the master-data lead time {fmt_days(info.master_mean_days)} ± "
                f"{fmt_days(info.master_std_days)}: {info.receipts:,} of the {info.min_receipts:,} receipts needed "
                "to learn it."
            )
        children.append(
            html.Div(
                [
                    dbc.Badge(
                        "learned" if info.source == "receipts" else "master data", color="info", className="me-2"
                    ),
                    used,
                ],
                className="small mb-2",
                id=ids.SKU_LEAD_TIMES,
            )
        )
        if info.by_supplier:
            children.append(
                dbc.Table(
                    [
                        html.Thead(
                            html.Tr(
                                [
                                    html.Th("Supplier"),
                                    html.Th("Receipts", className="text-end"),
                                    html.Th("Lead time", className="text-end"),
                                    html.Th("Spread", className="text-end"),
                                    html.Th("On time", className="text-end"),
                                ]
                            )
                        ),
                        html.Tbody(
                            [
                                html.Tr(
                                    [
                                        html.Td(s.supplier),
                                        html.Td(f"{s.receipts:,}", className="text-end"),
                                        html.Td(fmt_days(s.mean_days), className="text-end"),
                                        html.Td(fmt_days(s.std_days), className="text-end"),
                                        html.Td(fmt_pct(s.on_time_rate, 0), className="text-end"),
                                    ]
                                )
                                for s in info.by_supplier
                            ]
                        ),
                    ],
                    size="sm",
                    className="small mb-2",
                )
            )
        else:
            children.append(html.P("No receipts for this SKU yet.", className="small text-secondary"))
    children.append(html.Div("Open purchase orders", className=SECTION_CLASS + " mt-2"))
    if open_orders:
        children.append(
            html.Ul(
                [
                    html.Li(
                        [
                            f"PO-{o.id:06d}: {fmt_order_qty(o.qty, o.order_multiple)} units, {o.status}"
                            + (f", order by {fmt_date_prose(o.order_by)}" if o.status == "recommended" else "")
                            + (f", promised {fmt_date_prose(o.promised_date)}" if o.status == "approved" else ""),
                            html.Span(f" ({overdue_text(o.overdue_days)})", className="text-danger fw-semibold")
                            if o.overdue_days
                            else None,
                        ]
                    )
                    for o in open_orders
                ],
                className="small mb-1 ps-3",
            )
        )
    else:
        children.append(html.P("None.", className="small text-secondary mb-1"))
    children.append(dcc.Link("Open the Orders page", href="/orders", className="small"))
    return dbc.Card(dbc.CardBody(children), className="shadow-sm border-0 h-100")


def override_panel(code: str) -> dbc.Card:
    """The SKU page's forecast-override form with the override trail (who, when, why; superseded rows too)."""
    with session_scope() as session:
        periods = ovr.override_periods(session=session, code=code)
        history = ovr.override_history(session=session, code=code)
    return override_card(code=code, periods=periods, history=history)


def lead_time_panel(code: str) -> dbc.Card:
    """The SKU page's learned lead times (per supplier: mean, spread, on-time rate; the source used) and open
    purchase orders."""
    with session_scope() as session:
        info = leadtimes.lead_time_stats(session=session, code=code)
        open_orders = svc.list_orders(session=session, status=svc.OPEN_STATUSES, sku=code)
    return lead_time_card(info, open_orders)


def newest_per_period(overrides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the newest override of each period (the one in use), for the charts; input rows carry ``period`` and
    ``created_at`` (``services.sku_detail`` rows)."""
    newest: dict[Any, dict[str, Any]] = {}
    for row in sorted(overrides, key=lambda r: r.get("created_at") or dt.datetime.min):
        newest[row["period"]] = row
    return [newest[p] for p in sorted(newest)]


def choice_note(scores: list[Any], *, model_name: Any) -> str:
    """One sentence, with the numbers, on why the chosen model is not the lowest backtest MASE of the table (empty
    when it is). The rule is the engine's (:func:`core.forecast.engine` model choice): a smooth series keeps the
    ensemble unless another candidate's MASE is at least ``SWITCH_MARGIN`` lower; an intermittent series keeps the
    batch's recipe with no per-series switch."""
    chosen = next((s for s in scores if s.chosen), None)
    scored = [s for s in scores if s.mase is not None]
    if chosen is None or chosen.mase is None or not scored:
        return ""
    best = min(scored, key=lambda s: s.mase)
    if best.chosen or best.mase >= chosen.mase or chosen.mase <= 0:
        return ""
    below = 1.0 - best.mase / chosen.mase
    margin = f"{SWITCH_MARGIN:.0%}"
    if chosen.model == DEFAULT_MODEL and below < SWITCH_MARGIN:
        return (
            f"Why not {model_name(best.model)}: its MASE {best.mase:.2f} is {below:.0%} below the "
            f"{model_name(chosen.model)}'s {chosen.mase:.2f}, short of the {margin} margin a model needs to replace "
            "the ensemble (the best of a few noisy backtest scores is mostly noise; combinations are steadier)."
        )
    return (
        f"Why not {model_name(best.model)} (MASE {best.mase:.2f}, {below:.0%} below {chosen.mase:.2f}): intermittent "
        "demand keeps the batch's recipe with no per-series switch, as a few backtest windows hold too few demands "
        "to choose on."
    )
