"""Data (/data): import files with a preview first, browse and edit the tables, export them, factory reset.

Everyone signed in can look and export; imports and edits need the planner role and the factory reset the admin
role (the server checks both: callbacks/data.py registers every callback with auth.guard.guarded_callback).
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.session import session_scope
from layouts import _ids as ids
from layouts._components import allowed, page_header
from layouts._data_danger import danger_zone
from layouts._data_lanes import LANE_COLUMNS, lanes_tab
from layouts._data_promotions import promotions_tab_item
from layouts._data_resources import resource_columns, resources_tab
from layouts._import_preview import confirm_row, coverage_section, error_groups, format_notes, names_section
from services import datatables
from services.ingest import columns as cols
from services.ingest.uploads import limit_bytes

dash.register_page(__name__, path="/data", name="Data", order=5, title="Data · Inventory Command Center")

KIND_LABELS = {
    "demand": "Demand history",
    "skus": "SKU master",
    "stock": "Stock positions",
    "receipts": "Receipts",
    "resources": "Resources",
    "lanes": "Lanes",
    "promotions": "Promotions and prices",
    "events": "Events",
}
KIND_HELP = {
    "demand": "date, SKU and quantity per period (long), or one row per SKU with one column per period (wide)",
    "skus": "costs, prices, lead times, MOQ, order multiple, service level, supplier, one-shot flag; only the SKU code "
    "is required",
    "stock": "units on hand and on order per SKU, optionally with the date of the count",
    "receipts": "received purchase orders: order, promised and received dates teach the real lead times",
    "resources": "capacity of production lines and suppliers per month or week, with overtime and its cost",
    "lanes": "routes between two locations: lead time in days, cost per unit and the minimum quantity to move",
    "promotions": "date, SKU, price and promotion (0/1 or a label) per period, further numeric columns as causal "
    "features; rows after the last demand period are the plan",
    "events": "date and event name (holidays, company events), optionally the location it applies to",
}
TABLE_LABELS = {
    "skus": "SKUs",
    "stock": "Stock positions",
    "demand": "Demand",
    "resources": "Resources",
    "lanes": "Lanes",
    "promotions": "Promotions",
    "imports": "Import history",
}
_GRID_DEFAULTS = {"sortable": True, "filter": True, "resizable": True, "floatingFilter": True}
# numbers with thousands separators (12,500; 0.95 stays 0.95); the cell editor still edits the raw value
_NUMBER = {
    "type": "rightAligned",
    "filter": "agNumberColumnFilter",
    "valueFormatter": {
        "function": "params.value == null || params.value === '' ? '' : "
        "Number(params.value).toLocaleString('en-US', {maximumFractionDigits: 4})"
    },
}
SKU_GRID_HEIGHT = "max(520px, calc(100vh - 150px))"
_MULTI_ROW = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": True, "enableClickSelection": False}
_SINGLE_ROW = {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}
# a grid on a tab hidden at load fills its width by flex (defaultColDef), never by sizeColumnsToFit: that runs while
# the tab is hidden, zero wide, and logs AG Grid warning #29 (issue 23); autoSize would leave the columns a few px wide
_HIDDEN_TAB_SIZE = "flex"


def _number_column(field: str, header: str, editable: bool, **extra: Any) -> dict[str, Any]:
    return {"field": field, "headerName": header, "editable": editable, **_NUMBER, **extra}


def sku_columns(editable: bool) -> list[dict[str, Any]]:
    text = {"editable": editable}
    return [
        {"field": "sku", "headerName": "SKU", "pinned": "left", "minWidth": 150},
        {"field": "name", "headerName": "Name", "minWidth": 180, **text},
        {"field": "category", "headerName": "Category", **text},
        {"field": "location", "headerName": "Location", **text},
        {"field": "item", "headerName": "Item", "headerTooltip": "The product shared across locations", **text},
        _number_column("unit_cost", "Unit cost", editable),
        _number_column("unit_price", "Unit price", editable),
        _number_column("salvage_value", "Salvage", editable),
        _number_column("holding_cost_rate", "Holding rate / yr", editable),
        _number_column("order_cost", "Order cost", editable),
        _number_column("lead_time_days", "Lead time (d)", editable),
        _number_column("lead_time_std_days", "Lead time sd (d)", editable),
        _number_column("moq", "MOQ", editable),
        _number_column("order_multiple", "Multiple", editable),
        _number_column("service_level", "Service level", editable),
        {"field": "supplier", "headerName": "Supplier", **text},
        {
            "field": "one_shot",
            "headerName": "One-shot",
            "headerTooltip": "Seasonal / one-shot buy: ordered with the newsvendor quantity, not replenished",
            "cellDataType": "boolean",
            "maxWidth": 120,
            **text,
        },
        {
            "field": "incomplete_master_data",
            "headerName": "Defaulted master data",
            "headerTooltip": "Fields still at their defaults (nobody provided them): values that use them are unknown",
            "minWidth": 200,
            "editable": False,
        },
        {"field": "resource", "headerName": "Resource", "headerTooltip": "Blank: unconstrained", **text},
        _number_column("capacity_per_unit", "Capacity / unit", editable),
        _number_column("min_stock", "Min stock", editable, headerTooltip="Planner's minimum stock (blank: none)"),
    ]


def stock_columns(editable: bool) -> list[dict[str, Any]]:
    return [
        {"field": "sku", "headerName": "SKU", "minWidth": 150},
        {"field": "as_of", "headerName": "As of", "sort": "desc"},
        _number_column("on_hand", "On hand", editable),
        _number_column("on_order", "On order", editable),
    ]


def demand_columns(editable: bool) -> list[dict[str, Any]]:
    return [
        {"field": "date", "headerName": "Period", "sort": "desc"},
        _number_column("quantity", "Quantity", editable),
    ]


IMPORT_COLUMNS = [
    {"field": "created_at", "headerName": "When (UTC)", "minWidth": 170, "cellDataType": "text"},
    {"field": "file_name", "headerName": "File", "minWidth": 200},
    {"field": "kind", "headerName": "Kind", "maxWidth": 120},
    {"field": "status", "headerName": "Status", "maxWidth": 130},
    {"field": "grain", "headerName": "Grain", "maxWidth": 110},
    {"field": "rows_inserted", "headerName": "Inserted", **_NUMBER},
    {"field": "rows_updated", "headerName": "Updated", **_NUMBER},
    {"field": "rows_unchanged", "headerName": "Unchanged", **_NUMBER},
    {"field": "rows_rejected", "headerName": "Rejected", **_NUMBER},
    {"field": "user_email", "headerName": "User", "minWidth": 180},
]


def grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    *,
    height: int | str = 420,
    selectable: bool = False,
    column_size: str = "autoSize",
) -> dag.AgGrid:
    """A Data-page table. A grid on a tab hidden when the page loads must use ``column_size="flex"`` (the columns
    share the width by flex, within their min / max widths): "autoSize" measures the cells once, while the tab is
    hidden, and leaves every column a few pixels wide; "responsiveSizeToFit" sizes them while the grid is zero wide
    (AG Grid warning #29). ``height``: pixels, or a CSS length (the SKU grid takes the window's height)."""
    options: dict[str, Any] = {
        "animateRows": False,
        "pagination": True,
        "paginationPageSize": 50,
        "paginationPageSizeSelector": [20, 50, 100, 500],
        "stopEditingWhenCellsLoseFocus": True,
        "singleClickEdit": False,
    }
    options["rowSelection"] = _MULTI_ROW if selectable else _SINGLE_ROW
    if selectable:  # the tick-box column keeps its width when the columns are fitted to the grid
        options["selectionColumnDef"] = {"width": 50, "suppressSizeToFit": True}
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=[],
        getRowId="params.data.id + ''",  # a string, always (AG Grid warning #25)
        defaultColDef={**_GRID_DEFAULTS, "flex": 1} if column_size == "flex" else _GRID_DEFAULTS,
        columnSize=None if column_size == "flex" else column_size,
        dashGridOptions=options,
        style={"height": f"{height}px" if isinstance(height, int) else height},
        className="ag-theme-alpine",
    )


