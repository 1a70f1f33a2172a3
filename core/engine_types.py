"""The engine's data types and columns: :class:`EngineSettings` (every parameter of a recompute), the inputs of a
batch (:class:`BatchInputs`, :func:`demand_history`), its result (:class:`BatchResult`) and the whole portfolio's
(:class:`PortfolioResult`), the SKU master columns the engine reads and the snapshot columns it writes.
:mod:`core.portfolio` computes them and re-exports these names (docs/architecture.md, "The maths")."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.forecast.causal import CausalInputs

SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "status",
    "status_reason",
    "demand_class",
    "adi",
    "cv2",
    "abc",
    "xyz",
    "forecast_model",
    "mase",
    "wape",
    "bias",
    "model_scores",
    "demand_recent",
    "demand_baseline",
    "forecast_per_period",
    "sigma",
    "lead_time_periods",
    "lead_time_std_periods",
    "service_level",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "eoq",
    "newsvendor_qty",
    "rop_method",
    "rop_method_reason",
    "on_hand",
    "on_order",
    "inventory_position",
    "recommended_qty",
    "order_by_periods",
    "days_of_cover",
    "annual_demand",
    "inventory_value",
    "value_at_risk",
    "excess_value",
    "surge_z",
    "periods_since_last_sale",
    "order_policy",
    "critical_ratio",
)
"""Snapshot columns, in order (docs/engine-contract.md; ``order_policy`` and ``critical_ratio`` added for one-shot
SKUs, issue 10)."""

ORDER_POLICIES: tuple[str, ...] = ("reorder_point", "newsvendor", "phase_out")
LAYER_KEYS: tuple[str, ...] = ("layer_statistical", "layer_overridden")
"""``BatchResult.extras`` keys of the (n, H) forecast layers (:mod:`core.consensus`), present when the batch had
overrides or commercial adjustments; the mean is the consensus."""
"""Values of the snapshot's ``order_policy``: replenishment (reorder point with the EOQ lot or order-up-to), the
newsvendor one-shot buy, or the phase-out of a stopped seller (no replenishment, :func:`phase_out_stopped_sellers`)."""

SKU_COLUMNS: tuple[str, ...] = (
    "category",
    "unit_cost",
    "unit_price",
    "salvage_value",
    "holding_cost_rate",
    "order_cost",
    "lead_time_mean_days",
    "lead_time_std_days",
    "moq",
    "order_multiple",
    "service_level",
    "on_hand",
    "on_order",
    "one_shot",
)

_SKU_DEFAULTS: dict[str, float] = {
    "unit_price": np.nan,
    "salvage_value": 0.0,
    "holding_cost_rate": 0.25,
    "order_cost": 0.0,
    "lead_time_std_days": 0.0,
    "moq": 0.0,
    "order_multiple": 1.0,
    "service_level": 0.95,
    "on_hand": 0.0,
    "on_order": 0.0,
    "one_shot": 0.0,
}
_FLAG_COLUMNS = ("one_shot",)  # booleans (missing / NaN = False), not numbers


@dataclass(frozen=True)
class EngineSettings:
    """Engine parameters. Defaults suit weekly data; periods are the data's grain.

    Attributes
    ----------
    horizon
        Forecast periods (13 weeks = a quarter).
    n_origins
        Rolling backtest origins of the forecast model choice.
    review_period
        R, periods between reviews of the position (1 = every period); protection interval of order_up_to is L + R.
    abc_split
        Shares of annual demand value for A / B / C (80 / 15 / 5 %).
    xyz_cv_limits
        Forecast-error CV (sigma / D) limits: X <= 0.5 < Y <= 1.0 < Z.
    surge_z
        Surge when the recent mean exceeds the forecast by this many standard errors.
    recent_periods, baseline_periods
        Window of "recent" demand (last 4) and of the baseline before it (26).
    low_velocity_ratio
        Low velocity when recent < ratio x baseline (30 %).
    dead_after_periods
        Dead stock after this many periods without a sale (13 weeks).
    phase_out_alpha
        A seller is stopped (phase-out) only when its silence is strong evidence at its own sales rate:
        :func:`core.health.silence_p_value` below this (0.01; 1 = the gap rule alone). Issue 24.
    overstock_cover_multiple
        Overstock when the position covers more than this multiple of the target cover (lead time + order cycle
        max(R, lot / D) + safety stock cover).
    random_state
        Seed of the forecast ML model and of the bootstrap.
    rop_normal_min_mean, rop_overdispersion_ratio, bootstrap_min_nonzero, bootstrap_samples
        Reorder-point method rule (:func:`core.slow_movers.choose_rop_method`): normal needs a lead-time demand mean
        >= 10 and a smooth / erratic class; variance / mean above 1.1 -> negative binomial; bootstrap for lumpy
        items with >= 8 non-zero periods, 500 samples.
    periodic_review_rop
        True: the normal reorder point includes the undershoot of periodic review
        (:func:`core.policy.reorder_point_periodic`); False: continuous-review D L + z sigma_LTD.
    max_order_cover_days
        The order lot never exceeds this many days of forecast demand (365).
    service_measure
        How a SKU's ``service_level`` is read: ``"fill_rate"`` (share of demand served from stock, through the loss
        function) or ``"csl"`` (cycle service level: the quantile of lead-time demand). :mod:`core.policy_levels`.
    allocate_service
        With the fill-rate measure: each segment (the SKUs of a category in the batch) meets its demand-weighted
        mean target at the least average stock value, allocated across its SKUs by marginal fill per unit of money
        (:func:`core.allocation.allocate_to_target`); False: every SKU meets its own target.
    service_floor
        The lowest expected fill rate the allocation may give a SKU (0.5) where its ``service_floor`` column is not
        set; never above the SKU's own target.
    protection_sigma
        ``"one_step"`` (sigma_P = sigma sqrt(P)) or ``"cumulative"`` (from the backtest's cumulative errors).
    level_scaling
        Exponent of the level-shift scaling of sigma (0.5; 0 = off).
    bootstrap_rescale
        Bootstrapped lead-time demand follows the forecast where it fell below half the history's mean.
    undershoot_classes
        Demand classes whose reorder point includes the review undershoot (with ``periodic_review_rop``).
    """

    horizon: int = 13
    n_origins: int = 3
    review_period: int = 1
    abc_split: tuple[float, float, float] = (0.80, 0.15, 0.05)
    xyz_cv_limits: tuple[float, float] = (0.5, 1.0)
    surge_z: float = 3.0
    recent_periods: int = 4
    baseline_periods: int = 26
    low_velocity_ratio: float = 0.3
    dead_after_periods: int = 13
    phase_out_alpha: float = 0.01
    overstock_cover_multiple: float = 3.0
    random_state: int = 0
    rop_normal_min_mean: float = 10.0
    rop_overdispersion_ratio: float = 1.1
    bootstrap_min_nonzero: int = 8
    bootstrap_samples: int = 500
    periodic_review_rop: bool = True
    max_order_cover_days: float = 365.0
    service_measure: str = "fill_rate"
    allocate_service: bool = True
    service_floor: float = 0.5
    protection_sigma: str = "one_step"
    level_scaling: float = 0.5
    bootstrap_rescale: bool = True
    undershoot_classes: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy")

    def __post_init__(self) -> None:
        for name in (
            "horizon",
            "n_origins",
            "review_period",
            "recent_periods",
            "baseline_periods",
            "dead_after_periods",
            "bootstrap_samples",
        ):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        for name in (
            "surge_z",
            "low_velocity_ratio",
            "overstock_cover_multiple",
            "rop_normal_min_mean",
            "rop_overdispersion_ratio",
            "max_order_cover_days",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and v > 0):
                raise ValueError(f"{name} must be > 0, got {v!r}")
        if len(self.abc_split) != 3 or abs(sum(self.abc_split) - 1) > 1e-6 or min(self.abc_split) <= 0:
            raise ValueError(f"abc_split must be three positive shares summing to 1, got {self.abc_split!r}")
        lo, hi = self.xyz_cv_limits
        if not 0 < lo < hi:
            raise ValueError(f"xyz_cv_limits must satisfy 0 < x < y, got {self.xyz_cv_limits!r}")
        if self.service_measure not in ("fill_rate", "csl"):
            raise ValueError(f"service_measure must be 'fill_rate' or 'csl', got {self.service_measure!r}")
        if self.protection_sigma not in ("one_step", "cumulative"):
            raise ValueError(f"protection_sigma must be 'one_step' or 'cumulative', got {self.protection_sigma!r}")
        if not (isinstance(self.service_floor, int | float) and 0 <= self.service_floor < 1):
            raise ValueError(f"service_floor must be in [0, 1), got {self.service_floor!r}")
        if not (isinstance(self.phase_out_alpha, int | float) and 0 < self.phase_out_alpha <= 1):
            raise ValueError(f"phase_out_alpha must be in (0, 1], got {self.phase_out_alpha!r}")
        if not (isinstance(self.level_scaling, int | float) and self.level_scaling >= 0):
            raise ValueError(f"level_scaling must be >= 0, got {self.level_scaling!r}")


@dataclass(frozen=True)
class BatchInputs:
    """One batch of SKUs (see docs/engine-contract.md)."""

    codes: list[str]
    history: np.ndarray
    period_dates: pd.DatetimeIndex
    grain: str
    sku: pd.DataFrame
    overrides: np.ndarray | None = None
    stockout: np.ndarray | None = None
    commercial: np.ndarray | None = None
    """(n, width, 2) commercial adjustments on the overrides' columns: factor and units added
    (:func:`core.consensus.consensus_layers`); NaN where none, None: none at all."""
    through: int | None = None
    """Periods up to and including the portfolio's "data through" period (:func:`core.coverage.data_through`);
    None: all T. With through < T the batch is computed in two passes (:func:`core.coverage.compute_two_pass`) and
    ``overrides`` has shape (n, T - through + horizon): the periods after data through, then the horizon."""
    causal: CausalInputs | None = None
    """Prices, promotions, named causal columns and events on the batch's period grid, (n, T + horizon) arrays
    (column j = period j; issue 20); None: none. Each panel passes its first T_panel + horizon columns."""


def demand_history(inputs: BatchInputs) -> np.ndarray:
    """The history as demand: periods flagged in ``inputs.stockout`` ((n, T) bool, the SKU was out of stock for
    part or all of the period) recorded censored demand -- sales cut short by the missing stock -- and count as not
    observed (NaN), so the forecast fills them from the neighbouring periods (documented NaN handling of
    :func:`core.forecast.forecast_batch`) and the classification and the policy's bootstrap and undershoot ignore
    them. The recorded sales stay the facts of the health rules (last sale, recent sales). The recompute also flags
    the periods a demand row covers only in part (issue 15: daily rows through Wednesday summed into a week), so an
    incomplete period is not fitted as a low one. Source: Nahmias (1994),
    "Demand estimation in lost sales inventory systems", Naval Research Logistics 41(6) (stockout periods censor
    demand); treating them as missing is the simplest unbiased correction when the shortfall is unknown.
    """
    history = np.asarray(inputs.history, dtype=float)
    if inputs.stockout is None:
        return history
    mask = np.asarray(inputs.stockout, dtype=bool)
    return np.where(mask, np.nan, history)


@dataclass
class BatchResult:
    """Result of :func:`compute_batch`. ``extras`` carries per-row arrays that ``finalize_portfolio`` needs
    (``unit_cost``, ``unit_price``, ``expected_fill_rate``) and that are not snapshot columns."""

    snapshot: pd.DataFrame
    forecast_dates: pd.DatetimeIndex
    mean: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    backtest: np.ndarray
    timings: dict[str, float]
    extras: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class PortfolioResult:
    """All batches together, with portfolio-wide ABC and KPIs (see :func:`core.kpi.portfolio_kpis`)."""

    snapshot: pd.DataFrame
    forecast_dates: pd.DatetimeIndex
    mean: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    backtest: np.ndarray
    kpis: dict[str, float]
    timings: dict[str, float]
    forecast_shift: np.ndarray | None = None
    layers: dict[str, np.ndarray] | None = None
    """:data:`LAYER_KEYS` -> (n, H) statistical forecast and forecast after overrides (``mean`` is the consensus);
    None when no SKU had an override or an adjustment."""
    """(n,) periods between data through and each SKU's own forecast start (:mod:`core.coverage`); None: all 0."""
    uplift: np.ndarray | None = None
    """(n, horizon) units the planned promotions add to ``mean`` (issue 20); None without causal plan data."""
