"""Planner forecast overrides (kept with who, when and why; never overwritten) and their forecast value added.

- :func:`add_override` stores one ``forecast_override`` row per chosen future period of the latest run. Rows are only
  ever added: a new override for a period supersedes the older ones (the recompute uses the newest per SKU and
  period, :func:`services.engine_inputs.override_matrix`), and the older ones stay as the audit trail.
- ``statistical_qty`` records the statistical forecast the planner replaced: the latest run's forecast mean for the
  period, or -- when that run already used an override for the period (so its stored mean is the override) -- the
  statistical figure recorded with that override.
- :func:`fva_summary` compares, on the periods whose actuals have arrived, the accuracy of the statistical forecast
  with that of the final (overridden) one: :func:`core.accuracy.forecast_value_added`, FVA = statistical WAPE - final
  WAPE (positive: the overrides helped). Actual of a period = the SKU's demand from the period start to the next
  period start (0 when the data reaches past the period without a row: missing periods are zero demand).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accuracy import forecast_value_added
from db.models import Forecast, ForecastOverride, Sku, utcnow
from services import audit, jobs
from services.consensus_layers import period_actuals
from services.errors import UserFacingError
from services.runs import latest_run

MAX_REASON = 500
MAX_QTY = 1e12
FVA_BY = {"planner": "user_email", "sku": "sku", "category": "category", "total": "total"}


@dataclass(frozen=True)
class OverrideView:
    id: int
    sku: str
    period: dt.date
    qty: float
    statistical_qty: float | None
    reason: str
    user_email: str
    created_at: dt.datetime
    active: bool  # the newest override of its period (the one the recompute uses)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PeriodOption:
    """A future period of the latest run that can be overridden."""

    period: dt.date
    statistical: float | None
    forecast: float | None  # the run's forecast mean (after the overrides it used)
    override: float | None  # the newest override for the period, if any


def _sku(session: Session, code: str) -> Sku:
    sku = session.scalar(select(Sku).where(Sku.code == (code or "").strip()))
    if sku is None:
        raise UserFacingError(f"there is no SKU {str(code)[:64]!r}")
    return sku


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _rows(session: Session, sku_id: int) -> list[ForecastOverride]:
    return list(
        session.scalars(
            select(ForecastOverride)
            .where(ForecastOverride.sku_id == sku_id)
            .order_by(ForecastOverride.created_at, ForecastOverride.id)
        )
    )


def override_history(*, session: Session, code: str) -> list[OverrideView]:
    """Every override of SKU ``code``, newest first; ``active`` marks the newest per period.

    Raises
    ------
    UserFacingError
        No SKU with that code.
    """
    sku = _sku(session, code)
    rows = _rows(session, sku.id)
    newest = {r.period: r.id for r in rows}  # rows are oldest first: the last one per period wins
    return [
        OverrideView(
            id=int(r.id),
            sku=sku.code,
            period=r.period,
            qty=float(r.qty),
            statistical_qty=_clean(r.statistical_qty),
            reason=r.reason,
            user_email=r.user_email,
            created_at=r.created_at,
            active=newest[r.period] == r.id,
        )
        for r in reversed(rows)
    ]


def override_periods(*, session: Session, code: str) -> list[PeriodOption]:
    """The future periods of the latest finished run for SKU ``code`` with the statistical forecast, the run's
    forecast and the current override (empty without a run or a forecast for the SKU).

    Raises
    ------
    UserFacingError
        No SKU with that code.
    """
    sku = _sku(session, code)
    run = latest_run(session=session)
    if run is None:
        return []
    forecast = session.execute(
        select(Forecast.period, Forecast.mean)
        .where(Forecast.run_id == run.id, Forecast.sku_id == sku.id, Forecast.kind == "future")
        .order_by(Forecast.period)
    ).all()
    rows = _rows(session, sku.id)
    newest: dict[dt.date, ForecastOverride] = {r.period: r for r in rows}
    used_by_run: dict[dt.date, ForecastOverride] = {r.period: r for r in rows if r.created_at <= run.started_at}
    out = []
    for period, mean in forecast:
        used = used_by_run.get(period)
        statistical = _clean(used.statistical_qty) if used is not None else _clean(mean)
        current = newest.get(period)
        out.append(
            PeriodOption(
                period=period,
                statistical=statistical,
                forecast=_clean(mean),
                override=float(current.qty) if current is not None else None,
            )
        )
    return out


def add_override(
    *,
    session: Session,
    code: str,
    periods: Sequence[dt.date | str],
    qty: float,
    reason: str,
    user: str,
) -> list[OverrideView]:
    """Override the forecast of SKU ``code`` for ``periods`` (future periods of the latest run) with ``qty`` units
    per period; one new row per period (never an update), audit-logged as ``forecast.override``.

    Raises
    ------
    UserFacingError
        Unknown SKU, no finished run, no or unknown / past periods, quantity not a number or negative, no reason,
        unknown user.
    """
    who = " ".join(str(user or "").split())[:255]
    if not who:
        raise UserFacingError("who is overriding must be known (user is empty)")
    try:
        value = float(qty)
    except (TypeError, ValueError):
        raise UserFacingError(f"the override quantity must be a number, got {qty!r}") from None
    if not math.isfinite(value) or value > MAX_QTY:
        raise UserFacingError(f"the override quantity must be a finite number, got {qty!r}")
    if value < 0:
        raise UserFacingError(f"the override quantity cannot be negative (got {value:g})")
    text = " ".join(str(reason or "").split())
    if not text:
        raise UserFacingError("a reason for the override is required")
    if len(text) > MAX_REASON:
        raise UserFacingError(f"the reason is too long ({len(text)} characters, at most {MAX_REASON})")
    wanted: list[dt.date] = []
    for p in periods or []:
        try:
            day = p if isinstance(p, dt.date) else dt.date.fromisoformat(str(p).strip()[:10])
        except ValueError:
            raise UserFacingError(f"a period must be a date (YYYY-MM-DD), got {p!r}") from None
        if isinstance(day, dt.datetime):
            day = day.date()
        if day not in wanted:
            wanted.append(day)
    if not wanted:
        raise UserFacingError("choose at least one future period to override")
    sku = _sku(session, code)
    options = {o.period: o for o in override_periods(session=session, code=sku.code)}
    if not options:
        raise UserFacingError(f"SKU {sku.code} has no forecast in the latest recompute yet: run a recompute first")
    bad = [d for d in wanted if d not in options]
    if bad:
        first, last = min(options), max(options)
        raise UserFacingError(
            f"{bad[0].isoformat()} is not a forecast period of SKU {sku.code}: choose period start dates from "
            f"{first.isoformat()} to {last.isoformat()}"
        )
    now = utcnow()
    created = []
    for day in sorted(wanted):
        row = ForecastOverride(
            sku_id=sku.id,
            period=day,
            qty=value,
            statistical_qty=options[day].statistical,
            reason=text,
            user_email=who,
            created_at=now,
        )
        session.add(row)
        created.append(row)
    session.flush()
    audit.record(
        session=session,
        action="forecast.override",
        user_email=who,
        target=f"sku:{sku.code}",
        details={
            "periods": [d.isoformat() for d in sorted(wanted)],
            "qty": value,
            "statistical": {d.isoformat(): options[d].statistical for d in sorted(wanted)},
            "reason": text,
        },
    )
    return [
        OverrideView(
            id=int(r.id),
            sku=sku.code,
            period=r.period,
            qty=float(r.qty),
            statistical_qty=_clean(r.statistical_qty),
            reason=r.reason,
            user_email=r.user_email,
            created_at=r.created_at,
            active=True,
        )
        for r in created
    ]


def recompute_after_override(*, session: Session, code: str, user: str) -> Any:
    """Recompute SKU ``code`` alone so its forecast, safety stock, status and recommended order use the new override.

    A partial run (:func:`services.jobs.recompute_portfolio` with ``sku_codes``): the other SKUs are carried forward
    from the latest run, so the new run is complete. Commits ``session``. Returns the run's
    :class:`services.recompute.RunSummary`.

    Raises
    ------
    services.recompute.RecomputeError
        The recompute failed (the previous run stays the latest; the override is kept either way).
    """
    who = " ".join(str(user or "").split()) or "override"
    return jobs.recompute_portfolio(session=session, triggered_by=f"{who} (override {code})"[:255], sku_codes=[code])


# --------------------------------------------------------------------------------------------------------------------
# forecast value added


def latest_accuracy(*, session: Session) -> dict[str, float]:
    """Backtest accuracy of the latest finished run: its ``wape``, ``mase`` and ``bias`` KPIs (if present)."""
    run = latest_run(session=session)
    kpis = dict(run.kpis or {}) if run is not None else {}
    return {k: float(kpis[k]) for k in ("wape", "mase", "bias") if _clean(kpis.get(k)) is not None}


def fva_frame(*, session: Session) -> pd.DataFrame:
    """One row per SKU and overridden period whose actual has arrived: ``sku``, ``category``, ``user_email`` (who
    made the newest override), ``period``, ``actual``, ``statistical``, ``override``, ``total`` (a constant key).

    The newest override per SKU and period counts; rows without a statistical figure are left out.
    """
    columns = ["sku", "category", "user_email", "period", "actual", "statistical", "override", "total"]
    rows = session.execute(
        select(
            ForecastOverride.id,
            ForecastOverride.sku_id,
            Sku.code,
            Sku.category,
            ForecastOverride.user_email,
            ForecastOverride.period,
            ForecastOverride.qty,
            ForecastOverride.statistical_qty,
            ForecastOverride.created_at,
        ).join(Sku, Sku.id == ForecastOverride.sku_id)
    ).all()
    if not rows:
        return pd.DataFrame(columns=columns)
    ovr = pd.DataFrame(
        rows,
        columns=["id", "sku_id", "sku", "category", "user_email", "period", "override", "statistical", "created_at"],
    )
    ovr = ovr.sort_values(["created_at", "id"]).drop_duplicates(["sku_id", "period"], keep="last")
    ovr = ovr[ovr["statistical"].notna()]
    ovr = period_actuals(session=session, frame=ovr)
    if ovr.empty:
        return pd.DataFrame(columns=columns)
    actual = ovr["actual"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "sku": ovr["sku"].astype(str).to_numpy(),
            "category": ovr["category"].astype(str).to_numpy(),
            "user_email": ovr["user_email"].astype(str).to_numpy(),
            "period": ovr["period"].to_numpy(),
            "actual": actual,
            "statistical": ovr["statistical"].to_numpy(dtype=float),
            "override": ovr["override"].to_numpy(dtype=float),
            "total": "all overrides",
        }
    )
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class FvaRow:
    """Forecast value added of one group (a planner, SKU or category) over its overridden periods with actuals."""

    key: str
    periods: int
    actual_sum: float
    statistical_wape: float | None
    final_wape: float | None
    fva_wape: float | None  # statistical - final WAPE: positive = the overrides improved the forecast
    statistical_bias: float | None
    final_bias: float | None
    improved_share: float | None  # share of the periods where the override was closer to the actual

    @property
    def verdict(self) -> str:
        if self.fva_wape is None:
            return "no actual demand to compare"
        if abs(self.fva_wape) < 0.005:
            return "no change"
        return "overrides helped" if self.fva_wape > 0 else "overrides hurt"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def fva_summary(*, session: Session, by: str) -> list[FvaRow]:
    """Forecast value added of the overrides per ``by``: ``"planner"``, ``"sku"``, ``"category"`` or ``"total"``.

    Sorted by overridden periods (most first), then key. Empty when no overridden period has its actual yet.

    Raises
    ------
    UserFacingError
        Unknown ``by``.
    """
    if by not in FVA_BY:
        raise UserFacingError(f"by must be one of {', '.join(FVA_BY)}, got {by!r}")
    frame = fva_frame(session=session)
    if frame.empty:
        return []
    column = FVA_BY[by]
    table = forecast_value_added(frame=frame, by=column, overridden_only=True)
    out = [
        FvaRow(
            key=str(key),
            periods=int(r["overridden_rows"]),
            actual_sum=float(r["actual_sum"]),
            statistical_wape=_clean(r["statistical_wape"]),
            final_wape=_clean(r["final_wape"]),
            fva_wape=_clean(r["fva_wape"]),
            statistical_bias=_clean(r["statistical_bias"]),
            final_bias=_clean(r["final_bias"]),
            improved_share=_clean(r["improved_share"]),
        )
        for key, r in table.iterrows()
    ]
    out.sort(key=lambda r: (-r.periods, r.key))
    return out
