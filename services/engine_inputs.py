"""Loading the engine's inputs from the database: demand matrix, SKU master, stock, open orders, lead times, overrides.

The rules the loader applies (the engine sees only their result):

- **Grain**: detected from the spacing between consecutive periods *within* each SKU: every gap of 1 day counts for
  daily, 7 days for weekly, 28-31 days for monthly; the grain with most gaps wins (ties: the finer; the 1,000 SKUs
  with the lowest ids are enough to decide). Without any gap (one period per SKU) the grain of the latest demand
  import is used, else weekly.
- **Period grid**: one column per period from the first to the last period of the data. Dates are bucketed, not
  matched: weekly buckets are 7-day steps from the earliest date, monthly buckets are calendar months, daily buckets
  days; several rows of a SKU in one bucket are summed. The column's date is the bucket start on that grid
  (monthly: the earliest date plus k calendar months).
- **History length**: at most ``MAX_PERIODS`` (3 years daily, 5 years weekly, 10 years monthly), the latest ones.
- **Missing periods are zero demand inside a SKU's own range**: from its first demand row to its *last* demand row
  a period without a row had no sales. Periods *before* the SKU's first row are NaN ("not started yet", the
  forecast contract's leading-NaN rule); periods *after* its last row are NaN too: "not reported", never zero
  (issue 15 item 1) -- a file for a few SKUs and a new period says nothing about the others. A full-extract import
  writes explicit zero rows for the active SKUs it does not mention, and those are reported zeros. A SKU without
  any demand row is all NaN (forecast 0).
- **Data through** (``RunContext.through``): the latest period that most active SKUs have reported
  (:func:`core.coverage.data_through`, from each SKU's last demand row); the run's ``data_as_of``. The grid may run
  past it (SKUs that reported ahead); the engine computes the cross-sectional steps at data through
  (:func:`core.coverage.compute_two_pass`).
- **SKU master**: active SKUs only, ordered by code (the fixed batch composition follows this order); ``one_shot``
  (bool) marks the seasonal / one-shot buys the engine orders with the newsvendor quantity.
- **Stock**: the latest stock position per SKU (largest ``as_of``); none -> 0 on hand, 0 on order.
  Approved, not yet received purchase orders (``purchase_order.status == 'approved'``) add their quantity to on order.
  Approved, not yet received transfers (issue 21) add to the receiver's on order and leave the giver's on hand.
- **Lead times**: learned from the ``receipt`` table per SKU (:func:`core.leadtime.learn_lead_times`) where the SKU
  has at least ``receipts_min_for_learned_lead_time`` receipts, else the master data
  (:func:`core.leadtime.choose_lead_time`); ``lead_time_source`` is ``"receipts"`` or ``"master"``.
- **Partial periods** (``demand_partial``, marked by the import: daily rows through Wednesday summed into a week, a
  period not over yet): a SKU's *trailing* partial row is not reported yet (NaN: not fitted, not counted as its last
  reported period nor for data through) until the whole period arrives; a partial row inside the history is kept as
  a fact for the health rules but not fitted, like a stockout period (:func:`partial_matrix`).
- **Overrides**: the latest ``forecast_override`` row (by ``created_at``, then id) per SKU and period bucket inside the
  forecast horizon replaces the forecast mean of that period; older rows and rows outside the horizon are ignored.
  The override matrix starts after data through: (n, T - through + horizon) columns, so a SKU whose forecast starts
  after data through (pass 1) or after its own last period (pass 2) finds its horizon in it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from core.consensus import months_of, spread_units
from core.coverage import data_through, last_reported
from core.forecast.causal import CausalInputs
from core.leadtime import choose_lead_time, learn_lead_times
from db import queries_recompute as q
from services import consensus_layers as cl
from services.causal_inputs import load_causal

if TYPE_CHECKING:
    from core.portfolio import BatchInputs

GRAINS: tuple[str, ...] = ("daily", "weekly", "monthly")
DEFAULT_GRAIN = "weekly"
GRAIN_SAMPLE_SKUS = 1_000
MAX_PERIODS: dict[str, int] = {"daily": 3 * 366, "weekly": 5 * 53, "monthly": 10 * 12}
"""The longest history the engine gets (3 years daily, 5 years weekly, 10 years monthly); older periods are left out
so one mistyped old date cannot blow the matrix up."""
SKU_INPUT_COLUMNS: tuple[str, ...] = (
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


def detect_grain(*, sku_ids: np.ndarray, periods: pd.Series | pd.DatetimeIndex, fallback: str | None = None) -> str:
    """The data's grain from the gaps between consecutive periods of the same SKU (rules in the module docstring).

    Parameters
    ----------
    sku_ids
        (m,) SKU of each demand row.
    periods
        (m,) period date of each row.
    fallback
        Grain to use when no SKU has two periods (default ``"weekly"``).
    """
    frame = pd.DataFrame({"sku": np.asarray(sku_ids), "period": pd.to_datetime(np.asarray(periods))})
    skus = np.unique(frame["sku"].to_numpy())
    if len(skus) > GRAIN_SAMPLE_SKUS:  # a fixed sample (the lowest ids) is plenty and keeps 10k SKUs fast
        frame = frame[frame["sku"].to_numpy() <= skus[GRAIN_SAMPLE_SKUS - 1]]
    frame = frame.drop_duplicates().sort_values(["sku", "period"])
    same = frame["sku"].to_numpy()[1:] == frame["sku"].to_numpy()[:-1]
    gaps = np.diff(frame["period"].to_numpy()).astype("timedelta64[D]").astype(np.int64)[same]
    votes = {"daily": int(np.sum(gaps == 1)), "weekly": int(np.sum(gaps == 7))}
    votes["monthly"] = int(np.sum((gaps >= 28) & (gaps <= 31)))
    best = max(GRAINS, key=lambda g: (votes[g], -GRAINS.index(g)))
    if votes[best] == 0:
        return fallback if fallback in GRAINS else DEFAULT_GRAIN
    return best


def period_index(*, dates: Any, grain: str, origin: pd.Timestamp) -> np.ndarray:
    """Bucket number of each date on the grid that starts at ``origin`` (period 0)."""
    stamps = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates)))
    if grain == "monthly":
        return ((stamps.year - origin.year) * 12 + (stamps.month - origin.month)).to_numpy().astype(np.int64)
    days = (stamps - origin).days.to_numpy().astype(np.int64)
    if grain == "weekly":
        return np.floor_divide(days, 7)
    if grain == "daily":
        return days
    raise ValueError(f"grain must be one of {GRAINS}, got {grain!r}")


def period_dates(*, origin: pd.Timestamp, grain: str, start: int, count: int) -> pd.DatetimeIndex:
    """Dates of the buckets ``start .. start + count - 1`` of the grid that starts at ``origin``."""
    steps = range(start, start + count)
    if grain == "monthly":
        return pd.DatetimeIndex([origin + pd.DateOffset(months=k) for k in steps])
    if grain == "weekly":
        return pd.DatetimeIndex([origin + pd.Timedelta(days=7 * k) for k in steps])
    if grain == "daily":
        return pd.DatetimeIndex([origin + pd.Timedelta(days=k) for k in steps])
    raise ValueError(f"grain must be one of {GRAINS}, got {grain!r}")


@dataclass(frozen=True)
class RunContext:
    """What every batch of one run shares: the period grid and the horizon.

    A batch loaded in another process with the same context lines up with the others column for column.
    """

    grain: str
    origin: pd.Timestamp
    n_periods: int
    horizon: int
    min_receipts: int
    through: int | None = None
    """Periods up to and including "data through" (None: ``n_periods``); see the module docstring."""

    @property
    def through_periods(self) -> int:
        return self.n_periods if self.through is None else int(self.through)

    @property
    def period_dates(self) -> pd.DatetimeIndex:
        return period_dates(origin=self.origin, grain=self.grain, start=0, count=self.n_periods)

    @property
    def future_dates(self) -> pd.DatetimeIndex:
        return period_dates(origin=self.origin, grain=self.grain, start=self.n_periods, count=self.horizon)

    @property
    def data_as_of(self) -> dt.date | None:
        """The data-through period's date (the latest period most active SKUs reported)."""
        if not self.n_periods:
            return None
        return period_dates(origin=self.origin, grain=self.grain, start=self.through_periods - 1, count=1)[0].date()


