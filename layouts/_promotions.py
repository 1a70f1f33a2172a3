"""The SKU page's promotions on the history / forecast chart (issue 20): past promotions shaded grey, planned ones
shaded amber, the selling price as a line on a right-hand axis and the uplift of each planned period (the units
the plan adds to the forecast) as bars. ``add_promotions`` takes the figure of ``layouts._charts.history_figure``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import formats
from db.session import session_scope
from services.promotions import promotion_rows

PAST_FILL = "rgba(108, 117, 125, 0.12)"
PLANNED_FILL = "rgba(255, 159, 28, 0.22)"
PRICE_COLOR = "#6f42c1"
UPLIFT_COLOR = "rgba(255, 159, 28, 0.85)"
X_DATE = "%{x|" + formats.PLOTLY_DATE + "}"


def _spans(rows: list[dict[str, Any]], step_days: float) -> list[tuple[dt.date, dt.date, bool]]:
    """(start, end, planned) of each run of consecutive promoted periods."""
    spans: list[tuple[dt.date, dt.date, bool]] = []
    step = dt.timedelta(days=max(step_days, 1.0))
    for row in rows:
        if not row["promoted"]:
            continue
        day = dt.date.fromisoformat(row["date"])
        if spans and spans[-1][2] == row["planned"] and day - spans[-1][1] <= step:
            spans[-1] = (spans[-1][0], day + step, row["planned"])
        else:
            spans.append((day, day + step, row["planned"]))
    return spans


def add_promotions(
    figure: dict[str, Any], *, code: str, forecast: list[dict[str, Any]], step_days: float
) -> dict[str, Any]:
    """``figure`` with the SKU's promotions, price line and planned uplift (unchanged when it has none)."""
    with session_scope() as session:
        rows = promotion_rows(session=session, sku_code=code)
    start = forecast[0]["period"] if forecast else None
    for row in rows:
        row["planned"] = start is not None and dt.date.fromisoformat(row["date"]) >= start
    uplift = [f for f in forecast if (f.get("uplift") or 0) > 0.05]
    if not rows and not uplift:
        return figure
    layout = figure.setdefault("layout", {})
    shapes = list(layout.get("shapes", []))
    for lo, hi, planned in _spans(rows, step_days):
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": lo.isoformat(),
                "x1": hi.isoformat(),
                "y0": 0,
                "y1": 1,
                "fillcolor": PLANNED_FILL if planned else PAST_FILL,
                "line": {"width": 0},
                "layer": "below",
            }
        )
    layout["shapes"] = shapes
    data = figure.setdefault("data", [])
    priced = [r for r in rows if r["price"] is not None]
    if priced:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Price",
                "x": [r["date"] for r in priced],
                "y": [r["price"] for r in priced],
                "yaxis": "y2",
                "line": {"color": PRICE_COLOR, "width": 1.2, "shape": "hv"},
                "hovertemplate": X_DATE + ": price %{y:,.2f}<extra></extra>",
            }
        )
        layout["yaxis2"] = {"overlaying": "y", "side": "right", "showgrid": False, "title": {"text": "Price"}}
    if uplift:
        data.append(
            {
                "type": "bar",
                "name": "Promotion uplift",
                "x": [f["period"].isoformat() for f in uplift],
                "y": [f["uplift"] for f in uplift],
                "marker": {"color": UPLIFT_COLOR},
                "hovertemplate": X_DATE + ": +%{y:,.1f} from planned promotions<extra></extra>",
            }
        )
    return figure
