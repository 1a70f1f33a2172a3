"""Orders (/orders): recommended purchase orders grouped by supplier, approve / edit / reject, approved orders on
order (receive, cancel, export per supplier), and the closed-order history. Everything shown comes from
:mod:`services.orders`.

The SKU page's override and lead-time panels are layouts/_sku_panels.py, the Watchtower's forecast-value-added panel
layouts/_fva_panel.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from core.formats import fmt_date, order_quantity
from db.session import session_scope
from layouts import _ids as ids
from layouts._charts import (
    MISSING,
    SECTION_CLASS,
    fmt_date_prose,
    fmt_money,
    fmt_qty,
)
from layouts._components import KEYBOARD_GRID_OPTIONS, allowed, empty_state, group_label
from layouts._transfers import transfers_tab
from services import orders as svc
from services.master_data import UNIT_COST_MISSING

dash.register_page(__name__, path="/orders", name="Orders", order=4, title="Orders · Inventory Command Center")

HISTORY_LIMIT = 1000
PLANNER_ONLY = "Needs the planner role"
# what a viewer reads instead of faded action buttons (issue 23): the actions are hidden, the note says who can
VIEWER_NOTE = "Planners can approve, reject and change the quantity of these orders; you are signed in as a viewer."
VIEWER_RECEIVE_NOTE = "Planners can mark orders received or cancel them; you are signed in as a viewer."
# the export buttons are faded while nothing is approved: their tooltip says why
EXPORT_TITLE = "Exports the approved orders (on order); enabled once an order is approved"

_NUM = "params.value == null ? '\u2013' : d3.format(',.0f')(params.value)"
_MONEY = "params.value == null ? '\u2013' : '$' + d3.format(',.2f')(params.value)"
_MONEY0 = "params.value == null ? '\u2013' : '$' + d3.format(',.0f')(params.value)"
# an order of a SKU without a unit cost has no value (never a $0 one): services.master_data.UNIT_COST_MISSING
_VALUE = f"params.data && params.data.unit_cost_missing ? '{UNIT_COST_MISSING}' : ({_MONEY0})"
_RIGHT = {"type": "rightAligned"}
# order quantities: whole where the order multiple is whole (the rows carry core.formats.order_quantity), else packs
_QTY = "params.value == null ? '\u2013' : d3.format(Number.isInteger(params.value) ? ',' : ',.3~f')(params.value)"
# an order-by date before today is red, and the "Overdue by" column says by how long (core.formats.overdue_text)
_OVERDUE = "params.value > 0 ? params.value.toLocaleString('en-US') + (params.value === 1 ? ' day' : ' days') : ''"
OVERDUE_STYLE = {"color": "#b02a37", "fontWeight": 600}  # text-danger as on the SKU page (assets/app.css: 4.5:1)


def _sku_column(**extra: Any) -> dict[str, Any]:
    return {
        "field": "sku_link",
        "colId": "sku",
        "headerName": "SKU",
        "width": 120,
        "cellRenderer": "markdown",
        "cellStyle": {"fontWeight": 600},
        **extra,
    }


RECOMMENDED_COLUMNS: list[dict[str, Any]] = [
    {"field": "supplier", "headerName": "Supplier", "width": 140, "tooltipField": "supplier"},
    _sku_column(width=105),
    {"field": "sku_name", "headerName": "Name", "width": 140, "tooltipField": "sku_name"},
    {"field": "qty", "headerName": "Qty", "width": 80, "valueFormatter": {"function": _QTY}, **_RIGHT},
    {"field": "unit_cost", "headerName": "Unit cost", "width": 95, "valueFormatter": {"function": _MONEY}, **_RIGHT},
    {
        "field": "value",
        "headerName": "Value",
        "width": 95,
        "tooltipValueGetter": {
            "function": f"params.data && params.data.unit_cost_missing ? '{UNIT_COST_MISSING}' : null"
        },
        "valueFormatter": {"function": _VALUE},
        "cellStyle": {"fontWeight": 600},
        **_RIGHT,
    },
    {
        "field": "order_by",
        "headerName": "Order by",
        "width": 105,
        "cellStyle": {"styleConditions": [{"condition": "params.data.overdue_days > 0", "style": OVERDUE_STYLE}]},
    },
    {
        "field": "overdue_days",
        "headerName": "Overdue by",
        "width": 95,
        "valueFormatter": {"function": _OVERDUE},
        "cellStyle": OVERDUE_STYLE,
        "headerTooltip": "days the order-by date is before today: the order is late",
    },
    # the reason in words with its numbers; the full policy arithmetic in the tooltip (services.orders.reason_summary)
    {
        "field": "why",
        "headerName": "Why",
        "width": 420,
        "tooltipField": "reason",
        "headerTooltip": "hover a row for the full policy arithmetic",
    },
    {"field": "edit_note", "headerName": "Planner edit", "width": 220, "tooltipField": "edit_note"},
]
APPROVED_COLUMNS: list[dict[str, Any]] = [
    {
        "field": "supplier",
        "headerName": "Supplier",
        "width": 190,
    },
    {"field": "po_number", "headerName": "PO", "width": 110},
    _sku_column(),
    {"field": "sku_name", "headerName": "Name", "width": 170, "tooltipField": "sku_name"},
    {"field": "qty", "headerName": "Qty", "width": 90, "valueFormatter": {"function": _NUM}, **_RIGHT},
    {"field": "value", "headerName": "Value", "width": 110, "valueFormatter": {"function": _VALUE}, **_RIGHT},
    {"field": "order_date", "headerName": "Ordered on", "width": 115},
    {"field": "promised_date", "headerName": "Promised", "width": 115},
    {"field": "approved_by", "headerName": "Approved by", "width": 190},
    {"field": "edit_note", "headerName": "Planner edit", "width": 200, "tooltipField": "edit_note"},
]
HISTORY_COLUMNS: list[dict[str, Any]] = [
    {"field": "status", "headerName": "Status", "width": 110},
    {"field": "supplier", "headerName": "Supplier", "width": 180},
    {"field": "po_number", "headerName": "PO", "width": 110},
    _sku_column(),
    # the reason explains the status: next to it, not past the right edge of the grid
    {"field": "status_reason", "headerName": "Reason (reject / cancel)", "width": 240, "tooltipField": "status_reason"},
    {"field": "qty", "headerName": "Qty ordered", "width": 110, "valueFormatter": {"function": _NUM}, **_RIGHT},
    {
        "field": "received_qty",
        "headerName": "Qty received",
        "width": 115,
        "valueFormatter": {"function": _NUM},
        **_RIGHT,
    },
    {"field": "order_date", "headerName": "Ordered on", "width": 115},
    {"field": "promised_date", "headerName": "Promised", "width": 110},
    {"field": "received_date", "headerName": "Received on", "width": 115},
    {"field": "lead_time_days", "headerName": "Lead time (d)", "width": 115, **_RIGHT},
    {"field": "closed_by", "headerName": "By", "width": 190},
]
SUPPLIER_COLUMNS: list[dict[str, Any]] = [
    {"field": "supplier", "headerName": "Supplier", "flex": 1, "minWidth": 120, "tooltipField": "supplier"},
    {"field": "orders", "headerName": "POs", "width": 70, **_RIGHT},
    {
        "field": "value",
        "headerName": "Value",
        "width": 92,
        "sort": "desc",
        "valueFormatter": {"function": _VALUE},
        **_RIGHT,
    },
]


# --------------------------------------------------------------------------------------------------------------------
# rows


def _iso(value: dt.date | None) -> str:
    return fmt_date(value, missing="")  # the one table date format (core.formats): ISO


def _md(text: str) -> str:
    """Text safe inside a markdown link label."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!<>|" else ch for ch in text)


