"""SKU detail (/sku/<code>): history and forecast, projected stock, policy, model scores, status and commentary.

An unknown code renders a friendly not-found page with a search box (never an error).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from ai import wording
from core.formats import fmt_order_qty, overdue_text
from db.session import session_scope
from layouts import _ids as ids
from layouts._backtest import sku_panel as backtest_panel
from layouts._charts import (
    GRAPH_CONFIG,
    MISSING,
    PROJECTION_HEIGHT,
    SECTION_CLASS,
    fmt_date_prose,
    fmt_datetime,
    fmt_days,
    fmt_money,
    fmt_number,
    fmt_pct,
    fmt_qty,
    history_figure,
    projection_figure,
    search_box,
    status_badge,
    status_color,
)
from layouts._components import group_label
from layouts._locations import locations_panel
from layouts._master_data import incomplete_note
from layouts._promotions import add_promotions
from layouts._sku_panels import choice_note, lead_time_panel, newest_per_period, override_panel
from services.sku_detail import Projection, SkuDetail, sku_detail, sku_name
from services.transfers import item_locations


def page_title(code: str | None = None) -> str:
    """The browser tab names the SKU by its name and code ("Iced coffee 330 ml (B-00147) · SKU · Inventory Command
    Center"), so several SKU tabs differ; the code alone when the SKU has no other name or is unknown."""
    code = unquote(code or "").strip()
    if not code:
        return "SKU · Inventory Command Center"
    with session_scope() as session:
        name = sku_name(session=session, code=code)
    return f"{heading_text(code, name)} · SKU · Inventory Command Center"


def heading_text(code: str, name: str | None) -> str:
    """ "name (code)", or the code alone when the name is empty or the code itself (no "X X" repeat)."""
    name = (name or "").strip()
    return f"{name} ({code})" if name and name.casefold() != code.casefold() else code


dash.register_page(__name__, path_template="/sku/<code>", name="SKU", order=10, title=page_title)

GRAIN_UNIT = {"daily": "day", "weekly": "week", "monthly": "month"}
MODEL_NAMES = {
    "seasonal_naive": "Seasonal naive",
    "naive": "Naive",
    "ets": "Exponential smoothing (ETS)",
    "ses": "Simple exponential smoothing",
    "holt_winters": "Holt-Winters",
    "croston_sba": "Croston (SBA)",
    "croston": "Croston",
    "tsb": "TSB",
    "ml_gbm": "Gradient boosting (ML)",
    "zero": "Zero (no demand)",
}
ROP_METHODS = {
    "normal": "Normal approximation",
    "poisson": "Poisson quantile",
    "negative_binomial": "Negative-binomial quantile",
    "bootstrap": "Bootstrapped lead-time demand",
}


def model_name(model: str | None) -> str:
    if not model:
        return MISSING
    return MODEL_NAMES.get(model, model.replace("_", " ").capitalize())


def period_unit(detail: SkuDetail) -> str:
    return GRAIN_UNIT.get(detail.run.grain if detail.run and detail.run.grain else "weekly", "period")


def plural(n: float, unit: str) -> str:
    return unit if abs(n - 1) < 1e-9 else unit + "s"


def not_found(code: str) -> html.Div:
    return html.Div(
        [
            html.H1("SKU not found", className="h4 mb-1"),
            html.P(
                [
                    f"No SKU has the code \u201c{code}\u201d. Search by code or name, or go back to the ",
                    dcc.Link("Watchtower", href="/"),
                    ".",
                ],
                className="text-secondary",
            ),
            dbc.Card(dbc.CardBody(search_box()), className="shadow-sm border-0", style={"maxWidth": "640px"}),
        ],
        className="mt-2",
    )


def _row(label: str, value: Any, note: Any = None) -> html.Tr:
    return html.Tr(
        [
            html.Th(label, className="text-secondary fw-normal small", style={"width": "42%"}),
            html.Td(
                [
                    html.Span(value, className="fw-semibold"),
                    html.Div(note, className="small text-secondary") if note else None,
                ]
            ),
        ]
    )


def policy_card(detail: SkuDetail) -> dbc.Card:
    v = detail.value
    unit = period_unit(detail)
    lead_days = detail.periods_to_days(v("lead_time_periods"))
    lead_std_days = detail.periods_to_days(v("lead_time_std_periods"))
    source = v("lead_time_source")
    source_note = {
        "receipts": "learned from received orders",
        "master": "from the SKU master",
    }.get(source or "", f"source: {source}" if source else None)
    lead_text = MISSING if lead_days is None else f"{fmt_days(lead_days)} ± {fmt_days(lead_std_days)}"
    demand_class = v("demand_class")
    rows = [
        _row(
            "Demand pattern",
            (demand_class or MISSING).replace("_", " ").capitalize(),
            f"ADI {fmt_number(v('adi'), 2)} ({wording.word(wording.adi_band(v('adi')), MISSING)}), "
            f"CV² {fmt_number(v('cv2'), 2)}",
        ),
        _row(
            "ABC / XYZ",
            f"{v('abc') or MISSING} / {v('xyz') or MISSING}",
            "ABC by annual demand value, XYZ by forecast error: "
            + (
                wording.cv_text(wording.forecast_cv(v("sigma"), v("forecast_per_period"), v("demand_baseline")))
                or MISSING
            ),
        ),
        _row("Service level", fmt_pct(v("service_level")), "cycle service level target"),
        _row("Lead time", lead_text, source_note),
        _row("Forecast / " + unit, fmt_qty(v("forecast_per_period")), f"error sigma {fmt_qty(v('sigma'))}"),
        _row("Safety stock", fmt_qty(v("safety_stock"))),
        _row("Reorder point", fmt_qty(v("reorder_point"))),
        _row("Order-up-to level", fmt_qty(v("order_up_to"))),
        _row("EOQ", fmt_qty(v("eoq")), "economic order quantity (order cost vs holding cost)"),
        _row("Newsvendor quantity", fmt_qty(v("newsvendor_qty")), "critical-ratio quantity (lost margin vs excess)"),
        order_policy_row(detail),
        _row(
            "Reorder rule", ROP_METHODS.get(v("rop_method") or "", v("rop_method") or MISSING), v("rop_method_reason")
        ),
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Inventory policy", className=SECTION_CLASS),
                dbc.Table(html.Tbody(rows), size="sm", borderless=True, className="mb-0 align-middle"),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )


def order_policy_row(detail: SkuDetail) -> html.Tr:
    """Which policy sizes the SKU's orders: the newsvendor for a one-shot (seasonal) SKU, none for a stopped seller
    (phase-out), else replenishment."""
    if detail.order_policy == "phase_out":
        return _row(
            "Order policy",
            "Phase-out (stopped seller)",
            "not replenished: no order, no safety stock; a forecast override lifts it",
        )
    if not detail.one_shot:
        return _row("Order policy", "Replenishment", "reorder point; the EOQ lot or up to the order-up-to level")
    unit = period_unit(detail)
    horizon = len(detail.forecast)
    demand = detail.value("forecast_per_period")
    notes = []
    if detail.critical_ratio is not None:
        notes.append(f"critical ratio {fmt_number(detail.critical_ratio, 2)}")
    if demand is not None and horizon:
        notes.append(f"horizon demand {fmt_qty(demand * horizon)} over {horizon} {plural(horizon, unit)}")
    notes.append("orders the newsvendor quantity less the position")
    return _row("Order policy", "One-shot (newsvendor)", ", ".join(notes))


def gap_text(gap: float | None) -> str:
    """How much worse than the best model's MASE: "best", "+0.4%", "+12%"."""
    if gap is None:
        return MISSING
    if gap < 1e-9:
        return "best"
    return f"+{gap:.1%}" if gap < 0.1 else f"+{gap:.0%}"


def models_card(detail: SkuDetail) -> dbc.Card:
    v = detail.value
    chosen = v("forecast_model")
    scores = detail.model_scores
    best = min((s.mase for s in scores if s.mase is not None), default=None)
    body_rows = []
    for s in scores:
        gap = None if s.mase is None or best is None or best <= 0 else s.mase / best - 1
        body_rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            model_name(s.model),
                            " ",
                            dbc.Badge("chosen", color="primary", className="ms-1") if s.chosen else None,
                        ]
                    ),
                    html.Td(fmt_number(s.mase, 2), className="text-end"),
                    html.Td(
                        gap_text(gap),
                        className="text-end text-secondary",
                    ),
                ],
                className="fw-semibold" if s.chosen else None,
            )
        )
    table = (
        dbc.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th("Model"),
                            html.Th("Backtest MASE", className="text-end"),
                            html.Th("vs best", className="text-end"),
                        ]
                    )
                ),
                html.Tbody(body_rows),
            ],
            size="sm",
            hover=True,
            className="mb-2 small",
        )
        if body_rows
        else html.P("No backtest scores in this snapshot.", className="small text-secondary")
    )
    bias = v("bias")
    why = choice_note(scores, model_name=model_name)
    summary = html.Div(
        [
            html.Span("Chosen: ", className="text-secondary"),
            html.B(model_name(chosen)),
            html.Span(
                f" · MASE {fmt_number(v('mase'), 2)} · WAPE {fmt_pct(v('wape'), 0)} · bias "
                f"{MISSING if bias is None else f'{bias:+.1%}'}"
            ),
        ],
        className="small mb-2",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Forecast model (rolling-origin backtest)", className=SECTION_CLASS),
                summary,
                table,
                html.P(why, id=ids.SKU_MODEL_WHY, className="small mb-2") if why else None,
                html.Div(
                    "Mean absolute scaled error over the backtest windows: below 1 beats the naive forecast.",
                    className="small text-secondary",
                ),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )


