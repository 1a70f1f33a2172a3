"""Typed, compact facts for the narrative, built from snapshot rows.

The facts are the only thing a narrative may talk about: the prompt sends them as JSON, the offline writer turns
them into prose and the grounding check accepts a number in a text only if it matches one of them.

Rounding (the facts hold numbers exactly as a text may quote them):

- units (demand per period, safety stock, reorder point, on hand, order quantity, their changes) and days
  (days of cover, lead time in days): whole numbers when the absolute value is 10 or more, else 1 decimal
  (``round_units``), so a slow mover selling 0.4 a week is not rounded to 0;
- percentages (demand trend, fill rate, risk concentration, their changes in points): 1 decimal (``round_pct``);
- ratios (forecast-error CV): 2 decimals; z-scores and lead time in periods: 1 decimal;
- money (inventory value, value at risk, excess value, their changes): whole currency units (``round_money``);
- counts: integers.

A text may format these with thousands separators (1,234), a currency symbol ($1,234), a % sign, or abbreviate
thousands / millions (1.2k, $3.4m); it may drop decimals (12.5% -> 13%) and quote a change without its sign
("down 4.2%"). ``ai.grounding`` implements exactly these allowances.

Snapshot columns are those of docs/engine-contract.md; ``name``, ``category`` and ``code`` may also be present in a
row. Missing columns, None, NaN and infinities become None in the facts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from core.calendar import GRAIN_DAYS

from . import wording

STATUSES: tuple[str, ...] = ("stockout_risk", "surge", "low_velocity", "dead_stock", "overstock", "normal")
"""Health statuses of the engine, in the order texts list them."""

PERIOD_WORD: dict[str, str] = {"daily": "day", "weekly": "week", "monthly": "month"}
CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


Number = int | float

# ---------------------------------------------------------------------------------------------------------------
# rounding and formatting (shared by the offline writer; the grounding check accepts every format produced here)
# ---------------------------------------------------------------------------------------------------------------


def _clean(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None for None / NaN / inf / non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _tidy(number: float) -> Number:
    """Return an int when ``number`` is integral (so JSON shows 120, not 120.0); normalise -0.0 to 0."""
    if number == 0:
        return 0
    return int(number) if float(number).is_integer() else number


def round_units(value: Any) -> Number | None:
    """Round a quantity of units or days: whole numbers from 10 up, 1 decimal below 10 (None if undefined)."""
    number = _clean(value)
    if number is None:
        return None
    return _tidy(float(round(number))) if abs(number) >= 10 else _tidy(round(number, 1))


def round_pct(value: Any) -> Number | None:
    """Round a percentage (already x100) to 1 decimal (None if undefined)."""
    number = _clean(value)
    return None if number is None else _tidy(round(number, 1))


def round_ratio(value: Any, *, decimals: int = 2) -> Number | None:
    """Round a ratio to ``decimals`` decimals (None if undefined)."""
    number = _clean(value)
    return None if number is None else _tidy(round(number, decimals))


def round_money(value: Any) -> int | None:
    """Round money to whole currency units (None if undefined)."""
    number = _clean(value)
    return None if number is None else int(round(number))


def fmt_number(value: Number) -> str:
    """Format a fact number as quoted: thousands separators, decimals kept as rounded (1234 -> '1,234')."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text


def fmt_money(value: Number, *, currency: str = "USD") -> str:
    """Format money: currency symbol (or ISO code) and thousands separators, sign in front ('-$1,234')."""
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), "")
    body = fmt_number(abs(value))
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency.upper()}"


def fmt_pct(value: Number) -> str:
    """Format a percentage fact ('12.5%')."""
    return f"{fmt_number(value)}%"


# ---------------------------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------------------------


