"""SKU search (/sku): type-ahead over code and name that opens the SKU, and the most urgent SKUs to start from."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from db.session import session_scope
from layouts._charts import MISSING, SECTION_CLASS, fmt_datetime, fmt_money, search_box, status_badge
from services.runs import latest_run
from services.watchtower import top_risks

dash.register_page(__name__, path="/sku", name="SKU detail", order=1, title="SKU detail · Inventory Command Center")

TOP = 12


def urgent_list(rows: list[dict[str, Any]]) -> Any:
    if not rows:
        return html.P("No SKU has value at risk in the latest snapshot.", className="small text-secondary mb-0")
    return dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th("SKU"),
                        html.Th("Name"),
                        html.Th("Status"),
                        html.Th("Reason"),
                        html.Th("Value at risk", className="text-end"),
                    ]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(
                                dcc.Link(r["code"], href=f"/sku/{quote(r['code'], safe='')}", className="fw-semibold")
                            ),
                            html.Td(r["name"]),
                            html.Td(status_badge(r["status"])),
                            html.Td(r["reason"] or MISSING, className="small text-secondary"),
                            html.Td(fmt_money(r["value_at_risk"]), className="text-end fw-semibold"),
                        ]
                    )
                    for r in rows
                ]
            ),
        ],
        hover=True,
        size="sm",
        className="mb-0 align-middle small",
    )


def layout(**_query: Any) -> html.Div:
    with session_scope() as session:
        run = latest_run(session=session)
        rows = top_risks(session=session, run_id=run.id, limit=TOP) if run else []
    note = f"Latest snapshot {fmt_datetime(run.finished_at)}" if run else "No snapshot yet"
    return html.Div(
        [
            html.H1("SKU detail", className="h4 mb-0"),
            html.Div("Find a SKU by code or name. " + note, className="text-secondary small mb-3"),
            dbc.Card(dbc.CardBody(search_box()), className="shadow-sm border-0 mb-3", style={"maxWidth": "720px"}),
            dbc.Card(
                dbc.CardBody([html.Div("Highest value at risk", className=SECTION_CLASS), urgent_list(rows)]),
                className="shadow-sm border-0",
            )
            if run
            else None,
        ]
    )