def stock_card(detail: SkuDetail) -> dbc.Card:
    v = detail.value
    rows = [
        _row("On hand", fmt_qty(v("on_hand")), cover_note(detail)),
        _row("On order", fmt_qty(v("on_order"))),
        _row("Inventory position", fmt_qty(v("inventory_position"))),
        _row(
            "Inventory value",
            fmt_money(v("inventory_value")),
            f"unit cost {fmt_money(detail.unit_cost)}" if detail.unit_cost < 1000 else None,
        ),
        _row("Value at risk", fmt_money(v("value_at_risk"))),
        _row("Excess value", fmt_money(v("excess_value"))),
        _row("Annual demand", fmt_qty(v("annual_demand"))),
        _row("MOQ / multiple", f"{fmt_qty(detail.moq)} / {fmt_qty(detail.order_multiple)}"),
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Stock and money", className=SECTION_CLASS),
                dbc.Table(html.Tbody(rows), size="sm", borderless=True, className="mb-0 align-middle"),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )


def cover_note(detail: SkuDetail) -> str:
    """ "21.0 d of cover: short: below the 28-day lead time" (the words of ai.wording's cover bands)."""
    v = detail.value
    words = wording.cover_text(v("days_of_cover"), detail.periods_to_days(v("lead_time_periods")))
    return f"{fmt_days(v('days_of_cover'))} of cover" + (f" ({words})" if words else "")


