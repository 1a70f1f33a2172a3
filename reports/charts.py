"""Static matplotlib charts for the briefings, rendered to SVG bytes (fpdf2 embeds them as vectors).

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot global state), so building briefings
from background workers or threads is safe. Sizes are given in millimetres, the unit of the PDF page, so the
chart fonts print at their nominal point size.
"""

from __future__ import annotations

import functools
import io
import math
import re
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reports.data import ForecastSeries, RecommendedOrder, RiskRow, TimeSeries, is_missing
from reports.fonts import find_cjk_font
from reports.formatting import fmt_money_compact
from reports.theme import BRAND, SERIES_COLORS, STATUS_ORDER, status_color, status_label

MM_PER_INCH = 25.4
BASE_FONT_SIZE = 7.5

_METADATA_RE = re.compile(rb"<metadata>.*?</metadata>", re.DOTALL)
# rc_context changes matplotlib's global rcParams: serialise renders so threads cannot see each other's settings
_RENDER_LOCK = threading.Lock()


@functools.cache
def _font_families(cjk_path: str | None) -> tuple[str, ...]:
    """Sans-serif family list: DejaVu Sans, then the CJK font (registered with matplotlib once) when present."""
    families = ["DejaVu Sans"]
    if cjk_path:
        from matplotlib import font_manager

        try:
            font_manager.fontManager.addfont(cjk_path)
            families.append(font_manager.FontProperties(fname=cjk_path).get_name())
        except (OSError, RuntimeError, ValueError):  # unreadable font: charts fall back to DejaVu only
            pass
    return tuple(families)


def _rc(cjk_font_path: str | Path | None) -> dict[str, object]:
    found = find_cjk_font(cjk_font_path)
    return {
        "font.family": "sans-serif",
        "font.sans-serif": list(_font_families(str(found[0]) if found else None)),
        "font.size": BASE_FONT_SIZE,
        "axes.titlesize": BASE_FONT_SIZE + 1,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.titlecolor": BRAND["primary"],
        "axes.labelsize": BASE_FONT_SIZE,
        "axes.labelcolor": BRAND["text"],
        "axes.edgecolor": BRAND["rule"],
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "grid.color": "#e3e7ec",
        "grid.linewidth": 0.6,
        "xtick.color": BRAND["muted"],
        "ytick.color": BRAND["muted"],
        "xtick.labelsize": BASE_FONT_SIZE - 0.5,
        "ytick.labelsize": BASE_FONT_SIZE - 0.5,
        "legend.fontsize": BASE_FONT_SIZE - 0.5,
        "legend.frameon": False,
        "legend.labelcolor": BRAND["text"],
        "text.color": BRAND["text"],
        "svg.fonttype": "path",
        "svg.hashsalt": "inventory-command-center",  # deterministic ids: same input, same bytes
        "axes.unicode_minus": True,
    }


def _figure(width_mm: float, height_mm: float, *, constrained: bool) -> Figure:
    size = (width_mm / MM_PER_INCH, height_mm / MM_PER_INCH)
    return Figure(figsize=size, layout="constrained" if constrained else None)


def _to_svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _METADATA_RE.sub(b"", buffer.getvalue())


def _render(
    draw, *, width_mm: float, height_mm: float, cjk_font_path: str | Path | None, constrained: bool = True
) -> bytes:
    """Draw into a fresh figure under the house rc settings and return SVG bytes.

    ``constrained=False`` skips matplotlib's constrained layout (an extra draw pass, about a third of the time);
    the drawing function then sets the margins itself (see :func:`_finish`).
    """
    with _RENDER_LOCK, matplotlib.rc_context(_rc(cjk_font_path)):
        fig = _figure(width_mm, height_mm, constrained=constrained)
        draw(fig)
        return _to_svg(fig)


def status_distribution_chart(
    counts: Mapping[str, int],
    *,
    width_mm: float = 80,
    height_mm: float = 55,
    cjk_font_path: str | Path | None = None,
) -> bytes:
    """Horizontal bars of SKU counts per status (most urgent on top), labelled ``count (share)``; SVG bytes."""
    statuses = [s for s in STATUS_ORDER] + sorted(s for s in counts if s not in STATUS_ORDER)
    values = [int(counts.get(s, 0)) for s in statuses]
    total = sum(values)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        y = list(range(len(statuses)))[::-1]
        ax.barh(y, values, color=[status_color(s) for s in statuses], height=0.68)
        ax.set_yticks(y, [status_label(s) for s in statuses])
        ax.tick_params(axis="y", length=0, labelcolor=BRAND["text"])
        ax.spines["left"].set_visible(False)
        top = max(values) if values and max(values) > 0 else 1
        bar_labels = [f"{v:,}" + (f" ({v / total:.0%})" if total else "") for v in values]
        axes_mm = _bar_margins(fig, [status_label(s) for s in statuses], title="SKUs by health status")
        ax.set_xlim(0, _headroom(top, axes_mm, bar_labels))
        ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        for yi, value, label in zip(y, values, bar_labels, strict=True):
            ax.text(
                value + top * 0.02,
                yi,
                label,
                va="center",
                fontsize=BASE_FONT_SIZE - 0.5,
                color=BRAND["text"],
            )

    return _render(draw, width_mm=width_mm, height_mm=height_mm, cjk_font_path=cjk_font_path, constrained=False)


