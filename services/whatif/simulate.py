"""Demand history on the engine's grid and the Monte Carlo check (:mod:`core.montecarlo`) of a SKU's policy, or of
the largest SKUs of a segment, with the verdict the Risk page shows."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import montecarlo, policy
from db.models import Demand, Forecast
from services.runs import days_per_period
from services.whatif.controls import weighted_mean
from services.whatif.risk import PolicyInputs, QuantileCheck, RiskResult
from services.whatif.scope import Items, Scope, WhatIfError

# --------------------------------------------------------------------------------------------------------------------
# demand history and Monte Carlo


def _period_index(dates: Sequence[dt.date], origin: dt.date, grain: str) -> np.ndarray:
    if grain == "monthly":
        return np.array([(d.year - origin.year) * 12 + (d.month - origin.month) for d in dates], dtype=np.int64)
    step = days_per_period(grain)
    return np.array([int(math.floor((d - origin).days / step + 1e-9)) for d in dates], dtype=np.int64)


def demand_history(*, session: Session, items: Items, sku_index: int = 0) -> np.ndarray:
    """One SKU's demand per period on the engine's grid (zeros where a period has no row), oldest first."""
    origin, last = session.execute(select(func.min(Demand.period), func.max(Demand.period))).one()
    if origin is None:
        return np.zeros(0)
    rows = session.execute(
        select(Demand.period, Demand.quantity).where(Demand.sku_id == int(items.sku_ids[sku_index]))
    ).all()
    if not rows:
        return np.zeros(0)
    idx = _period_index([r[0] for r in rows], origin, items.run.grain)
    end = int(_period_index([last], origin, items.run.grain)[0])
    start = int(idx.min())
    out = np.zeros(end - start + 1)
    np.add.at(out, idx - start, np.array([float(r[1]) for r in rows]))
    return out


def forecast_errors(*, session: Session, items: Items, sku_index: int = 0) -> np.ndarray:
    """Actual minus backtest forecast per period over the backtest windows of the latest run (the errors sigma is
    the spread of)."""
    origin = session.scalar(select(func.min(Demand.period)))
    if origin is None:
        return np.zeros(0)
    sku_id = int(items.sku_ids[sku_index])
    back = session.execute(
        select(Forecast.period, Forecast.mean).where(
            Forecast.run_id == items.run.id, Forecast.sku_id == sku_id, Forecast.kind == "backtest"
        )
    ).all()
    if not back:
        return np.zeros(0)
    rows = session.execute(select(Demand.period, Demand.quantity).where(Demand.sku_id == sku_id)).all()
    actual: dict[int, float] = {}
    for i, q in zip(_period_index([r[0] for r in rows], origin, items.run.grain), (r[1] for r in rows), strict=True):
        actual[int(i)] = actual.get(int(i), 0.0) + float(q)
    idx = _period_index([b[0] for b in back], origin, items.run.grain)
    return np.array([actual.get(int(i), 0.0) - float(b[1]) for i, b in zip(idx, back, strict=True)])


@dataclass(frozen=True)
class DemandModel:
    """How the simulation draws demand per period."""

    kind: str  # "normal" | "errors" | "history"
    label: str
    samples: np.ndarray | None  # per-period demands to resample (None: normal)
    bias: float = float("nan")  # mean past forecast error / forecast (not simulated)


MIN_SAMPLES = 8


def normal_demand(*, demand_mean: float, sigma: float) -> DemandModel:
    """Normal(D, sigma) per period, truncated at 0: the safety-stock formula's assumption."""
    label = f"normal demand (mean {demand_mean:,.1f}, sigma {sigma:,.1f} per period"
    cut_mean = float(policy.expected_shortage(level=0.0, mean=demand_mean, std=sigma))  # E[max(X, 0)]
    if cut_mean > demand_mean * 1.02:
        label += f"; cut at 0, so the mean is {cut_mean:,.1f}"
    return DemandModel("normal", label + ")", None)


