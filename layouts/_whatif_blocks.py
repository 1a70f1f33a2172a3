"""Result blocks of the Risk engine and Profit optimizer pages, each figure beside today's (the stored snapshot,
services/whatif_baseline.py): the metric tiles with their "vs today" deltas, the Risk page's "This setting vs today"
table and its method note. At the stored settings every delta reads "same as today"."""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from layouts import _ids as ids
from layouts._charts import fmt_money, fmt_number, fmt_pct, fmt_qty
from services import whatif as svc

INK = "#1f3a5f"
DEMAND_COLOR = "#1f77b4"
LEAD_COLOR = "#ff7f0e"
BEST_COLOR = "#2ca02c"
CHOSEN_COLOR = "#d62728"
MEASURE_SHORT = {"csl": "CSL", "fill_rate": "fill rate"}
POLICY_SHORT = {"sQ": "(s, Q)", "RS": "(R, S)"}
SAME = "same as today"
SHOWN_ZERO = {"money": 0.5, "qty": 0.05, "pct": 0.0005, "num": 0.05}
"""Deltas below display precision read :data:`SAME` (no sign, no colour)."""


def metric(label: str, value: str, note: Any = None, *, accent: str | None = None, metric_id: str | None = None) -> Any:
    """A figure tile in the Watchtower's KPI style."""
    body = dbc.CardBody(
        [
            html.Div(style={"height": "4px", "background": accent, "margin": "-0.5rem -1rem 0.5rem"})
            if accent
            else None,
            html.Div(label, className="kpi-label text-truncate", title=label),
            html.Div(value, className="kpi-value text-nowrap", id=metric_id)
            if metric_id
            else html.Div(value, className="kpi-value text-nowrap"),
            html.Div(note, className="small text-secondary") if note else None,
        ],
        className="py-2 px-3",
    )
    return dbc.Card(body, className="kpi-card h-100 shadow-sm border-0", style={"overflow": "hidden"})


def plural(n: float, word: str) -> str:
    return word if abs(n - 1) < 1e-9 else word + "s"


def level_name(policy: str) -> str:
    return "Reorder point" if policy == "sQ" else "Order-up-to level"


def vs_today(now: float, then: float, kind: str, *, better_low: bool = True, neutral: bool = False) -> Any:
    """``+12 vs today`` (green when better, red when worse; ``neutral``: no colour) or "same as today"."""
    delta = now - then
    if not math.isfinite(delta) or abs(delta) < SHOWN_ZERO[kind]:
        return html.Span(SAME, className="vs-today")
    sign = "+" if delta > 0 else "\u2212"
    good = (delta < 0) == better_low
    text = {
        "money": fmt_money(abs(delta)),
        "qty": fmt_qty(abs(delta)),
        "pct": f"{abs(delta) * 100:.1f} pp",
        "num": fmt_number(abs(delta), 1),
    }[kind]
    color = "" if neutral else ("text-success" if good else "text-danger")
    return html.Span([html.Span(f"{sign}{text}", className=color), " vs today"], className="vs-today")


def _one_shot(items: svc.Items) -> bool:
    return items.n == 1 and bool(np.asarray(getattr(items, "one_shot", np.zeros(1)))[0])


def kpi_row(result: svc.RiskResult, today: svc.RiskResult, items: svc.Items | None = None) -> dbc.Row:
    """Safety stock, level, capital, holding cost, stockouts a year, service: this setting vs today (the snapshot)."""
    inputs = result.inputs
    service_value = result.cycle_service_level if inputs.measure == "csl" else result.fill_rate
    today_service = today.cycle_service_level if inputs.measure == "csl" else today.fill_rate
    level = "Newsvendor quantity" if items is not None and _one_shot(items) else level_name(inputs.policy)
    tiles = [
        metric(
            "Safety stock",
            fmt_qty(result.safety_stock) + " u",
            vs_today(result.safety_stock, today.safety_stock, "qty"),
        ),
        metric(level, fmt_qty(result.level) + " u", vs_today(result.level, today.level, "qty", neutral=True)),
        metric(
            "Capital in safety stock",
            fmt_money(result.capital),
            vs_today(result.capital, today.capital, "money"),
            accent=INK,
            metric_id=ids.RISK_KPIS + "-capital",
        ),
        metric(
            "Holding cost / year",
            fmt_money(result.holding_per_year),
            vs_today(result.holding_per_year, today.holding_per_year, "money"),
        ),
        metric(
            "Expected stockouts / year",
            fmt_number(result.stockouts_per_year, 1),
            vs_today(result.stockouts_per_year, today.stockouts_per_year, "num"),
            accent=CHOSEN_COLOR,
        ),
        metric(
            "Expected " + ("cycle service" if inputs.measure == "csl" else "fill rate"),
            fmt_pct(service_value),
            vs_today(service_value, today_service, "pct", better_low=False),
            accent=BEST_COLOR,
        ),
    ]
    return dbc.Row([dbc.Col(t, xs=6, md=4) for t in tiles], className="g-2 mb-3")


