"""The Watchtower's forecast-value-added panel: how much the planners' overrides improved the forecast error
(WAPE), by planner, category or SKU (:func:`fva_panel`; data from :func:`services.overrides.fva`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import _ids as ids
from layouts._charts import (
    MISSING,
    SECTION_CLASS,
    fmt_pct,
)
from services import overrides as ovr

FVA_BY_OPTIONS = [
    {"label": "by planner", "value": "planner"},
    {"label": "by category", "value": "category"},
    {"label": "by SKU", "value": "sku"},
]


def fva_table(rows: list[ovr.FvaRow], *, by: str, limit: int = 10) -> Any:
    if not rows:
        return html.P(
            "No overridden period has its actual demand yet: forecast value added appears once actuals arrive for "
            "periods a planner overrode.",
            className="small text-secondary mb-0",
        )
    head = {"planner": "Planner", "category": "Category", "sku": "SKU"}.get(by, "Group")
    body = []
    for r in rows[:limit]:
        tone = "text-success" if (r.fva_wape or 0) > 0.005 else "text-danger" if (r.fva_wape or 0) < -0.005 else ""
        fva = MISSING if r.fva_wape is None else f"{r.fva_wape * 100:+.1f} pp"
        key: Any = dcc.Link(r.key, href=f"/sku/{quote(r.key, safe='')}") if by == "sku" else r.key
        body.append(
            html.Tr(
                [
                    html.Td(key),
                    html.Td(f"{r.periods:,}", className="text-end"),
                    html.Td(fmt_pct(r.statistical_wape, 1), className="text-end"),
                    html.Td(fmt_pct(r.final_wape, 1), className="text-end"),
                    html.Td(fva, className=f"text-end fw-semibold {tone}"),
                    html.Td(fmt_pct(r.improved_share, 0), className="text-end"),
                ]
            )
        )
    return dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(head),
                        html.Th("Periods", className="text-end"),
                        html.Th("Statistical WAPE", className="text-end"),
                        html.Th("With overrides", className="text-end"),
                        html.Th("FVA", className="text-end"),
                        html.Th("Improved", className="text-end"),
                    ]
                )
            ),
            html.Tbody(body),
        ],
        size="sm",
        hover=True,
        className="small mb-0",
    )


def accuracy_line(*, kpis: dict[str, Any], total: list[ovr.FvaRow]) -> str:
    """The latest run's backtest accuracy and the overall FVA in one sentence."""
    facts = []
    wape = kpis.get("wape")
    if isinstance(wape, int | float):
        facts.append(f"Backtest WAPE {fmt_pct(wape, 1)}")
    mase = kpis.get("mase")
    if isinstance(mase, int | float):
        facts.append(f"MASE {mase:.2f}")
    bias = kpis.get("bias")
    if isinstance(bias, int | float):
        facts.append(f"bias {bias * 100:+.1f}%")
    if total:
        t = total[0]
        facts.append(
            f"overrides on {t.periods:,} period(s) with actuals: WAPE {fmt_pct(t.statistical_wape, 1)} statistical vs "
            f"{fmt_pct(t.final_wape, 1)} with overrides ({t.verdict})"
        )
    return "; ".join(facts) + "." if facts else ""


def fva_content(*, session: Any, by: str) -> html.Div:
    """The panel's body: the accuracy sentence and the FVA table by planner, category or SKU."""
    total = ovr.fva_summary(session=session, by="total")
    rows = ovr.fva_summary(session=session, by=by)
    return html.Div(
        [
            html.Div(accuracy_line(kpis=ovr.latest_accuracy(session=session), total=total), className="small mb-2"),
            fva_table(rows, by=by),
        ]
    )


def fva_panel(by: str = "planner") -> dbc.Card:
    """Accuracy panel of the Watchtower: filled by ``callbacks.orders.fva_by`` when the page loads (no query here)."""
    return dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                html.Span("Forecast accuracy and value added", className=SECTION_CLASS),
                                html.Span(
                                    " FVA = statistical WAPE - WAPE with overrides (positive: the overrides helped)",
                                    className="small text-secondary",
                                ),
                            ]
                        ),
                        dbc.Col(
                            dbc.RadioItems(
                                id=ids.WATCHTOWER_FVA_BY,
                                options=FVA_BY_OPTIONS,
                                value=by,
                                inline=True,
                                className="small",
                            ),
                            width="auto",
                        ),
                    ],
                    className="align-items-center mb-1",
                ),
                dcc.Loading(html.Div(id=ids.WATCHTOWER_FVA, style={"minHeight": "40px"}), type="dot"),
            ]
        ),
        className="shadow-sm border-0 mt-3",
    )
