"""Admin (/admin): users and roles, API tokens, and the audit log. Admins only (checked on the server)."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.models import ROLES
from db.session import session_scope
from layouts import _ids as ids
from layouts._components import allowed, forbidden, page_header
from services import audit, users

dash.register_page(__name__, path="/admin", name="Admin", order=7, title="Admin · Inventory Command Center")

AUDIT_LIMIT = 1000
ROLE_HELP = {
    "viewer": "reads everything, downloads briefings",
    "planner": "also imports, edits, overrides, approves orders, recomputes",
    "admin": "also users, API tokens, factory reset",
}
_SINGLE_ROW = {"mode": "singleRow", "checkboxes": True, "enableClickSelection": True}


def _grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    height: int | None,
    row_id: str = "params.data.key + ''",
    **options: Any,
) -> Any:
    """An AG Grid; ``height=None`` grows with its rows (users and tokens are few); rows keep their ids across
    updates, so a selection survives a refresh."""
    if height is None:
        options["domLayout"] = "autoHeight"
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        # the columns share the width by flex: no sizeColumnsToFit while a tab is hidden (AG Grid warning #29)
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "flex": 1},
        dashGridOptions={"animateRows": False, **options},
        style={"height": f"{height}px"} if height else {},
        getRowId=row_id,
    )


USER_COLUMNS = [
    {"field": "email", "headerName": "E-mail", "minWidth": 220},
    {"field": "role", "headerName": "Role", "maxWidth": 130},
    {"field": "active", "headerName": "Active", "maxWidth": 110},
    {"field": "locked", "headerName": "Locked", "maxWidth": 110},
    {"field": "last_login_at", "headerName": "Last sign-in (UTC)"},
    {"field": "created_at", "headerName": "Created (UTC)"},
]
TOKEN_COLUMNS = [
    {"field": "user", "headerName": "User", "minWidth": 200},
    {"field": "name", "headerName": "Name"},
    {"field": "prefix", "headerName": "Starts with", "maxWidth": 150},
    {"field": "status", "headerName": "Status", "maxWidth": 150},
    {"field": "created_at", "headerName": "Created (UTC)"},
    {"field": "last_used_at", "headerName": "Last used (UTC)"},
    {"field": "revoked_at", "headerName": "Revoked (UTC)"},
]
AUDIT_COLUMNS = [
    {"field": "created_at", "headerName": "When (UTC)", "maxWidth": 190, "sort": "desc"},
    {"field": "user_email", "headerName": "User", "minWidth": 180},
    {"field": "action", "headerName": "Action", "maxWidth": 170},
    {"field": "outcome", "headerName": "Outcome", "maxWidth": 120},
    {"field": "target", "headerName": "Target", "minWidth": 180},
    {"field": "address", "headerName": "Address", "maxWidth": 140},
    {"field": "details", "headerName": "Details", "minWidth": 320, "flex": 3, "tooltipField": "details"},
]


def role_options() -> list[dict[str, str]]:
    """Role choices (what each may do is in :func:`role_help`)."""
    return [{"label": role, "value": role} for role in ROLES]


def role_help() -> Any:
    """What each role may do, for under a role choice."""
    return dbc.FormText([html.Div([html.Strong(role), f": {ROLE_HELP[role]}"]) for role in ROLES])


def token_user_options(user_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Active users a token can be made for."""
    return [{"label": f"{row['email']} ({row['role']})", "value": row["email"]} for row in user_rows if row["active"]]


def audit_count_text(shown: int, limit: int = AUDIT_LIMIT) -> str:
    """The line above the audit grid."""
    if shown >= limit:
        return f"Showing the newest {limit:,} entries that match; narrow the filters to see older ones."
    return f"{shown:,} entr{'y' if shown == 1 else 'ies'} match."


def _users_tab(user_rows: list[dict[str, Any]]) -> dbc.Tab:
    add_form = dbc.Card(
        dbc.CardBody(
            dbc.Form(  # the password field in a form (the browser warns otherwise); nothing is posted
                [
                    html.H2("Add a user", className="h6"),
                    dbc.Label("E-mail", html_for=ids.ADMIN_USER_EMAIL),
                    dbc.Input(
                        id=ids.ADMIN_USER_EMAIL, type="email", autocomplete="off", placeholder="name@company.com"
                    ),
                    dbc.Label("Role", html_for=ids.ADMIN_USER_ROLE, className="mt-2"),
                    dbc.Select(id=ids.ADMIN_USER_ROLE, options=role_options(), value="viewer"),
                    role_help(),
                    dbc.Label("Password", html_for=ids.ADMIN_USER_PASSWORD, className="mt-2"),
                    dbc.Input(id=ids.ADMIN_USER_PASSWORD, type="password", autocomplete="new-password"),
                    dbc.FormText(
                        f"At least {users.MIN_PASSWORD_LENGTH} characters. Leave empty to generate one (shown once)."
                    ),
                    html.Div(dbc.Button("Add user", id=ids.ADMIN_USER_ADD, color="primary"), className="mt-3"),
                ],
                prevent_default_on_submit=True,
            )
        ),
    )
    selected = dbc.Card(
        dbc.CardBody(
            [
                html.H2("Selected user", className="h6"),
                html.P("Select a row in the table.", id=ids.ADMIN_USER_SELECTED, className="text-muted small mb-2"),
                dbc.Label("New role", html_for=ids.ADMIN_USER_NEW_ROLE),
                dbc.InputGroup(
                    [
                        dbc.Select(id=ids.ADMIN_USER_NEW_ROLE, options=role_options(), value="viewer"),
                        dbc.Button("Change role", id=ids.ADMIN_USER_SET_ROLE, color="secondary"),
                    ]
                ),
                html.Div(
                    [
                        dbc.Button("Deactivate", id=ids.ADMIN_USER_DEACTIVATE, color="danger", outline=True),
                        dbc.Button("Activate", id=ids.ADMIN_USER_ACTIVATE, color="success", outline=True),
                    ],
                    className="d-flex gap-2 mt-3",
                ),
                dbc.FormText("A deactivated user is signed out at once and their API tokens stop working."),
            ]
        ),
        className="mt-3",
    )
    return dbc.Tab(
        dbc.Row(
            [
                dbc.Col(
                    [
                        _grid(ids.ADMIN_USERS_GRID, USER_COLUMNS, user_rows, None, rowSelection=_SINGLE_ROW),
                        html.Div(id=ids.ADMIN_USER_RESULT, className="mt-3"),
                    ],
                    lg=8,
                ),
                dbc.Col([add_form, selected], lg=4),
            ],
            className="g-3",
        ),
        label="Users",
        tab_id="users",
        className="pt-3",
    )