def order_row(order: svc.OrderView) -> dict[str, Any]:
    """One order as a grid row (plain JSON values)."""
    edit = ""
    if order.edit_reason:
        was = fmt_qty(order.recommended_qty) if order.recommended_qty is not None else MISSING
        edit = f"{order.edit_reason} (recommended {was})"
    lead = None
    if order.received_date and order.order_date:
        lead = (order.received_date - order.order_date).days
    return {
        "id": str(order.id),  # AG Grid row ids are strings
        "po_number": f"PO-{order.id:06d}",
        "status": order.status,
        "supplier": order.supplier,
        "sku": order.sku,
        "sku_link": f"[{_md(order.sku)}](/sku/{quote(order.sku, safe='')})",
        "sku_name": order.sku_name,
        "qty": order_quantity(order.qty, order.order_multiple),
        "recommended_qty": order_quantity(order.recommended_qty, order.order_multiple),
        "unit_cost": order.unit_cost,
        "value": None if order.unit_cost_missing else round(order.value, 2),
        "unit_cost_missing": order.unit_cost_missing,
        "order_by": _iso(order.order_by),
        "overdue_days": order.overdue_days,
        "reason": order.reason,
        "why": svc.reason_summary(order.reason),
        "edit_note": edit,
        "order_date": _iso(order.order_date),
        "promised_date": _iso(order.promised_date),
        "approved_by": order.approved_by or "",
        "received_qty": order.received_qty,
        "received_date": _iso(order.received_date),
        "lead_time_days": lead,
        "closed_by": order.received_by or order.closed_by or "",
        "status_reason": order.status_reason or "",
    }