def _counts_badges(counts: dict[str, int]) -> html.Div:
    labels = [
        ("skus", "SKUs"),
        ("demand", "demand rows"),
        ("stock", "stock positions"),
        ("receipts", "receipts"),
        ("imports", "imports"),
    ]
    return html.Div(
        [
            dbc.Badge(f"{counts[key]:,} {label}", color="light", text_color="dark", className="me-2 border")
            for key, label in labels
        ],
        id=ids.DATA_COUNTS,
        className="mb-3",
    )


def format_help() -> html.Div:
    """The accepted columns of each kind, from the importer's own definitions."""
    blocks = []
    for kind, fields in ((k, cols.FIELDS[k]) for k in KIND_LABELS):  # adjustments: the Cycles page
        rows = []
        for spec in fields:
            also = ", ".join(spec.aliases[1:5])
            default = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
            rule = "required" if spec.required else (f"default {default}" if spec.default is not None else "optional")
            rows.append(
                html.Tr(
                    [
                        html.Td(html.Code(spec.name)),
                        html.Td(rule),
                        html.Td(spec.help or ""),
                        html.Td(also, className="text-muted"),
                    ]
                )
            )
        blocks.append(
            html.Div(
                [
                    html.H3(KIND_LABELS[kind], className="h6 mt-3"),
                    html.P(KIND_HELP[kind], className="small text-muted mb-1"),
                    dbc.Table(
                        [
                            html.Thead(
                                html.Tr(
                                    [html.Th("Column"), html.Th("Rule"), html.Th("Meaning"), html.Th("Also accepted")]
                                )
                            ),
                            html.Tbody(rows),
                        ],
                        size="sm",
                        bordered=False,
                        className="small mb-0",
                    ),
                ]
            )
        )
    blocks.append(
        html.P(
            "Delimiters: comma, semicolon or tab. Encodings: UTF-8 (with or without BOM), UTF-16 with BOM, Latin-1. "
            "Dates: YYYY-MM-DD, YYYY-MM (monthly), YYYY-Www (ISO weeks); other orders need the date format option. "
            "In a wide demand file a blank cell means no demand.",
            className="small text-muted mt-3 mb-1",
        )
    )
    blocks.extend(format_notes())
    return html.Div(blocks)


