"""The "E-mailed briefings" card of the Briefings page: weekly schedules with their last send status, the recent sends,
and (admins only) a form to add a schedule and a button to delete the selected ones. Callbacks:
callbacks/briefing_schedules.py; the rules: services/schedules.py."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts._charts import SECTION_CLASS
from services.briefing import ScopeOptions
from services.schedules import WEEKDAYS, ScheduleView

SCHEDULES_GRID = "briefings-schedules-grid"
SENDS_GRID = "briefings-sends-grid"
SCHEDULE_WEEKDAY = "briefings-schedule-weekday"
SCHEDULE_TIME = "briefings-schedule-time"
SCHEDULE_SCOPE = "briefings-schedule-scope"
SCHEDULE_SKU = "briefings-schedule-sku"
SCHEDULE_TO = "briefings-schedule-to"
SCHEDULE_ADD = "briefings-schedule-add"
SCHEDULE_DELETE = "briefings-schedule-delete"
SCHEDULE_MESSAGE = "briefings-schedule-message"
ADMIN_ONLY = "Adding and deleting e-mail schedules needs the admin role."

SCHEDULE_COLUMNS: list[dict[str, Any]] = [
    {"field": "when", "headerName": "When", "width": 200},  # the tick boxes: rowSelection (admins)
    {"field": "scope_label", "headerName": "Scope", "width": 190, "tooltipField": "scope_label"},
    {"field": "recipients", "headerName": "Recipients", "flex": 1, "minWidth": 200, "tooltipField": "recipients"},
    {"field": "last_status", "headerName": "Last send", "width": 110},
    {"field": "last_sent_at", "headerName": "Last sent", "width": 170},
    {"field": "next_at", "headerName": "Next try", "width": 170},
    {"field": "last_error", "headerName": "Last error", "width": 260, "tooltipField": "last_error"},
]
SEND_COLUMNS: list[dict[str, Any]] = [
    {"field": "created_at", "headerName": "When", "width": 170},
    {"field": "source", "headerName": "From", "width": 100},
    {"field": "scope", "headerName": "Scope", "width": 180, "tooltipField": "scope"},
    {"field": "recipients", "headerName": "Recipients", "flex": 1, "minWidth": 180, "tooltipField": "recipients"},
    {"field": "status", "headerName": "Status", "width": 90},
    {"field": "attempts", "headerName": "Tries", "width": 80, "type": "rightAligned"},
    {"field": "error", "headerName": "Error", "width": 300, "tooltipField": "error"},
]


def schedule_rows(views: list[ScheduleView]) -> list[dict[str, Any]]:
    rows = []
    for view in views:
        row = view.as_dict()
        row["last_status"] = row["last_status"] or "not yet"
        row["last_sent_at"] = row["last_sent_at"] or "\u2013"
        row["last_error"] = row["last_error"] or ""
        rows.append(row)
    return rows


def scope_choices(options: ScopeOptions) -> list[dict[str, str]]:
    """The scopes a schedule can take (a SKU is typed in its own box): portfolio, categories, locations, ABC."""
    out = [{"label": "Whole portfolio", "value": "portfolio"}]
    out += [{"label": f"Category {c}", "value": f"category={c}"} for c in options.categories]
    out += [{"label": f"Location {loc}", "value": f"location={loc}"} for loc in options.locations]
    out += [{"label": f"ABC class {a}", "value": f"abc={a}"} for a in options.abc]
    return out


def _grid(grid_id: str, columns: list[dict[str, Any]], rows: list[dict[str, Any]], empty: str, **extra: Any):
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        getRowId="params.data.id + ''",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "rowHeight": 34,
            "headerHeight": 36,
            "localeText": {"noRowsToShow": empty},
            "tooltipShowDelay": 300,
            "domLayout": "autoHeight",
            **extra,
        },
        style={"width": "100%"},
        className="ag-theme-alpine",
    )


def _form(options: ScopeOptions) -> html.Div:
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Weekday", html_for=SCHEDULE_WEEKDAY, className="small fw-semibold mb-1"),
                            dcc.Dropdown(
                                id=SCHEDULE_WEEKDAY,
                                options=[{"label": d, "value": i} for i, d in enumerate(WEEKDAYS)],
                                value=0,
                                clearable=False,
                            ),
                        ],
                        md=2,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Time (UTC)", html_for=SCHEDULE_TIME, className="small fw-semibold mb-1"),
                            dbc.Input(id=SCHEDULE_TIME, value="07:00", placeholder="HH:MM", maxLength=5),
                        ],
                        md=2,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Scope", html_for=SCHEDULE_SCOPE, className="small fw-semibold mb-1"),
                            dcc.Dropdown(
                                id=SCHEDULE_SCOPE, options=scope_choices(options), value="portfolio", clearable=False
                            ),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("or one SKU", html_for=SCHEDULE_SKU, className="small fw-semibold mb-1"),
                            dbc.Input(id=SCHEDULE_SKU, placeholder="SKU code", maxLength=64),
                        ],
                        md=2,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Recipients", html_for=SCHEDULE_TO, className="small fw-semibold mb-1"),
                            dbc.Input(id=SCHEDULE_TO, placeholder="a@example.com, b@example.com", maxLength=2000),
                        ],
                        md=3,
                    ),
                ],
                className="g-2 mb-2",
            ),
            dbc.Button("Add schedule", id=SCHEDULE_ADD, color="primary", size="sm", className="me-2"),
            dbc.Button("Delete selected", id=SCHEDULE_DELETE, color="danger", outline=True, size="sm"),
            html.Div(id=SCHEDULE_MESSAGE, className="small mt-2", style={"minHeight": "1.2em"}),
        ],
        className="mb-3",
    )


def schedules_card(
    *, admin: bool, options: ScopeOptions, schedules: list[ScheduleView], sends: list[dict[str, Any]]
) -> dbc.Card:
    """The card; the form only for admins (the callbacks check the role again on the server)."""
    editing: Any = _form(options) if admin else html.Div(ADMIN_ONLY, className="small text-secondary mb-2")
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("E-mailed briefings", className=SECTION_CLASS),
                html.P(
                    "Weekly schedules send the PDF briefing of their scope through the SMTP server of the "
                    "installation (Celery beat with REDIS_URL, or the send-due-briefings cron line). A failed send "
                    "is tried again with back-off and shown here.",
                    className="small text-secondary",
                ),
                editing,
                _grid(
                    SCHEDULES_GRID,
                    SCHEDULE_COLUMNS,
                    schedule_rows(schedules),
                    "No e-mail schedule yet.",
                    **({"rowSelection": {"mode": "multiRow", "enableClickSelection": True}} if admin else {}),
                ),
                html.Div("Recent e-mails", className=SECTION_CLASS + " mt-3"),
                _grid(SENDS_GRID, SEND_COLUMNS, sends, "No briefing has been e-mailed yet."),
            ]
        ),
        className="shadow-sm border-0 mt-3",
    )
