"""services/backtest without a database: scopes, the periods rule, exclusions, joining batches, the words."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core.backtest import summarise
from core.policy_eval import evaluate_policies, frontier_comparison
from services import backtest as bt
from services.backtest.document import build_document, verdict
from services.backtest.run import check_periods, exclusions, history_lengths, join_evaluations

# --------------------------------------------------------------------------------------------------------------------
# scope


def test_scope_keys_round_trip_and_read_the_risk_pages_keys() -> None:
    for scope in (
        bt.BacktestScope(),
        bt.BacktestScope.make(category="Snacks & more"),
        bt.BacktestScope.make(abc="b"),
        bt.BacktestScope.make(category="Snacks", abc="A"),
        bt.BacktestScope.make(sku="BEV-1"),
    ):
        assert bt.BacktestScope.parse(scope.key) == scope
    assert bt.BacktestScope.make(abc="b").key == "portfolio?abc=B"
    assert bt.BacktestScope.parse("category:Snacks") == bt.BacktestScope.make(category="Snacks")
    assert bt.BacktestScope.parse("abc:C").label == "ABC class C"
    assert bt.BacktestScope.parse(None).label == "Whole portfolio"
    assert bt.BacktestScope.make(category=" ", sku="") == bt.BacktestScope()
    assert bt.describe(bt.BacktestScope.make(category="Snacks", abc="A")) == (
        "category 'Snacks' and ABC class A of the latest recompute"
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"abc": "D"}, "abc"), ({"sku": "X", "category": "Y"}, "sku"), ({"category": "x" * 101}, "category")],
)
def test_bad_scopes_name_the_field(kwargs, field) -> None:
    with pytest.raises(bt.BacktestError) as caught:
        bt.BacktestScope.make(**kwargs)
    assert caught.value.field == field and caught.value.kind == "invalid"


# --------------------------------------------------------------------------------------------------------------------
# periods and exclusions


def test_periods_rule() -> None:
    assert check_periods(26, t_len=34, grain="weekly") == 26
    assert check_periods(np.int64(3), t_len=34, grain="weekly") == 3
    with pytest.raises(bt.BacktestError, match=r"^periods 27 is longer .* holds 34 weeks .* so at most 26$"):
        check_periods(27, t_len=34, grain="weekly")
    with pytest.raises(bt.BacktestError, match="the history has 8 months: a backtest needs at least 9"):
        check_periods(1, t_len=8, grain="monthly")
    for bad in (0, 1.5, "3", None, True):
        with pytest.raises(bt.BacktestError, match="periods must be"):
            check_periods(bad, t_len=100, grain="daily")
    assert bt.default_periods("weekly") == 26 and bt.default_periods("monthly") == 12
    assert bt.default_periods("daily") == 90 and bt.default_periods(None) == 26


def test_history_lengths_and_exclusions() -> None:
    nan = np.nan
    history = np.array(
        [
            [1.0, 0.0, 2.0, 3.0, 0.0, 1.0],
            [nan, nan, 0.0, 4.0, 1.0, 0.0],
            [nan, nan, nan, nan, nan, nan],
            [nan, nan, nan, nan, nan, 5.0],
        ]
    )
    lengths = history_lengths(history)
    assert lengths.tolist() == [6, 4, 0, 1]
    keep, out = exclusions(codes=["A", "B", "C", "D"], lengths=lengths + 28, periods=26, grain="monthly")
    assert keep.tolist() == [True, False, False, False]  # 34, 32, 28, 29 periods against the 26 + 8 needed
    keep, out = exclusions(codes=["A", "B", "C", "D"], lengths=lengths, periods=1, grain="monthly")
    assert keep.tolist() == [False, False, False, False]
    assert out[0] == {
        "code": "A",
        "reason": "6 months of history; replaying 1 needs at least 9 (1 replayed + 8 to fit)",
    }
    assert out[2] == {"code": "C", "reason": "no demand history"}
    assert out[3]["reason"].startswith("1 month of history;")


# --------------------------------------------------------------------------------------------------------------------
# joining batches


def _synthetic(n: int = 12, t_len: int = 60, seed: int = 3):
    rng = np.random.default_rng(seed)
    level = rng.uniform(2.0, 40.0, size=n)
    history = rng.poisson(level[:, None] * np.ones((n, t_len))).astype(float)
    history[1, :20] = np.nan  # a later start
    history[4, rng.random(t_len) < 0.6] = 0.0  # intermittent
    sku = pd.DataFrame(
        {
            "unit_cost": rng.uniform(1.0, 30.0, size=n),
            "holding_cost_rate": 0.25,
            "order_cost": 40.0,
            "lead_time_mean_days": rng.choice([7.0, 14.0, 21.0], size=n),
            "lead_time_std_days": 0.0,
            "moq": 0.0,
            "order_multiple": 1.0,
            "service_level": rng.choice([0.9, 0.95, 0.98], size=n),
        }
    )
    dates = pd.date_range("2024-01-01", periods=t_len, freq="7D")
    return [f"S{i:02d}" for i in range(n)], history, dates, sku


def _evaluate(codes, history, dates, sku, part: slice):
    return evaluate_policies(
        codes=codes[part],
        history=history[part],
        period_dates=dates,
        grain="weekly",
        sku=sku.iloc[part].reset_index(drop=True),
        periods=13,
    )


def test_joined_batches_equal_one_evaluation_where_skus_are_independent() -> None:
    """The textbook's replays do not depend on the batches: joined halves give the whole's baseline and frontier.
    The engine's point is the summary of its joined per-SKU replays, read against the joined frontier."""
    codes, history, dates, sku = _synthetic()
    whole = _evaluate(codes, history, dates, sku, slice(0, 12))
    halves = [_evaluate(codes, history, dates, sku, part) for part in (slice(0, 7), slice(7, 12))]
    joined = join_evaluations(halves)

    assert joined.baseline.summary == whole.baseline.summary
    assert [p.summary for p in joined.frontier] == [p.summary for p in whole.frontier]
    engine = np.concatenate([h.engine.replay.served for h in halves])
    assert np.array_equal(joined.engine.replay.served, engine)
    assert joined.engine.summary == summarise(joined.engine.replay)
    gap, ratio = frontier_comparison(
        frontier_inventory=[p.summary.average_inventory_value for p in joined.frontier],
        frontier_fill=[p.summary.fill_rate for p in joined.frontier],
        inventory=joined.engine.summary.average_inventory_value,
        fill=joined.engine.summary.fill_rate,
    )
    assert joined.fill_gap_at_equal_inventory == gap or (np.isnan(gap) and np.isnan(joined.fill_gap_at_equal_inventory))
    demand = joined.engine.replay.demand
    target = float(np.sum(sku["service_level"].to_numpy() * demand) / demand.sum())
    assert joined.target_service_level == pytest.approx(target)
    for name in ("engine", "baseline"):
        assert joined.policies[name]["reorder_point"].shape == (12,)
    assert join_evaluations([whole]).engine is whole.engine

    document = build_document(
        replayed=joined,
        codes=codes,
        scope=bt.BacktestScope(),
        grain="weekly",
        replay_dates=dates[-13:],
        fit_periods=47,
        excluded=[],
        computed_at=dt.datetime(2026, 12, 7, 9, 0, 0, 123),
        seconds=1.23456,
    )
    assert [r["code"] for r in document["skus"]] == codes and document["computed_at"] == "2026-12-07T09:00:00"
    assert document["portfolio"]["fill_rate"] == joined.engine.summary.fill_rate
    assert document["baseline"]["average_inventory_value"] == round(whole.baseline.summary.average_inventory_value, 2)


