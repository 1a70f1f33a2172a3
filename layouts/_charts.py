"""Figures and small UI pieces shared by the Watchtower and SKU pages.

Figures are built as plain dicts (``{"data": [...], "layout": {...}}``) with the ``plotly_white`` template: no
plotly validation on the request path, so filter callbacks stay fast. Everything shown comes from the services;
nothing here queries the database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html

from core import formats
from layouts import _ids as ids
from layouts._commentary import commentary_panel
from reports.formatting import signed_change
from services.watchtower import Commentary, Kpi, status_label

STATUS_ORDER = ("stockout_risk", "surge", "low_velocity", "dead_stock", "overstock", "normal")
# status colours meet 4.5:1 on white (as text, and white text on them as badges) and differ in lightness and hue;
# each status also has its own marker symbol and bar pattern, so charts do not rely on colour alone (WCAG 1.4.1)
STATUS_COLORS = {
    "stockout_risk": "#c62828",
    "surge": "#a34f00",
    "low_velocity": "#806600",
    "dead_stock": "#5f6368",
    "overstock": "#7b4fa6",
    "normal": "#2e7d32",
}
UNKNOWN_COLOR = "#00788a"
STATUS_SYMBOLS = {
    "stockout_risk": "triangle-up",
    "surge": "diamond",
    "low_velocity": "triangle-down",
    "dead_stock": "x",
    "overstock": "square",
    "normal": "circle",
}
STATUS_PATTERNS = {
    "stockout_risk": "/",
    "surge": "x",
    "low_velocity": "\\",
    "dead_stock": "-",
    "overstock": "|",
    "normal": "",
}
SERIES = {
    "history": "#3d4a5c",
    "forecast": "#1f77b4",
    "band": "rgba(31,119,180,0.16)",
    "backtest": "#8c6bb1",
    "override": "#c2185b",
    "stock": "#1f3a5f",
    "no_order": "#7a8591",
    "safety_stock": "#c62828",
    "reorder_point": "#c46210",
    "order": "#2ca02c",
}
MISSING = "\u2013"
CURRENCY = "$"
SECTION_CLASS = "text-uppercase small fw-semibold text-secondary mb-2"
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def status_color(status: str | None) -> str:
    return STATUS_COLORS.get(status or "", UNKNOWN_COLOR)


# --------------------------------------------------------------------------------------------------------------------
# formatting


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def fmt_count(value: float | None) -> str:
    return MISSING if _missing(value) else f"{round(value):,}"  # type: ignore[arg-type]


def fmt_qty(value: float | None) -> str:
    if _missing(value):
        return MISSING
    return f"{value:,.0f}" if abs(value) >= 100 or abs(value - round(value)) < 0.05 else f"{value:,.1f}"  # type: ignore[operator,arg-type]


def fmt_money(value: float | None) -> str:
    """Compact money: 1234567 -> $1.23M, 45600 -> $45.6k, 950 -> $950."""
    if _missing(value):
        return MISSING
    sign = "-" if value < 0 else ""  # type: ignore[operator]
    v = abs(value)  # type: ignore[arg-type]
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= threshold:
            scaled = v / threshold
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{sign}{CURRENCY}{scaled:.{digits}f}{suffix}"
    return f"{sign}{CURRENCY}{round(v):,}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    return MISSING if _missing(value) else f"{value * 100:.{digits}f}%"  # type: ignore[operator]


def fmt_number(value: float | None, digits: int = 1) -> str:
    return MISSING if _missing(value) else f"{value:,.{digits}f}"


def fmt_days(value: float | None) -> str:
    if _missing(value):
        return MISSING
    return f"{value:,.0f} d" if abs(value) >= 100 else f"{value:,.1f} d"  # type: ignore[arg-type]


# dates: one module for every page, export, API answer and PDF (core.formats): ISO in tables, "6 Dec 2026" in prose
fmt_date = formats.fmt_date
fmt_date_prose = formats.fmt_date_prose
fmt_datetime = formats.fmt_datetime
X_DATE = "%{x|" + formats.PLOTLY_DATE + "}"  # a hover's date, as in the tables


def fmt_kpi(kind: str, value: float | None) -> str:
    if kind == "count":
        return fmt_count(value)
    if kind == "money":
        return fmt_money(value)
    if kind == "fraction":
        return fmt_pct(value)
    if kind == "days":
        return fmt_number(value, 0)
    return fmt_number(value, 1)


def fmt_delta(kpi: Kpi) -> str:
    """The change since the previous run, in the KPI's unit (``+3``, ``-$12.4k``, ``+1.2 pp``); ``"no change"`` when
    it rounds to zero at display precision (:func:`reports.formatting.signed_change`, the PDF briefings' rule too)."""
    delta = kpi.delta
    if delta is None:
        return ""
    if kpi.kind == "count":
        size = f"{abs(round(delta)):,}"
    elif kpi.kind == "money":
        size = fmt_money(abs(delta))
    elif kpi.kind == "fraction":
        size = f"{abs(delta) * 100:.1f} pp"
    elif kpi.kind == "days":
        size = f"{abs(delta):,.0f}"
    else:
        size = f"{abs(delta):,.1f}"
    return signed_change(delta, size)


# --------------------------------------------------------------------------------------------------------------------
# cards and panels


def status_badge(status: str | None, *, label: str | None = None, class_name: str = "") -> html.Span:
    return html.Span(
        label or status_label(status),
        className=f"badge rounded-pill {class_name}".strip(),
        style={"backgroundColor": status_color(status), "color": "#fff", "fontWeight": 600},
    )


def commentary_card(
    commentary: Commentary,
    *,
    scope: str,
    title: str,
    fallback_title: str,
    empty: str,
    can_regenerate: bool = False,
    link_codes: bool = True,
) -> Any:
    """The commentary card of ``scope`` ("portfolio" / "sku:<code>").

    With a narrative (``commentary.view`` from ``services.narrative``) it is the AI package's panel
    (``layouts._commentary.commentary_panel``: text, who wrote it, Regenerate for planners); without one, the
    snapshot's reasons as a list. Never placeholder text.
    """
    if commentary.view is not None:
        return commentary_panel(commentary.view, scope=scope, can_regenerate=can_regenerate, title=title)
    if commentary.source == "narrative" and commentary.text:
        paragraphs = [html.P(p.strip(), className="mb-2") for p in commentary.text.split("\n") if p.strip()]
        source = f"Written by {commentary.provider}" if commentary.provider else "Narrative"
        body: list[Any] = [
            html.Div(title, className=SECTION_CLASS),
            html.Div(paragraphs, className="small"),
            html.Div(source + ", checked against the snapshot's numbers.", className="text-secondary small mt-2"),
        ]
    else:
        body = [
            html.Div(fallback_title, className=SECTION_CLASS),
            reasons_list(commentary, empty=empty, link_codes=link_codes),
        ]
    return dbc.Card(dbc.CardBody(body), className="shadow-sm border-0 h-100")


def reasons_list(commentary: Commentary, *, empty: str, link_codes: bool = True) -> Any:
    """The snapshot's reasons (status badge, SKU, value at risk, reason) as a list."""
    if not commentary.items:
        return html.P(empty, className="text-secondary small mb-0")
    items = []
    for item in commentary.items:
        head: list[Any] = [status_badge(item.get("status"), label=item.get("status_label") or item.get("label"))]
        if item.get("code"):
            code = item["code"]
            head += [
                " ",
                dcc.Link(code, href=f"/sku/{quote(code, safe='')}", className="fw-semibold")
                if link_codes
                else html.B(code),
                html.Span(f" {item.get('name', '')}", className="text-secondary"),
            ]
            if item.get("value_at_risk"):
                head.append(html.Span(f" · {fmt_money(item['value_at_risk'])} at risk", className="fw-semibold"))
        items.append(
            html.Li(
                [html.Div(head), html.Div(item.get("reason") or MISSING, className="small text-body-secondary")],
                className="mb-2",
            )
        )
    return html.Ul(items, className="list-unstyled mb-0 small")


def search_box() -> html.Div:
    """Type-ahead over SKU code and name (callbacks/sku.py fills the options); choosing one opens its page."""
    return html.Div(
        [
            dcc.Location(id=ids.SKU_SEARCH_NAV, refresh="callback-nav"),
            dcc.Dropdown(
                id=ids.SKU_SEARCH,
                options=[],
                placeholder="Type a SKU code or name…",
                searchable=True,
                clearable=True,
                optionHeight=44,
                style={"fontSize": "1rem"},
            ),
        ]
    )


PROJECTION_HEIGHT = 460

# --------------------------------------------------------------------------------------------------------------------
# figures


@lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


def base_layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": _template(),
        "font": {"family": FONT, "size": 12, "color": "#212529"},
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT}},
    }
    layout.update(extra)
    return layout


