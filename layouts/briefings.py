"""Briefings (/briefings): make a PDF briefing for the portfolio, a segment or one SKU, preview page 1, download it,
and download the briefings made recently again.

The URL may preselect the scope: ``/briefings?category=Snacks``, ``?location=...``, ``?abc=A`` or ``?sku=CODE``.
"""

from __future__ import annotations

import base64
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.session import session_scope
from layouts import _ids as ids
from layouts._briefing_schedules import schedules_card
from layouts._charts import SECTION_CLASS, fmt_date, fmt_date_prose, fmt_datetime
from layouts._components import allowed
from services.briefing import (
    KEEP_BRIEFINGS,
    TOP_RISKS,
    BriefingRecord,
    Preview,
    ScopeOptions,
    list_briefings,
    scope_options,
)
from services.cycles import list_cycles
from services.runs import RunInfo, latest_run, recent_runs
from services.schedules import list_schedules, recent_sends

dash.register_page(__name__, path="/briefings", name="Briefings", order=6, title="Briefings · Inventory Command Center")

RECENT = 25
KINDS: tuple[tuple[str, str], ...] = (
    ("portfolio", "Whole portfolio"),
    ("category", "A category"),
    ("location", "A location"),
    ("abc", "An ABC class"),
    ("sku", "One SKU"),
)
PLACEHOLDERS = {
    "category": "Choose a category",
    "location": "Choose a location",
    "abc": "Choose an ABC class",
    "sku": "Type a SKU code or name…",
}
HIDDEN = {"display": "none"}
SHOWN = {"display": "block"}


def options_data(options: ScopeOptions) -> dict[str, list[dict[str, str]]]:
    """Dropdown options per segment kind (for the options store)."""
    abc_labels = {"A": "A: highest annual demand value", "B": "B: middle", "C": "C: lowest"}
    return {
        "category": [{"label": c, "value": c} for c in options.categories],
        "location": [{"label": loc, "value": loc} for loc in options.locations],
        "abc": [{"label": abc_labels.get(a, a), "value": a} for a in options.abc],
    }


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1024:,.0f} KB" if size_bytes < 1024 * 1024 else f"{size_bytes / 1024 / 1024:,.1f} MB"


def grid_rows(records: list[BriefingRecord]) -> list[dict[str, Any]]:
    """Rows of the recent-briefings grid."""
    return [
        {
            "id": r.id,
            "created_at": fmt_datetime(r.created_at),
            "user": r.user_email or "command line",
            "scope": r.scope_label,
            "run": r.run_id if r.run_id is not None else "none",
            "data_as_of": fmt_date(r.data_as_of) if r.data_as_of else "\u2013",
            "size": _size(r.size_bytes),
            "file_name": r.file_name,
            "download": "\u2b07 Download",
        }
        for r in records
    ]


COLUMN_DEFS: list[dict[str, Any]] = [
    {"field": "created_at", "headerName": "Made", "width": 190},
    {"field": "user", "headerName": "By", "width": 200, "tooltipField": "user"},
    {"field": "scope", "headerName": "Scope", "flex": 1, "minWidth": 200, "tooltipField": "scope"},
    {"field": "run", "headerName": "Run", "width": 80, "type": "rightAligned"},
    {"field": "data_as_of", "headerName": "Data as of", "width": 130},
    {"field": "size", "headerName": "Size", "width": 100, "type": "rightAligned"},
    {"field": "file_name", "headerName": "File", "width": 300, "tooltipField": "file_name"},
    {
        "field": "download",
        "headerName": "Download",
        "width": 130,
        "pinned": "right",
        "sortable": False,
        "cellStyle": {"color": "#1f3a5f", "fontWeight": 600, "cursor": "pointer"},
    },
]


def recent_grid(rows: list[dict[str, Any]]) -> dag.AgGrid:
    return dag.AgGrid(
        id=ids.BRIEFINGS_GRID,
        columnDefs=COLUMN_DEFS,
        rowData=rows,
        getRowId="params.data.id + ''",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "rowHeight": 34,
            "headerHeight": 36,
            "localeText": {"noRowsToShow": "No briefing has been made yet."},
            "tooltipShowDelay": 300,
            "domLayout": "autoHeight",
        },
        style={"width": "100%"},
        className="ag-theme-alpine",
    )