def _row(label: str, now: str, today: str, note: str | None = None) -> html.Tr:
    return html.Tr(
        [
            html.Th(
                [label, html.Div(note, className="small text-secondary fw-normal") if note else None],
                className="fw-normal text-secondary small",
            ),
            html.Td(now, className="text-end fw-semibold"),
            html.Td(today, className="text-end"),
        ]
    )


def detail_table(result: svc.RiskResult, today: svc.RiskResult, items: svc.Items, *, own_targets: bool) -> Any:
    """This setting beside today (the snapshot); ``own_targets``: the setting keeps every SKU's own target."""
    inputs = result.inputs
    unit = items.run.period_unit
    days = items.run.days_per_period
    lt = float(np.mean(inputs.lead_time)) * days
    lt_sd = float(np.mean(inputs.lead_time_std)) * days
    lt_today = float(np.mean(today.inputs.lead_time)) * days
    lt_sd_today = float(np.mean(today.inputs.lead_time_std)) * days
    many = items.n > 1
    own = f"{result.today_target:.1%} CSL" + (" (own targets, weighted)" if many else "")
    target = own if own_targets else f"{inputs.target:.1%} {MEASURE_SHORT[inputs.measure]}"
    one_shot = _one_shot(items)
    rows = [
        _row(
            "Service target" if not one_shot else "Critical ratio / target",
            target,
            own,
            "one target for every SKU" if many and not own_targets else None,
        ),
        _row(
            "Lead time ± spread" if not one_shot else "Season (protection period)",
            f"{lt:,.1f} ± {lt_sd:,.1f} d",
            f"{lt_today:,.1f} ± {lt_sd_today:,.1f} d",
            "mean over the SKUs" if many else None,
        ),
        _row("Order", "one buy per season", "one buy per season")
        if one_shot
        else _row(
            "Review",
            POLICY_SHORT[inputs.policy]
            + (f", R = {inputs.review_period} {plural(inputs.review_period, unit)}" if inputs.policy == "RS" else ""),
            f"(s, Q), every {unit}",
        ),
        _row("Safety stock", fmt_qty(result.safety_stock), fmt_qty(today.safety_stock)),
        _row(
            "Newsvendor quantity" if one_shot else level_name(inputs.policy),
            fmt_qty(result.level),
            fmt_qty(today.level),
            "today: the stored reorder point" if inputs.policy == "RS" else None,
        ),
        _row(
            "Cycle service level",
            fmt_pct(result.cycle_service_level),
            fmt_pct(today.cycle_service_level),
            "weighted by demand value" if many else None,
        ),
        _row("Expected fill rate", fmt_pct(result.fill_rate, 2), fmt_pct(today.fill_rate, 2)),
        _row(
            "Seasons / year" if one_shot else "Replenishment cycles / year",
            fmt_number(result.cycles_per_year, 1),
            fmt_number(today.cycles_per_year, 1),
            "back-to-back seasons of the same length" if one_shot else None,
        ),
        _row("Capital in safety stock", fmt_money(result.capital), fmt_money(today.capital)),
    ]
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(html.Span("Measure", className="visually-hidden")),
                        html.Th("This setting", className="text-end"),
                        html.Th("Today (snapshot)", className="text-end"),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        size="sm",
        className="mb-2 small align-middle",
    )
    slow = f" and sets {result.slow_movers:,} slow {plural(result.slow_movers, 'mover')}' reorder points as quantiles"
    note = html.Div(
        [
            "Today is the latest snapshot: the safety stock and reorder points the SKU page and the API show (the "
            f"engine reviews every {unit}" + (slow if result.slow_movers else "") + "). ",
            "A changed control moves each SKU from there by the formula's change.",
            " A one-shot buy is sized by its newsvendor quantity, not the SKU page's replenishment figures."
            if one_shot
            else "",
        ],
        className="small text-secondary",
    )
    return [table, note]


def method_note(result: svc.RiskResult, items: svc.Items) -> Any:
    """Say plainly when the normal formula is the wrong tool for this SKU and what the engine's quantile gives."""
    q = result.quantile
    if items.n > 1:
        if not result.slow_movers:
            return None
        return dbc.Alert(
            [
                html.B(f"{result.slow_movers:,} slow or lumpy {plural(result.slow_movers, 'SKU')}: "),
                "the normal formula overstates their service. The engine sets their reorder points as Poisson, "
                "negative-binomial or bootstrapped quantiles of lead-time demand, and today's figures here start from "
                "those; pick one of them to simulate it.",
            ],
            color="warning",
            className="py-2 small mb-0",
        )
    if q is None:
        return None
    if q.method == "normal":
        return html.Div(["Normal formula applies: ", q.reason.rstrip("."), "."], className="small text-secondary")
    label = svc.METHOD_LABELS.get(q.method, q.method)
    return dbc.Alert(
        [
            html.B("The normal formula is the wrong tool for this SKU. "),
            q.reason.rstrip("."),
            f". At this setting the {label} puts the {level_name(result.inputs.policy).lower()} at ",
            html.B(fmt_qty(q.level)),
            f"; the normal formula alone would give {fmt_qty(q.normal_level)}. The figures above start from the "
            "engine's snapshot. Run the simulation to see what each delivers.",
        ],
        color="warning",
        className="py-2 small mb-0",
    )
