"""Watchtower (/): the health of every SKU from the latest snapshot.

KPI tiles (SKUs per status and portfolio KPIs with the change since the previous run), combinable filters kept in
the URL, two charts that filter the grid when clicked, the SKU grid (AG Grid infinite row model: the server sorts,
filters and pages), server-side CSV export, the portfolio commentary and, for planners, "Recompute now".
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.session import session_scope
from layouts import _ids as ids
from layouts._charts import (
    GRAPH_CONFIG,
    SECTION_CLASS,
    STATUS_COLORS,
    blank_figure,
    fmt_date_prose,
    fmt_datetime,
)
from layouts._components import KEYBOARD_GRID_OPTIONS, OPEN_ON_ENTER, allowed, empty_state, group_label
from layouts._fva_panel import fva_panel
from layouts._watchtower_figures import kpi_card
from services import kpi_bases
from services.runs import RunInfo, running_run
from services.watchtower import (
    DEMAND_CLASSES,
    FILTER_COLUMNS,
    STATUS_LABELS,
    GridFilters,
    KpiSummary,
    count_skus,
    filter_options,
    kpi_summary,
)

dash.register_page(__name__, path="/", name="Watchtower", order=0, title="Watchtower · Inventory Command Center")

#: filter name -> (component id, placeholder)
FILTER_CONTROLS: dict[str, tuple[str, str]] = {
    "status": (ids.WATCHTOWER_STATUS, "Status"),
    "category": (ids.WATCHTOWER_CATEGORY, "Category"),
    "location": (ids.WATCHTOWER_LOCATION, "Location"),
    "supplier": (ids.WATCHTOWER_SUPPLIER, "Supplier"),
    "abc": (ids.WATCHTOWER_ABC, "ABC"),
    "xyz": (ids.WATCHTOWER_XYZ, "XYZ"),
    "demand_class": (ids.WATCHTOWER_DEMAND_CLASS, "Demand pattern"),
    "master_data": (ids.WATCHTOWER_MASTER_DATA, "Master data"),
    "promotion": (ids.WATCHTOWER_PROMOTION, "Promotion"),
}
assert set(FILTER_CONTROLS) == set(FILTER_COLUMNS)
SCATTER_LIMIT = 1000
GRID_BLOCK = 100

_NUM = "params.value == null ? '\u2013' : d3.format(',.0f')(params.value)"
_MONEY = "params.value == null ? '\u2013' : '$' + d3.format(',.0f')(params.value)"
# a money value of a SKU without a unit cost is unknown, not $0 (services.master_data)
_COST_UNKNOWN = "(params.data && (params.data.incomplete_master_data || '').includes('unit cost')) ? 'unknown' : "
_DAYS = (
    "params.value == null ? '\u2013' : (params.value >= 100 ? d3.format(',.0f')(params.value)"
    " : d3.format(',.1f')(params.value))"
)
_PCT = "params.value == null ? '\u2013' : d3.format('.0%')(params.value)"
_ORDER_BY = (
    "params.value == null ? '' : (params.data && params.data.recommended_qty > 0 ?"
    " (params.value <= 0 ? 'now' : 'in ' + d3.format(',.0f')(params.value)) : '')"
)
_RIGHT = {"type": "rightAligned"}


def _status_style() -> dict[str, Any]:
    return {
        "styleConditions": [
            {"condition": f"params.value == '{label}'", "style": {"color": STATUS_COLORS[status], "fontWeight": 600}}
            for status, label in STATUS_LABELS.items()
        ]
    }


COLUMN_DEFS: list[dict[str, Any]] = [
    {
        "field": "code",
        "headerName": "SKU",
        "pinned": "left",
        "width": 110,
        "cellStyle": {"fontWeight": 600, "color": "#1f3a5f"},
    },
    {"field": "name", "headerName": "Name", "width": 160, "tooltipField": "name"},
    {
        "field": "status_label",
        "colId": "status",
        "headerName": "Status",
        "width": 140,
        "valueFormatter": {"function": "params.value ? '\u25cf ' + params.value : ''"},
        "cellStyle": _status_style(),
    },
    {
        "field": "value_at_risk",
        "headerName": "Value at risk",
        "width": 140,
        "sort": "desc",
        "valueFormatter": {"function": _COST_UNKNOWN + _MONEY},
        "cellStyle": {"fontWeight": 600},
        **_RIGHT,
    },
    {"field": "reason", "headerName": "Reason", "width": 245, "tooltipField": "reason"},
    {
        "field": "days_of_cover",
        "headerName": "Cover (d)",
        "width": 100,
        "headerTooltip": "Days of cover: on hand / forecast demand per day",
        "valueFormatter": {"function": _DAYS},
        **_RIGHT,
    },
    {"field": "on_hand", "headerName": "On hand", "width": 95, "valueFormatter": {"function": _NUM}, **_RIGHT},
    {
        "field": "reorder_point",
        "headerName": "Reorder pt",
        "width": 110,
        "valueFormatter": {"function": _NUM},
        **_RIGHT,
    },
    {
        "field": "recommended_qty",
        "headerName": "Rec. order",
        "width": 100,
        "valueFormatter": {"function": _NUM},
        **_RIGHT,
    },
    {
        "field": "order_by_periods",
        "headerName": "Order",
        "width": 80,
        "valueFormatter": {"function": _ORDER_BY},
        "headerTooltip": "When the recommended order must be placed (periods from now)",
    },
    {
        "field": "accuracy",
        "headerName": "Accuracy",
        "width": 100,
        "valueFormatter": {"function": _PCT},
        "headerTooltip": "Forecast accuracy over the backtest (1 - WAPE)",
        **_RIGHT,
    },
    {
        "field": "last_reported",
        "headerName": "Last reported",
        "width": 120,
        "headerTooltip": "The SKU's last reported period, where it is before the snapshot's data through",
    },
    {"field": "category", "headerName": "Category", "width": 140},
    {"field": "location", "headerName": "Location", "width": 125},
    {"field": "supplier", "headerName": "Supplier", "width": 160},
    {"field": "abc", "headerName": "ABC", "width": 75},
    {"field": "xyz", "headerName": "XYZ", "width": 75},
    {"field": "demand_class", "headerName": "Pattern", "width": 115},
]


def sku_grid() -> dag.AgGrid:
    """The SKU grid: infinite row model, so only the visible blocks of rows travel from the server."""
    return dag.AgGrid(
        id=ids.WATCHTOWER_GRID,
        rowModelType="infinite",
        columnDefs=COLUMN_DEFS,
        defaultColDef={"sortable": True, "resizable": True, "filter": False, "suppressHeaderMenuButton": True},
        getRowId="params.data.code",
        dashGridOptions={
            "cacheBlockSize": GRID_BLOCK,
            "maxBlocksInCache": 50,
            "infiniteInitialRowCount": GRID_BLOCK,
            "maxConcurrentDatasourceRequests": 2,
            "rowBuffer": 10,
            "rowHeight": 34,
            "headerHeight": 38,
            "tooltipShowDelay": 400,
            **KEYBOARD_GRID_OPTIONS,
            "animateRows": False,
            "multiSortKey": "ctrl",
        },
        rowStyle={"cursor": "pointer"},
        style={"height": "560px", "width": "100%"},
    )


def _options(name: str, values: list[str]) -> list[dict[str, str]]:
    if name == "status":
        return [{"label": STATUS_LABELS.get(v, v), "value": v} for v in values]
    if name == "demand_class":
        return [{"label": v.replace("_", " ").capitalize(), "value": v} for v in values]
    if name == "master_data":
        return [{"label": f"{v.capitalize()} master data", "value": v} for v in values]
    if name == "promotion":
        labels = {"planned": "Promotion planned in the horizon", "none": "No promotion planned"}
        return [{"label": labels.get(v, v), "value": v} for v in values]
    return [{"label": v, "value": v} for v in values]


def filter_bar(filters: GridFilters, options: dict[str, list[str]], *, count: str = "") -> dbc.Card:
    """The combinable filters; values outside the run's options are dropped (a stale shared link still opens)."""
    controls = []
    widths = {
        "status": 2,
        "category": 2,
        "location": 2,
        "supplier": 2,
        "abc": 1,
        "xyz": 1,
        "demand_class": 2,
        "master_data": 2,
        "promotion": 2,
    }
    for name, (component_id, placeholder) in FILTER_CONTROLS.items():
        allowed_values = options.get(name, [])
        if name == "demand_class":
            allowed_values = allowed_values or list(DEMAND_CLASSES)
        value = [v for v in getattr(filters, name) if v in allowed_values]
        controls.append(
            dbc.Col(
                dcc.Dropdown(
                    id=component_id,
                    options=_options(name, allowed_values),
                    value=value,
                    multi=True,
                    placeholder=placeholder,
                    clearable=True,
                    className="small",
                ),
                md=widths[name],
            )
        )
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(controls, className="g-2"),
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.InputGroup(
                                [
                                    group_label("Search", ids.WATCHTOWER_SEARCH),
                                    dcc.Input(
                                        id=ids.WATCHTOWER_SEARCH,
                                        type="search",
                                        value=filters.search,
                                        placeholder="SKU code or name",
                                        debounce=0.35,
                                        className="form-control form-control-sm",
                                        maxLength=100,
                                    ),
                                ],
                                size="sm",
                            ),
                            md=4,
                        ),
                        dbc.Col(
                            dbc.Button(
                                "Clear filters", id=ids.WATCHTOWER_RESET, color="link", size="sm", className="px-0"
                            ),
                            width="auto",
                        ),
                        dbc.Col(
                            html.Div(count, id=ids.WATCHTOWER_COUNT, className="small text-secondary text-end"),
                            className="ms-auto align-self-center",
                        ),
                        dbc.Col(
                            dbc.Button(
                                "Export CSV",
                                id=ids.WATCHTOWER_EXPORT,
                                color="secondary",
                                outline=True,
                                size="sm",
                                title="Download every SKU that matches the filters, sorted like the grid",
                            ),
                            width="auto",
                        ),
                        dbc.Col(
                            dbc.Button(
                                "Export Excel",
                                id=ids.WATCHTOWER_EXPORT_XLSX,
                                color="secondary",
                                outline=True,
                                size="sm",
                                title="The same rows as an Excel workbook (.xlsx)",
                            ),
                            width="auto",
                        ),
                    ],
                    className="g-2 mt-1 align-items-center",
                ),
            ],
            className="py-2",
        ),
        className="shadow-sm border-0 mb-2",
    )