def supplier_rows(groups: list[svc.SupplierGroup]) -> list[dict[str, Any]]:
    return [
        {
            "id": g.supplier,
            "supplier": g.supplier,
            "orders": g.orders,
            "units": g.units,
            "value": round(g.value, 2),
            "earliest_order_by": _iso(g.earliest_order_by),
        }
        for g in groups
    ]


def page_data(*, session: Any, supplier: str | None = None) -> dict[str, Any]:
    """Everything the page's grids and headline show (also used by the refresh callback)."""
    groups = svc.supplier_summary(session=session, status="recommended")
    return {
        "totals": svc.order_totals(session=session),
        "suppliers": supplier_rows(groups),
        "recommended": [
            order_row(o) for o in svc.list_orders(session=session, status="recommended", supplier=supplier or None)
        ],
        "approved": [order_row(o) for o in svc.list_orders(session=session, status="approved")],
        "history": [
            order_row(o) for o in svc.list_orders(session=session, status=svc.CLOSED_STATUSES, limit=HISTORY_LIMIT)
        ],
        "supplier_options": sorted(g.supplier for g in groups),
    }


# --------------------------------------------------------------------------------------------------------------------
# pieces


def _tile(label: str, value: str, note: str, *, accent: str | None = None) -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(style={"height": "4px", "background": accent, "margin": "-0.5rem -1rem 0.5rem"})
                    if accent
                    else None,
                    html.Div(label, className="kpi-label text-truncate"),
                    html.Div(value, className="kpi-value"),
                    html.Div(note, className="small text-secondary"),  # wraps: never a cut caption (issue 23)
                ]
            ),
            className="kpi-card shadow-sm border-0 h-100",
        ),
        xs=6,
        md=3,
    )


def totals_row(totals: svc.OrderTotals) -> dbc.Row:
    c, v = totals.counts, totals.values
    closed = c["rejected"] + c["cancelled"]
    return dbc.Row(
        [
            _tile(
                "Recommended",
                f"{c['recommended']:,}",
                f"{fmt_money(v['recommended'])} from {totals.suppliers:,} supplier(s)"
                + (f"; {totals.overdue:,} overdue" if totals.overdue else ""),
                accent="#ff7f0e",
            ),
            _tile(
                "Approved, on order",
                f"{c['approved']:,}",
                f"{fmt_money(v['approved'])}; on order for the next recompute",
                accent="#1f77b4",
            ),
            _tile("Received", f"{c['received']:,}", f"{fmt_money(v['received'])}; receipts teach lead times"),
            _tile("Rejected or cancelled", f"{closed:,}", f"{c['rejected']:,} rejected, {c['cancelled']:,} cancelled"),
        ],
        className="g-2 mb-3",
    )