@dataclass
class PortfolioInputs:
    """The engine inputs of a set of SKUs (code order), ready to be cut into batches."""

    context: RunContext
    codes: list[str]
    sku_ids: np.ndarray  # (n,) int64
    history: np.ndarray  # (n, T) float64, leading NaN before a SKU's first row
    sku: pd.DataFrame  # n rows, SKU_INPUT_COLUMNS
    lead_time_source: np.ndarray  # (n,) "receipts" | "master"
    overrides: np.ndarray | None  # (n, T - through + horizon) NaN where none; None when there is no override at all
    timings: dict[str, float] = field(default_factory=dict)
    partial: np.ndarray | None = None  # (n, T) bool: rows covering their period only in part; None: none
    causal: CausalInputs | None = None  # (n, T + horizon) prices, promotions, events (services.causal_inputs)
    commercial: np.ndarray | None = None  # (n, T - through + horizon, 2) factor, units added; None: no adjustment
    commercial_ids: np.ndarray | None = None  # (n, T - through + horizon) the adjustment in force (0: none)

    def __len__(self) -> int:
        return len(self.codes)

    def batch(self, part: slice) -> BatchInputs:
        """The :class:`core.portfolio.BatchInputs` of the SKUs in ``part`` (picklable: can go to another process)."""
        from core.portfolio import BatchInputs

        overrides = None
        if self.overrides is not None:
            chunk = self.overrides[part]
            overrides = chunk if np.isfinite(chunk).any() else None
        commercial = None
        if self.commercial is not None:
            part_com = self.commercial[part]
            commercial = part_com if np.isfinite(part_com).any() else None
        return BatchInputs(
            codes=self.codes[part],
            history=self.history[part],
            period_dates=self.context.period_dates,
            grain=self.context.grain,
            sku=self.sku.iloc[part].reset_index(drop=True),
            overrides=overrides,
            commercial=commercial,
            stockout=None if self.partial is None or not self.partial[part].any() else self.partial[part],
            through=self.context.through_periods,
            causal=None if self.causal is None else self.causal.subset(part),
        )