def count_text(matched: int, total: int) -> str:
    if matched == total:
        return f"All {total:,} SKUs"
    return f"{matched:,} of {total:,} SKUs match"


def snapshot_line(run: RunInfo) -> str:
    parts = [f"Snapshot {fmt_datetime(run.finished_at)}"]
    if run.data_as_of:
        parts.append(f"data through {fmt_date_prose(run.data_as_of)}")
    if run.grain:
        parts.append(f"{run.grain} grain")
    parts.append(f"run #{run.id}" + (f" by {run.triggered_by}" if run.triggered_by else ""))
    return " · ".join(parts)


def recompute_controls(*, planner: bool, running: RunInfo | None) -> list[Any]:
    """The "Recompute now" button, progress bar and cancel (planners only: viewers do not get them at all)."""
    if not planner:
        return []
    note = f"A recompute started {fmt_datetime(running.started_at)} is still running." if running is not None else None
    return [
        dbc.Button(
            "Recompute now",
            id=ids.WATCHTOWER_RECOMPUTE,
            color="primary",
            size="sm",
            n_clicks=0,
            title="Re-run forecasts, policies and statuses for every SKU",
        ),
        html.Div(
            [
                dbc.Progress(
                    id=ids.WATCHTOWER_RECOMPUTE_PROGRESS,
                    value=0,
                    striped=True,
                    animated=True,
                    style={"width": "220px", "height": "8px"},
                    className="me-2",
                ),
                html.Span(
                    id=ids.WATCHTOWER_RECOMPUTE_STAGE,
                    className="small text-secondary me-2 text-truncate",
                    style={"maxWidth": "320px"},
                ),
                dbc.Button("Cancel", id=ids.WATCHTOWER_RECOMPUTE_CANCEL, color="link", size="sm", className="p-0"),
            ],
            id=ids.WATCHTOWER_RECOMPUTE_PANEL,
            className="align-items-center ms-3",
            style={"display": "none"},
        ),
        html.Div(note, id=ids.WATCHTOWER_RECOMPUTE_RESULT, className="small text-secondary ms-3"),
    ]


