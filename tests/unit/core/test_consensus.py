"""core.consensus: the layers (each applied once), the units share, forecast value added per layer, and the engine
carrying the commercial layer through one and two passes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core import consensus as cs
from core.engine_types import LAYER_KEYS
from core.portfolio import compute_batch, finalize_portfolio
from tests.slow.core.test_coverage import EngineSettings, _inputs, _panel

NAN = np.nan


def test_layers_apply_overrides_then_commercial_once() -> None:
    stat = np.array([[10.0, 10.0, 10.0], [4.0, NAN, 2.0]])
    ovr = np.array([[20.0, NAN, -5.0], [NAN, 7.0, NAN]])
    com = np.full((2, 3, 2), NAN)
    com[0, :, 0] = 1.5  # +50 %
    com[1, 2] = [1.0, -5.0]  # -5 units: clipped at 0
    overridden, consensus = cs.consensus_layers(statistical=stat, overrides=ovr, commercial=com)
    np.testing.assert_allclose(overridden, [[20.0, 10.0, 0.0], [4.0, NAN, 2.0]])
    np.testing.assert_allclose(consensus, [[30.0, 15.0, 0.0], [4.0, NAN, 0.0]])
    same, same2 = cs.consensus_layers(statistical=stat)
    np.testing.assert_allclose(same, stat) and np.testing.assert_allclose(same2, stat)
    with pytest.raises(ValueError, match="overrides"):
        cs.consensus_layers(statistical=stat, overrides=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="commercial"):
        cs.consensus_layers(statistical=stat, commercial=np.zeros((2, 3)))


def test_units_are_shared_in_proportion_or_evenly() -> None:
    np.testing.assert_allclose(cs.spread_units(weights=[1.0, 3.0, 0.0], total=100.0), [25.0, 75.0, 0.0])
    np.testing.assert_allclose(cs.spread_units(weights=[0.0, NAN], total=-10.0), [-5.0, -5.0])
    with pytest.raises(ValueError, match="weights"):
        cs.spread_units(weights=[], total=1.0)
    with pytest.raises(ValueError, match="total"):
        cs.spread_units(weights=[1.0], total=NAN)


def test_fva_per_layer_and_by_who() -> None:
    frame = pd.DataFrame(
        {
            "actual": [20.0, 10.0, 8.0],
            "statistical": [10.0, 12.0, 8.0],
            "overridden": [30.0, 12.0, 8.0],
            "consensus": [15.0, 6.0, 8.0],
            "override_by": ["ann", "no override", "no override"],
            "adjusted_by": ["bob", "bob", "no adjustment"],
        }
    )
    total = cs.layer_fva(frame=frame).set_index("layer")
    # overrides: one row, |10-20| = 10 -> |30-20| = 10: no value added
    assert total.loc["overrides", "periods"] == 1 and total.loc["overrides", "fva_mae"] == pytest.approx(0.0)
    # commercial: rows 1, 2: MAE (10 + 2) / 2 = 6 -> (5 + 4) / 2 = 4.5; WAPE 12/30 -> 9/30
    row = total.loc["commercial"]
    assert (row["mae_before"], row["mae_after"], row["fva_mae"]) == pytest.approx((6.0, 4.5, 1.5))
    assert row["wape_before"] == pytest.approx(12 / 30) and row["fva_wape"] == pytest.approx(3 / 30)
    assert row["bias_after"] == pytest.approx(-9 / 30)
    # consensus vs statistical: rows 0, 1: MAE (10 + 2) / 2 = 6 -> (5 + 4) / 2 = 4.5
    assert total.loc["consensus", "fva_mae"] == pytest.approx(1.5)
    who = cs.layer_fva(frame=frame, by={"overrides": "override_by", "commercial": "adjusted_by"})
    assert set(zip(who["layer"], who["key"], strict=True)) == {("overrides", "ann"), ("commercial", "bob")}
    assert cs.layer_fva(frame=frame.assign(consensus=frame["statistical"], overridden=frame["statistical"])).empty
    with pytest.raises(ValueError, match="unknown layers"):
        cs.layer_fva(frame=frame, by={"moon": "x"})
    with pytest.raises(ValueError, match="missing"):
        cs.layer_fva(frame=frame.drop(columns=["consensus"]))


def _commercial(n: int, width: int, rows: list[int], factor: float) -> np.ndarray:
    out = np.full((n, width, 2), NAN)
    out[rows, :, 0] = factor
    out[rows, :, 1] = 0.0
    return out


@pytest.mark.parametrize("ahead", [False, True])
def test_the_engine_plans_with_the_consensus_and_returns_the_layers(ahead: bool) -> None:
    history, sku, codes = _panel()
    settings = EngineSettings(horizon=8, n_origins=2)
    through = None
    if ahead:  # two passes: SKU 0 reports one period more than the others
        history = np.concatenate([history, np.full((len(codes), 1), NAN)], axis=1)
        history[0, -1] = 50.0
        through = history.shape[1] - 1
    width = settings.horizon + (history.shape[1] - through if through else 0)
    base = compute_batch(_inputs(history, sku, codes, through=through), settings=settings)
    assert not any(k in base.extras for k in LAYER_KEYS)
    com = _commercial(len(codes), width, [0, 3], 2.0)
    got = compute_batch(replace(_inputs(history, sku, codes, through=through), commercial=com), settings=settings)
    np.testing.assert_allclose(got.mean[[0, 3]], 2.0 * base.mean[[0, 3]], rtol=1e-9)
    others = [i for i in range(len(codes)) if i not in (0, 3)]
    np.testing.assert_allclose(got.mean[others], base.mean[others], rtol=1e-9)
    np.testing.assert_allclose(got.extras["layer_statistical"], base.mean, rtol=1e-9)
    np.testing.assert_allclose(got.extras["layer_overridden"], base.mean, rtol=1e-9)
    assert got.snapshot["reorder_point"].iloc[3] > base.snapshot["reorder_point"].iloc[3]
    other = compute_batch(_inputs(history, sku, [f"{c}-2" for c in codes], through=through), settings=settings)
    final = finalize_portfolio([got, other], settings=settings)
    assert final.layers is not None and final.layers["layer_statistical"].shape == (2 * len(codes), 8)
    assert finalize_portfolio([base], settings=settings).layers is None