UPLOAD_TEXT = "Drag and drop a CSV file or a workbook (.xlsx, .xlsm, .ods) here, or click to choose one"


def preview_area() -> html.Div:
    """The sheet picker (workbooks only) and the preview of the checked file."""
    return html.Div(
        [sheet_picker(), dcc.Store(id=ids.DATA_SHEET_READ), html.Div(id=ids.DATA_PREVIEW, className="mt-3")]
    )


def sheet_picker() -> dbc.Row:
    """The sheet of a dropped workbook to read (shown for workbooks only; the check picks the first sheet whose
    header fits the kind, and picking another sheet checks the file again)."""
    return dbc.Row(
        dbc.Col(
            [
                dbc.Label("Sheet of the workbook", className="small fw-semibold", html_for=ids.DATA_SHEET),
                dbc.Select(id=ids.DATA_SHEET, options=[], value=None, size="sm"),
            ],
            md=4,
        ),
        id=ids.DATA_SHEET_ROW,
        className="mt-3",
        style={"display": "none"},
    )


def import_card(can_import: bool) -> dbc.Card:
    limit_mb = limit_bytes() / (1024 * 1024)
    if not can_import:
        return dbc.Card(
            dbc.CardBody(
                dbc.Alert(
                    "Importing and editing need the planner role; you can look at and export every table.",
                    color="light",
                    className="border mb-0",
                )
            ),
            className="mb-3",
        )
    options = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("What the file holds", className="small fw-semibold"),
                    dbc.RadioItems(
                        id=ids.DATA_KIND,
                        options=[{"label": label, "value": kind} for kind, label in KIND_LABELS.items()],
                        value="demand",
                        inline=True,
                        className="pt-1",
                    ),
                ],
                md=6,
            ),
            dbc.Col(
                [
                    dbc.Label("Rows with errors", html_for=ids.DATA_ON_ERROR, className="small fw-semibold"),
                    dbc.Select(
                        id=ids.DATA_ON_ERROR,
                        options=[
                            {"label": "reject the whole file", "value": "reject"},
                            {"label": "skip them, import the rest", "value": "skip"},
                        ],
                        value="reject",
                        size="sm",
                    ),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Label("Date format", html_for=ids.DATA_DATE_FORMAT, className="small fw-semibold"),
                    dbc.Input(id=ids.DATA_DATE_FORMAT, placeholder="ISO; or e.g. %d/%m/%Y", size="sm", debounce=True),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Checkbox(id=ids.DATA_CREATE_SKUS, label="Create unknown SKUs", value=False, className="mt-3"),
                    dbc.Checkbox(
                        id=ids.DATA_FULL_EXTRACT,
                        label="Full extract (lists every active SKU)",
                        value=False,
                    ),
                ],
                md=2,
            ),
        ],
        className="g-3 mb-3",
    )
    upload = dcc.Loading(
        dcc.Upload(
            id=ids.DATA_UPLOAD,
            children=html.Div(
                [
                    html.Div(UPLOAD_TEXT, className="fw-semibold"),
                    html.Div(
                        f"up to {limit_mb:,.0f} MB; nothing is written before you confirm the preview",
                        className="small text-muted",
                    ),
                ]
            ),
            max_size=limit_bytes(),
            multiple=False,
            className="data-upload border border-2 rounded-3 p-4 text-center bg-light",
            style={"borderStyle": "dashed", "cursor": "pointer"},
            style_active={"borderStyle": "solid", "borderColor": "#2ca02c", "backgroundColor": "#eef8ee"},
            style_reject={"borderStyle": "solid", "borderColor": "#d62728", "backgroundColor": "#fbeaea"},
        ),
        type="dot",
    )
    progress = html.Div(
        [
            dbc.Progress(
                id=ids.DATA_PROGRESS,
                value=0,
                striped=True,
                animated=True,
                className="flex-grow-1",
                style={"height": "1.1rem"},
            ),
            html.Span(id=ids.DATA_PROGRESS_STAGE, className="small text-muted ms-3 text-nowrap"),
        ],
        id=ids.DATA_PROGRESS_PANEL,
        className="align-items-center my-3",
        style={"display": "none"},
    )
    return dbc.Card(
        [
            dbc.CardHeader(
                html.Div(
                    [
                        html.Span("Import a file", className="fw-semibold"),
                        dbc.Button(
                            "File formats", id=ids.DATA_FORMATS_TOGGLE, color="link", size="sm", className="p-0 ms-auto"
                        ),
                    ],
                    className="d-flex align-items-center",
                )
            ),
            dbc.CardBody(
                [
                    dbc.Collapse(
                        dbc.Card(dbc.CardBody(format_help()), className="mb-3 bg-light"),
                        id=ids.DATA_FORMATS,
                        is_open=False,
                    ),
                    options,
                    upload,
                    html.Div(id=ids.DATA_STAGE_MESSAGE, className="mt-2"),
                    progress,
                    preview_area(),
                    confirm_row(),
                    html.Div(
                        [
                            dbc.Button("Import", id=ids.DATA_IMPORT, color="primary", disabled=True, className="me-2"),
                            dbc.Button(
                                "Download error report",
                                id=ids.DATA_REPORT_BUTTON,
                                color="secondary",
                                outline=True,
                                disabled=True,
                            ),
                        ],
                        className="mt-3",
                    ),
                    html.Div(id=ids.DATA_RESULT, className="mt-3"),
                    dcc.Store(id=ids.DATA_STAGED),
                    dcc.Store(id=ids.DATA_NEEDS_CONFIRM),
                    dcc.Store(id=ids.DATA_REPORT),
                    dcc.Download(id=ids.DATA_REPORT_DOWNLOAD),
                ]
            ),
        ],
        className="mb-4 shadow-sm",
    )