def briefing_controls() -> list[Any]:
    """The "Download briefing" button: the whole portfolio's PDF, built in the background by callbacks/briefings.py."""
    return [
        dcc.Download(id=ids.WATCHTOWER_BRIEFING_FILE),
        html.Span(id=ids.WATCHTOWER_BRIEFING_STATUS, className="small text-secondary text-truncate"),
        dbc.Button(
            "Download briefing",
            id=ids.WATCHTOWER_BRIEFING,
            color="secondary",
            outline=True,
            size="sm",
            title="PDF briefing of the whole portfolio (segments: Briefings page)",
        ),
    ]


def header(run: RunInfo | None, *, planner: bool, running: RunInfo | None) -> html.Div:
    """Title, the time of the snapshot, and the actions area (briefing download; recompute now for planners)."""
    subtitle = snapshot_line(run) if run else "No snapshot yet"
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Watchtower", className="h4 mb-0"),
                    html.Div(subtitle, className="text-secondary small"),
                ]
            ),
            html.Div(
                [*briefing_controls(), *recompute_controls(planner=planner, running=running)],
                id=ids.WATCHTOWER_HEADER_ACTIONS,
                className="d-flex align-items-center ms-auto gap-2",
            ),
        ],
        className="d-flex align-items-start flex-wrap gap-2 mb-3",
    )