def _covers_newsvendor(detail: SkuDetail) -> bool:
    """Whether the snapshot's position reaches its newsvendor quantity (a SKU flagged one-shot after the run that
    computed it was still sized by its reorder point)."""
    position, target = detail.value("inventory_position"), detail.value("newsvendor_qty")
    return position is None or target is None or position >= target - 0.5


def stale_master_note(detail: SkuDetail) -> html.Div | None:
    """Says so when the SKU master (or, on the Data page, its demand) was edited after this SKU was computed: the
    numbers here come from the old values until the next recompute, partial or full, recomputes the SKU."""
    if detail.master_edited_at is None:
        return None
    return html.Div(
        f"The SKU master or its demand was edited at {fmt_datetime(detail.master_edited_at)}, after this SKU was last "
        "computed: the status, policy and order here still use the previous values until the next recompute.",
        className="small text-warning-emphasis mt-1",
    )


def overdue_flag(detail: SkuDetail) -> html.Span | None:
    """ "overdue by 6 days" in red when the recommended order's order-by date is before today (issue 15 item 7)."""
    if not detail.overdue_days:
        return None
    return html.Span(
        f" {overdue_text(detail.overdue_days).capitalize()}.", className="text-danger fw-semibold overdue-flag"
    )


def order_sentence(detail: SkuDetail) -> str:
    """The recommended order and when it must be placed, in words."""
    qty = detail.value("recommended_qty") or 0.0
    unit = period_unit(detail)
    if qty <= 0 and detail.order_policy == "phase_out":
        return "No order: a stopped seller is phased out, not replenished (the status reason gives the numbers)."
    if qty <= 0 and detail.one_shot and _covers_newsvendor(detail):
        return "No order needed: the position covers the newsvendor quantity of this one-shot buy."
    if qty <= 0:
        at = detail.value("order_by_periods")
        if at is not None and at > 0:
            return f"No order needed now: the position reaches the reorder point in about {at:,.0f} {plural(at, unit)}."
        return "No order recommended."
    at = max(0.0, detail.value("order_by_periods") or 0.0)
    by = fmt_date_prose(detail.order_by_date)
    when = f"now (order by {by})" if at < 0.5 else f"by {by} (in {at:,.0f} {plural(at, unit)})"
    return f"Order {fmt_order_qty(qty, detail.order_multiple)} units {when}."