def _add_form(children: list[Any], button_id: str, label: str) -> dbc.Row:
    return dbc.Row(
        [*children, dbc.Col(dbc.Button(label, id=button_id, size="sm", color="primary"), width="auto")],
        className="g-2 align-items-end mb-2",
    )


def _field(component_id: str, label: str, width: int = 2, **props: Any) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=component_id, className="small mb-0"),
            dbc.Input(id=component_id, size="sm", **props),
        ],
        md=width,
    )


def _toolbar(table: str, delete_id: str | None, can_edit: bool) -> html.Div:
    buttons = [
        dbc.Button(
            "Export CSV",
            id={"type": ids.DATA_EXPORT, "table": table},
            size="sm",
            color="secondary",
            outline=True,
            className="me-2",
        ),
        dbc.Button(
            "Export Excel",
            id={"type": ids.DATA_EXPORT_XLSX, "table": table},
            size="sm",
            color="secondary",
            outline=True,
            className="me-2",
        ),
    ]
    if table == "imports":
        buttons.append(
            dbc.Button(
                "Error report of the selected import",
                id=ids.DATA_HISTORY_REPORT,
                size="sm",
                color="secondary",
                outline=True,
                className="me-2",
            )
        )
    if can_edit and delete_id:
        buttons.append(dbc.Button("Delete selected", id=delete_id, size="sm", color="danger", outline=True))
    return html.Div(buttons, className="mb-2")