def preview_view(preview: Preview | None, *, file_name: str = "") -> Any:
    """Page 1 as an image, or (no renderer installed) the page count and the cover text."""
    if preview is None:
        return html.Div(
            "Make a briefing to see its first page here.",
            className="text-secondary small d-flex align-items-center justify-content-center h-100",
            style={"minHeight": "420px"},
        )
    pages = f"{preview.page_count} page{'s' if preview.page_count != 1 else ''}"
    if preview.png:
        src = "data:image/png;base64," + base64.b64encode(preview.png).decode("ascii")
        return html.Div(
            [
                html.Img(
                    src=src,
                    alt=f"Page 1 of {file_name or 'the briefing'}",
                    className="border shadow-sm bg-white",
                    style={"width": "100%", "maxWidth": "620px"},
                ),
                html.Div(f"Page 1 of {pages}", className="small text-secondary mt-1"),
            ],
            className="text-center",
        )
    lines = list(preview.cover_lines)
    return html.Div(
        [
            html.Div(f"{pages} · no PDF renderer is installed, so here is the cover text", className=SECTION_CLASS),
            html.Div(
                [html.Div(lines[0], className="fw-semibold fs-5")] + [html.Div(line) for line in lines[1:]],
                className="border rounded p-3 bg-light",
            ),
        ]
    )


def result_view(*, file_name: str, pages: int, size_bytes: int, seconds: float) -> html.Div:
    return html.Div(
        [
            html.Span(file_name, className="fw-semibold me-2 text-break"),
            html.Span(
                f"{pages} page{'s' if pages != 1 else ''} · {_size(size_bytes)} · built in {seconds:.1f} s",
                className="text-secondary",
            ),
        ],
        className="small",
    )


def _initial(query: dict[str, Any]) -> tuple[str, str | None]:
    for kind in ("sku", "category", "location", "abc"):
        value = query.get(kind)
        if isinstance(value, list):
            value = value[0] if value else None
        if value:
            return kind, str(value)[:100]
    return "portfolio", None


def since_cycle_picker(names: list[str], runs: list[RunInfo] | None = None) -> html.Div:
    """Where the portfolio briefing's "What changed since" starts from: a cycle (default: the one before the
    latest), an earlier run, or a date (the latest run finished by then); one of the three."""
    run_options = [
        {"label": f"run {r.id} · {fmt_datetime(r.finished_at)}", "value": r.id} for r in (runs or []) if r.finished_at
    ]
    return html.Div(
        [
            dbc.Label(
                "What changed since (cycle)", html_for=ids.BRIEFINGS_SINCE_CYCLE, className="small fw-semibold mb-1"
            ),
            dcc.Dropdown(
                id=ids.BRIEFINGS_SINCE_CYCLE,
                options=[{"label": n, "value": n} for n in names],
                placeholder="The cycle before the latest",
                clearable=True,
            ),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label("... or since a run", html_for=ids.BRIEFINGS_SINCE_RUN, className="small mb-1"),
                            dcc.Dropdown(
                                id=ids.BRIEFINGS_SINCE_RUN, options=run_options, placeholder="A run", clearable=True
                            ),
                        ],
                        className="flex-grow-1",
                    ),
                    html.Div(
                        [
                            dbc.Label("... or a date", html_for=ids.BRIEFINGS_SINCE_DATE, className="small mb-1"),
                            dbc.Input(  # typed as ISO like every date (core.formats), checked on the server
                                id=ids.BRIEFINGS_SINCE_DATE,
                                placeholder="YYYY-MM-DD",
                                maxLength=10,
                                size="sm",
                                style={"width": "8.5rem"},
                            ),
                        ]
                    ),
                ],
                className="d-flex gap-2 mt-2",
            ),
        ],
        className="mb-3",
    )