def projection_note(detail: SkuDetail, projection: Projection | None) -> str:
    if projection is None:
        return ""
    unit = period_unit(detail)
    parts = []
    if detail.order_policy == "phase_out":  # the forecast still carries the level it sold at before it stopped
        parts.append(
            "Phased out: the projection uses the forecast, which still carries the old level; no order is planned."
        )
    runs_out = next((k for k, v in enumerate(projection.position) if v < 0), None)
    if runs_out is not None:
        parts.append(f"Without a new order the stock runs out around {fmt_date_prose(projection.dates[runs_out])}.")
    else:
        parts.append(f"Without a new order the stock lasts beyond {fmt_date_prose(projection.dates[-1])}.")
    if projection.order_qty > 0:
        lead = detail.value("lead_time_periods") or 0.0
        when = (
            "now"
            if projection.order_at < 0.5
            else (f"in {projection.order_at:,.0f} {plural(projection.order_at, unit)}")
        )
        parts.append(
            f"An order of {fmt_qty(projection.order_qty)} placed {when} arrives after the {lead:,.1f}-{unit} lead time."
        )
        if projection.stockout_period is not None:
            parts.append(
                f"Even so, stock is short around {fmt_date_prose(projection.dates[projection.stockout_period])}."
            )
    return " ".join(parts)


def status_banner(detail: SkuDetail) -> dbc.Card:
    color = status_color(detail.status)
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    status_badge(detail.status, class_name="me-2 fs-6"),
                                    html.Span(detail.value("status_reason") or MISSING, className="fw-semibold"),
                                ]
                            ),
                            html.Div([order_sentence(detail), overdue_flag(detail)], className="mt-1"),
                            stale_master_note(detail),
                            incomplete_note(detail.defaulted_fields),
                        ],
                        md=9,
                    ),
                    dbc.Col(
                        html.Div(
                            [
                                html.Div("Value at risk", className="kpi-label"),
                                html.Div(fmt_money(detail.value("value_at_risk")), className="kpi-value"),
                            ],
                            className="text-md-end",
                        ),
                        md=3,
                    ),
                ],
                className="align-items-center",
            ),
            className="py-2",
        ),
        className="shadow-sm border-0 mb-3",
        style={"borderLeft": f"6px solid {color}"},
    )


def briefing_controls(detail: SkuDetail) -> list[Any]:
    """The "Download briefing" button (SKUs in the latest snapshot only); callbacks/briefings.py builds the PDF."""
    if detail.snapshot is None:
        return []
    return [
        dcc.Download(id=ids.SKU_BRIEFING_FILE),
        html.Span(id=ids.SKU_BRIEFING_STATUS, className="small text-secondary text-truncate"),
        dbc.Button("Download briefing", id=ids.SKU_BRIEFING, color="primary", outline=True, size="sm"),
    ]


def heading(detail: SkuDetail) -> list[Any]:
    """The page's one heading: the code, then the name unless it repeats the code."""
    parts: list[Any] = [html.Span(detail.code, className="me-2")]
    name = (detail.name or "").strip()
    if name and name.casefold() != detail.code.casefold():
        parts.append(html.Span(name, className="fw-normal text-secondary"))
    return parts


def header(detail: SkuDetail) -> html.Div:
    code = quote(detail.code, safe="")
    meta = [detail.category, detail.location, detail.supplier]
    run = detail.run
    snapshot = (
        f"Snapshot {fmt_datetime(run.finished_at)} · data through {fmt_date_prose(run.data_as_of)}"
        if run
        else "Not in the latest snapshot"
    )
    if detail.reported_behind and detail.last_reported is not None:  # its history ends before data through
        snapshot += f" · last reported {fmt_date_prose(detail.last_reported)}"
    return html.Div(
        [
            html.Div(
                [
                    html.Nav(
                        [dcc.Link("Watchtower", href="/"), " / ", dcc.Link("SKU detail", href="/sku")],
                        className="small text-secondary",
                        **{"aria-label": "Breadcrumb"},
                    ),
                    html.H1(heading(detail), className="h4 mb-0"),
                    html.Div(" · ".join(m for m in meta if m) + " · " + snapshot, className="small text-secondary"),
                ]
            ),
            html.Div(
                [
                    *briefing_controls(detail),
                    dbc.Button("Risk engine", href=f"/risk?sku={code}", color="secondary", outline=True, size="sm"),
                    dbc.Button(
                        "Profit optimizer", href=f"/profit?sku={code}", color="secondary", outline=True, size="sm"
                    ),
                ],
                id=ids.SKU_HEADER_ACTIONS,
                className="d-flex align-items-center gap-2 ms-auto",
            ),
        ],
        className="d-flex align-items-start flex-wrap gap-2 mb-3",
    )