def tables_section(can_edit: bool, codes: list[str]) -> html.Div:
    hint = (
        "Double-click a cell to edit it; changes are checked with the import rules and saved at once."
        if can_edit
        else "Read-only: editing needs the planner role."
    )
    sku_tab = [
        _toolbar("skus", ids.DATA_DELETE_SKUS, can_edit),
        _add_form(
            [
                _field(ids.DATA_ADD_SKU_CODE, "New SKU code"),
                _field(ids.DATA_ADD_SKU_NAME, "Name", 3),
                _field(ids.DATA_ADD_SKU_CATEGORY, "Category"),
                _field(ids.DATA_ADD_SKU_COST, "Unit cost", 1),
                _field(ids.DATA_ADD_SKU_PRICE, "Unit price", 1),
                _field(ids.DATA_ADD_SKU_LEAD, "Lead time (d)", 1),
            ],
            ids.DATA_ADD_SKU,
            "Add SKU",
        )
        if can_edit
        else None,
        # the window's height less the page's header and the tabs (issue 23: it showed about six rows)
        grid(ids.DATA_SKU_GRID, sku_columns(can_edit), selectable=can_edit, height=SKU_GRID_HEIGHT),
    ]
    sku_options = [{"label": c, "value": c} for c in codes[:1]]
    stock_tab = [
        _toolbar("stock", ids.DATA_DELETE_STOCK, can_edit),
        _add_form(
            [
                dbc.Col(
                    [
                        dbc.Label("SKU", className="small mb-0"),
                        dcc.Dropdown(
                            id=ids.DATA_ADD_STOCK_SKU, options=[], placeholder="type to search", className="small"
                        ),
                    ],
                    md=3,
                ),
                _field(ids.DATA_ADD_STOCK_ON_HAND, "On hand"),
                _field(ids.DATA_ADD_STOCK_ON_ORDER, "On order"),
                _field(ids.DATA_ADD_STOCK_AS_OF, "As of (YYYY-MM-DD)"),
            ],
            ids.DATA_ADD_STOCK,
            "Add position",
        )
        if can_edit
        else None,
        grid(ids.DATA_STOCK_GRID, stock_columns(can_edit), selectable=can_edit, column_size=_HIDDEN_TAB_SIZE),
    ]
    demand_tab = [
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("SKU", className="small mb-0"),
                        dcc.Dropdown(
                            id=ids.DATA_DEMAND_SKU,
                            options=sku_options,
                            value=codes[0] if codes else None,
                            clearable=False,
                            className="small",
                        ),
                    ],
                    md=3,
                ),
                dbc.Col(
                    html.Div(_toolbar("demand", ids.DATA_DELETE_DEMAND, can_edit).children, className="mt-3"), md="auto"
                ),
            ],
            className="g-2 mb-2",
        ),
        _add_form(
            [_field(ids.DATA_ADD_DEMAND_DATE, "Period (YYYY-MM-DD)"), _field(ids.DATA_ADD_DEMAND_QTY, "Quantity")],
            ids.DATA_ADD_DEMAND,
            "Add period",
        )
        if can_edit
        else None,
        grid(
            ids.DATA_DEMAND_GRID,
            demand_columns(can_edit),
            height=380,
            selectable=can_edit,
            column_size=_HIDDEN_TAB_SIZE,
        ),
    ]
    imports_tab = [
        _toolbar("imports", None, False),
        grid(ids.DATA_IMPORTS_GRID, IMPORT_COLUMNS, height=380, column_size=_HIDDEN_TAB_SIZE),
    ]
    tabs = dbc.Tabs(
        [
            dbc.Tab(html.Div(sku_tab, className="pt-3"), label=TABLE_LABELS["skus"], tab_id="skus"),
            dbc.Tab(html.Div(stock_tab, className="pt-3"), label=TABLE_LABELS["stock"], tab_id="stock"),
            dbc.Tab(html.Div(demand_tab, className="pt-3"), label=TABLE_LABELS["demand"], tab_id="demand"),
            dbc.Tab(
                html.Div(
                    resources_tab(
                        can_edit,
                        grid(
                            ids.DATA_RESOURCES_GRID,
                            resource_columns(can_edit),
                            height=380,
                            selectable=can_edit,
                            column_size=_HIDDEN_TAB_SIZE,
                        ),
                    ),
                    className="pt-3",
                ),
                label=TABLE_LABELS["resources"],
                tab_id="resources",
            ),
            dbc.Tab(
                html.Div(
                    lanes_tab(grid(ids.DATA_LANES_GRID, LANE_COLUMNS, height=320, column_size=_HIDDEN_TAB_SIZE)),
                    className="pt-3",
                ),
                label=TABLE_LABELS["lanes"],
                tab_id="lanes",
            ),
            promotions_tab_item(can_edit, grid, _HIDDEN_TAB_SIZE),
            dbc.Tab(html.Div(imports_tab, className="pt-3"), label=TABLE_LABELS["imports"], tab_id="imports"),
        ],
        id=ids.DATA_TABS,
        active_tab="skus",
    )
    return html.Div(
        [
            html.Div(
                [html.H2("Tables", className="h5 mb-0 me-3"), html.Span(hint, className="small text-muted")],
                className="d-flex align-items-baseline mb-2",
            ),
            html.Div(id=ids.DATA_EDIT_MESSAGE),
            tabs,
            dcc.Download(id=ids.DATA_DOWNLOAD),
        ],
        className="mb-4",
    )