def load_context(
    *,
    connection: Connection,
    sku_ids: np.ndarray | None,
    horizon: int,
    min_receipts: int,
    partial: pd.DataFrame | None = None,
) -> tuple[RunContext | None, pd.DataFrame]:
    """Detect the grain and the period grid from the demand of ``sku_ids`` (None: all active SKUs).

    ``partial``: the ``demand_partial`` marks (:func:`db.queries_recompute.partial_rows`; None: read them); a SKU
    whose last row is marked has reported through the period before it. Returns the context (None when there is no
    demand row) and the demand rows it was built from.
    """
    demand = q.demand_rows(connection, sku_ids=None if sku_ids is None else sku_ids.tolist())
    if demand.empty:
        return None, demand
    grain = detect_grain(
        sku_ids=demand["sku_id"].to_numpy(),
        periods=demand["period"],
        fallback=q.latest_import_grain(connection),
    )
    origin = demand["period"].min()
    last = int(period_index(dates=[demand["period"].max()], grain=grain, origin=origin)[0])
    if last + 1 > MAX_PERIODS[grain]:
        skip = last + 1 - MAX_PERIODS[grain]
        origin = period_dates(origin=origin, grain=grain, start=skip, count=1)[0]
        last -= skip
    ends = demand.groupby("sku_id", sort=False)["period"].max()
    marks = q.partial_rows(connection) if partial is None else partial
    through = through_from_last_periods(
        last=ends.to_numpy(),
        grain=grain,
        origin=origin,
        n_periods=last + 1,
        partial=trailing_marked(ends=ends, marks=marks),
    )
    context = RunContext(
        grain=grain, origin=origin, n_periods=last + 1, horizon=horizon, min_receipts=min_receipts, through=through
    )
    return context, demand


def trailing_marked(*, ends: pd.Series, marks: pd.DataFrame) -> np.ndarray:
    """(len(ends),) bool: the SKU's last demand row (``ends``: sku_id -> last period) is marked partial."""
    if marks.empty or ends.empty:
        return np.zeros(len(ends), dtype=bool)
    keys = pd.MultiIndex.from_arrays([marks["sku_id"].to_numpy(), pd.to_datetime(marks["period"]).to_numpy()])
    wanted = pd.MultiIndex.from_arrays([ends.index.to_numpy(), pd.to_datetime(ends.to_numpy())])
    return wanted.isin(keys)


def through_from_last_periods(
    *, last: Any, grain: str, origin: pd.Timestamp, n_periods: int, partial: Any = None
) -> int:
    """Data through (periods counted from ``origin``) from each SKU's last demand period
    (:func:`core.coverage.data_through`); a SKU whose last period is before ``origin`` counts as reporting none, one
    whose last row covers its period only in part (``partial`` True) as reporting through the period before."""
    dates = pd.to_datetime(np.asarray(last))
    columns = period_index(dates=dates, grain=grain, origin=origin) if len(dates) else np.zeros(0, np.int64)
    if partial is not None and len(columns):
        columns = columns - np.asarray(partial, dtype=np.int64)
    return data_through(last=np.clip(columns, -1, n_periods - 1), n_periods=n_periods)