def compare_control(choices: list[dict[str, object]], value: str) -> html.Div:
    """ "Changes vs [previous run | last week | a cycle]": what the tiles' change lines compare with."""
    return html.Div(
        [
            html.Label("Changes vs", htmlFor=ids.WATCHTOWER_COMPARE, className="small text-secondary mb-0 me-2"),
            dcc.Dropdown(
                id=ids.WATCHTOWER_COMPARE,
                options=choices,
                value=value,
                clearable=False,
                searchable=False,
                className="small",
                style={"minWidth": "300px"},
            ),
        ],
        className="d-flex align-items-center mb-2",
    )


def kpi_rows(summary: KpiSummary, *, selected: tuple[str, ...] = ()) -> html.Div:
    """The status tiles (a selected one is pressed) and the portfolio tiles, with their change vs the base."""
    has_previous = summary.previous is not None
    status_cards = [
        dbc.Col(
            kpi_card(
                kpi,
                has_previous=has_previous,
                caption=summary.caption,
                accent=STATUS_COLORS.get(kpi.key),
                card_id={"type": ids.WATCHTOWER_STATUS_CARD, "status": kpi.key},
                selected=kpi.key in selected,
            ),
            xs=6,
            md=4,
            xl=2,
        )
        for kpi in summary.status_counts
    ]
    portfolio_cards = [
        dbc.Col(kpi_card(kpi, has_previous=has_previous, caption=summary.caption), xs=6, md=4, xl=2)
        for kpi in summary.portfolio
    ]
    return html.Div([dbc.Row(status_cards, className="g-2 mb-2"), dbc.Row(portfolio_cards, className="g-2 mb-3")])


def charts_row() -> dbc.Row:
    """Commentary and the two charts; callbacks fill them after the page shows (in parallel with the grid's rows)."""
    return dbc.Row(
        [
            dbc.Col(
                dcc.Loading(
                    html.Div(id=ids.WATCHTOWER_COMMENTARY, className="h-100", style={"minHeight": "120px"}),
                    type="dot",
                    color="#1f3a5f",
                    parent_className="h-100",
                ),
                lg=4,
            ),
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(
                                [
                                    html.Span("Status by category", className=SECTION_CLASS),
                                    html.Span(
                                        " SKUs per status; click a bar to filter", className="small text-secondary"
                                    ),
                                ],
                            ),
                            dcc.Loading(
                                dcc.Graph(
                                    id=ids.WATCHTOWER_CATEGORY_CHART,
                                    figure=blank_figure(),
                                    config=GRAPH_CONFIG,
                                    style={"height": "330px"},
                                ),
                                type="dot",
                                color="#1f3a5f",
                            ),
                        ]
                    ),
                    className="shadow-sm border-0 h-100",
                ),
                lg=4,
            ),
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(
                                [
                                    html.Span("Value at risk vs cover", className=SECTION_CLASS),
                                    html.Span(id=ids.WATCHTOWER_SCATTER_NOTE, className="small text-secondary"),
                                ],
                            ),
                            dcc.Loading(
                                dcc.Graph(
                                    id=ids.WATCHTOWER_SCATTER,
                                    figure=blank_figure(),
                                    config=GRAPH_CONFIG,
                                    style={"height": "330px"},
                                ),
                                type="dot",
                                color="#1f3a5f",
                            ),
                        ]
                    ),
                    className="shadow-sm border-0 h-100",
                ),
                lg=4,
            ),
        ],
        className="g-2 mb-3",
    )