def empirical_demand(
    *, demand_mean: float, sigma: float, errors: np.ndarray, history: np.ndarray, demand_class: str = "smooth"
) -> DemandModel:
    """The SKU's own demand pattern with the forecast's mean, so the simulation tests the shape the formula assumes:

    - smooth / erratic demand with at least 8 backtest errors: the forecast plus the past errors centred on 0
      (their bias is reported, not simulated), resampled and clipped at 0;
    - intermittent / lumpy demand, or too few errors: the last two years of history rescaled to the forecast mean
      (zeros stay zeros), resampled;
    - normal as a last resort.

    ``bias`` on the result: mean past error / forecast (NaN when unknown).
    """
    bias = float(np.mean(errors)) / demand_mean if errors.size and demand_mean > 0 else float("nan")
    sporadic = demand_class in ("intermittent", "lumpy", "no_demand")
    if not sporadic and errors.size >= MIN_SAMPLES:
        samples = np.maximum(demand_mean + errors - np.mean(errors), 0.0)
        if np.count_nonzero(samples) >= 2:
            label = f"the forecast plus {errors.size} past forecast errors of this SKU (centred), resampled"
            return DemandModel("errors", label, samples, bias)
    recent = history[-104:]
    if recent.size >= MIN_SAMPLES and np.count_nonzero(recent) >= 2 and recent.mean() > 0:
        label = f"the last {recent.size} periods of this SKU's demand, rescaled to the forecast, resampled"
        return DemandModel("history", label, recent * (demand_mean / recent.mean()), bias)
    model = normal_demand(demand_mean=demand_mean, sigma=sigma)
    return DemandModel("normal", model.label + " (too little history for its own pattern)", None, bias)


@dataclass(frozen=True)
class PolicySimulation:
    """One policy's simulated outcome under one demand model."""

    key: str  # "formula_normal" | "formula" | "quantile"
    label: str
    demand: str
    level: float
    cycle_service_level: float
    cycle_service_level_ci: float
    fill_rate: float
    fill_rate_ci: float
    average_on_hand: float
    stockouts_per_year: list[float]  # per replication: periods with unmet demand per year
    paths: list[list[float]]  # net inventory at period ends (last two years), a few replications

    def achieved(self, measure: str) -> tuple[float, float]:
        if measure == "csl":
            return self.cycle_service_level, self.cycle_service_level_ci
        return self.fill_rate, self.fill_rate_ci