def _grid(grid_id: str, columns: list[dict[str, Any]], rows: list[dict[str, Any]], height: int, **options: Any) -> Any:
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        getRowId="params.data.id + ''",
        defaultColDef={"sortable": True, "resizable": True, "filter": False, "suppressHeaderMenuButton": True},
        dashGridOptions={
            "animateRows": False,
            "rowHeight": 34,
            "headerHeight": 38,
            "tooltipShowDelay": 400,
            "suppressCellFocus": True,
            **KEYBOARD_GRID_OPTIONS,
            **options,
        },
        style={"height": f"{height}px", "width": "100%"},
    )


_MULTI = {
    "rowSelection": {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "selectAll": "filtered"},
    "selectionColumnDef": {"pinned": "left", "width": 48},
}


def header(totals: svc.OrderTotals, *, planner: bool) -> html.Div:
    if totals.run_id is not None:
        subtitle = (
            f"Recommendations of recompute run {totals.run_id} (data through {fmt_date_prose(totals.data_as_of)}). "
            "The next recompute replaces those nobody acted on; approved and edited orders stay."
        )
    else:
        subtitle = "No recompute has finished yet: recommendations appear after the first recompute."
    return html.Div(
        [
            html.Div(
                [html.H1("Purchase orders", className="h4 mb-0"), html.P(subtitle, className="text-muted small mb-0")],
                style={"flex": "1 1 420px", "minWidth": 0},
            ),
            html.Div(
                [
                    dbc.Button(
                        "Import receipts",
                        href="/data",
                        color="secondary",
                        outline=True,
                        size="sm",
                        title="Receipts CSV (order, promised and received dates): the Data page imports it",
                    ),
                    dbc.Button(
                        "Export approved (CSV)",
                        id=ids.ORDERS_EXPORT_CSV,
                        color="primary",
                        outline=True,
                        size="sm",
                        disabled=totals.counts["approved"] == 0,
                        title=EXPORT_TITLE,
                    ),
                    dbc.Button(
                        "Export per supplier (ZIP)",
                        id=ids.ORDERS_EXPORT_ZIP,
                        color="primary",
                        outline=True,
                        size="sm",
                        disabled=totals.counts["approved"] == 0,
                        title=EXPORT_TITLE,
                    ),
                    dbc.Button(
                        "Export per supplier (Excel)",
                        id=ids.ORDERS_EXPORT_XLSX,
                        color="primary",
                        outline=True,
                        size="sm",
                        disabled=totals.counts["approved"] == 0,
                        title=f"One workbook, a sheet per supplier. {EXPORT_TITLE}",
                    ),
                ],
                className="d-flex gap-2 ms-auto flex-wrap",
            ),
        ],
        className="d-flex align-items-start flex-wrap gap-2 mb-3",
    )


def reason_action(
    reason_id: str, button_id: str, verb: str, *, disabled: bool, title: str | None, style: dict | None = None
) -> dbc.InputGroup:
    """An optional-reason box with its action button ("Reject selected", "Cancel selected")."""
    return dbc.InputGroup(
        [
            dbc.Input(
                id=reason_id,
                placeholder=f"Reason to {verb.lower()} (optional)",
                maxLength=svc.MAX_REASON,
                disabled=disabled,
            ),
            dbc.Button(
                f"{verb} selected",
                id=button_id,
                color="danger",
                outline=True,
                disabled=disabled,
                title=title,
                className="text-nowrap",
            ),
        ],
        size="sm",
        style=style,
    )


