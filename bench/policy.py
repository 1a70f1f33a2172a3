"""Policy replay benchmark on real demand (issue 24; not a test: prints figures and exits 0).

For every shared data set with lead times and costs, :func:`core.policy_eval.evaluate_policies` fits the engine on all
but the last N periods exactly as a recompute would, replays its policy through the hidden N periods, and does the
same for the textbook baseline (per SKU mean and std of the fit history, ROP = mu L + z sigma sqrt(L), lot = EOQ)
swept over uniform service targets 0.50-0.999 (the frontier). Printed per set: the engine's point (demand-weighted
fill rate, average inventory value), the textbook at each SKU's own target, the frontier, the fill-rate gap at equal
inventory, the inventory ratio at equal fill, the same per demand class, and for the oil set the company's ACTUAL
min/max policy replayed as (s, S). Done (issue 24): gap >= +1.0 pp or ratio <= 0.90 on every set, and less
inventory than the oil company's min/max at equal or better fill.

Sets (../shared/data; a set whose files are absent is skipped with a message):

- ``manufacturer``: 3,451 SKUs x 150 weeks, the REAL unit costs, order cost (5 EUR), holding cost (20 %/year),
  lead times (7 or 16 weeks) and MOQs. N = 26 weeks.
- ``oil``: the 7,024 refinery spare parts with the company's policy (oil_part1b_inventory_policy_params.csv): their
  delivery time as the lead time, their price as the unit cost; stated: holding 20 %/year and order cost 5 (the
  manufacturer's real figures). 1997-11 (unreliable) is left out (NaN), blanks are 0, returns (negatives) count
  as 0. N = 12 months. The company's point: s = min_reorder_point, S = max_stock_level, same start rule.
  Separate, labelled points "[planner floor = company's min, ...]": the engine with the company's min as the
  planner's minimum stock (core.min_stock) on every SKU, and on the SKUs without fit demand only (insurance spares):
  the planner's knowledge, not the engine's.
- ``carparts``: 2,674 car parts x 51 months, no costs in the data: stated lead time 2 months (61 days), unit cost 1
  (inventory value = units), holding 20 %/year, order cost 5. N = 12 months.
- ``m5``: the 290 M5 store x item series summed to Walmart weeks (wm_yr_wk, Saturday to Friday; the last, partial
  week dropped), weeks before an item's first price at its store are NaN (not on sale yet); unit cost = its mean
  sell price over the fit weeks (sell_prices_subset.csv); stated lead time 2 weeks, holding 20 %/year, order cost 5.
  N = 26 weeks.

Every SKU has the product's default service target 0.95 (the sets carry none).

Run: ``.venv/bin/python -m bench.policy [--sets manufacturer,oil,carparts,m5] [--max-skus N] [--seed S]
[--periods N] [--phase-out-alpha A]`` (``--max-skus``: a seeded random subsample of each set; ``--phase-out-alpha 1``:
the issue-15 gap rule alone, without the evidence test). Record ``uptime`` beside the figures.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.backtest import summarise
from core.health import stopped_sellers
from core.policy_eval import engine_curve, evaluate_policies, frontier_comparison, replay_point
from core.portfolio import EngineSettings

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SETS = ("manufacturer", "oil", "carparts", "m5")
HOLDING_RATE = 0.20  # stated where a set has none: the manufacturer's real rate
ORDER_COST = 5.0  # stated where a set has none: the manufacturer's real order cost


@dataclass
class DataSet:
    name: str
    grain: str
    codes: list[str]
    history: np.ndarray
    dates: pd.DatetimeIndex
    sku: pd.DataFrame
    periods: int
    note: str
    company: dict[str, np.ndarray] | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _sku_frame(n: int, **columns: object) -> pd.DataFrame:
    base = {
        "category": "all",
        "unit_price": np.nan,
        "salvage_value": 0.0,
        "holding_cost_rate": HOLDING_RATE,
        "order_cost": ORDER_COST,
        "lead_time_std_days": 0.0,
        "moq": 0.0,
        "order_multiple": 1.0,
        "service_level": 0.95,
        "on_hand": 0.0,
        "on_order": 0.0,
    }
    base.update(columns)
    return pd.DataFrame({k: np.broadcast_to(np.asarray(v), (n,)) for k, v in base.items()})


def _subsample(ds: DataSet, max_skus: int | None, seed: int) -> DataSet:
    n = len(ds.codes)
    if not max_skus or max_skus >= n:
        return ds
    keep = np.sort(np.random.default_rng(seed).choice(n, size=max_skus, replace=False))
    company = None if ds.company is None else {k: v[keep] for k, v in ds.company.items()}
    return DataSet(
        ds.name,
        ds.grain,
        [ds.codes[i] for i in keep],
        ds.history[keep],
        ds.dates,
        ds.sku.iloc[keep].reset_index(drop=True),
        ds.periods,
        ds.note,
        company,
        ds.extra,
    )


def load_manufacturer() -> DataSet | None:
    path = DATA / "intermittent" / "manufacturer_3451_skus_weekly_wide.csv"
    if not path.exists():
        print(f"manufacturer: skipped, {path} not found")
        return None
    df = pd.read_csv(path)
    weeks = [c for c in df.columns if "-W" in c]
    dates = pd.DatetimeIndex(pd.to_datetime([f"{w}-1" for w in weeks], format="%G-W%V-%u"))
    cost = df["cost_price_eur"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(cost > 0, df["holding_cost_eur_per_unit_year"].to_numpy(dtype=float) / cost, HOLDING_RATE)
    sku = _sku_frame(
        len(df),
        unit_cost=cost,
        holding_cost_rate=rate,
        order_cost=df["fixed_order_cost_eur"].to_numpy(dtype=float),
        lead_time_mean_days=df["lead_time_weeks"].to_numpy(dtype=float) * 7.0,
        moq=df["min_order_qty_units"].to_numpy(dtype=float),
    )
    return DataSet(
        "manufacturer",
        "weekly",
        df["sku"].astype(str).tolist(),
        df[weeks].to_numpy(dtype=float),
        dates,
        sku,
        26,
        "real costs, order cost, holding rate, lead times 7/16 weeks, MOQs",
    )


def load_oil() -> DataSet | None:
    wide_path = DATA / "intermittent" / "oil_14523_materials_monthly_wide.csv"
    pol_path = DATA / "intermittent" / "oil_part1b_inventory_policy_params.csv"
    if not (wide_path.exists() and pol_path.exists()):
        print(f"oil: skipped, {wide_path} or {pol_path} not found")
        return None
    wide = pd.read_csv(wide_path)
    pol = pd.read_csv(pol_path)
    df = pol.merge(wide, on="material_id", how="inner", suffixes=("", "_wide"))
    months = [c for c in wide.columns if c[:2] in ("19", "20") and len(c) == 7]
    hist = df[months].to_numpy(dtype=float)
    hist = np.nan_to_num(hist, nan=0.0)  # a blank cell is no consumption
    hist[:, months.index("1997-11")] = np.nan  # unreliable month
    dates = pd.DatetimeIndex(pd.to_datetime(months, format="%Y-%m"))
    price = df["price"].to_numpy(dtype=float)
    sku = _sku_frame(len(df), unit_cost=price, lead_time_mean_days=df["delivery_time_days"].to_numpy(dtype=float))
    company = {
        "reorder_point": df["min_reorder_point"].to_numpy(dtype=float),
        "order_up_to": df["max_stock_level"].to_numpy(dtype=float),
        "order_quantity": np.zeros(len(df)),
    }
    return DataSet(
        "oil",
        "monthly",
        df["material_id"].astype(str).tolist(),
        hist,
        dates,
        sku,
        12,
        "company's delivery times and prices; stated holding 20 %, order cost 5",
        company,
    )


def load_carparts() -> DataSet | None:
    path = DATA / "intermittent" / "carparts_long.csv"
    if not path.exists():
        print(f"carparts: skipped, {path} not found")
        return None
    long = pd.read_csv(path)
    wide = long.pivot(index="part_id", columns="month", values="sales").sort_index(axis=1)
    dates = pd.DatetimeIndex(pd.to_datetime(wide.columns, format="%Y-%m"))
    sku = _sku_frame(len(wide), unit_cost=1.0, lead_time_mean_days=61.0)
    return DataSet(
        "carparts",
        "monthly",
        wide.index.astype(str).tolist(),
        wide.to_numpy(dtype=float),
        dates,
        sku,
        12,
        "stated: lead time 61 days, unit cost 1, holding 20 %, order cost 5",
    )


def load_m5() -> DataSet | None:
    sales_path = DATA / "m5" / "sales_train_evaluation_subset.csv"
    if not sales_path.exists():
        print(f"m5: skipped, {sales_path} not found")
        return None
    sales = pd.read_csv(sales_path)
    cal = pd.read_csv(DATA / "m5" / "calendar.csv", parse_dates=["date"])
    prices = pd.read_csv(DATA / "m5" / "sell_prices_subset.csv")
    day_cols = [c for c in sales.columns if c.startswith("d_")]
    cal = cal.set_index("d").loc[day_cols]
    week_of_day = cal["wm_yr_wk"].to_numpy()
    weeks, first_day, counts = np.unique(week_of_day, return_index=True, return_counts=True)
    full = counts == 7
    daily = sales[day_cols].to_numpy(dtype=float)
    weekly = np.stack([daily[:, week_of_day == w].sum(axis=1) for w in weeks[full]], axis=1)
    dates = pd.DatetimeIndex(cal["date"].to_numpy()[first_day[full]])
    wk = weeks[full]
    key = sales["store_id"] + "|" + sales["item_id"]
    prices["key"] = prices["store_id"] + "|" + prices["item_id"]
    on_sale = np.zeros(weekly.shape, dtype=bool)
    pos = {w: j for j, w in enumerate(wk)}
    index = {k: i for i, k in enumerate(key)}
    rows = prices["key"].map(index)
    cols = prices["wm_yr_wk"].map(pos)
    ok = rows.notna() & cols.notna()
    on_sale[rows[ok].astype(int), cols[ok].astype(int)] = True
    started = np.maximum.accumulate(on_sale | (weekly > 0), axis=1)
    weekly = np.where(started, weekly, np.nan)
    fit_weeks = set(wk[: len(wk) - 26].tolist())
    fit_prices = prices[prices["wm_yr_wk"].isin(fit_weeks)].groupby("key")["sell_price"].mean()
    cost = key.map(fit_prices).to_numpy(dtype=float)
    cost = np.where(np.isfinite(cost), cost, key.map(prices.groupby("key")["sell_price"].mean()).to_numpy(dtype=float))
    sku = _sku_frame(len(sales), unit_cost=cost, lead_time_mean_days=14.0)
    return DataSet(
        "m5",
        "weekly",
        sales["id"].astype(str).tolist(),
        weekly,
        dates,
        sku,
        26,
        "weekly sums; cost = mean sell price; stated lead time 14 days, holding 20 %, order cost 5",
    )


LOADERS = {"manufacturer": load_manufacturer, "oil": load_oil, "carparts": load_carparts, "m5": load_m5}


def _fmt_point(label: str, fill: float, inv: float, extra: str = "") -> str:
    return f"  {label:<34s} fill {fill:7.4f}   avg inventory {inv:14,.0f}  {extra}"


def run_set(ds: DataSet, *, periods: int | None, settings: EngineSettings, verbose_frontier: bool) -> dict:
    n_per = periods or ds.periods
    t0 = time.perf_counter()
    ev = evaluate_policies(
        codes=ds.codes,
        history=ds.history,
        period_dates=ds.dates,
        grain=ds.grain,
        sku=ds.sku,
        periods=n_per,
        settings=settings,
    )
    secs = time.perf_counter() - t0
    t_len = ds.history.shape[1]
    print(
        f"\n== {ds.name}: {len(ds.codes):,} SKUs, {ds.grain}, fit {t_len - n_per} periods, replay {n_per} ({ds.note})"
    )
    print(f"  evaluated in {secs:.1f} s (engine fit {ev.engine_batch.timings.get('total', float('nan')):.1f} s)")
    e, b = ev.engine.summary, ev.baseline.summary
    print(
        _fmt_point(
            "engine (own targets)",
            e.fill_rate,
            e.average_inventory_value,
            f"csl {e.cycle_service_level:.3f}, target {ev.target_service_level:.3f}",
        )
    )
    print(
        _fmt_point(
            "textbook at own targets", b.fill_rate, b.average_inventory_value, f"csl {b.cycle_service_level:.3f}"
        )
    )
    inv = [p.summary.average_inventory_value for p in ev.frontier]
    fil = [p.summary.fill_rate for p in ev.frontier]
    if verbose_frontier:
        print(
            "  textbook frontier: "
            + "  ".join(f"{p.service_target:g}:{f:.3f}/{i:,.0f}" for p, f, i in zip(ev.frontier, fil, inv, strict=True))
        )
    gap, ratio = ev.fill_gap_at_equal_inventory, ev.inventory_ratio_at_equal_fill
    fill_at = e.fill_rate - gap if np.isfinite(gap) else float("nan")
    print(f"  textbook fill at the engine's inventory: {fill_at:.4f}  -> gap {gap * 100:+.2f} pp")
    print(f"  textbook inventory for the engine's fill: ratio {ratio:.3f}x")
    ok = (np.isfinite(gap) and gap >= 0.01) or (np.isfinite(ratio) and ratio <= 0.90)
    out = {
        "set": ds.name,
        "engine_fill": e.fill_rate,
        "engine_inv": e.average_inventory_value,
        "gap": gap,
        "ratio": ratio,
        "textbook_fill_at_inv": fill_at,
        "beats": ok,
    }
    # per demand class (classes of the fit history, as the engine classed them)
    cls = ev.engine_batch.snapshot["demand_class"].to_numpy()
    print(
        f"  {'class':<13s} {'SKUs':>6s} {'demand':>9s} {'eng fill':>8s} {'eng inv':>12s} {'gap pp':>7s} {'ratio':>6s}"
    )
    for c in ("smooth", "erratic", "intermittent", "lumpy", "no_demand"):
        m = cls == c
        if not m.any():
            continue
        es = summarise(ev.engine.replay, mask=m)
        fs = [summarise(p.replay, mask=m) for p in ev.frontier]
        g, r = frontier_comparison(
            frontier_inventory=[f.average_inventory_value for f in fs],
            frontier_fill=[f.fill_rate for f in fs],
            inventory=es.average_inventory_value,
            fill=es.fill_rate,
        )
        print(
            f"  {c:<13s} {int(m.sum()):6d} {es.demand:9.0f} {es.fill_rate:8.4f} {es.average_inventory_value:12,.0f}"
            f" {g * 100:+7.2f} {r:6.3f}"
        )
    if ds.company is not None:
        out.update(_company(ds, ev, n_per, settings, inv, fil, ok))
    print(f"  done criterion met: {out['beats']}")
    return out


def _read_curve(points: list, fill: float, mask: np.ndarray | None = None) -> float:
    """Inventory of a curve of replayed points at a fill rate (linear interpolation; NaN outside its range)."""
    sums = [summarise(p.replay, mask=mask) for p in points]
    f = np.maximum.accumulate(np.array([x.fill_rate for x in sums]))
    i = np.array([x.average_inventory_value for x in sums])
    if not (f[0] - 1e-12 <= fill <= f[-1] + 1e-12):
        return float("nan")
    j = int(np.searchsorted(f, fill - 1e-12))
    if j == 0:
        return float(i[0])
    return float(i[j - 1] + (fill - f[j - 1]) / max(f[j] - f[j - 1], 1e-12) * (i[j] - i[j - 1]))


def _company(ds: DataSet, ev, n_per: int, settings: EngineSettings, inv: list, fil: list, ok: bool) -> dict:
    """The oil company's actual min/max replayed as (s, S) beside the engine: on every SKU, on the SKUs with demand
    in the fit periods, the engine's curve read at the company's fill rate, and how often a month's demand equals the
    company's min or max in the replayed vs the fit months (planned demand known in advance shows as a higher rate
    in the replayed months)."""
    comp = replay_point(
        name="company", service_target=np.nan, demand=ev.test_demand, policy_arrays=ds.company,
        replay_kwargs=ev.replay_kwargs,
    )  # fmt: skip
    c, e = comp.summary, ev.engine.summary
    print(_fmt_point("oil company's min/max (s, S)", c.fill_rate, c.average_inventory_value,
                     f"csl {c.cycle_service_level:.3f}"))  # fmt: skip
    cgap, cratio = frontier_comparison(frontier_inventory=inv, frontier_fill=fil, inventory=c.average_inventory_value,
                                       fill=c.fill_rate)  # fmt: skip
    print(f"  company vs textbook frontier: gap {cgap * 100:+.2f} pp, ratio {cratio:.3f}x")
    inv_ratio = e.average_inventory_value / c.average_inventory_value
    print(f"  engine vs company: inventory {inv_ratio:.3f}x, fill {(e.fill_rate - c.fill_rate) * 100:+.2f} pp")
    curve = engine_curve(ev)
    print("  engine curve: " + "  ".join(f"{p.service_target:g}:{p.summary.fill_rate:.3f}/"
                                         f"{p.summary.average_inventory_value:,.0f}" for p in curve))  # fmt: skip
    at_fill = _read_curve(curve, c.fill_rate)
    print(f"  engine inventory at the company's fill: {at_fill:,.0f} ({at_fill / c.average_inventory_value:.3f}x)")
    fit = np.nan_to_num(ds.history[:, :-n_per])
    hist = (fit > 0).any(axis=1)
    ch, eh = summarise(comp.replay, mask=hist), summarise(ev.engine.replay, mask=hist)
    at_hist = _read_curve(curve, ch.fill_rate, mask=hist)
    print(f"  SKUs with demand in the fit periods ({int(hist.sum()):,}): company fill {ch.fill_rate:.4f} inventory "
          f"{ch.average_inventory_value:,.0f}; engine {eh.fill_rate:.4f} / {eh.average_inventory_value:,.0f}; engine "
          f"at the company's fill {at_hist:,.0f} ({at_hist / ch.average_inventory_value:.3f}x)")  # fmt: skip
    gap_rule = stopped_sellers(history=ds.history[:, :-n_per], min_gap_periods=settings.dead_after_periods).stopped
    cg, eg = summarise(comp.replay, mask=gap_rule), summarise(ev.engine.replay, mask=gap_rule)
    print(f"  SKUs the gap rule alone (issue 15) phases out ({int(gap_rule.sum()):,}, {cg.demand / c.demand:.1%} of "
          f"the replayed demand): company {cg.fill_rate:.4f} / {cg.average_inventory_value:,.0f}; engine (phase-out "
          f"alpha {settings.phase_out_alpha:g}) {eg.fill_rate:.4f} / {eg.average_inventory_value:,.0f}")  # fmt: skip
    test = np.nan_to_num(ev.test_demand)
    lo, hi = ds.company["reorder_point"][:, None], ds.company["order_up_to"][:, None]
    for label, m in (("without", ~hist), ("with", hist)):
        rate = [float((((x == lo) | (x == hi)) & (x > 0))[m].mean()) for x in (test, fit)]
        print(f"  SKUs {label} fit demand: a month's demand equals the company's min or max in {rate[0]:.2%} of the "
              f"replayed months vs {rate[1]:.2%} of the fit months")  # fmt: skip
    floors = _planner_floor(ds, ev, c, hist)
    beats = ok and inv_ratio < 1 and e.fill_rate >= c.fill_rate
    return {"company_fill": c.fill_rate, "company_inv": c.average_inventory_value, "engine_vs_company": inv_ratio,
            "engine_at_company_fill": at_fill, "beats": beats, **floors}  # fmt: skip


def _planner_floor(ds: DataSet, ev, c, hist: np.ndarray) -> dict:
    """Separate, labelled points: the engine with the company's stated min (min_reorder_point) as the planner's
    minimum stock (core.min_stock) -- on every SKU, and on the SKUs without fit demand only (the insurance spares
    the engine cannot see). Honest label: this is the planner's knowledge, not the engine's."""
    out = {}
    lo = ds.company["reorder_point"]
    for label, floor in (("all SKUs", lo), ("SKUs without fit demand", np.where(hist, np.nan, lo))):
        curve = engine_curve(ev, min_stock=floor)
        at = _read_curve(curve, c.fill_rate)
        p95 = next(p for p in curve if p.service_target == 0.95).summary
        print(
            f"  [planner floor = company's min, {label}] engine curve: "
            + "  ".join(
                f"{p.service_target:g}:{p.summary.fill_rate:.3f}/{p.summary.average_inventory_value:,.0f}"
                for p in curve
            )
        )
        print(f"  [planner floor = company's min, {label}] at 0.95: fill {p95.fill_rate:.4f} inventory "
              f"{p95.average_inventory_value:,.0f}; inventory at the company's fill {at:,.0f} "
              f"({at / c.average_inventory_value:.3f}x)")  # fmt: skip
        out[f"floor_{'all' if label == 'all SKUs' else 'nofit'}_at_company_fill"] = at
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    ap.add_argument("--max-skus", type=int, default=None, help="seeded random subsample of each set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--periods", type=int, default=None, help="periods replayed (default per set)")
    ap.add_argument("--frontier", action="store_true", help="print every frontier point")
    ap.add_argument("--phase-out-alpha", type=float, default=None,
                    help="EngineSettings.phase_out_alpha (default the engine's; 1 = the gap rule alone)")  # fmt: skip
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    bad = [s for s in names if s not in LOADERS]
    if bad:
        ap.error(f"unknown set(s) {bad}; choose from {', '.join(SETS)}")
    print(f"uptime load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    settings = EngineSettings()
    if args.phase_out_alpha is not None:
        settings = replace(settings, phase_out_alpha=args.phase_out_alpha)
    print(f"phase-out evidence: alpha {settings.phase_out_alpha:g}")
    rows = []
    for name in names:
        ds = LOADERS[name]()
        if ds is None:
            continue
        ds = _subsample(ds, args.max_skus, args.seed)
        rows.append(run_set(ds, periods=args.periods, settings=settings, verbose_frontier=args.frontier))
    if rows:
        print("\nset            engine fill  engine inv      textbook fill@inv  gap pp  ratio@fill  company fill/inv")
        for r in rows:
            comp = f"{r['company_fill']:.4f} / {r['company_inv']:,.0f}" if "company_fill" in r else "-"
            print(
                f"{r['set']:<14s} {r['engine_fill']:.4f}  {r['engine_inv']:14,.0f}  {r['textbook_fill_at_inv']:.4f}"
                f"            {r['gap'] * 100:+6.2f}  {r['ratio']:.3f}x      {comp}"
            )
    print(f"uptime load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