def _tokens_tab(user_rows: list[dict[str, Any]], token_rows: list[dict[str, Any]]) -> dbc.Tab:
    create = dbc.Card(
        dbc.CardBody(
            [
                html.H2("Create an API token", className="h6"),
                dbc.Label("For user", html_for=ids.ADMIN_TOKEN_USER),
                dcc.Dropdown(id=ids.ADMIN_TOKEN_USER, options=token_user_options(user_rows), clearable=False),
                dbc.Label("Name", html_for=ids.ADMIN_TOKEN_NAME, className="mt-2"),
                dbc.Input(id=ids.ADMIN_TOKEN_NAME, placeholder="e.g. ERP nightly sync", maxLength=100),
                dbc.FormText("The token acts with that user's role. It is shown once; only its hash is stored."),
                html.Div(
                    [
                        dbc.Button("Create token", id=ids.ADMIN_TOKEN_CREATE, color="primary"),
                        dbc.Button("Revoke selected", id=ids.ADMIN_TOKEN_REVOKE, color="danger", outline=True),
                    ],
                    className="d-flex gap-2 mt-3",
                ),
            ]
        ),
        className="h-100",
    )
    return dbc.Tab(
        [
            dbc.Row(
                [
                    dbc.Col(
                        [
                            _grid(ids.ADMIN_TOKENS_GRID, TOKEN_COLUMNS, token_rows, None, rowSelection=_SINGLE_ROW),
                            html.Div(id=ids.ADMIN_TOKEN_RESULT, className="mt-3"),
                        ],
                        lg=8,
                    ),
                    dbc.Col(create, lg=4),
                ],
                className="g-3",
            ),
        ],
        label="API tokens",
        tab_id="tokens",
        className="pt-3",
    )


def _audit_tab(actions: list[str], audit_rows: list[dict[str, Any]]) -> dbc.Tab:
    filters = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("User", html_for=ids.ADMIN_AUDIT_USER),
                    dbc.Input(id=ids.ADMIN_AUDIT_USER, placeholder="part of an e-mail", debounce=True),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("Action", html_for=ids.ADMIN_AUDIT_ACTION),
                    dcc.Dropdown(id=ids.ADMIN_AUDIT_ACTION, options=actions, placeholder="any action"),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("Outcome", html_for=ids.ADMIN_AUDIT_OUTCOME),
                    dcc.Dropdown(id=ids.ADMIN_AUDIT_OUTCOME, options=list(audit.OUTCOMES), placeholder="any outcome"),
                ],
                md=2,
            ),
            dbc.Col(
                [
                    dbc.Label("Dates (UTC)", html_for=ids.ADMIN_AUDIT_DATES),
                    html.Div(
                        dcc.DatePickerRange(id=ids.ADMIN_AUDIT_DATES, clearable=True, display_format="YYYY-MM-DD")
                    ),
                ],
                md=3,
            ),
            dbc.Col(
                dbc.Button("Refresh", id=ids.ADMIN_AUDIT_REFRESH, color="secondary", outline=True, className="w-100"),
                md=1,
                className="d-flex align-items-end",
            ),
        ],
        className="g-2 mb-2",
    )
    return dbc.Tab(
        [
            filters,
            html.Div(audit_count_text(len(audit_rows)), id=ids.ADMIN_AUDIT_COUNT, className="text-muted small mb-1"),
            _grid(ids.ADMIN_AUDIT_GRID, AUDIT_COLUMNS, audit_rows, 520, pagination=True, paginationPageSize=50),
        ],
        label="Audit log",
        tab_id="audit",
        className="pt-3",
    )


def layout(**_kwargs: object) -> html.Div:
    if not allowed("admin"):
        return forbidden("admin")
    with session_scope() as session:
        user_rows = users.user_rows(session=session)
        token_rows = users.token_rows(session=session)
        actions = audit.actions(session=session)
        audit_rows = audit.rows(audit.recent(session=session, limit=AUDIT_LIMIT))
    return html.Div(
        [
            page_header("Admin", "Users and roles, API tokens and the audit log"),
            dbc.Tabs(
                [_users_tab(user_rows), _tokens_tab(user_rows, token_rows), _audit_tab(actions, audit_rows)],
                id=ids.ADMIN_TABS,
                active_tab="users",
            ),
        ]
    )
