"""Watchtower (/): the executive view of every SKU's health."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from db.session import session_scope
from layouts._components import page_header
from services.overview import overview

dash.register_page(__name__, path="/", name="Watchtower", order=0, title="Watchtower · Inventory Command Center")


def layout(**_kwargs: object) -> html.Div:
    with session_scope() as session:
        ov = overview(session=session)
    return html.Div(
        [
            page_header("Watchtower", "Health of every SKU from the latest snapshot"),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.Div("SKUs", className="kpi-label"),
                                    html.Div(f"{ov.sku_count:,}", className="kpi-value"),
                                ]
                            ),
                            className="kpi-card",
                        )
                    ),
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.Div("Demand rows", className="kpi-label"),
                                    html.Div(f"{ov.demand_rows:,}", className="kpi-value"),
                                ]
                            ),
                            className="kpi-card",
                        )
                    ),
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.Div("History", className="kpi-label"),
                                    html.Div(f"{ov.first_period} – {ov.last_period}", className="kpi-value"),
                                ]
                            ),
                            className="kpi-card",
                        )
                    ),
                ]
            ),
        ]
    )