def layout(**_kwargs: object) -> html.Div:
    can_edit = allowed("planner")
    with session_scope() as session:
        counts = datatables.counts(session=session)
        codes = datatables.sku_codes(session=session, limit=1)
    return html.Div(
        [
            page_header("Data", "Import files, check and edit the tables, export them"),
            _counts_badges(counts),
            import_card(can_edit),
            tables_section(can_edit, codes),
            danger_zone() if allowed("admin") else None,
            dcc.Store(id=ids.DATA_VERSION, data=0),
        ]
    )


# --- pieces the callbacks fill in -----------------------------------------------------------------------------------


def _size(size: int | None) -> str:
    size = size or 0
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / (1024 * 1024):,.1f} MB"


def _fmt_int(value: Any) -> str:
    return f"{int(value):,}" if value is not None else "—"


def format_table(result: dict[str, Any]) -> dbc.Table:
    """What was detected: encoding, delimiter, layout, grain, dates, SKUs, columns, and the row counts."""
    fmt = result["format"]
    dates = f"{fmt['date_min']} to {fmt['date_max']}" if fmt.get("date_min") else "—"
    mapping = ", ".join(f"{field} ← {header}" for field, header in (fmt.get("columns") or {}).items())
    rows = [
        ("File", f"{result['file_name']} ({_size(fmt.get('size_bytes'))})"),
        ("Encoding · delimiter", f"{fmt.get('encoding') or '—'} · {fmt.get('delimiter') or '—'}")
        if not fmt.get("sheet")
        else ("Workbook", fmt.get("encoding") or "—"),
        ("Layout · grain", f"{fmt.get('layout') or '—'} · {fmt.get('grain') or '—'}"),
        ("Dates", dates),
        ("SKUs", _fmt_int(fmt.get("sku_count"))),
        (
            "Rows",
            f"{_fmt_int(result['rows_read'])} read · {_fmt_int(result['rows_accepted'])} valid · "
            f"{_fmt_int(result['rows_rejected'])} with errors",
        ),
        ("Columns", mapping or "—"),
    ]
    if result.get("skus_to_create"):
        rows.append(("New SKUs", f"{result['skus_to_create']:,} will be created with the default master data"))
    if fmt.get("ignored"):
        rows.append(("Ignored columns", ", ".join(fmt["ignored"])))
    return dbc.Table(
        html.Tbody(
            [
                html.Tr([html.Th(k, className="text-muted fw-normal", style={"width": "180px"}), html.Td(v)])
                for k, v in rows
            ]
        ),
        size="sm",
        className="small mb-2",
    )