def scatter_note(total_at_risk: int, shown: int) -> str:
    if total_at_risk > shown:
        return f" top {shown:,} of {total_at_risk:,} SKUs at risk; click a point to find it"
    return f" {total_at_risk:,} SKUs at risk; click a point to find it"


def no_snapshot(*, planner: bool, running: RunInfo | None) -> html.Div:
    if running is not None:
        message = f"The first recompute started {fmt_datetime(running.started_at)} and is still running."
    elif planner:
        message = "There is no snapshot yet. Import data on the Data page, then press Recompute now."
    else:
        message = "There is no snapshot yet. A planner needs to import data and run a recompute."
    return html.Div(
        [
            header(None, planner=planner, running=running),
            empty_state(message, href="/data", link_text="Open the Data page") if planner else empty_state(message),
            dcc.Location(id=ids.WATCHTOWER_URL, refresh=False),  # "Recompute now" reads it (to reload in place)
            dcc.Location(id=ids.WATCHTOWER_RELOAD, refresh=True),
        ]
    )


def layout(**query: Any) -> html.Div:
    """The page; ``query`` holds the URL's filter params (status, category, location, abc, xyz, demand_class,
    supplier, q), so a link keeps the filters."""
    filters = GridFilters.from_mapping(query)
    planner = allowed("planner")
    with session_scope() as session:
        summary = kpi_summary(session=session)
        running = running_run(session=session)
        if summary is None:
            return no_snapshot(planner=planner, running=running)
        run_id = summary.run.id
        options = filter_options(session=session, run_id=run_id)
        kept = GridFilters.from_mapping(
            {
                **{name: [v for v in getattr(filters, name) if v in options.get(name, [])] for name in FILTER_COLUMNS},
                "search": filters.search,
            }
        )
        bases = kpi_bases.options(session=session, run=summary.run)
        matched = summary.sku_count if kept.is_empty else count_skus(session=session, run_id=run_id, filters=kept)
    return html.Div(
        [
            dcc.Location(id=ids.WATCHTOWER_URL, refresh=False),
            dcc.Location(id=ids.WATCHTOWER_NAV, refresh="callback-nav"),
            dcc.Location(id=ids.WATCHTOWER_RELOAD, refresh=True),
            dcc.Store(id=ids.WATCHTOWER_RUN, data={"run_id": run_id, "sku_count": summary.sku_count}),
            dcc.Store(id=ids.WATCHTOWER_FILTERS, data=kept.to_dict()),
            dcc.Store(id=ids.WATCHTOWER_GRID_REFRESH),
            dcc.Download(id=ids.WATCHTOWER_DOWNLOAD),
            header(summary.run, planner=planner, running=running),
            compare_control(bases, summary.base),
            kpi_rows(summary, selected=kept.status),
            html.Div(id=ids.WATCHTOWER_CAPACITY),  # capacity shortfalls in the supply horizon (callbacks/supply.py)
            charts_row(),
            filter_bar(kept, options, count=count_text(matched, summary.sku_count)),
            dbc.Card(sku_grid(), className=f"shadow-sm border-0 {OPEN_ON_ENTER}"),
            html.Div(
                "Click a row to open the SKU (keyboard: arrow keys to a row, then Enter). Sort by clicking a column"
                " header (Ctrl-click to sort by several).",
                className="small text-secondary mt-2",
            ),
            # issue 21's one row per item: filled after the charts (callbacks/watchtower.py), off the first rows' path
            html.Div(id=ids.WATCHTOWER_ITEMS_SLOT),
            fva_panel(),
        ]
    )