def demand_matrix(*, demand: pd.DataFrame, sku_ids: np.ndarray, context: RunContext) -> np.ndarray:
    """(n, T) demand of ``sku_ids`` on the context's grid: sums per bucket, 0 for missing periods between a SKU's
    first and last row, NaN before the first and after the last (and for a SKU without rows)."""
    n, t_len = len(sku_ids), context.n_periods
    history = np.full((n, t_len), np.nan)
    if n == 0 or demand.empty:
        return history
    order = np.argsort(sku_ids, kind="stable")
    sorted_ids = sku_ids[order]
    pos = np.searchsorted(sorted_ids, demand["sku_id"].to_numpy())
    pos = np.clip(pos, 0, n - 1)
    known = sorted_ids[pos] == demand["sku_id"].to_numpy()
    rows = order[pos[known]]
    cols = period_index(dates=demand["period"].to_numpy()[known], grain=context.grain, origin=context.origin)
    inside = (cols >= 0) & (cols < t_len)
    rows, cols = rows[inside], cols[inside]
    qty = demand["quantity"].to_numpy(dtype=float)[known][inside]
    sums = np.zeros((n, t_len))
    np.add.at(sums, (rows, cols), qty)
    first = np.full(n, t_len, dtype=np.int64)
    np.minimum.at(first, rows, cols)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, rows, cols)
    column = np.arange(t_len)[None, :]
    reported = (column >= first[:, None]) & (column <= last[:, None])  # after the last row: not reported (NaN)
    history[reported] = sums[reported]
    return history


def partial_matrix(
    *, frame: pd.DataFrame, sku_ids: np.ndarray, context: RunContext, history: np.ndarray
) -> np.ndarray | None:
    """(n, T) True where a SKU's demand row covers its period only in part (``demand_partial``); None when none does.

    The engine treats such a period like a stockout period (:func:`core.portfolio.demand_history`): its sales stay
    facts (last sale, recent sales) but the forecast, the classification and the policy do not fit it -- a week
    reported through Wednesday is an incomplete week, not a low one (issue 15 item 1)."""
    if frame.empty or len(sku_ids) == 0:
        return None
    row = pd.Index(sku_ids).get_indexer(frame["sku_id"].to_numpy())
    col = period_index(dates=frame["period"].to_numpy(), grain=context.grain, origin=context.origin)
    keep = (row >= 0) & (col >= 0) & (col < context.n_periods)
    if not keep.any():
        return None
    out = np.zeros((len(sku_ids), context.n_periods), dtype=bool)
    out[row[keep], col[keep]] = True
    out &= np.isfinite(history)  # only rows that exist
    return out if out.any() else None


def override_matrix(*, frame: pd.DataFrame, sku_ids: np.ndarray, context: RunContext) -> np.ndarray | None:
    """(n, T - through + horizon) latest override quantity per SKU and period after data through (NaN where none;
    None if no override); T - through = 0 when every SKU reports up to the last period."""
    if frame.empty or context.horizon < 1:
        return None
    width = context.n_periods - context.through_periods + context.horizon
    frame = frame.sort_values(["created_at", "id"])
    bucket = period_index(dates=frame["period"].to_numpy(), grain=context.grain, origin=context.origin)
    step = bucket - context.through_periods
    index = pd.Index(sku_ids)
    row = index.get_indexer(frame["sku_id"].to_numpy())
    keep = (row >= 0) & (step >= 0) & (step < width)
    if not keep.any():
        return None
    out = np.full((len(sku_ids), width), np.nan)
    out[row[keep], step[keep]] = frame["qty"].to_numpy(dtype=float)[keep]  # later rows (newest) overwrite
    return out