@dataclass(frozen=True)
class SimulationView:
    policy: str
    measure: str
    target: float
    target_csl: float
    periods: int
    years: float
    replications: int
    unit: str
    runs: list[PolicySimulation]
    verdict: str
    overpromises: bool
    forecast_bias: float = float("nan")  # mean past forecast error / forecast

    def run(self, key: str) -> PolicySimulation | None:
        return next((r for r in self.runs if r.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimulationView:
        return cls(**{**data, "runs": [PolicySimulation(**r) for r in data["runs"]]})


def _merge_runs(parts: list[montecarlo.SimulationResult]) -> montecarlo.SimulationResult:
    return montecarlo.SimulationResult(
        policy=parts[0].policy,
        cycle_service_level=np.concatenate([p.cycle_service_level for p in parts]),
        fill_rate=np.concatenate([p.fill_rate for p in parts]),
        average_on_hand=np.concatenate([p.average_on_hand for p in parts]),
        average_backorders=np.concatenate([p.average_backorders for p in parts]),
        stockout_periods=np.concatenate([p.stockout_periods for p in parts]),
        orders=np.concatenate([p.orders for p in parts]),
        cycles=np.concatenate([p.cycles for p in parts]),
        paths=parts[0].paths,
    )


def simulate(
    *,
    items: Items,
    result: RiskResult,
    errors: np.ndarray,
    history: np.ndarray,
    rng: np.random.Generator,
    replications: int = 300,
    years: float = 6.0,
    chunks: int = 3,
    progress: Callable[[float, str], None] | None = None,
    reference: bool = True,
    quantile: bool = True,
) -> SimulationView:
    """Simulate one SKU's policy at the page's settings and compare it with its target.

    Runs :func:`core.montecarlo.simulate_sq` (continuous review, approximated by checks every day of a period, up to
    7 per period) or :func:`core.montecarlo.simulate_rs`:

    1. the formula's level under normal demand (the formula's own assumption: what review timing and lead-time
       rounding cost);
    2. the formula's level under the SKU's own demand pattern (:func:`empirical_demand`);
    3. for a slow or lumpy SKU, the quantile level the engine would use (:func:`quantile_check`), same demand.

    Lead times are drawn Normal(L, sigma_L) truncated at 0. ``reference`` / ``quantile`` False leave out runs 1 / 3
    (run 1 stays when the SKU has too little history for its own pattern).
    """
    if items.n != 1:
        raise WhatIfError("The simulation runs for one SKU: pick a SKU first")
    inputs = result.inputs
    d = float(inputs.demand_mean[0])
    if d <= 0:
        raise WhatIfError("This SKU has no forecast demand: there is nothing to simulate")
    sigma = float(inputs.sigma[0])
    ppy = items.run.periods_per_year
    periods = int(np.clip(round(years * ppy), 104, 2000))
    steps = int(np.clip(round(items.run.days_per_period), 1, 7)) if inputs.policy == "sQ" else 1
    per_chunk = max(1, replications // chunks)
    own = empirical_demand(
        demand_mean=d, sigma=sigma, errors=errors, history=history, demand_class=str(items.demand_class[0])
    )
    normal = normal_demand(demand_mean=d, sigma=sigma)
    formula_level = float(result.levels.level[0])
    plans: list[tuple[str, str, float, DemandModel]] = []
    if reference or own.samples is None:
        plans.append(("formula_normal", "Formula, normal demand", formula_level, normal))
    if own.samples is not None:
        plans.append(("formula", "Formula, this SKU's demand", formula_level, own))
    check = result.quantile
    if quantile and check is not None and check.method != "normal" and abs(check.level - formula_level) >= 0.5:
        label = METHOD_LABELS.get(check.method, check.method).capitalize()
        plans.append(("quantile", f"{label}, this SKU's demand", check.level, own))
    total_jobs = len(plans) * chunks
    done = 0
    runs: list[PolicySimulation] = []
    warm = _warmup(periods, inputs)
    measured_years = max((periods - warm) / ppy, 1e-9)
    keep = min(periods, int(round(2 * ppy)))
    for key, label, level, model in plans:
        parts = []
        for c in range(chunks):
            kwargs: dict[str, Any] = {
                "rng": rng,
                "lead_time": float(inputs.lead_time[0]),
                "lead_time_std": float(inputs.lead_time_std[0]),
                "n_periods": periods,
                "n_replications": per_chunk,
                "warmup": warm,
                "n_paths": 4 if c == 0 else 0,
            }
            if model.samples is None:
                kwargs.update(demand_mean=d, demand_std=sigma)
            else:
                kwargs.update(demand_samples=model.samples)
            if inputs.policy == "sQ":
                part = montecarlo.simulate_sq(
                    reorder_point=level,
                    order_quantity=float(inputs.order_quantity[0]),
                    steps_per_period=steps,
                    **kwargs,
                )
            else:
                part = montecarlo.simulate_rs(order_up_to=level, review_period=inputs.review_period, **kwargs)
            parts.append(part)
            done += 1
            if progress is not None:
                progress(done / total_jobs, f"{label}: {done}/{total_jobs}")
        res = _merge_runs(parts)
        summary = res.summary()
        runs.append(
            PolicySimulation(
                key=key,
                label=label,
                demand=model.label,
                level=level,
                cycle_service_level=summary["cycle_service_level"],
                cycle_service_level_ci=summary["cycle_service_level_ci"],
                fill_rate=summary["fill_rate"],
                fill_rate_ci=summary["fill_rate_ci"],
                average_on_hand=summary["average_on_hand"],
                stockouts_per_year=(res.stockout_periods / measured_years).astype(float).tolist(),
                paths=[[float(x) for x in row[-keep:]] for row in res.paths["on_hand"]],
            )
        )
    view = SimulationView(
        policy=inputs.policy,
        measure=inputs.measure,
        target=inputs.target,
        target_csl=float(result.levels.cycle_service_level[0]),
        periods=periods,
        years=round(measured_years, 1),
        replications=per_chunk * chunks,
        unit=items.run.period_unit,
        runs=runs,
        verdict="",
        overpromises=False,
        forecast_bias=own.bias,
    )
    verdict, over = verdict_text(view, check)
    return replace(view, verdict=verdict, overpromises=over)


def _warmup(periods: int, inputs: PolicyInputs) -> int:
    lt_max = float(inputs.lead_time[0] + 6 * inputs.lead_time_std[0])
    r = inputs.review_period if inputs.policy == "RS" else 1
    return min(int(np.ceil(lt_max)) + 2 * r + 5, periods // 2)


BIAS_NOTE = 0.1
"""Mention the forecast's past bias in the verdict from this share of the forecast."""

METHOD_LABELS = {
    "normal": "normal formula",
    "poisson": "Poisson quantile",
    "negative_binomial": "negative-binomial quantile",
    "bootstrap": "bootstrapped quantile",
}


def verdict_text(view: SimulationView, check: QuantileCheck | None) -> tuple[str, bool]:
    """Plain-language reading of a simulation; True when the formula overpromises for this SKU's demand."""
    what = "cycle service" if view.measure == "csl" else "fill rate"
    target = view.target
    ref = view.run("formula_normal")
    own = view.run("formula")
    quant = view.run("quantile")
    main = own or ref
    assert main is not None
    got, ci = main.achieved(view.measure)
    ci = ci if math.isfinite(ci) else 0.0
    margin = max(0.01, 2 * ci)
    parts: list[str] = []
    over = False
    if not math.isfinite(got):
        parts.append(
            f"No replenishment cycle finished in {view.years:g} simulated years: demand is too rare to measure a "
            "service level."
        )
        return " ".join(parts), False
    ref_got = ref.achieved(view.measure)[0] if ref is not None else float("nan")
    if got < target - margin:
        over = True
        slow = check is not None and check.method != "normal"
        if slow or (own is not None and math.isfinite(ref_got) and ref_got >= got + margin):
            kind = "slow or lumpy SKU" if slow else "SKU's demand pattern"
            parts.append(
                f"The normal formula overpromises for this {kind}: it targets {target:.1%} {what} but the "
                f"simulation achieves {got:.1%} (±{ci:.1%})."
            )
        else:
            over = False
            parts.append(
                f"The policy falls short of its target: {got:.1%} {what} against {target:.1%} (±{ci:.1%}), even "
                "though demand behaves as the formula assumes. Orders are triggered at the first check below the "
                "reorder point (the position undershoots it) and lead times vary; a higher target or a shorter, "
                "steadier lead time closes the gap."
            )
    elif got > target + margin:
        parts.append(
            f"The policy over-delivers: {got:.1%} {what} against a {target:.1%} target, so it holds more stock "
            "than the target needs."
        )
    else:
        parts.append(f"The policy meets its target: {got:.1%} {what} against {target:.1%} (±{ci:.1%}).")
    if check is not None and check.method != "normal":
        reason = check.reason.rstrip(".")
        label = METHOD_LABELS.get(check.method, check.method)
        if quant is not None:
            q_got = quant.achieved(view.measure)[0]
            parts.append(
                f"{reason}. The {label} sets the level at {check.level:,.0f} instead of {check.normal_level:,.0f} "
                f"and achieves {q_got:.1%} {what} in the same simulation."
            )
        else:
            parts.append(f"{reason}. The {label} gives the same level ({check.level:,.0f}).")
    bias = view.forecast_bias
    if math.isfinite(bias) and abs(bias) >= BIAS_NOTE:
        direction = "below" if bias > 0 else "above"
        size = f"{abs(bias):.0%}" if abs(bias) <= 1 else "far"
        parts.append(
            f"Past forecasts ran {size} {direction} actual demand; the simulation leaves that bias out, "
            + ("so real service would be lower still." if bias > 0 else "so real service would be higher.")
        )
    return " ".join(parts), over


def top_skus(items: Items, count: int) -> list[int]:
    """Indices of the ``count`` SKUs with the largest annual demand value (demand > 0), largest first."""
    order = np.argsort(-items.weights, kind="stable")
    return [int(i) for i in order if items.demand_mean[i] > 0][: max(0, int(count))]


def sku_slice(items: Items, index: int) -> Items:
    """One SKU of a scope as a scope of its own."""
    changes: dict[str, Any] = {"scope": Scope("sku", items.codes[index])}
    for f in items.__dataclass_fields__:
        value = getattr(items, f)
        if isinstance(value, np.ndarray):
            changes[f] = value[index : index + 1]
        elif isinstance(value, list):
            changes[f] = [value[index]]
    return replace(items, **changes)


def _slice_arrays(obj: Any, index: int) -> Any:
    return replace(
        obj,
        **{
            f: getattr(obj, f)[index : index + 1]
            for f in obj.__dataclass_fields__
            if isinstance(getattr(obj, f), np.ndarray)
        },
    )


@dataclass(frozen=True)
class SegmentSimulationRow:
    code: str
    name: str
    abc: str
    demand_class: str
    level: float
    target: float  # the page's target (CSL or fill rate)
    achieved: float
    ci: float
    fill_rate: float
    cycle_service_level: float
    demand: str

    @property
    def gap(self) -> float:
        return self.achieved - self.target if math.isfinite(self.achieved) else float("nan")


@dataclass(frozen=True)
class SegmentSimulation:
    measure: str
    target: float
    policy: str
    rows: list[SegmentSimulationRow]
    skus_in_scope: int
    weighted_achieved: float  # weighted by annual demand value over the simulated SKUs
    years: float
    replications: int
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def simulate_segment(
    *,
    items: Items,
    result: RiskResult,
    demand_data: Mapping[int, tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    replications: int = 120,
    years: float = 4.0,
    progress: Callable[[float, str], None] | None = None,
) -> SegmentSimulation:
    """Simulate the page's policy for the segment's largest SKUs (``demand_data``: index -> (errors, history)),
    each under its own demand pattern (:func:`simulate`, formula level only), and summarise achieved vs target."""
    indices = list(demand_data)
    if not indices:
        raise WhatIfError("No SKU in this scope has forecast demand: there is nothing to simulate")
    rows: list[SegmentSimulationRow] = []
    weights: list[float] = []
    view: SimulationView | None = None
    for k, i in enumerate(indices):
        one = sku_slice(items, i)
        sub = replace(
            result, inputs=_slice_arrays(result.inputs, i), levels=_slice_arrays(result.levels, i), quantile=None, n=1
        )
        errors, history = demand_data[i]

        def step(fraction: float, _message: str, k: int = k, code: str = one.codes[0]) -> None:
            if progress is not None:
                progress((k + fraction) / len(indices), f"{code}: {k + 1} of {len(indices)} SKUs")

        view = simulate(
            items=one,
            result=sub,
            errors=errors,
            history=history,
            rng=rng,
            replications=replications,
            years=years,
            chunks=1,
            progress=step,
            reference=False,
            quantile=False,
        )
        run = view.runs[-1]
        achieved, ci = run.achieved(result.inputs.measure)
        rows.append(
            SegmentSimulationRow(
                code=one.codes[0],
                name=one.names[0],
                abc=str(one.abc[0]),
                demand_class=str(one.demand_class[0]),
                level=run.level,
                target=result.inputs.target,
                achieved=achieved,
                ci=ci,
                fill_rate=run.fill_rate,
                cycle_service_level=run.cycle_service_level,
                demand=run.demand,
            )
        )
        weights.append(float(items.weights[i]))
    ok = [r for r in rows if math.isfinite(r.achieved)]
    w = np.array([wt for r, wt in zip(rows, weights, strict=True) if math.isfinite(r.achieved)])
    weighted = weighted_mean(np.array([r.achieved for r in ok]), w) if ok else float("nan")
    what = "cycle service" if result.inputs.measure == "csl" else "fill rate"
    short = [r for r in ok if r.gap < -max(0.01, 2 * (r.ci if math.isfinite(r.ci) else 0.0))]
    target = result.inputs.target
    parts = [
        f"The {len(rows)} largest SKUs achieve {weighted:.1%} {what} together (weighted by demand value) against "
        f"{target:.1%}."
    ]
    if short:
        worst = min(short, key=lambda r: r.gap)
        parts.append(
            f"{len(short)} of them fall short by more than the simulation's margin; the worst is {worst.code} "
            f"({worst.demand_class.replace('_', ' ')}, class {worst.abc}) at {worst.achieved:.1%}."
        )
        sporadic = [r for r in short if r.demand_class in ("intermittent", "lumpy")]
        if sporadic:
            parts.append(
                f"{len(sporadic)} of those have intermittent or lumpy demand, where the normal formula overpromises; "
                "open one of them to see what the quantile method gives."
            )
    else:
        parts.append("None falls short by more than the simulation's margin.")
    assert view is not None
    return SegmentSimulation(
        measure=result.inputs.measure,
        target=target,
        policy=result.inputs.policy,
        rows=rows,
        skus_in_scope=items.n,
        weighted_achieved=weighted,
        years=view.years,
        replications=view.replications,
        verdict=" ".join(parts),
    )
