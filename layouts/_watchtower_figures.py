"""The Watchtower's tiles and charts: KPI tiles with their change line, the status-by-category bars and the value at
risk vs cover scatter (plain figure dicts, as in :mod:`layouts._charts`).

- A change line is shown only when there is a change worth reading (not "no change" at display precision), and says
  what it compares with (the chosen base: previous run, last week, a cycle; :mod:`services.kpi_bases`). It wraps
  rather than being cut in a narrow tile.
- A status tile says whether its filter is on (``aria-pressed`` and a ring in the status colour).
- With a filter on, the category chart keeps every category and its scale: the matching SKUs in their status
  colours, the others as one light grey segment, so the bars never turn into one huge bar.
- The scatter's log axes always span at least one decade, so they keep tick labels however few points match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from layouts import _ids as ids
from layouts._charts import (
    CURRENCY,
    STATUS_ORDER,
    STATUS_PATTERNS,
    STATUS_SYMBOLS,
    base_layout,
    empty_figure,
    fmt_days,
    fmt_delta,
    fmt_kpi,
    fmt_money,
    status_color,
)
from reports.formatting import NO_CHANGE
from services.watchtower import STATUS_LABELS, CategoryStatus, Kpi, RiskPoints, status_label

TONE_CLASS = {"good": "text-success", "bad": "text-danger", "neutral": "text-secondary"}
OTHER_COLOR = "#dfe3e8"
OTHER_NAME = "Other SKUs"
COVER_FLOOR, COVER_CAP, VAR_FLOOR = 0.5, 3650.0, 1.0


# --------------------------------------------------------------------------------------------------------------------
# KPI tiles


def delta_line(kpi: Kpi, *, has_previous: bool, caption: str = "previous run", key: str | None = None) -> html.Div:
    """``▲ +3 vs last week`` in the tone of the change; empty when there is nothing worth reading (no base, no
    change at display precision, a missing value)."""
    props: dict[str, Any] = {"className": "small text-secondary kpi-delta"}
    if key is not None:
        props["id"] = {"type": ids.WATCHTOWER_KPI_DELTA, "key": key}
    text = fmt_delta(kpi) if has_previous else ""
    if not text or text == NO_CHANGE:
        return html.Div([], **props)
    arrow = "\u25b2 " if (kpi.delta or 0) > 0 else "\u25bc "
    return html.Div(
        [html.Span(arrow + text, className=TONE_CLASS[kpi.tone] + " fw-semibold"), f" vs {caption}"], **props
    )


def tile_style(selected: bool, accent: str | None) -> dict[str, Any]:
    """A selected status tile: a ring in its status colour and a tinted background."""
    if not selected:
        return {"borderRadius": "inherit"}
    colour = accent or "#1f3a5f"
    return {"borderRadius": "inherit", "boxShadow": f"inset 0 0 0 3px {colour}", "background": "#f3f6fa"}


def kpi_card(
    kpi: Kpi,
    *,
    has_previous: bool,
    caption: str = "previous run",
    accent: str | None = None,
    card_id: Any = None,
    selected: bool = False,
) -> dbc.Card:
    """A KPI tile: label, big value, change vs the chosen base (green when better, red when worse)."""
    body = dbc.CardBody(
        [
            html.Div(style={"height": "4px", "background": accent, "margin": "-0.5rem -1rem 0.5rem"})
            if accent
            else None,
            html.Div(kpi.label, className="kpi-label"),
            html.Div(fmt_kpi(kpi.kind, kpi.value), className="kpi-value"),
            delta_line(kpi, has_previous=has_previous, caption=caption, key=kpi.key),
        ],
        className="py-2 px-3",
    )
    props: dict[str, Any] = {"className": "kpi-card h-100 shadow-sm border-0", "style": {"overflow": "hidden"}}
    if card_id is not None:
        tile = html.Div(
            body,
            id=card_id,
            n_clicks=0,
            role="button",
            tabIndex=0,
            title=f"Show only {kpi.label.lower()} SKUs (click again to show all)",
            className="h-100",
            style=tile_style(selected, accent),
            **{"aria-pressed": "true" if selected else "false"},
        )
        return dbc.Card(tile, **props)
    return dbc.Card(html.Div(body, title=kpi.hint) if kpi.hint else body, **props)


# --------------------------------------------------------------------------------------------------------------------
# status by category


def _totals(rows: Sequence[CategoryStatus]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.category] = totals.get(r.category, 0) + r.skus
    return totals


def category_status_figure(
    rows: Sequence[CategoryStatus], overall: Sequence[CategoryStatus] | None = None
) -> dict[str, Any]:
    """Horizontal stacked bars: SKUs per status in each category (largest category on top); click a segment to
    filter by that status and category.

    ``overall``: every SKU of the run, when a filter is on: all its categories keep their place and scale, the SKUs
    outside the filter drawn as one light grey "Other SKUs" segment.
    """
    if not rows and not overall:
        return empty_figure("No SKU matches the filters")
    totals = _totals(overall) if overall else _totals(rows)
    matched = _totals(rows)
    categories = sorted(totals, key=lambda c: (totals[c], c))  # plotly draws the first category at the bottom
    by_key = {(r.category, r.status): r for r in rows}
    statuses = [s for s in STATUS_ORDER if any(r.status == s for r in rows)]
    statuses += sorted({r.status for r in rows} - set(statuses))
    data = []
    for status in statuses:
        counts = [by_key[(c, status)].skus if (c, status) in by_key else 0 for c in categories]
        value = [by_key[(c, status)].value_at_risk if (c, status) in by_key else 0.0 for c in categories]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": STATUS_LABELS.get(status, status_label(status)),
                "y": categories,
                "x": counts,
                "customdata": [[fmt_money(v), status] for v in value],
                "marker": {
                    "color": status_color(status),
                    "pattern": {"shape": STATUS_PATTERNS.get(status, "."), "fgcolor": "#ffffff", "fgopacity": 0.55},
                },
                "hovertemplate": "%{y}<br>%{x:,} SKUs "
                + status_label(status).lower()
                + "<br>%{customdata[0]} at risk<extra></extra>",
            }
        )
    others = [totals[c] - matched.get(c, 0) for c in categories]
    if overall and any(others):
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": OTHER_NAME,
                "y": categories,
                "x": others,
                "customdata": [["", ""] for _ in categories],
                "marker": {"color": OTHER_COLOR},
                "hovertemplate": "%{y}<br>%{x:,} SKUs outside the filters<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": base_layout(
            barmode="stack",
            bargap=0.28,
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            legend={
                "orientation": "h",
                "y": -0.08,
                "yanchor": "top",
                "x": 0,
                "font": {"size": 11},
                "traceorder": "normal",
            },
            xaxis={"gridcolor": "#eef0f3", "zeroline": False, "range": [0, max(totals.values() or [1]) * 1.02]},
            yaxis={"automargin": True, "ticksuffix": "  "},
            clickmode="event",
        ),
    }


def clicked_segment(click: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(category, status) of a click on the category chart; status None on the grey "Other SKUs" segment."""
    try:
        point = click["points"][0]  # type: ignore[index]
        category = str(point["y"])
    except (KeyError, IndexError, TypeError):
        return None, None
    custom = point.get("customdata") if isinstance(point, dict) else None
    status = custom[1] if isinstance(custom, list | tuple) and len(custom) > 1 and custom[1] else None
    return category, status