def risk_value_chart(
    rows: Sequence[RiskRow],
    *,
    currency_symbol: str = "$",
    width_mm: float = 90,
    height_mm: float = 55,
    cjk_font_path: str | Path | None = None,
) -> bytes:
    """Horizontal bars of value at risk of the top-risk SKUs (in table order, first on top), status-coloured."""
    items = [(r.code, 0.0 if is_missing(r.value_at_risk) else float(r.value_at_risk), r.status) for r in rows]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        y = list(range(len(items)))[::-1]
        values = [v for _, v, _ in items]
        ax.barh(y, values, color=[status_color(s) for _, _, s in items], height=0.68)
        ax.set_yticks(y, [_shorten(code, 14) for code, _, _ in items])
        ax.tick_params(axis="y", length=0, labelcolor=BRAND["text"])
        ax.spines["left"].set_visible(False)
        top = max(values) if values and max(values) > 0 else 1.0
        axes_mm = _bar_margins(
            fig, [_shorten(code, 14) for code, _, _ in items], title="Value at risk of the top-risk SKUs", char_mm=1.8
        )
        ax.set_xlim(0, _headroom(top, axes_mm, [fmt_money_compact(v, currency_symbol) for v in values]))
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _compact_tick(v, currency_symbol)))
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        for yi, value in zip(y, values, strict=True):
            ax.text(
                value + top * 0.02,
                yi,
                fmt_money_compact(value, currency_symbol),
                va="center",
                fontsize=BASE_FONT_SIZE - 0.5,
                color=BRAND["text"],
            )

    return _render(draw, width_mm=width_mm, height_mm=height_mm, cjk_font_path=cjk_font_path, constrained=False)