def commercial_matrix(
    *, connection: Connection, sku_ids: np.ndarray, context: RunContext
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The commercial adjustments in force on the overrides' columns (periods after data through, then the horizon):
    ((n, width, 2) factor and units added, NaN where none; (n, width) adjustment id, 0 where none), or (None, None).

    A forecast period belongs to the month it starts in. A category's adjustment applies to its active SKUs; a SKU's
    own adjustment for a month replaces its category's. ``change_pct`` gives the factor 1 + pct / 100 in every period
    of the month; ``change_units`` is shared among the scope's SKUs and periods of the month in proportion to their
    forecast after overrides in the latest run (:func:`services.consensus_layers.latest_weights`; evenly without
    one), so a partial run gives a SKU the share a full run would (:func:`core.consensus.spread_units`).
    """
    adjustments = cl.active_adjustments(connection)
    if adjustments.empty or context.horizon < 1 or len(sku_ids) == 0:
        return None, None
    members = cl.scope_members(connection, adjustments=adjustments)
    if members.empty:
        return None, None
    width = context.n_periods - context.through_periods + context.horizon
    dates = period_dates(origin=context.origin, grain=context.grain, start=context.through_periods, count=width)
    column_month = months_of(dates)
    member_ids = np.unique(members["sku_id"].to_numpy(dtype=np.int64))
    rows_of = pd.Index(member_ids)
    weights = np.zeros((len(member_ids), width))
    latest = cl.latest_weights(connection, sku_ids=member_ids.tolist())
    if not latest.empty:
        step = period_index(dates=latest["period"].to_numpy(), grain=context.grain, origin=context.origin)
        step = step - context.through_periods
        ok = (step >= 0) & (step < width)
        rows = rows_of.get_indexer(latest["sku_id"].to_numpy())
        weights[rows[ok], step[ok]] = np.maximum(np.nan_to_num(latest["weight"].to_numpy(dtype=float)[ok]), 0.0)
    here = pd.Index(sku_ids)
    out = np.full((len(sku_ids), width, 2), np.nan)
    ids = np.zeros((len(sku_ids), width), dtype=np.int64)
    order = adjustments.assign(rank=(adjustments["scope_kind"] == "sku").astype(int)).sort_values(["rank", "id"])
    for adj in order.itertuples(index=False):  # categories first: a SKU's own adjustment overwrites its category's
        cols = np.flatnonzero(column_month == np.datetime64(pd.Timestamp(adj.period).date(), "M"))
        scope_ids = members.loc[members["adjustment_id"] == adj.id, "sku_id"].to_numpy(dtype=np.int64)
        if len(cols) == 0 or len(scope_ids) == 0:
            continue
        local = here.get_indexer(scope_ids)
        mine = local >= 0
        if not mine.any():
            continue
        block = np.ix_(local[mine], cols)
        if pd.notna(adj.change_pct):
            out[..., 0][block] = 1.0 + float(adj.change_pct) / 100.0
            out[..., 1][block] = 0.0
        else:
            w = weights[np.ix_(rows_of.get_indexer(scope_ids), cols)]
            shares = spread_units(weights=w, total=float(adj.change_units)).reshape(w.shape)
            out[..., 0][block] = 1.0
            out[..., 1][block] = shares[mine]
        ids[block] = int(adj.id)
    if not (ids > 0).any():
        return None, None
    return out, ids


def load_portfolio_inputs(
    *,
    connection: Connection,
    horizon: int,
    min_receipts: int,
    sku_codes: list[str] | None = None,
    context: RunContext | None = None,
) -> PortfolioInputs | None:
    """Load every engine input of the active SKUs (only ``sku_codes`` when given), in code order.

    Parameters
    ----------
    connection
        Open connection (reads only).
    horizon
        Forecast periods (for the overrides).
    min_receipts
        Receipts a SKU needs before its learned lead time replaces the master data.
    sku_codes
        Restrict to these SKU codes (unknown or inactive codes are ignored).
    context
        A run context loaded before (e.g. by the coordinator when a worker loads one batch); None: detect it here.

    Returns
    -------
    PortfolioInputs, or None when there is no active SKU.

    Raises
    ------
    services.errors.UserFacingError
        When active SKUs exist but there is no demand history at all.
    """
    from services.errors import UserFacingError

    timings: dict[str, float] = {}
    start = time.perf_counter()
    skus = q.active_skus(connection, codes=sku_codes)
    if skus.empty:
        return None
    sku_ids = skus["id"].to_numpy(dtype=np.int64)
    marks = q.partial_rows(connection)
    if context is None:
        context, demand = load_context(
            connection=connection,
            sku_ids=None if sku_codes is None else sku_ids,
            horizon=horizon,
            min_receipts=min_receipts,
            partial=marks,
        )
        if context is None:
            raise UserFacingError("there is no demand history for the active SKUs yet: import sales history first")
    else:
        demand = q.demand_rows(connection, sku_ids=sku_ids.tolist())
    timings["load_demand"] = time.perf_counter() - start

    mark = time.perf_counter()
    history = demand_matrix(demand=demand, sku_ids=sku_ids, context=context)
    del demand
    partial = partial_matrix(frame=marks, sku_ids=sku_ids, context=context, history=history)
    if partial is not None:  # a trailing partial period is not reported yet; one inside the history is censored
        trailing = partial & (np.arange(context.n_periods)[None, :] == last_reported(history=history)[:, None])
        history[trailing] = np.nan
        partial &= ~trailing
        partial = partial if partial.any() else None
    timings["pivot"] = time.perf_counter() - mark

    mark = time.perf_counter()
    stock = q.latest_stock(connection)
    stock = stock.drop_duplicates("sku_id", keep="last").set_index("sku_id")
    on_hand = stock["on_hand"].reindex(sku_ids).fillna(0.0).to_numpy(dtype=float)
    on_order = stock["on_order"].reindex(sku_ids).fillna(0.0).to_numpy(dtype=float)
    on_order = on_order + q.approved_on_order(connection).reindex(sku_ids).fillna(0.0).to_numpy(dtype=float)
    arriving, leaving = q.approved_transfers(connection)  # issue 21: approved transfers are on their way
    on_order = on_order + arriving.reindex(sku_ids).fillna(0.0).to_numpy(dtype=float)
    on_hand = on_hand - leaving.reindex(sku_ids).fillna(0.0).to_numpy(dtype=float)

    receipts = q.receipts(connection)
    learned = learn_lead_times(receipts=receipts, by=("sku",)).reindex(sku_ids)
    lt_mean, lt_std, source = choose_lead_time(
        learned_mean=learned["lead_time_mean_days"].to_numpy(dtype=float),
        learned_std=learned["lead_time_std_days"].to_numpy(dtype=float),
        learned_count=learned["count"].fillna(0).to_numpy(dtype=float),
        master_mean=skus["lead_time_mean"].to_numpy(dtype=float),
        master_std=skus["lead_time_std"].to_numpy(dtype=float),
        min_count=min_receipts,
    )
    lead_time_source = np.where(source == "learned", "receipts", "master").astype(object)

    sku = pd.DataFrame(
        {
            "category": skus["category"].astype(str).to_numpy(),
            "unit_cost": skus["unit_cost"].to_numpy(dtype=float),
            "unit_price": skus["unit_price"].to_numpy(dtype=float),
            "salvage_value": skus["salvage_value"].to_numpy(dtype=float),
            "holding_cost_rate": skus["holding_cost_rate"].to_numpy(dtype=float),
            "order_cost": skus["order_cost"].to_numpy(dtype=float),
            "lead_time_mean_days": np.asarray(lt_mean, dtype=float),
            "lead_time_std_days": np.asarray(lt_std, dtype=float),
            "moq": skus["moq"].to_numpy(dtype=float),
            "order_multiple": skus["order_multiple"].to_numpy(dtype=float),
            "service_level": skus["service_level_target"].to_numpy(dtype=float),
            "on_hand": on_hand,
            "on_order": on_order,
            "one_shot": skus["one_shot"].eq(True).to_numpy(dtype=bool),  # None (not given) -> False
            "min_stock": pd.to_numeric(skus["min_stock"], errors="coerce").to_numpy(dtype=float)
            if "min_stock" in skus.columns
            else np.nan,  # the planner's floor (core.min_stock); NULL: none
        }
    )
    overrides = override_matrix(
        frame=q.overrides(connection, since=context.origin.date()), sku_ids=sku_ids, context=context
    )
    commercial, commercial_ids = commercial_matrix(connection=connection, sku_ids=sku_ids, context=context)
    timings["load_master"] = time.perf_counter() - mark
    mark = time.perf_counter()
    causal = load_causal(connection=connection, sku_ids=sku_ids, context=context, period_index=period_index)
    timings["load_causal"] = time.perf_counter() - mark
    return PortfolioInputs(
        context=context,
        codes=skus["code"].astype(str).tolist(),
        sku_ids=sku_ids,
        history=history,
        sku=sku,
        lead_time_source=lead_time_source,
        overrides=overrides,
        timings=timings,
        partial=partial,
        causal=causal,
        commercial=commercial,
        commercial_ids=commercial_ids,
    )