def errors_list(errors: list[dict[str, Any]], total: int) -> html.Div | None:
    """The problems of a file, one line per distinct problem (``ErrorLog.grouped``) with its count and lines."""
    return error_groups(errors, total)


def preview_panel(result: dict[str, Any], errors: list[dict[str, Any]], rows: list[dict[str, Any]]) -> html.Div:
    status = result["status"]
    if status == "checked":
        banner = dbc.Alert(
            [html.Strong("Ready to import. "), result["message"][:1].upper() + result["message"][1:] + "."],
            color="success",
            className="py-2",
        )
    else:
        banner = dbc.Alert(
            [html.Strong("This file cannot be imported as it is. "), result["message"]],
            color="danger",
            className="py-2",
        )
    head = None
    if rows:
        columns = [{"field": c, "headerName": c} for c in rows[0]]
        head = html.Div(
            [
                html.Div("First rows of the file", className="small fw-semibold mb-1"),
                dag.AgGrid(
                    columnDefs=columns,
                    rowData=rows,
                    defaultColDef={"resizable": True, "flex": 1, "minWidth": 110},
                    dashGridOptions={"domLayout": "autoHeight"},
                    className="ag-theme-alpine",
                ),
            ],
            className="mb-2",
        )
    return html.Div(
        [
            banner,
            format_table(result) if result.get("rows_read") else None,
            coverage_section(result.get("coverage")) if status == "checked" else None,
            names_section(result.get("names")),
            head,
            errors_list(errors, result["error_count"]),
        ]
    )


def summary_alert(result: dict[str, Any], errors: list[dict[str, Any]]) -> html.Div:
    if result["status"] != "committed":
        return html.Div(
            [
                dbc.Alert([html.Strong("Import rejected. "), result["message"]], color="danger"),
                errors_list(errors, result["error_count"]),
            ]
        )
    parts = [
        html.Strong(f"Imported {result['file_name']}: "),
        f"{result['inserted']:,} inserted, {result['updated']:,} updated, {result['unchanged']:,} unchanged, "
        f"{result['rows_rejected']:,} rejected",
    ]
    if result.get("skus_created"):
        parts.append(f"; {result['skus_created']:,} SKUs created (flagged as incomplete master data)")
    coverage = result.get("coverage")
    if coverage:
        parts.append(html.Div(f"Periods: {coverage['period_text']}.", className="small mt-1"))
        if coverage.get("absent_text"):
            parts.append(
                html.Div(coverage["absent_text"][:1].upper() + coverage["absent_text"][1:] + ".", className="small")
            )
    if result.get("recompute"):
        parts.append(html.Div(result["recompute"], className="small mt-1"))
    return html.Div([dbc.Alert(parts, color="success"), errors_list(errors, result["error_count"])])
