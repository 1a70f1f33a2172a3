"""Facts builders: rounding, changes against the previous run, missing values, portfolio rankings."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from ai.facts import (
    fmt_money,
    fmt_number,
    fmt_pct,
    portfolio_facts,
    round_money,
    round_pct,
    round_units,
    sku_facts,
)
from tests.unit.ai.ai_samples import KPIS, PREVIOUS_KPIS, PREVIOUS_OVERRIDES, make_row, snapshot_frame


def test_rounding_rules() -> None:
    assert round_units(140.0) == 140 and isinstance(round_units(140.0), int)
    assert round_units(152.6) == 153
    assert round_units(6.24) == 6.2
    assert round_units(0.44) == 0.4
    assert round_units(-0.04) == 0 and str(round_units(-0.04)) == "0"
    assert round_units(math.nan) is None and round_units(math.inf) is None and round_units(None) is None
    assert round_pct(18.644) == 18.6
    assert round_money(18234.6) == 18235
    assert round_money("not a number") is None


def test_formatting_matches_the_rounding() -> None:
    assert fmt_number(412345) == "412,345"
    assert fmt_number(6.2) == "6.2"
    assert fmt_money(18235) == "$18,235"
    assert fmt_money(-1234) == "-$1,234"
    assert fmt_money(5, currency="CHF") == "5 CHF"
    assert fmt_money(7, currency="eur") == "€7"
    assert fmt_pct(97.3) == "97.3%"


def test_sku_facts_from_a_dict_with_previous_run() -> None:
    row = make_row("stockout_risk")
    facts = sku_facts(row=row, previous={**row, **PREVIOUS_OVERRIDES})
    assert (facts.code, facts.name, facts.category) == ("SKU-0002", "Hydraulic pump HP-200", "Hardware")
    assert facts.status == "stockout_risk" and facts.previous_status == "normal"
    assert facts.status_reason == "cover 6.2 days < lead time 14 days"
    assert facts.demand_recent == 140 and facts.demand_baseline == 118
    assert facts.demand_trend_pct == pytest.approx(18.6)  # (140 - 118) / 118 = 18.64%
    assert facts.volatility_cv == 0.44 and facts.volatility_level == "low"  # 58 / 131
    assert facts.volatility_cv_change == pytest.approx(0.06)  # 0.44 - round(50 / 131, 2) = 0.44 - 0.38
    assert (facts.safety_stock, facts.safety_stock_change) == (153, 13)  # 152.6 vs 140.2: rounded, then differenced
    assert (facts.reorder_point, facts.reorder_point_change) == (415, 35)
    assert facts.value_at_risk == 18235 and facts.value_at_risk_change == 0
    assert facts.days_of_cover == 6.2
    assert facts.lead_time_periods == 2 and facts.lead_time_days == 14  # 2 weekly periods
    assert facts.period == "week" and facts.forecast_model == "ets"
    assert facts.recommended_qty == 600


def test_sku_facts_without_previous_run_has_no_changes() -> None:
    facts = sku_facts(row=make_row("surge"))
    assert facts.previous_status is None
    assert facts.safety_stock_change is None and facts.reorder_point_change is None
    assert facts.value_at_risk_change is None and facts.volatility_cv_change is None
    assert facts.surge_z == 4.1


def test_sku_facts_from_a_series_takes_the_index_label_as_code() -> None:
    row = pd.Series({k: v for k, v in make_row("normal").items() if k not in ("code", "name")}, name="ABC-9")
    facts = sku_facts(row=row, grain="monthly")
    assert facts.code == "ABC-9" and facts.name == "ABC-9"
    assert facts.period == "month"
    assert facts.lead_time_days == 61  # 2 periods x 30.4375 days


def test_undefined_values_become_none() -> None:
    facts = sku_facts(row=make_row("dead_stock", demand_baseline=0.0, sigma=math.nan))
    assert facts.days_of_cover is None  # inf cover
    assert facts.demand_trend_pct is None  # baseline 0
    assert facts.volatility_cv is None and facts.volatility_level is None
    assert facts.periods_since_last_sale == 19
    sparse = sku_facts(row={"code": "X", "status": "normal"})
    assert sparse.demand_recent is None and sparse.safety_stock is None and sparse.name == "X"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"row": {"status": "normal"}}, "code"),
        ({"row": {"code": "X", "status": "exploded"}}, "status"),
        ({"row": {"code": "X"}, "grain": "hourly"}, "grain"),
    ],
)
def test_sku_facts_rejects_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sku_facts(**kwargs)


def test_portfolio_facts_counts_kpis_and_changes(portfolio) -> None:
    assert portfolio.sku_count == 20
    assert portfolio.status_counts == {
        "stockout_risk": 1,
        "surge": 1,
        "low_velocity": 1,
        "dead_stock": 1,
        "overstock": 1,
        "normal": 15,
    }
    assert portfolio.status_count_changes == {
        "stockout_risk": 1,
        "surge": 0,
        "low_velocity": 0,
        "dead_stock": 0,
        "overstock": 0,
        "normal": -1,
    }
    assert portfolio.inventory_value == 412345 and portfolio.inventory_value_change == 14345
    assert portfolio.value_at_risk == 34952 and portfolio.value_at_risk_change == 4842
    assert portfolio.fill_rate_pct == 97.3 and portfolio.fill_rate_change_pts == pytest.approx(0.4)
    assert portfolio.excess_value == 11287
    assert portfolio.as_of == date(2026, 3, 2)


def test_portfolio_top_lists(portfolio) -> None:
    # movers: largest |recent - baseline| in units (212-88, 140-118, 93-84.2 ...)
    assert [m.code for m in portfolio.top_movers] == ["SKU-0003", "SKU-0002", "SKU-1013"]
    # risks: largest value at risk, positive only
    assert [r.code for r in portfolio.top_risks] == ["SKU-0002", "SKU-0006", "SKU-0004"]
    assert portfolio.top_risks[0].value_at_risk == 18235 and portfolio.top_risks[0].status == "stockout_risk"
    # (18234.6 + 9412 + 3120) / 34951.6 = 88.0%
    assert portfolio.risk_concentration_pct == pytest.approx(88.0)


def test_portfolio_from_plain_rows_equals_dataframe_and_computes_missing_kpis() -> None:
    frame = snapshot_frame()
    records = frame.reset_index().to_dict("records")
    from_frame = portfolio_facts(snapshot=frame)
    from_rows = portfolio_facts(snapshot=records)
    assert from_frame == from_rows
    assert from_rows.sku_count == 20
    assert from_rows.inventory_value == round(frame["inventory_value"].sum())
    assert from_rows.value_at_risk == round(frame["value_at_risk"].sum())
    assert from_rows.fill_rate_pct is None and from_rows.inventory_value_change is None
    assert from_rows.status_count_changes is None


def test_portfolio_names_mapping_top_n_and_validation() -> None:
    frame = snapshot_frame().drop(columns=["name"])
    facts = portfolio_facts(snapshot=frame, kpis=KPIS, previous_kpis=PREVIOUS_KPIS, names={"SKU-0002": "Pump"}, top_n=1)
    assert [(r.code, r.name) for r in facts.top_risks] == [("SKU-0002", "Pump")]
    assert facts.top_movers[0].name == "SKU-0003"  # no name: the code
    assert portfolio_facts(snapshot=frame, top_n=0).top_risks == []
    with pytest.raises(ValueError, match="top_n"):
        portfolio_facts(snapshot=frame, top_n=-1)
    with pytest.raises(ValueError, match="status"):
        portfolio_facts(snapshot=[{"code": "A", "status": "weird"}])
    with pytest.raises(ValueError, match="code"):
        portfolio_facts(snapshot=[{"status": "normal"}])


def test_facts_are_frozen_and_reject_unknown_fields() -> None:
    facts = sku_facts(row=make_row())
    with pytest.raises(ValueError):
        facts.model_copy(update={}).__class__(**{**facts.model_dump(), "surprise": 1})
    with pytest.raises(ValueError):
        facts.code = "other"  # type: ignore[misc]