def inset_legend() -> dict[str, Any]:
    """A legend inside the plot's lower right corner (the frontier charts of the Risk page and the policy backtest)."""
    return {
        "orientation": "v",
        "y": 0.02,
        "yanchor": "bottom",
        "x": 0.99,
        "xanchor": "right",
        "font": {"size": 11},
        "bgcolor": "rgba(255,255,255,0.85)",
        "bordercolor": "#dee2e6",
        "borderwidth": 1,
    }


def blank_figure() -> dict[str, Any]:
    """No axes and no text: the frame a chart callback fills in."""
    return {"data": [], "layout": base_layout(xaxis={"visible": False}, yaxis={"visible": False})}


def empty_figure(message: str) -> dict[str, Any]:
    return {
        "data": [],
        "layout": base_layout(
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"color": "#6c757d"},
                }
            ],
        ),
    }


def _dates(values: Iterable[dt.date]) -> list[str]:
    return [v.isoformat() for v in values]


def history_figure(
    *,
    history: Sequence[tuple[dt.date, float]],
    forecast: Sequence[dict[str, Any]],
    backtest: Sequence[tuple[dt.date, float]],
    overrides: Sequence[dict[str, Any]],
    unit: str = "units",
) -> dict[str, Any]:
    """Demand history, backtest forecasts, the future forecast with its p10-p90 band and planner overrides."""
    if not history and not forecast:
        return empty_figure("No demand history for this SKU")
    data: list[dict[str, Any]] = []
    if forecast:
        dates = _dates(f["period"] for f in forecast)
        p90 = [f["p90"] if f["p90"] is not None else f["mean"] for f in forecast]
        p10 = [f["p10"] if f["p10"] is not None else f["mean"] for f in forecast]
        data.append(
            {
                "type": "scatter",
                "x": dates + dates[::-1],
                "y": p90 + p10[::-1],
                "fill": "toself",
                "fillcolor": SERIES["band"],
                "line": {"width": 0},
                "name": "p10–p90 band",
                "hoverinfo": "skip",
            }
        )
    if history:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Actual demand",
                "x": _dates(p for p, _ in history),
                "y": [q for _, q in history],
                "line": {"color": SERIES["history"], "width": 1.6},
                "hovertemplate": X_DATE + ": %{y:,.1f} " + unit + "<extra>actual</extra>",
            }
        )
    if backtest:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Backtest forecast",
                "x": _dates(p for p, _ in backtest),
                "y": [v for _, v in backtest],
                "line": {"color": SERIES["backtest"], "width": 1.4, "dash": "dot"},
                "hovertemplate": X_DATE + ": %{y:,.1f}<extra>backtest</extra>",
            }
        )
    if forecast:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Forecast",
                "x": _dates(f["period"] for f in forecast),
                "y": [f["mean"] for f in forecast],
                "customdata": [[fmt_qty(f["p10"]), fmt_qty(f["p90"])] for f in forecast],
                "line": {"color": SERIES["forecast"], "width": 2.4},
                "hovertemplate": X_DATE + ": %{y:,.1f} (p10 %{customdata[0]}, p90 %{customdata[1]})"
                "<extra>forecast</extra>",
            }
        )
    if overrides:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Planner override",
                "x": _dates(o["period"] for o in overrides),
                "y": [o["qty"] for o in overrides],
                "customdata": [[o["reason"], o["user_email"], fmt_qty(o.get("statistical_qty"))] for o in overrides],
                "marker": {
                    "color": SERIES["override"],
                    "size": 11,
                    "symbol": "diamond",
                    "line": {"color": "#fff", "width": 1},
                },
                "hovertemplate": X_DATE + ": override %{y:,.1f} (statistical %{customdata[2]})"
                "<br>%{customdata[0]} · %{customdata[1]}<extra></extra>",
            }
        )
    shapes = []
    if forecast:
        start = forecast[0]["period"].isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": start,
                "x1": start,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#adb5bd", "width": 1, "dash": "dash"},
            }
        )
    return {
        "data": data,
        "layout": base_layout(
            height=360,
            margin={"l": 10, "r": 10, "t": 30, "b": 30},
            legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
            hovermode="x unified",
            shapes=shapes,
            xaxis={
                "gridcolor": "#eef0f3",
                "rangeselector": {
                    "buttons": [
                        {"count": 6, "label": "6m", "step": "month", "stepmode": "backward"},
                        {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
                        {"count": 2, "label": "2y", "step": "year", "stepmode": "backward"},
                        {"step": "all", "label": "All"},
                    ],
                    "x": 1,
                    "xanchor": "right",
                    "y": 1.02,
                    "yanchor": "bottom",
                    "font": {"size": 11},
                },
            },
            yaxis={
                "title": {"text": f"Demand ({unit}/period)"},
                "gridcolor": "#eef0f3",
                "rangemode": "tozero",
                "automargin": True,
            },
        ),
    }


def projection_figure(projection: Any, *, period_label: str = "period") -> dict[str, Any]:
    """Projected stock with and without the order, the p10-p90 range, safety stock, reorder point, order timing."""
    if projection is None:
        return empty_figure("No projection: this SKU is not in the latest snapshot")
    dates = _dates(projection.dates)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": dates,
            "y": list(projection.low),
            "line": {"width": 0, "shape": "hv"},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": dates,
            "y": list(projection.high),
            "fill": "tonexty",
            "fillcolor": "rgba(31,58,95,0.10)",
            "line": {"width": 0, "shape": "hv"},
            "name": "If demand runs at p90 / p10",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Without a new order",
            "x": dates,
            "y": list(projection.position),
            "line": {"color": SERIES["no_order"], "width": 1.6, "dash": "dot", "shape": "hv"},
            "hovertemplate": X_DATE + ": %{y:,.0f}<extra>no new order</extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Projected stock"
            + (f" with the order of {fmt_qty(projection.order_qty)}" if projection.order_qty else ""),
            "x": dates,
            "y": list(projection.with_order),
            "line": {"color": SERIES["stock"], "width": 2.6, "shape": "hv"},
            "hovertemplate": X_DATE + ": %{y:,.0f}<extra>projected</extra>",
        },
    ]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for key, label, color, anchor in (
        ("reorder_point", "Reorder point", SERIES["reorder_point"], "bottom"),  # label above its line
        ("safety_stock", "Safety stock", SERIES["safety_stock"], "top"),  # and below: they never collide
    ):
        value = getattr(projection, key)
        if value is None:
            continue
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": value,
                "y1": value,
                "line": {"color": color, "width": 1.5, "dash": "dash"},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "y": value,
                "yanchor": anchor,
                "showarrow": False,
                "text": f"{label} {fmt_qty(value)}",
                "font": {"size": 11, "color": color},
            }
        )
    if projection.order_qty > 0:
        start = projection.dates[0]
        per = (projection.dates[1] - projection.dates[0]).days if len(projection.dates) > 1 else 7
        for at, label in ((projection.order_at, "Order"), (projection.arrives_at, "Arrives")):
            when = start + dt.timedelta(days=round(at * per))
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": when.isoformat(),
                    "x1": when.isoformat(),
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": SERIES["order"], "width": 1.5},
                }
            )
            annotations.append(
                {
                    "xref": "x",
                    "yref": "paper",
                    "x": when.isoformat(),
                    "y": 0.99,
                    "yanchor": "top",
                    "xanchor": "left",
                    "showarrow": False,
                    "text": f"{label} {fmt_date(when)}",
                    "font": {"size": 11, "color": SERIES["order"]},
                }
            )
    return {
        "data": data,
        "layout": base_layout(
            margin={"l": 10, "r": 10, "t": 36, "b": 10},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
            hovermode="x unified",
            shapes=shapes,
            annotations=annotations,
            xaxis={"gridcolor": "#eef0f3"},
            yaxis={
                "title": {"text": "Units"},
                "gridcolor": "#eef0f3",
                "zeroline": True,
                "zerolinecolor": "#adb5bd",
                "automargin": True,
            },
        ),
    }
