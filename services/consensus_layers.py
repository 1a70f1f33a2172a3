"""The consensus demand's storage side (issue 19 item 1): the active commercial adjustments the engine reads, the
weights that share an adjustment's units, and the forecast layers of record each recompute writes.

- **Active adjustments**: ``demand_adjustment`` rows not deleted (a new adjustment for the same scope and month
  marks the older one deleted, :mod:`services.consensus`).
- **Weights** of a units adjustment: the latest finished run's forecast after the overrides of every active SKU of
  the affected scopes (``consensus_layer.overridden`` where recorded, else the stored mean), so a partial run of one
  SKU gives it the same share as a run of its whole category.
- **Layers of record** (``consensus_layer``): for each SKU a recompute computed and each of its forecast periods an
  override or an adjustment touched, the statistical forecast, the forecast after overrides and the consensus (the
  stored ``future`` mean). The SKU's rows for its forecast periods are replaced on every run, so a period keeps the
  last forecast made for it before its actual arrived -- what :func:`services.consensus.fva_frame` judges. Periods
  the SKU's run does not forecast (past ones) are left as they are.

Imports only ``core``, ``db`` and ``services.runs`` (``services.engine_inputs`` and ``services.recompute`` call it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, delete, func, select
from sqlalchemy.orm import Session

from db import queries_recompute as q
from db.models import (
    ConsensusLayer,
    Demand,
    DemandAdjustment,
    Forecast,
    ForecastOverride,
    RecomputeRun,
    Sku,
    utcnow,
)
from services.runs import days_per_period, latest_run

ADJUSTMENT_COLUMNS = ["id", "scope_kind", "scope", "period", "change_pct", "change_units", "user_email", "created_at"]
LAYER_TOLERANCE = 1e-9
CHUNK = 900  # ids per IN list (SQLite's bound-parameter limit)


def active_adjustments(connection: Connection) -> pd.DataFrame:
    """The adjustments in force: :data:`ADJUSTMENT_COLUMNS`, oldest first."""
    query = (
        select(*[getattr(DemandAdjustment, c) for c in ADJUSTMENT_COLUMNS])
        .where(DemandAdjustment.deleted_at.is_(None))
        .order_by(DemandAdjustment.created_at, DemandAdjustment.id)
    )
    return pd.DataFrame(connection.execute(query).all(), columns=ADJUSTMENT_COLUMNS)


def scope_members(connection: Connection, *, adjustments: pd.DataFrame) -> pd.DataFrame:
    """Active SKUs of the adjustments' scopes: ``adjustment_id``, ``sku_id``, ``category`` (a SKU adjustment of an
    inactive or unknown SKU has no member)."""
    columns = ["adjustment_id", "sku_id", "category"]
    if adjustments.empty:
        return pd.DataFrame(columns=columns)
    codes = adjustments.loc[adjustments["scope_kind"] == "sku", "scope"].astype(str).unique().tolist()
    cats = adjustments.loc[adjustments["scope_kind"] == "category", "scope"].astype(str).unique().tolist()
    skus = pd.DataFrame(
        connection.execute(
            select(Sku.id, Sku.code, Sku.category).where(
                Sku.active.is_(True), Sku.code.in_(codes) | Sku.category.in_(cats)
            )
        ).all(),
        columns=["sku_id", "code", "category"],
    )
    by_code = adjustments[adjustments["scope_kind"] == "sku"].merge(skus, left_on="scope", right_on="code")
    by_cat = adjustments[adjustments["scope_kind"] == "category"].merge(skus, left_on="scope", right_on="category")
    out = pd.concat([by_code, by_cat], ignore_index=True).rename(columns={"id": "adjustment_id"})
    return out[columns] if not out.empty else pd.DataFrame(columns=columns)


def latest_weights(connection: Connection, *, sku_ids: list[int]) -> pd.DataFrame:
    """The latest finished run's future forecast after overrides of ``sku_ids``: ``sku_id``, ``period``, ``weight``."""
    columns = ["sku_id", "period", "weight"]
    run_id = connection.execute(
        select(RecomputeRun.id)
        .where(RecomputeRun.status == "finished")
        .order_by(RecomputeRun.finished_at.desc(), RecomputeRun.id.desc())
        .limit(1)
    ).scalar()
    if run_id is None or not sku_ids:
        return pd.DataFrame(columns=columns)
    layer = ConsensusLayer.__table__
    query = (
        select(Forecast.sku_id, Forecast.period, func.coalesce(layer.c.overridden, Forecast.mean))
        .select_from(
            Forecast.__table__.outerjoin(
                layer, and_(layer.c.sku_id == Forecast.sku_id, layer.c.period == Forecast.period)
            )
        )
        .where(Forecast.run_id == run_id, Forecast.kind == "future", Forecast.sku_id.in_(sku_ids))
    )
    return pd.DataFrame(connection.execute(query).all(), columns=columns)