class _Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SkuBrief(_Facts):
    """A small SKU entry for the portfolio's top movers and top risks."""

    code: str
    name: str
    status: str
    demand_recent: Number | None = Field(None, description="mean units per period over the recent window")
    demand_trend_pct: Number | None = Field(None, description="recent vs baseline demand, % (None if baseline is 0)")
    value_at_risk: int | None = None
    days_of_cover: Number | None = None


class SkuFacts(_Facts):
    """Facts about one SKU (one snapshot row, optionally compared with the previous run's row)."""

    scope: Literal["sku"] = "sku"
    code: str
    name: str
    category: str | None = None
    currency: str = "USD"
    period: str = Field("week", description="the data's period: day, week or month")
    status: str
    status_reason: str | None = None
    previous_status: str | None = None
    demand_class: str | None = None
    abc: str | None = None
    xyz: str | None = None
    demand_recent: Number | None = Field(None, description="mean units per period, recent window")
    demand_baseline: Number | None = Field(None, description="mean units per period, baseline window")
    demand_trend_pct: Number | None = Field(None, description="(recent - baseline) / baseline x 100")
    forecast_per_period: Number | None = None
    volatility_cv: Number | None = Field(None, description="forecast-error sigma / demand level")
    volatility_level: Literal["low", "moderate", "high"] | None = None
    volatility_word: str | None = Field(None, description="the CV's word: stable, variable or volatile (ai.wording)")
    adi: Number | None = Field(None, description="mean interval between periods with demand")
    demand_pattern_word: str | None = Field(None, description="regular or intermittent (ai.wording, by ADI)")
    cover_vs_lead_time: Literal["short", "adequate", "long"] | None = Field(
        None, description="days of cover against the lead time in days (ai.wording): short = below the lead time"
    )
    inventory_position: Number | None = Field(None, description="on hand + on order")
    stockout_rule: Literal["reorder_point", "cover", "reorder_point_and_cover"] | None = Field(
        None, description="which stockout rule fired: position at or below the reorder point, cover below lead time"
    )
    volatility_cv_change: Number | None = Field(None, description="CV now minus CV at the previous run")
    surge_z: Number | None = Field(None, description="recent demand above forecast, in sigmas")
    safety_stock: Number | None = None
    safety_stock_change: Number | None = None
    reorder_point: Number | None = None
    reorder_point_change: Number | None = None
    on_hand: Number | None = None
    recommended_qty: Number | None = None
    one_shot: bool = Field(
        False, description="a one-time seasonal buy ordered with newsvendor_qty: no reorder point, no replenishment"
    )
    newsvendor_qty: Number | None = Field(None, description="the season's order-up-to quantity (one_shot SKUs only)")
    value_at_risk: int | None = None
    value_at_risk_change: int | None = None
    days_of_cover: Number | None = None
    lead_time_days: Number | None = None
    lead_time_periods: Number | None = None
    forecast_model: str | None = None
    periods_since_last_sale: int | None = None
    incomplete_master_data: list[str] = Field(
        default_factory=list,
        description="master-data fields still at their defaults (unit cost, category, lead time, supplier); with the "
        "unit cost among them every money value of this SKU is unknown (null), never $0",
    )
    planned_promotion_units: Number | None = Field(
        None, description="units the planned promotions add to the forecast over the horizon (none planned: null)"
    )
    planned_promotion_from: date | None = Field(None, description="the first forecast period a promotion raises")


class PortfolioFacts(_Facts):
    """Facts about the whole portfolio of one run (optionally compared with the previous run)."""

    scope: Literal["portfolio"] = "portfolio"
    as_of: date | None = None
    currency: str = "USD"
    period: str = "week"
    sku_count: int
    status_counts: dict[str, int]
    status_count_changes: dict[str, int] | None = None
    inventory_value: int | None = None
    inventory_value_change: int | None = None
    value_at_risk: int | None = None
    value_at_risk_change: int | None = None
    excess_value: int | None = None
    fill_rate_pct: Number | None = None
    fill_rate_change_pts: Number | None = None
    risk_concentration_pct: Number | None = Field(None, description="share of value at risk held by top_risks, %")
    top_movers: list[SkuBrief] = Field(default_factory=list)
    top_risks: list[SkuBrief] = Field(default_factory=list)
    incomplete_master_data_skus: int = Field(0, description="SKUs with some master data at its defaults")
    unit_cost_missing_skus: int = Field(
        0, description="SKUs without a unit cost: their stock and risk are not in the money values"
    )