# --------------------------------------------------------------------------------------------------------------------
# words


def _doc(**comparison) -> dict:
    base = {"fill_gap_at_equal_inventory": None, "inventory_ratio_at_equal_fill": None}
    base.update(comparison)
    gap, ratio = base["fill_gap_at_equal_inventory"], base["inventory_ratio_at_equal_fill"]
    base["baseline_fill_at_equal_inventory"] = 0.95 - gap if gap is not None else None
    base["baseline_inventory_at_equal_fill"] = 1000.0 / ratio if ratio else None
    return {
        "periods": 26,
        "grain": "weekly",
        "sku_count": 3,
        "portfolio": {
            "fill_rate": 0.95,
            "cycle_service_level": 0.9,
            "average_inventory_value": 1000.0,
            "target_service_level": 0.96,
        },
        "baseline": {
            "fill_rate": 0.93,
            "cycle_service_level": 0.9,
            "average_inventory_value": 900.0,
            "target_service_level": 0.96,
        },
        "frontier": [
            {"service_target": 0.5, "fill_rate": 0.8, "average_inventory_value": 500.0},
            {"service_target": 0.999, "fill_rate": 0.94, "average_inventory_value": 1200.0},
        ],
        "comparison": base,
        "excluded": [],
    }


def test_the_comparison_in_words() -> None:
    words = bt.comparison_sentences(_doc(fill_gap_at_equal_inventory=0.019, inventory_ratio_at_equal_fill=0.92))
    assert words[0] == "At the same inventory the textbook reaches 93.1 %; the engine 95.0 % (+1.9 pp)."
    assert words[1] == "For the same fill rate the textbook needs 1,087 of inventory; the engine holds 0.92\u00d7 that."
    assert words[2] == "The textbook at each SKU's own target fills 93.0 % with 900 of inventory."
    words = bt.comparison_sentences(_doc())
    assert words[0].startswith("The engine holds less inventory than any textbook target from 50.0 % to 99.9 %")
    assert words[1] == "No textbook target reaches the engine's fill rate of 95.0 % (the textbook's best is 94.0 %)."
    head = bt.headline(_doc())
    assert "last 26 weeks" in head and "filled 95.0 %" in head and "96.0 % service target" in head
    line = bt.summary_line(_doc(fill_gap_at_equal_inventory=-0.01))
    assert line == (
        "Policy replay over the last 26 weeks of demand (3 SKUs): fill rate 95.0 % against a 96.0 % target, average "
        "inventory 1,000; the textbook reaches 96.0 % at the same inventory."
    )
    close = _doc(fill_gap_at_equal_inventory=-0.0002)  # 95.0 % against 95.02 %: two decimals tell them apart
    assert bt.comparison_sentences(close)[0].startswith(
        "At the same inventory the textbook reaches 95.02 %; the engine 95.00 %"
    )
    assert bt.excluded_sentence(_doc()) is None
    assert bt.excluded_sentence({"excluded": [{"code": "X", "reason": "no demand history"}] * 3}) == (
        "3 SKU(s) left out of the replay: X (no demand history) and 2 more."
    )


@pytest.mark.parametrize(
    ("gap", "ratio", "expected"),
    [
        (0.01, None, "above"),
        (0.005, 0.9, "above"),
        (0.005, 0.95, "on"),
        (0.0, None, "on"),
        (-0.002, 0.95, "below"),
        (None, 1.05, "below"),
        (None, None, "unknown"),
    ],
)
def test_verdict(gap, ratio, expected) -> None:
    assert verdict(gap, ratio) == expected