def recommended_tab(data: dict[str, Any], *, planner: bool) -> html.Div:
    disabled = not planner
    title = None if planner else PLANNER_ONLY
    actions = html.Div(
        [
            dbc.Button(
                "Approve selected",
                id=ids.ORDERS_APPROVE,
                color="success",
                size="sm",
                disabled=disabled,
                title=title,
                className="text-nowrap",
            ),
            reason_action(
                ids.ORDERS_REJECT_REASON,
                ids.ORDERS_REJECT,
                "Reject",
                disabled=disabled,
                title=title,
                style={"width": "330px"},
            ),
            dbc.InputGroup(
                [
                    group_label("New qty", ids.ORDERS_EDIT_QTY),
                    dbc.Input(
                        id=ids.ORDERS_EDIT_QTY,
                        type="number",
                        min=0,
                        step="any",
                        disabled=disabled,
                        style={"maxWidth": "110px"},
                    ),
                    dbc.Input(
                        id=ids.ORDERS_EDIT_REASON,
                        placeholder="Reason for the change (kept)",
                        maxLength=svc.MAX_REASON,
                        disabled=disabled,
                    ),
                    dbc.Button(
                        "Save quantity",
                        id=ids.ORDERS_EDIT_SAVE,
                        color="primary",
                        disabled=disabled,
                        title=title,
                        className="text-nowrap",
                    ),
                ],
                size="sm",
                className="ms-lg-auto",
                style={"width": "480px"},
            ),
        ],
        # kept in the tree (the callbacks' inputs), hidden from viewers (d-none: d-flex is display !important)
        className="d-flex flex-wrap gap-2 align-items-center mb-2" if planner else "d-none",
    )
    viewer_note = None if planner else viewer_hint(VIEWER_NOTE, ids.ORDERS_VIEWER_NOTE)
    supplier_card = dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Span("By supplier", className=SECTION_CLASS),
                        html.Span(" click a supplier to show only its orders", className="small text-secondary"),
                    ]
                ),
                _grid(ids.ORDERS_SUPPLIER_GRID, SUPPLIER_COLUMNS, data["suppliers"], 470),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )
    orders_card = dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [
                        dbc.Col(html.Span("Recommended orders", className=SECTION_CLASS), width="auto"),
                        dbc.Col(
                            dcc.Dropdown(
                                id=ids.ORDERS_SUPPLIER,
                                options=[{"label": s, "value": s} for s in data["supplier_options"]],
                                placeholder="All suppliers",
                                clearable=True,
                            ),
                            md=5,
                        ),
                        dbc.Col(
                            html.Div(
                                selection_text([]), id=ids.ORDERS_SELECTION, className="small text-secondary text-end"
                            )
                        ),
                    ],
                    className="g-2 mb-2 align-items-center",
                ),
                actions,
                viewer_note,
                _grid(ids.ORDERS_GRID, RECOMMENDED_COLUMNS, data["recommended"], 440, **_MULTI),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )
    if not data["recommended"] and not data["supplier_options"]:
        note = empty_state("No recommended orders: every SKU's position is above its reorder point.")
        return html.Div([note, html.Div(orders_card, style={"display": "none"})])
    return dbc.Row([dbc.Col(supplier_card, lg=3), dbc.Col(orders_card, lg=9)], className="g-2")


def viewer_hint(text: str, element_id: str) -> html.Div:
    """The line a viewer reads where a planner has action buttons."""
    return html.Div(
        text,
        id=element_id,
        className="small text-secondary mb-2",
    )


def selection_text(rows: list[dict[str, Any]] | None) -> str:
    rows = rows or []
    if not rows:
        return "Tick orders to approve or reject them; tick one to change its quantity."  # a viewer: VIEWER_NOTE
    value = sum(float(r.get("value") or 0.0) for r in rows)
    return f"{len(rows):,} selected · {fmt_money(value)}"