# --------------------------------------------------------------------------------------------------------------------
# value at risk vs cover


def decade_range(values: Sequence[float]) -> list[float]:
    """A log axis range (in log10 units) over ``values`` that spans at least one whole decade, so a log axis with a
    tick per decade always shows two tick labels."""
    logs = [math.log10(v) for v in values if v and v > 0]
    if not logs:
        return [0.0, 1.0]
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    if high - low < 1:
        high = low + 1
    pad = 0.08
    return [low - pad, high + pad]


def risk_scatter_figure(points: RiskPoints) -> dict[str, Any]:
    """Value at risk (log) against days of cover (log), one colour per status; click a point to find that SKU."""
    if not points.rows:
        return empty_figure("No value at risk among the filtered SKUs")
    data = []
    xs: list[float] = []
    ys: list[float] = []
    for status in STATUS_ORDER + tuple(sorted({r["status"] for r in points.rows} - set(STATUS_ORDER))):
        rows = [r for r in points.rows if r["status"] == status]
        if not rows:
            continue
        x = [
            COVER_CAP if r["days_of_cover"] is None else min(COVER_CAP, max(COVER_FLOOR, r["days_of_cover"]))
            for r in rows
        ]
        y = [max(VAR_FLOOR, r["value_at_risk"]) for r in rows]
        xs += x
        ys += y
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": status_label(status),
                "x": x,
                "y": y,
                "customdata": [
                    [r["code"], r["name"], fmt_days(r["days_of_cover"]), fmt_money(r["value_at_risk"])] for r in rows
                ],
                "marker": {
                    "color": status_color(status),
                    "symbol": STATUS_SYMBOLS.get(status, "star"),
                    "size": 8,
                    "opacity": 0.8,
                    "line": {"width": 0},
                },
                "hovertemplate": "<b>%{customdata[0]}</b> %{customdata[1]}<br>cover %{customdata[2]}"
                " · %{customdata[3]} at risk<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": base_layout(
            height=330,
            margin={"l": 10, "r": 10, "t": 30, "b": 10},
            legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
            xaxis={
                "type": "log",
                "dtick": 1,
                "range": decade_range(xs),
                "title": {"text": "Days of cover (log)", "standoff": 6},
                "gridcolor": "#eef0f3",
                "zeroline": False,
                "automargin": True,
            },
            yaxis={
                "type": "log",
                "dtick": 1,
                "range": decade_range(ys),
                "tickformat": "~s",
                "title": {"text": "Value at risk (log)", "standoff": 6},
                "tickprefix": CURRENCY,
                "gridcolor": "#eef0f3",
                "automargin": True,
            },
            clickmode="event",
        ),
    }