def record_layers(
    *,
    connection: Connection,
    run_id: int,
    sku_ids: np.ndarray,
    periods: np.ndarray,
    statistical: np.ndarray,
    overridden: np.ndarray,
    consensus: np.ndarray,
    touched: np.ndarray,
    adjustment_ids: np.ndarray,
) -> int:
    """Replace the layers of record of the computed SKUs' forecast periods; returns the rows written.

    Every argument is (n, H) per SKU and horizon step (``sku_ids`` repeated, ``periods`` ISO dates or None where the
    SKU has no forecast); ``touched``: an override or an adjustment applied to the cell (or the layers differ);
    ``adjustment_ids``: the adjustment in force for the cell (0: none).
    """
    valid = np.asarray([p is not None for p in periods.ravel()]).reshape(periods.shape) & np.isfinite(consensus)
    if not valid.any():
        return 0
    first = pd.DataFrame({"sku_id": sku_ids[valid], "period": periods[valid]}).groupby("sku_id")["period"].min()
    for start, ids in first.groupby(first).groups.items():  # one DELETE per first forecast period (and chunk)
        ids = [int(i) for i in ids]
        for at in range(0, len(ids), CHUNK):
            connection.execute(
                delete(ConsensusLayer).where(
                    ConsensusLayer.sku_id.in_(ids[at : at + CHUNK]),
                    ConsensusLayer.period >= dt.date.fromisoformat(str(start)),
                )
            )
    keep = valid & touched
    if not keep.any():
        return 0
    adj = np.asarray(adjustment_ids, dtype=np.int64)[keep]
    frame = pd.DataFrame(
        {
            "sku_id": sku_ids[keep],
            "period": periods[keep],
            "run_id": int(run_id),
            "computed_at": utcnow().replace(microsecond=0),
            "statistical": statistical[keep],
            "overridden": overridden[keep],
            "consensus": consensus[keep],
            "adjustment_id": pd.array(np.where(adj > 0, adj, 0), dtype="Int64"),
        }
    )
    frame.loc[frame["adjustment_id"] == 0, "adjustment_id"] = pd.NA
    frame["statistical"] = frame["statistical"].where(np.isfinite(frame["statistical"]), frame["consensus"])
    frame["overridden"] = frame["overridden"].where(np.isfinite(frame["overridden"]), frame["consensus"])
    return q.insert_frame(connection, ConsensusLayer.__table__, frame)


def has_layers(connection: Connection, *, sku_ids: Any) -> bool:
    """Whether any of ``sku_ids`` has a layer of record (a run without overrides or adjustments may have stale ones
    to remove)."""
    if connection.execute(select(ConsensusLayer.id).limit(1)).first() is None:
        return False  # the usual case without any override or adjustment: one query
    ids = [int(i) for i in np.asarray(sku_ids).ravel()]
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        if connection.execute(select(ConsensusLayer.id).where(ConsensusLayer.sku_id.in_(part)).limit(1)).first():
            return True
    return False


def layer_rows(connection: Connection, *, since: dt.date | None = None) -> pd.DataFrame:
    """Every layer of record (periods from ``since``): ``sku_id``, ``code``, ``category``, ``period``, ``statistical``,
    ``overridden``, ``consensus``, ``adjustment_id``, ``computed_at``."""
    columns = ["sku_id", "code", "category", "period", "statistical", "overridden", "consensus", "adjustment_id"]
    query = select(
        ConsensusLayer.sku_id,
        Sku.code,
        Sku.category,
        ConsensusLayer.period,
        ConsensusLayer.statistical,
        ConsensusLayer.overridden,
        ConsensusLayer.consensus,
        ConsensusLayer.adjustment_id,
    ).join(Sku, Sku.id == ConsensusLayer.sku_id)
    if since is not None:
        query = query.where(ConsensusLayer.period >= since)
    return pd.DataFrame(connection.execute(query.order_by(Sku.code, ConsensusLayer.period)).all(), columns=columns)