def approved_tab(data: dict[str, Any], *, planner: bool) -> html.Div:
    disabled = not planner
    receive = dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        dbc.InputGroup(
                            [
                                dbc.InputGroupText("Received on"),
                                dcc.DatePickerSingle(  # ISO like every date (core.formats), not the locale's
                                    id=ids.ORDERS_RECEIVE_DATE,
                                    date=svc.today().isoformat(),
                                    max_date_allowed=svc.today().isoformat(),
                                    display_format="YYYY-MM-DD",
                                    first_day_of_week=1,
                                    disabled=disabled,
                                ),
                                group_label("Qty", ids.ORDERS_RECEIVE_QTY),
                                dbc.Input(
                                    id=ids.ORDERS_RECEIVE_QTY,
                                    type="number",
                                    min=0,
                                    step="any",
                                    placeholder="as ordered",
                                    disabled=disabled,
                                ),
                                dbc.Button(
                                    "Mark received",
                                    id=ids.ORDERS_RECEIVE,
                                    color="success",
                                    disabled=disabled,
                                    title=None if planner else PLANNER_ONLY,
                                ),
                            ],
                            size="sm",
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        reason_action(
                            ids.ORDERS_CANCEL_REASON,
                            ids.ORDERS_CANCEL,
                            "Cancel",
                            disabled=disabled,
                            title=None if planner else PLANNER_ONLY,
                        ),
                        lg=3,
                    ),
                    dbc.Col(
                        html.Div(
                            [
                                "Each receipt teaches the supplier's real lead time. Many at once? ",
                                dcc.Link("Import a receipts CSV", href="/data"),
                                ".",
                            ],
                            className="small text-secondary",
                        ),
                        lg=3,
                    ),
                ],
                className="g-2 align-items-center",
            ),
            className="py-2",
        ),
        className="shadow-sm border-0 mb-2" if planner else "d-none",  # hidden from viewers, kept for the callbacks
    )
    return html.Div(
        [
            receive,
            None if planner else viewer_hint(VIEWER_RECEIVE_NOTE, ids.ORDERS_VIEWER_RECEIVE_NOTE),
            dbc.Card(
                dbc.CardBody(_grid(ids.ORDERS_APPROVED_GRID, APPROVED_COLUMNS, data["approved"], 460, **_MULTI)),
                className="shadow-sm border-0",
            ),
        ]
    )


def history_tab(data: dict[str, Any]) -> html.Div:
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    f"Received, rejected and cancelled orders (newest first, at most {HISTORY_LIMIT:,}).",
                    className="small text-secondary mb-2",
                ),
                _grid(ids.ORDERS_HISTORY_GRID, HISTORY_COLUMNS, data["history"], 460),
            ]
        ),
        className="shadow-sm border-0",
    )


def layout(**_kwargs: object) -> html.Div:
    planner = allowed("planner")
    with session_scope() as session:
        data = page_data(session=session)
        transfers = transfers_tab(session=session, planner=planner)
    totals: svc.OrderTotals = data["totals"]
    return html.Div(
        [
            dcc.Store(id=ids.ORDERS_REFRESH, data=0),
            dcc.Download(id=ids.ORDERS_DOWNLOAD),
            header(totals, planner=planner),
            html.Div(totals_row(totals), id=ids.ORDERS_TOTALS),
            html.Div(id=ids.ORDERS_MESSAGE),
            dbc.Tabs(
                [
                    dbc.Tab(
                        recommended_tab(data, planner=planner),
                        label="Recommended",
                        tab_id="recommended",
                        className="pt-2",
                    ),
                    dbc.Tab(
                        approved_tab(data, planner=planner),
                        label="Approved (on order)",
                        tab_id="approved",
                        className="pt-2",
                    ),
                    dbc.Tab(history_tab(data), label="History", tab_id="history", className="pt-2"),
                    dbc.Tab(transfers, label="Transfers", tab_id="transfers", className="pt-2"),  # issue 21
                ],
                id=ids.ORDERS_TABS,
                active_tab="recommended",
            ),
        ]
    )
