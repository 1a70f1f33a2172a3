"""Palette, formatting, input validation, fonts and charts of the briefings."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from reports import charts, fonts
from reports.data import ForecastSeries, PortfolioKpis, PurchaseOrderLine, RecommendedOrder, RiskRow, TimeSeries
from reports.formatting import (
    fmt_change,
    fmt_date,
    fmt_datetime,
    fmt_days,
    fmt_int,
    fmt_money,
    fmt_money_compact,
    fmt_num,
    fmt_pct,
    fmt_qty,
    fmt_signed_pct,
)
from reports.theme import STATUS_COLORS, STATUS_LABELS, STATUS_ORDER, hex_to_rgb, status_color, status_label, tint

# ------------------------------------------------------------------------------------------------ theme


def test_palette_covers_every_status() -> None:
    assert set(STATUS_ORDER) == {"stockout_risk", "surge", "low_velocity", "dead_stock", "overstock", "normal"}
    assert set(STATUS_COLORS) == set(STATUS_ORDER) == set(STATUS_LABELS)
    assert STATUS_COLORS["stockout_risk"] == "#d62728"
    r, g, b = hex_to_rgb(STATUS_COLORS["normal"])
    assert g > r and g > b  # green
    r, g, b = hex_to_rgb(STATUS_COLORS["overstock"])
    assert r > g and b > g  # purple
    assert status_color("unknown") != status_color("normal")
    assert status_label("stockout_risk") == "Stockout risk"
    assert status_label("new_state") == "New state"


def test_hex_to_rgb_and_tint() -> None:
    assert hex_to_rgb("#d62728") == (214, 39, 40)
    assert hex_to_rgb("#fff") == (255, 255, 255)
    assert tint("#000000", 1.0) == (255, 255, 255)
    assert tint("#d62728", 0.0) == (214, 39, 40)
    with pytest.raises(ValueError, match="color"):
        hex_to_rgb("#12345")
    with pytest.raises(ValueError, match="color"):
        hex_to_rgb("#zzzzzz")
    with pytest.raises(ValueError, match="amount"):
        tint("#000000", 1.5)


# ------------------------------------------------------------------------------------------------ formatting


def test_number_formats() -> None:
    assert fmt_int(1234.4) == "1,234"
    assert fmt_int(None) == "–"
    assert fmt_int(float("nan")) == "–"
    assert fmt_num(3.456) == "3.5"
    assert fmt_num(1234.5, 2) == "1,234.50"
    assert fmt_qty(120.0) == "120"
    assert fmt_qty(12.5) == "12.5"
    assert fmt_qty(math.inf) == "∞"
    assert fmt_money(1234567.8) == "$1,234,568"
    assert fmt_money(-50, "€") == "-€50"
    assert fmt_money_compact(1_234_567) == "$1.23M"
    assert fmt_money_compact(45_600) == "$45.6k"
    assert fmt_money_compact(950) == "$950"
    assert fmt_pct(0.9534) == "95.3%"
    assert fmt_signed_pct(45.2) == "+45%"
    assert fmt_signed_pct(-7.8) == "-8%"
    assert fmt_days(3.24) == "3.2"
    assert fmt_days(212.4) == "212"
    assert fmt_days(math.inf) == "∞"
    assert fmt_days(1e6) == ">9,999"


def test_date_formats() -> None:
    assert fmt_date(date(2026, 3, 1)) == "2026-03-01"
    assert fmt_date(datetime(2026, 3, 1, 12)) == "2026-03-01"
    # naive times are UTC as stored: the PDF reads like the pages (one format, core.formats; issue 15 item 7)
    assert fmt_datetime(datetime(2026, 3, 1, 9, 5)) == "2026-03-01 09:05 UTC"
    assert fmt_datetime(datetime(2026, 3, 1, 9, 5, tzinfo=UTC)) == "2026-03-01 09:05 UTC"


def test_change_formats() -> None:
    assert fmt_change(1250, 1238, kind="count") == "+12"
    assert fmt_change(100.0, 110.0, kind="money") == "-$10 (-9.1%)"
    assert fmt_change(100.0, 0.0, kind="money") == "+$100"
    assert fmt_change(9.87e9, 2.0e9, kind="money") == "+$7.87B (+393.5%)"
    assert fmt_change(0.962, 0.948, kind="fraction") == "+1.4 pp"
    assert fmt_change(7.4, 7.3, kind="number") == "+0.1"
    assert fmt_change(None, 1.0, kind="number") == "–"
    with pytest.raises(ValueError, match="kind"):
        fmt_change(1.0, 2.0, kind="ratio")


# ------------------------------------------------------------------------------------------------ data


def test_series_normalise_dates_and_check_lengths() -> None:
    series = TimeSeries(pd.date_range("2026-01-05", periods=3, freq="W-MON"), np.array([1, 2, 3]))
    assert series.dates[0] == date(2026, 1, 5)
    assert series.values == (1.0, 2.0, 3.0)
    series = TimeSeries(np.array(["2026-01-05", "2026-01-12"], dtype="datetime64[D]"), [1, None])
    assert series.dates == (date(2026, 1, 5), date(2026, 1, 12))
    assert math.isnan(series.values[1])
    with pytest.raises(ValueError, match="values"):
        TimeSeries([date(2026, 1, 5)], [1.0, 2.0])
    with pytest.raises(ValueError, match="p90"):
        ForecastSeries([date(2026, 1, 5)], [1.0], [0.5], [])
    with pytest.raises(ValueError, match="dates"):
        TimeSeries([object()], [1.0])


def test_order_dates_accept_timestamps() -> None:
    line = PurchaseOrderLine("S", "A", "a", 5, pd.Timestamp("2026-03-01 10:00"), 1.0)  # type: ignore[arg-type]
    assert line.order_by == date(2026, 3, 1)
    order = RecommendedOrder(10, "2026-03-01", arrival=datetime(2026, 3, 8, 9))  # type: ignore[arg-type]
    assert order.order_by == date(2026, 3, 1) and order.arrival == date(2026, 3, 8)


def test_kpis_from_engine_mapping() -> None:
    kpis = PortfolioKpis.from_mapping(
        {
            "sku_count": 10.0,
            "inventory_value": 5000.0,
            "value_at_risk": float("nan"),
            "fill_rate": 0.95,
            "turns": 6.0,
            "days_of_supply": 40.0,
            "wape": 0.3,
            "count_stockout_risk": 2.0,
            "count_normal": 8.0,
            "count_quarantined": 1.0,
            "excess_value": 12.0,
        }
    )
    assert kpis.sku_count == 10
    assert kpis.value_at_risk is None
    assert kpis.count("stockout_risk") == 2 and kpis.count("surge") == 0 and kpis.count("quarantined") == 1
    with pytest.raises(ValueError, match="sku_count"):
        PortfolioKpis(-1, None, None, None, None, None, None)


# ------------------------------------------------------------------------------------------------ fonts


def test_fonts_exist_and_cover_latin() -> None:
    found = fonts.font_set()
    for path in (found.regular, found.bold):
        assert path.is_file(), path
    covered = fonts.dejavu_codepoints()
    assert {ord(c) for c in "Café crème σ √ ∞ € ±"} <= covered
    assert fonts.missing_chars("Café 東京", covered) == {"東", "京"}


def test_find_cjk_font_prefers_explicit_path(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = tmp_path / "my.ttf"
    explicit.write_bytes(b"x")
    assert fonts.find_cjk_font(explicit) == (explicit, 0)
    monkeypatch.setattr(fonts, "CJK_FONT_CANDIDATES", ())
    assert fonts.find_cjk_font(tmp_path / "missing.ttf") is None


def test_cjk_font_covers_cjk(needs_cjk_font: None) -> None:
    path, index = fonts.find_cjk_font()  # type: ignore[misc]
    assert {ord("東"), ord("京")} <= fonts.font_codepoints(path, index)


# ------------------------------------------------------------------------------------------------ charts


def _series() -> tuple[TimeSeries, ForecastSeries, TimeSeries]:
    hist_dates = pd.date_range("2025-01-06", periods=30, freq="W-MON")
    fc_dates = pd.date_range(hist_dates[-1] + pd.Timedelta(weeks=1), periods=8, freq="W-MON")
    history = TimeSeries(hist_dates, np.linspace(10, 40, 30))
    forecast = ForecastSeries(fc_dates, [40.0] * 8, [30.0] * 8, [52.0] * 8)
    return history, forecast, TimeSeries(fc_dates[:1], [45.0])


def _is_svg(data: bytes) -> bool:
    return b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>") and b"<metadata>" not in data


def test_status_chart_uses_status_colours() -> None:
    svg = charts.status_distribution_chart({"stockout_risk": 5, "normal": 20})
    assert _is_svg(svg)
    for status in ("stockout_risk", "normal", "overstock"):
        assert STATUS_COLORS[status].encode() in svg
    assert charts.status_distribution_chart({"stockout_risk": 5, "normal": 20}) == svg  # deterministic
    assert _is_svg(charts.status_distribution_chart({}))  # all zero


def test_risk_chart() -> None:
    rows = [RiskRow("A", "a", "c", "surge", "r", 100.0, 1.0), RiskRow("B", "b", "c", "overstock", "r", None, None)]
    svg = charts.risk_value_chart(rows)
    assert _is_svg(svg)
    assert STATUS_COLORS["surge"].encode() in svg and STATUS_COLORS["overstock"].encode() in svg


def test_time_series_charts_including_empty_inputs() -> None:
    history, forecast, overrides = _series()
    assert _is_svg(charts.demand_forecast_chart(history, forecast, overrides, data_as_of=history.dates[-1]))
    assert _is_svg(charts.demand_forecast_chart(TimeSeries.empty(), ForecastSeries.empty(), TimeSeries.empty()))
    order = RecommendedOrder(50, forecast.dates[0], arrival=forecast.dates[2])
    stock = TimeSeries(forecast.dates, [60, 20, 70, 30, -5, 40, 10, 0])
    assert _is_svg(charts.stock_projection_chart(stock, safety_stock=10, reorder_point=25, order=order))
    assert _is_svg(charts.stock_projection_chart(TimeSeries.empty(), safety_stock=None, reorder_point=None))