Facts = SkuFacts | PortfolioFacts

# ---------------------------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------------------------

Row = Mapping[str, Any] | pd.Series


def _get(row: Row | None, key: str) -> Any:
    if row is None:
        return None
    try:
        return row.get(key)
    except AttributeError:  # pragma: no cover - defensive for exotic row types
        return None


def _num(row: Row | None, key: str) -> float | None:
    return _clean(_get(row, key))


def _text(row: Row | None, key: str) -> str | None:
    value = _get(row, key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(round(value))


def _diff(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def _trend_pct(recent: float | None, baseline: float | None) -> float | None:
    if recent is None or baseline is None or baseline <= 0:
        return None
    return (recent - baseline) / baseline * 100.0


def _cv(row: Row | None) -> float | None:
    """Forecast-error CV = sigma / level, level = forecast per period, else the baseline mean (None if both 0)."""
    levels = (_num(row, key) for key in ("forecast_per_period", "demand_baseline", "demand_recent"))
    return wording.forecast_cv(_num(row, "sigma"), *levels)


def _volatility_level(cv: float | None) -> Literal["low", "moderate", "high"] | None:
    """The CV band's key (:func:`ai.wording.cv_band`, compared as quoted: a CV of 1 is 'high')."""
    band = wording.cv_band(cv)
    return None if band is None else band.key  # type: ignore[return-value]


def _stockout_rule(row: Row, lead_days: float | None) -> str | None:
    """Which of the engine's stockout rules fired (core.health): the position at or below the reorder point, the
    on-hand cover below the lead time, or both; None for other statuses and one-shot SKUs."""
    if _text(row, "status") != "stockout_risk" or _text(row, "order_policy") == "newsvendor":
        return None
    position, rop, cover = _num(row, "inventory_position"), _num(row, "reorder_point"), _num(row, "days_of_cover")
    if position is None:
        on_hand, on_order = _num(row, "on_hand"), _num(row, "on_order")
        position = None if on_hand is None else on_hand + (on_order or 0.0)
    below = position is not None and rop is not None and rop > 0 and position <= rop
    short = cover is not None and lead_days is not None and cover < lead_days
    if below and short:
        return "reorder_point_and_cover"
    return "reorder_point" if below else ("cover" if short else None)


def _cover_key(days_of_cover: float | None, lead_days: float | None) -> Any:
    band = wording.cover_band(days_of_cover, lead_days)
    return None if band is None else band.key


def _check_grain(grain: str) -> None:
    if grain not in GRAIN_DAYS:
        raise ValueError(f"grain must be one of {sorted(GRAIN_DAYS)}, got {grain!r}")


def _row_code(row: Row) -> str | None:
    code = _text(row, "code") or _text(row, "sku")
    if code is None and isinstance(row, pd.Series) and row.name is not None:
        code = str(row.name)
    return code


def sku_facts(
    *,
    row: Row,
    previous: Row | None = None,
    code: str | None = None,
    name: str | None = None,
    category: str | None = None,
    grain: str = "weekly",
    currency: str = "USD",
    defaulted_fields: Sequence[str] = (),
) -> SkuFacts:
    """Build the facts of one SKU from its snapshot row.

    Parameters
    ----------
    row : mapping or pandas.Series
        The SKU's snapshot row (columns per docs/engine-contract.md). ``code`` / ``name`` / ``category`` are read from
        the row when not given (a Series' index label is taken as the code).
    previous : mapping or pandas.Series, optional
        The same SKU's row of the previous run; changes are None without it.
    code, name, category : str, optional
        Override the row's identity fields (the name defaults to the code).
    grain : {"daily", "weekly", "monthly"}
        The data's grain: names the period and converts the lead time to days.
    currency : str
        ISO currency code of the money figures.
    defaulted_fields : sequence of str
        Master-data fields still at their defaults (``sku.defaulted_fields``, labels such as "unit cost"); with the
        unit cost among them the money facts (value at risk and its change) are None: a $0 value is not a fact.

    Returns
    -------
    SkuFacts
        Rounded as documented in the module docstring. Trend = (recent - baseline) / baseline x 100;
        volatility CV = sigma / forecast per period (baseline mean if the forecast is 0).
    """
    _check_grain(grain)
    code = code or _row_code(row)
    if not code:
        raise ValueError("code is required (pass code= or a row with a 'code' field or index label)")
    status = _text(row, "status") or "normal"
    if status not in STATUSES:
        raise ValueError(f"row has an unknown status {status!r}; expected one of {STATUSES}")
    recent, baseline = _num(row, "demand_recent"), _num(row, "demand_baseline")
    cv_now, cv_before = _cv(row), _cv(previous)
    lead_periods = _num(row, "lead_time_periods")
    lead_days = None if lead_periods is None else lead_periods * GRAIN_DAYS[grain]
    rounded = {key: round_units(_num(row, key)) for key in ("safety_stock", "reorder_point")}
    before = {key: round_units(_num(previous, key)) for key in ("safety_stock", "reorder_point")}
    var_now, var_before = round_money(_num(row, "value_at_risk")), round_money(_num(previous, "value_at_risk"))
    if "unit cost" in defaulted_fields:  # the value is quantity x an unknown cost: unknown, not $0
        var_now = var_before = None
    one_shot = _text(row, "order_policy") == "newsvendor"
    return SkuFacts(
        code=code,
        name=name or _text(row, "name") or code,
        category=category or _text(row, "category"),
        currency=currency.upper(),
        period=PERIOD_WORD[grain],
        status=status,
        status_reason=_text(row, "status_reason"),
        previous_status=_text(previous, "status"),
        demand_class=_text(row, "demand_class"),
        abc=_text(row, "abc"),
        xyz=_text(row, "xyz"),
        demand_recent=round_units(recent),
        demand_baseline=round_units(baseline),
        demand_trend_pct=round_pct(_trend_pct(recent, baseline)),
        forecast_per_period=round_units(_num(row, "forecast_per_period")),
        volatility_cv=round_ratio(cv_now),
        volatility_level=_volatility_level(cv_now),
        volatility_word=wording.word(wording.cv_band(cv_now)) or None,
        adi=round_ratio(_num(row, "adi")),
        demand_pattern_word=wording.word(wording.adi_band(_num(row, "adi"))) or None,
        cover_vs_lead_time=_cover_key(_num(row, "days_of_cover"), lead_days),
        inventory_position=round_units(_num(row, "inventory_position")),
        stockout_rule=_stockout_rule(row, lead_days),  # type: ignore[arg-type]
        volatility_cv_change=round_ratio(_diff(round_ratio(cv_now), round_ratio(cv_before))),
        surge_z=round_ratio(_num(row, "surge_z"), decimals=1),
        safety_stock=rounded["safety_stock"],
        safety_stock_change=round_units(_diff(rounded["safety_stock"], before["safety_stock"])),
        reorder_point=rounded["reorder_point"],
        reorder_point_change=round_units(_diff(rounded["reorder_point"], before["reorder_point"])),
        on_hand=round_units(_num(row, "on_hand")),
        recommended_qty=round_units(_num(row, "recommended_qty")),
        one_shot=one_shot,
        newsvendor_qty=round_units(_num(row, "newsvendor_qty")) if one_shot else None,
        value_at_risk=var_now,
        value_at_risk_change=round_money(_diff(var_now, var_before)),
        days_of_cover=round_units(_num(row, "days_of_cover")),
        lead_time_days=round_units(lead_days),
        lead_time_periods=round_ratio(lead_periods, decimals=1),
        forecast_model=_text(row, "forecast_model"),
        periods_since_last_sale=_int_or_none(_num(row, "periods_since_last_sale")),
        incomplete_master_data=list(defaulted_fields),
    )


def _as_frame(snapshot: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    if isinstance(snapshot, pd.DataFrame):
        frame = snapshot
        if "code" not in frame.columns:
            frame = frame.assign(code=[str(label) for label in frame.index])
        return frame.reset_index(drop=True)
    frame = pd.DataFrame(list(snapshot))
    if "code" not in frame.columns:
        raise ValueError("snapshot rows need a 'code' field (or pass a DataFrame indexed by code)")
    return frame


def _column(frame: pd.DataFrame, key: str) -> pd.Series:
    if key in frame.columns:
        return pd.to_numeric(frame[key], errors="coerce").replace([math.inf, -math.inf], math.nan)
    return pd.Series(math.nan, index=frame.index, dtype=float)


def _kpi(kpis: Mapping[str, Any] | None, key: str) -> float | None:
    return None if kpis is None else _clean(kpis.get(key))


def _fill_rate_pct(kpis: Mapping[str, Any] | None) -> float | None:
    value = _kpi(kpis, "fill_rate")
    if value is None:
        return None
    return value * 100.0 if value <= 1.0 else value  # the engine reports a fraction; accept a percentage too


def _brief(row: pd.Series, *, names: Mapping[str, str] | None) -> SkuBrief:
    code = str(row["code"])
    name = (names or {}).get(code) or _text(row, "name") or code
    recent, baseline = _num(row, "demand_recent"), _num(row, "demand_baseline")
    return SkuBrief(
        code=code,
        name=name,
        status=_text(row, "status") or "normal",
        demand_recent=round_units(recent),
        demand_trend_pct=round_pct(_trend_pct(recent, baseline)),
        value_at_risk=round_money(_num(row, "value_at_risk")),
        days_of_cover=round_units(_num(row, "days_of_cover")),
    )


def portfolio_facts(
    *,
    snapshot: pd.DataFrame | Sequence[Mapping[str, Any]],
    kpis: Mapping[str, Any] | None = None,
    previous_kpis: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
    top_n: int = 5,
    grain: str = "weekly",
    currency: str = "USD",
    as_of: date | None = None,
) -> PortfolioFacts:
    """Build the portfolio facts of one run.

    Parameters
    ----------
    snapshot : pandas.DataFrame or sequence of mappings
        One row per SKU (engine-contract columns; a DataFrame may be indexed by code, plain rows need ``code``).
    kpis : mapping, optional
        The run's KPIs (engine ``PortfolioResult.kpis``: fill_rate as a fraction, inventory_value, value_at_risk,
        excess_value, sku_count, count_<status>). Missing figures are computed from the snapshot (fill rate stays None).
    previous_kpis : mapping, optional
        The previous run's KPIs; the ``*_change`` facts are None without them.
    names : mapping, optional
        code -> display name (else a ``name`` column, else the code).
    top_n : int
        Length of ``top_movers`` (largest absolute change of recent vs baseline demand, units per period) and
        ``top_risks`` (largest value at risk, only SKUs with a positive value at risk).
    grain, currency, as_of
        The data's grain, ISO currency code, and the run's date.

    Returns
    -------
    PortfolioFacts
        risk_concentration_pct = value at risk of top_risks / total value at risk x 100.
    """
    _check_grain(grain)
    if top_n < 0:
        raise ValueError(f"top_n must be >= 0, got {top_n}")
    frame = _as_frame(snapshot)
    status = frame["status"].astype(str) if "status" in frame.columns else pd.Series("normal", index=frame.index)
    unknown = sorted(set(status) - set(STATUSES))
    if unknown:
        raise ValueError(f"snapshot has unknown status values {unknown}; expected {STATUSES}")

    counts = {name: int((status == name).sum()) for name in STATUSES}
    for name in STATUSES:  # the engine's KPIs win when present
        kpi_count = _kpi(kpis, f"count_{name}")
        if kpi_count is not None:
            counts[name] = int(round(kpi_count))
    previous_counts = None
    if previous_kpis is not None and any(f"count_{name}" in previous_kpis for name in STATUSES):
        previous_counts = {name: int(round(_kpi(previous_kpis, f"count_{name}") or 0)) for name in STATUSES}

    var_col = _column(frame, "value_at_risk")
    inventory_value = _kpi(kpis, "inventory_value")
    if inventory_value is None and "inventory_value" in frame.columns:
        inventory_value = float(_column(frame, "inventory_value").sum())
    value_at_risk = _kpi(kpis, "value_at_risk")
    if value_at_risk is None and "value_at_risk" in frame.columns:
        value_at_risk = float(var_col.sum())
    excess_value = _kpi(kpis, "excess_value")
    if excess_value is None and "excess_value" in frame.columns:
        excess_value = float(_column(frame, "excess_value").sum())
    sku_count = _kpi(kpis, "sku_count")

    change = _column(frame, "demand_recent") - _column(frame, "demand_baseline")
    movers = frame.assign(_move=change.abs()).dropna(subset=["_move"])
    movers = movers[movers["_move"] > 0].sort_values(["_move", "code"], ascending=[False, True]).head(top_n)
    risks = frame.assign(_var=var_col)
    risks = risks[risks["_var"] > 0].sort_values(["_var", "code"], ascending=[False, True]).head(top_n)
    concentration = None
    if value_at_risk and value_at_risk > 0 and len(risks):
        concentration = min(100.0, float(risks["_var"].sum()) / value_at_risk * 100.0)

    fill_now, fill_before = _fill_rate_pct(kpis), _fill_rate_pct(previous_kpis)
    inv_now, var_now = round_money(inventory_value), round_money(value_at_risk)
    return PortfolioFacts(
        as_of=as_of,
        currency=currency.upper(),
        period=PERIOD_WORD[grain],
        sku_count=int(round(sku_count)) if sku_count is not None else len(frame),
        status_counts=counts,
        status_count_changes=(
            None if previous_counts is None else {name: counts[name] - previous_counts[name] for name in STATUSES}
        ),
        inventory_value=inv_now,
        inventory_value_change=round_money(_diff(inv_now, round_money(_kpi(previous_kpis, "inventory_value")))),
        value_at_risk=var_now,
        value_at_risk_change=round_money(_diff(var_now, round_money(_kpi(previous_kpis, "value_at_risk")))),
        excess_value=round_money(excess_value),
        fill_rate_pct=round_pct(fill_now),
        fill_rate_change_pts=round_pct(_diff(round_pct(fill_now), round_pct(fill_before))),
        risk_concentration_pct=round_pct(concentration),
        top_movers=[_brief(row, names=names) for _, row in movers.iterrows()],
        top_risks=[_brief(row, names=names) for _, row in risks.iterrows()],
        incomplete_master_data_skus=_defaulted_count(frame),
        unit_cost_missing_skus=_defaulted_count(frame, field="unit_cost"),
    )


def _defaulted_count(frame: pd.DataFrame, *, field: str | None = None) -> int:
    """SKUs whose ``defaulted_fields`` column (comma-separated field names) is set (and holds ``field``)."""
    if "defaulted_fields" not in frame.columns:
        return 0
    text = frame["defaulted_fields"].fillna("").astype(str)
    flagged = text != ""
    if field is not None:
        flagged &= text.str.split(",").map(lambda parts: field in parts)
    return int(flagged.sum())