def demand_forecast_chart(
    history: TimeSeries,
    forecast: ForecastSeries,
    overrides: TimeSeries,
    *,
    data_as_of: date | None = None,
    title: str | None = None,
    width_mm: float = 180,
    height_mm: float = 62,
    cjk_font_path: str | Path | None = None,
) -> bytes:
    """Demand history, forecast mean with its p10-p90 band and planner overrides; SVG bytes."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        c = SERIES_COLORS
        if len(history):
            ax.plot(history.dates, history.values, color=c["history"], linewidth=0.9, label="Actual demand")
        if len(forecast):
            ax.fill_between(
                forecast.dates, forecast.p10, forecast.p90, color=c["band"], alpha=0.55, linewidth=0, label="p10 to p90"
            )
            dates, mean = list(forecast.dates), list(forecast.mean)
            if len(history):  # join the forecast to the last actual so the line is continuous
                dates.insert(0, history.dates[-1])
                mean.insert(0, history.values[-1])
            ax.plot(dates, mean, color=c["forecast"], linewidth=1.4, label="Forecast")
        if len(overrides):
            ax.plot(
                overrides.dates,
                overrides.values,
                linestyle="none",
                marker="D",
                markersize=3.2,
                color=c["override"],
                label="Planner override",
            )
        if data_as_of is not None and (len(history) or len(forecast)):
            ax.axvline(data_as_of, color=BRAND["muted"], linewidth=0.7, linestyle=":", label="Data as of")
        if not (len(history) or len(forecast)):
            _no_data(ax, "No demand history")
        ax.set_ylim(bottom=0)
        _finish(ax, ylabel="Units per period", title=title)

    return _render(draw, width_mm=width_mm, height_mm=height_mm, cjk_font_path=cjk_font_path, constrained=False)


def stock_projection_chart(
    projected_stock: TimeSeries,
    *,
    safety_stock: float | None,
    reorder_point: float | None,
    order: RecommendedOrder | None = None,
    title: str | None = None,
    width_mm: float = 180,
    height_mm: float = 58,
    cjk_font_path: str | Path | None = None,
) -> bytes:
    """Projected stock path with the safety-stock and reorder-point lines and the recommended order; SVG bytes.

    The order is drawn as a shaded window from its order-by date to its arrival (when known) with a marker on the
    stock path where it arrives.
    """

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        c = SERIES_COLORS
        values = [v for v in projected_stock.values if not math.isnan(v)]
        if not values:
            _no_data(ax, "No stock projection")
            _finish(ax, ylabel="Units", title=title)
            return
        ax.step(
            projected_stock.dates,
            projected_stock.values,
            where="post",
            color=c["stock"],
            linewidth=1.4,
            label="Projected stock",
        )
        ax.fill_between(
            projected_stock.dates, projected_stock.values, 0, step="post", color=c["stock"], alpha=0.06, linewidth=0
        )
        if not is_missing(reorder_point):
            ax.axhline(
                reorder_point,
                color=c["reorder_point"],
                linestyle="--",
                linewidth=1.0,
                label=f"Reorder point {reorder_point:,.0f}",
            )
        if not is_missing(safety_stock):
            ax.axhline(
                safety_stock,
                color=c["safety_stock"],
                linestyle=":",
                linewidth=1.2,
                label=f"Safety stock {safety_stock:,.0f}",
            )
        if order is not None and order.qty > 0:
            label = f"Order {order.qty:,.0f} by {order.order_by.isoformat()}"
            if order.arrival is not None and order.arrival > order.order_by:
                ax.axvspan(order.order_by, order.arrival, color=c["order"], alpha=0.12, linewidth=0, label=label)
                ax.plot(
                    [order.arrival],
                    [_value_at(projected_stock, order.arrival)],
                    marker="^",
                    markersize=5,
                    color=c["order"],
                    linestyle="none",
                )
            else:
                ax.axvline(order.order_by, color=c["order"], linewidth=1.0, linestyle="-.", label=label)
        low = min(0.0, min(values))
        if low < 0:
            ax.axhline(0, color=BRAND["text"], linewidth=0.6)
            ax.set_ylim(bottom=low * 1.1)
        else:
            ax.set_ylim(bottom=0)
        _finish(ax, ylabel="Units", title=title)

    return _render(draw, width_mm=width_mm, height_mm=height_mm, cjk_font_path=cjk_font_path, constrained=False)


# --------------------------------------------------------------------------------------------- helpers


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=BRAND["muted"])
    ax.set_xticks([])
    ax.set_yticks([])


def _finish(ax, *, ylabel: str, title: str | None) -> None:
    """Shared styling of the time-series charts: y grid, thousands ticks, concise dates, legend above the plot,
    and fixed margins in millimetres (left margin sized to the longest y tick label)."""
    if ax.get_yticks().size:
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(axis="y")
    ax.set_axisbelow(True)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, pad=14)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncols=len(handles),
            borderaxespad=0.2,
            handlelength=1.8,
            columnspacing=1.4,
        )
    if ax.get_xticks().size:
        _date_axis(ax)
    fig = ax.figure
    width_mm, height_mm = fig.get_figwidth() * MM_PER_INCH, fig.get_figheight() * MM_PER_INCH
    low, high = ax.get_ylim()
    formatter = ax.yaxis.get_major_formatter()
    tick_chars = max((len(formatter(v, i)) for i, v in enumerate(ax.get_yticks()) if low <= v <= high), default=1)
    left = 3.5 + 4.0 + tick_chars * 1.5  # label + pad + digits at 7 pt
    top = (5.5 if handles else 1.5) + (6.0 if title else 0.0)
    fig.subplots_adjust(left=left / width_mm, right=1 - 2.5 / width_mm, bottom=6.5 / height_mm, top=1 - top / height_mm)


def _bar_margins(fig: Figure, labels: Sequence[str], *, title: str, char_mm: float = 1.55) -> float:
    """Fixed margins of a horizontal bar chart (left margin sized to the longest category label) and its title at
    the figure's top left; returns the width of the axes in millimetres."""
    width_mm, height_mm = fig.get_figwidth() * MM_PER_INCH, fig.get_figheight() * MM_PER_INCH
    fig.text(
        1.0 / width_mm,
        1 - 1.0 / height_mm,
        title,
        ha="left",
        va="top",
        fontsize=BASE_FONT_SIZE + 1,
        fontweight="bold",
        color=BRAND["primary"],
    )
    left = min(3.0 + max((len(label) for label in labels), default=4) * char_mm, width_mm * 0.45)
    right = 2.0
    fig.subplots_adjust(
        left=left / width_mm, right=1 - right / width_mm, bottom=6.0 / height_mm, top=1 - 6.5 / height_mm
    )
    return width_mm - left - right


def _headroom(top: float, axes_mm: float, labels: Sequence[str]) -> float:
    """Upper x limit so that the longest value label (about 1.35 mm per character at 6.5 pt) fits after its bar."""
    label_mm = max((len(label) for label in labels), default=0) * 1.35 + 2.0
    share = max(axes_mm - label_mm, axes_mm * 0.4) / axes_mm
    return top / share


def _compact_tick(value: float, symbol: str) -> str:
    """Axis tick in compact money: ``6000`` -> ``$6k``, ``12500`` -> ``$12.5k``."""
    if value == 0:
        return f"{symbol}0"
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{symbol}{value / threshold:g}{suffix}"
    return f"{symbol}{value:g}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _value_at(series: TimeSeries, when: date) -> float:
    """Value of a step series at ``when`` (last point on or before it; first point if earlier)."""
    value = series.values[0]
    for d, v in zip(series.dates, series.values, strict=True):
        if d > when:
            break
        value = v
    return value


def _date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