def touched_cells(*, overrides: Any, statistical: np.ndarray, overridden: np.ndarray, consensus: np.ndarray) -> Any:
    """(n, H) bool: the cell had an override, or its layers differ."""
    out = (np.abs(np.nan_to_num(statistical) - np.nan_to_num(overridden)) > LAYER_TOLERANCE) | (
        np.abs(np.nan_to_num(overridden) - np.nan_to_num(consensus)) > LAYER_TOLERANCE
    )
    if overrides is not None:
        out |= np.isfinite(np.asarray(overrides, dtype=float))
    return out


def period_end(start: pd.Series, grain: str) -> pd.Series:
    """The next period start after each ``start`` on ``grain``."""
    if grain == "monthly":
        return start + pd.DateOffset(months=1)
    return start + pd.to_timedelta(days_per_period(grain), unit="D")


def period_actuals(*, session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (``sku_id``, ``period``: a period start on the latest run's grain) whose actuals have
    fully arrived, with ``actual``: the SKU's demand from the period start to the next period start (0 when the data
    reaches past the period without a row: missing periods are zero demand). Shared by the overrides' and the
    consensus layers' forecast value added (:mod:`services.consensus`)."""
    if frame.empty:
        return frame.assign(actual=pd.Series(dtype=float))
    run = latest_run(session=session)
    grain = (run.grain if run else None) or "weekly"
    out = frame.reset_index(drop=True).copy()
    out["_key"] = np.arange(len(out))
    out["start"] = pd.to_datetime(out["period"])
    out["end"] = period_end(out["start"], grain)
    last = session.scalar(select(func.max(Demand.period)))
    if last is None:
        return out.iloc[0:0].assign(actual=pd.Series(dtype=float))
    data_end = period_end(pd.Series(pd.to_datetime([last])), grain).iloc[0]  # the data covers up to here
    out = out[out["end"] <= data_end]  # only periods whose actuals have fully arrived
    if out.empty:
        return out.assign(actual=pd.Series(dtype=float))
    sku_ids = [int(i) for i in out["sku_id"].unique()]
    demand = pd.DataFrame(
        session.execute(
            select(Demand.sku_id, Demand.period, Demand.quantity).where(
                Demand.sku_id.in_(sku_ids),
                Demand.period >= out["start"].min().date(),
                Demand.period < out["end"].max().date(),
            )
        ).all(),
        columns=["sku_id", "day", "quantity"],
    )
    actual = np.zeros(len(out))
    if not demand.empty:
        demand["day"] = pd.to_datetime(demand["day"])
        merged = out[["_key", "sku_id", "start", "end"]].merge(demand, on="sku_id")
        inside = merged[(merged["day"] >= merged["start"]) & (merged["day"] < merged["end"])]
        sums = inside.groupby("_key")["quantity"].sum()
        actual = sums.reindex(out["_key"]).fillna(0.0).to_numpy(dtype=float)
    return out.drop(columns=["_key"]).assign(actual=actual)


def fva_frame(*, session: Session) -> pd.DataFrame:
    """The layers of record whose periods' actuals have arrived, with ``actual``, ``override_by`` (who made the newest
    override of the period; ``statistical`` where none) and ``adjusted_by`` (who made the adjustment in force)."""
    rows = layer_rows(session.connection())
    rows = period_actuals(session=session, frame=rows)
    if rows.empty:
        return rows
    overrides = pd.DataFrame(
        session.execute(
            select(
                ForecastOverride.sku_id,
                ForecastOverride.period,
                ForecastOverride.user_email,
            ).order_by(ForecastOverride.created_at, ForecastOverride.id)
        ).all(),
        columns=["sku_id", "period", "override_by"],
    ).drop_duplicates(["sku_id", "period"], keep="last")
    rows = rows.merge(overrides[["sku_id", "period", "override_by"]], on=["sku_id", "period"], how="left")
    users = dict(session.execute(select(DemandAdjustment.id, DemandAdjustment.user_email)).all())
    rows["override_by"] = rows["override_by"].fillna("no override")
    rows["adjusted_by"] = [
        users.get(int(a), "no adjustment") if pd.notna(a) else "no adjustment" for a in rows["adjustment_id"]
    ]
    return rows