def maker_card(
    *,
    kind: str,
    value: str | None,
    options: dict[str, list[dict[str, str]]],
    cycles: list[str] | None = None,
    runs: list[RunInfo] | None = None,
) -> dbc.Card:
    value_options = options.get(kind, []) if kind != "sku" else ([{"label": value, "value": value}] if value else [])
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div("Make a briefing", className=SECTION_CLASS),
                dbc.Label("Briefing for", html_for=ids.BRIEFINGS_KIND, className="small fw-semibold mb-1"),
                dbc.RadioItems(
                    id=ids.BRIEFINGS_KIND,
                    options=[{"label": label, "value": k} for k, label in KINDS],
                    value=kind,
                    className="mb-2 small",
                ),
                html.Div(
                    dcc.Dropdown(
                        id=ids.BRIEFINGS_VALUE,
                        options=value_options,
                        value=value,
                        placeholder=PLACEHOLDERS.get(kind, ""),
                        searchable=True,
                        clearable=True,
                        optionHeight=40,
                    ),
                    id=ids.BRIEFINGS_VALUE_WRAP,
                    className="mb-3",
                    style=HIDDEN if kind == "portfolio" else SHOWN,
                ),
                since_cycle_picker(cycles or [], runs),
                dbc.Button("Make briefing", id=ids.BRIEFINGS_MAKE, color="primary", className="me-2"),
                dbc.Button("Download PDF", id=ids.BRIEFINGS_DOWNLOAD, color="secondary", outline=True, disabled=True),
                html.Div(
                    id=ids.BRIEFINGS_PROGRESS, className="small text-secondary mt-2", style={"minHeight": "1.2em"}
                ),
                html.Div(id=ids.BRIEFINGS_RESULT, className="mt-1"),
                html.Hr(),
                html.P(
                    [
                        "A portfolio briefing holds the KPIs against the previous run, the status mix, the top "
                        f"{TOP_RISKS} risks, the top movers, the commentary, the recommended purchase orders and a "
                        "method note, then the meeting pack: decisions needed, decisions since the last briefing with "
                        "their outcomes, and what changed since a cycle. "
                        "A category, location or ABC briefing computes the same figures for that segment only. "
                        "A SKU briefing holds its demand and forecast band, projected stock and policy card.",
                    ],
                    className="small text-secondary mb-0",
                ),
            ]
        ),
        className="shadow-sm border-0 h-100",
    )


def _snapshot_note(run: RunInfo | None) -> Any:
    if run is None:
        return dbc.Alert(
            [
                "No recompute has finished yet, so a briefing has nothing to report. ",
                dcc.Link("Import data", href="/data"),
                " and run a recompute first.",
            ],
            color="light",
            className="border small mb-3",
        )
    return html.Div(
        f"Briefings use the latest snapshot: run {run.id}, {run.sku_count:,} SKUs, data through "
        f"{fmt_date_prose(run.data_as_of)}, finished {fmt_datetime(run.finished_at)}.",
        className="text-secondary small mb-3",
    )


def layout(**query: Any) -> html.Div:
    with session_scope() as session:
        run = latest_run(session=session)
        scopes = scope_options(session=session)
        options = options_data(scopes)
        rows = grid_rows(list_briefings(session=session, limit=RECENT))
        cycles = [c.name for c in list_cycles(session=session)]
        runs = [r for r in recent_runs(session=session, limit=RECENT) if r.status == "finished"]
        mailing = schedules_card(
            admin=allowed("admin"),
            options=scopes,
            schedules=list_schedules(session=session),
            sends=recent_sends(session=session),
        )
    kind, value = _initial(query)
    return html.Div(
        [
            html.H1("Briefings", className="h4 mb-0"),
            _snapshot_note(run),
            dcc.Store(id=ids.BRIEFINGS_OPTIONS, data=options),
            dcc.Store(id=ids.BRIEFINGS_CURRENT, data=None),
            dcc.Download(id=ids.BRIEFINGS_FILE),
            dbc.Row(
                [
                    dbc.Col(
                        maker_card(kind=kind, value=value, options=options, cycles=cycles, runs=runs),
                        lg=4,
                        className="mb-3",
                    ),
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.Div("Preview", className=SECTION_CLASS),
                                    dcc.Loading(
                                        html.Div(preview_view(None), id=ids.BRIEFINGS_PREVIEW),
                                        type="dot",
                                        color="#1f3a5f",
                                    ),
                                ]
                            ),
                            className="shadow-sm border-0 h-100",
                        ),
                        lg=8,
                        className="mb-3",
                    ),
                ]
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            [
                                html.Span("Recent briefings", className=SECTION_CLASS),
                                html.Span(
                                    f" the newest {RECENT} of the {KEEP_BRIEFINGS} kept; click Download to get one "
                                    "again",
                                    id=ids.BRIEFINGS_GRID_NOTE,
                                    className="small text-secondary",
                                ),
                            ]
                        ),
                        recent_grid(rows),
                    ]
                ),
                className="shadow-sm border-0",
            ),
            mailing,
        ]
    )