def _card(title: str, *children: Any, note: Any = None, fill: bool = False) -> dbc.Card:
    """A titled card; ``fill``: a flex column, so a chart with ``flex: 1`` takes the height the row gives."""
    head = [html.Span(title, className=SECTION_CLASS)]
    if note:
        head.append(html.Span(note, className="small text-secondary ms-2"))
    body_class = "d-flex flex-column" if fill else None
    return dbc.Card(
        dbc.CardBody([html.Div(head), *children], className=body_class), className="shadow-sm border-0 h-100"
    )


def detail_page(detail: SkuDetail) -> html.Div:
    unit = period_unit(detail)
    store = html.Div(
        [
            dcc.Store(id=ids.SKU_CODE, data={"code": detail.code, "run_id": detail.run.id if detail.run else None}),
            dcc.Store(id=ids.SKU_SCROLL),  # callbacks/sku.py scrolls to the top when the page opens
        ]
    )
    history = history_figure(
        history=detail.history,
        forecast=detail.forecast,
        backtest=detail.backtest,
        overrides=newest_per_period(detail.overrides),
    )
    history = add_promotions(history, code=detail.code, forecast=detail.forecast, step_days=detail.days_per_period)
    if detail.snapshot is None:
        return html.Div(
            [
                store,
                header(detail),
                dbc.Alert(
                    "This SKU is not in the latest snapshot (added since, or inactive). A recompute will give "
                    "it a status, forecast and policy.",
                    color="light",
                    className="border",
                ),
                _card("Demand history", dcc.Graph(figure=history, config=GRAPH_CONFIG, style={"height": "360px"})),
            ]
        )
    projection = detail.projection
    qty = detail.value("recommended_qty") or 0.0
    return html.Div(
        [
            store,
            header(detail),
            status_banner(detail),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Demand, forecast and backtest",
                            dcc.Graph(
                                id=ids.SKU_HISTORY_CHART, figure=history, config=GRAPH_CONFIG, style={"height": "360px"}
                            ),
                            note=f"per {unit}; p10–p90 band; diamonds mark planner overrides",
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        dcc.Loading(
                            html.Div(id=ids.SKU_COMMENTARY, className="h-100", style={"minHeight": "120px"}),
                            type="dot",
                            color="#1f3a5f",
                            parent_className="h-100",
                        ),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _card(
                            "Projected stock",
                            dbc.Row(
                                [
                                    dbc.Col(
                                        html.Div(
                                            projection_note(detail, projection),
                                            id=ids.SKU_PROJECTION_NOTE,
                                            className="small",
                                        ),
                                        md=8,
                                    ),
                                    dbc.Col(
                                        dbc.InputGroup(
                                            [
                                                group_label("Order qty", ids.SKU_ORDER_QTY),
                                                dbc.Input(
                                                    id=ids.SKU_ORDER_QTY,
                                                    type="number",
                                                    min=0,
                                                    step=1,
                                                    value=round(qty),
                                                    debounce=True,
                                                ),
                                            ],
                                            size="sm",
                                        ),
                                        md=4,
                                    ),
                                ],
                                className="g-2 mb-1 align-items-center",
                            ),
                            dcc.Graph(
                                id=ids.SKU_PROJECTION_CHART,
                                figure=projection_figure(projection),
                                config=GRAPH_CONFIG,
                                # fills the card down to the policy card's height: no empty band under the chart
                                style={"minHeight": f"{PROJECTION_HEIGHT}px", "flex": "1 1 auto"},
                            ),
                            note="inventory position less forecast demand; change the quantity to test another order",
                            fill=True,
                        ),
                        lg=8,
                    ),
                    dbc.Col(policy_card(detail), lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(models_card(detail), lg=4),
                    dbc.Col(stock_card(detail), lg=4),
                    dbc.Col(lead_time_panel(detail.code), lg=4),
                ],
                className="g-3",
            ),
            html.Div(backtest_panel(grain=detail.run.grain if detail.run else None), className="mt-3"),
            html.Div(override_panel(detail.code), className="mt-3"),
        ]
    )


def layout(code: str | None = None, **_query: Any) -> html.Div:
    code = unquote(code or "").strip()
    with session_scope() as session:
        detail = sku_detail(session=session, code=code) if code else None
        others = item_locations(session=session, code=code) if detail is not None else []
    if detail is None:
        return not_found(code)
    page = detail_page(detail)
    panel = locations_panel(item=detail.item or detail.code, rows=others)  # issue 21: the item elsewhere
    if panel is not None:
        page.children.append(panel)
    return page
