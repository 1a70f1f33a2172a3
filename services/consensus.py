"""Consensus demand (issue 19 item 1): commercial adjustments with who and why, the layers per SKU and period, and
the forecast value added of each layer once actuals arrive.

Layers (:mod:`core.consensus`): statistical forecast -> planner overrides (:mod:`services.overrides`) -> commercial
adjustments -> consensus. The engine applies them once per recompute (:func:`services.engine_inputs.commercial_matrix`)
and the stored ``future`` forecast is the consensus, so the policy, the orders and a closed cycle
(:mod:`services.cycles`) use it; each run records the layers of the cells it touched (``consensus_layer``).

Rules of an adjustment:

- **scope**: ``category:NAME`` is the category NAME; otherwise a SKU code, else a category name (a SKU code wins over
  a category of the same name: write ``category:NAME`` for the category). Unknown -> error.
- **period**: a month (``2027-01``) or any date within it; the month must overlap the latest run's forecast
  periods (from the month of its first future period to the month of its last).
- **change**: exactly one of ``change_pct`` (percent, -100 to 1000: ``10`` = +10 %) and ``change_units`` (units over
  the month for the whole scope, positive or negative); with a reason (at most 500 characters).
- One adjustment per scope and month is in force: a new one supersedes it (the old row stays, marked deleted); a
  deletion marks it. Every save and deletion is audit-logged (``consensus.adjustment`` /
  ``consensus.adjustment_delete``) and so is a decision (:mod:`services.decisions`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.consensus import layer_fva
from db.models import DemandAdjustment, Forecast, Sku, utcnow
from services import audit, jobs
from services import consensus_layers as cl
from services.errors import UserFacingError
from services.runs import latest_run

MAX_REASON = 500
PCT_RANGE = (-100.0, 1000.0)
MAX_UNITS = 1e9
CATEGORY_PREFIX = "category:"
FVA_BY = ("layer", "who", "category", "sku")


class AdjustmentError(UserFacingError):
    """An adjustment cannot be saved or found as asked (the message says which field and why)."""

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class AdjustmentView:
    id: int
    scope_kind: str
    scope: str
    period: dt.date
    change_pct: float | None
    change_units: float | None
    reason: str
    user_email: str
    created_at: dt.datetime
    active: bool

    @property
    def change(self) -> str:
        if self.change_pct is not None:
            return f"{self.change_pct:+g} %"
        return f"{self.change_units:+,g} units"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["period"] = self.period.isoformat()[:7]
        out["created_at"] = self.created_at.isoformat(timespec="seconds")
        out["change"] = self.change
        return out


def _view(row: DemandAdjustment) -> AdjustmentView:
    return AdjustmentView(
        id=int(row.id),
        scope_kind=row.scope_kind,
        scope=row.scope,
        period=row.period,
        change_pct=row.change_pct,
        change_units=row.change_units,
        reason=row.reason,
        user_email=row.user_email,
        created_at=row.created_at,
        active=row.deleted_at is None,
    )


# --- validation (shared with the import, services/ingest/prepare_adjustments.py) ----------------------------------


def known_scopes(session: Session) -> tuple[set[str], set[str]]:
    """(SKU codes, category names) of the active SKUs."""
    rows = session.execute(select(Sku.code, Sku.category).where(Sku.active.is_(True))).all()
    return {r[0] for r in rows}, {r[1] for r in rows if r[1]}


def resolve_scope(text: Any, *, codes: set[str], categories: set[str]) -> tuple[str, str]:
    """("sku" | "category", name) of a scope cell (rules in the module docstring)."""
    value = " ".join(str(text if text is not None else "").split())
    if not value:
        raise AdjustmentError("a scope (a SKU code or a category) is required", column="scope")
    if value.lower().startswith(CATEGORY_PREFIX):
        name = value[len(CATEGORY_PREFIX) :].strip()
        if name not in categories:
            raise AdjustmentError(f"unknown category {name[:64]!r}", column="scope")
        return "category", name
    if value in codes:
        return "sku", value
    if value in categories:
        return "category", value
    raise AdjustmentError(f"unknown SKU or category {value[:64]!r}", column="scope")


def parse_month(value: Any) -> dt.date:
    """The first day of the month of ``value`` (``2027-01``, ``2027-01-15`` or a date)."""
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value if value is not None else "").strip()[:10]
    try:
        day = dt.date.fromisoformat(text) if len(text) > 7 else dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise AdjustmentError(
            f"the period must be a month like 2027-01 or a date, got {text!r}", column="period"
        ) from None
    return day.replace(day=1)


def _number(value: Any, column: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        out = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise AdjustmentError(f"{column} must be a number, got {str(value)[:32]!r}", column=column) from None
    if not math.isfinite(out):
        raise AdjustmentError(f"{column} must be a finite number, got {value!r}", column=column)
    return out


def check_change(change_pct: Any, change_units: Any) -> tuple[float | None, float | None]:
    """(change_pct, change_units), exactly one given and in range."""
    pct = _number(change_pct, "change_pct")
    units = _number(change_units, "change_units")
    if pct is not None and units is not None:
        raise AdjustmentError("give change_pct or change_units, not both", column="change_pct")
    if pct is None and units is None:
        raise AdjustmentError("give a change: change_pct (percent) or change_units (units)", column="change_pct")
    if pct is not None and not PCT_RANGE[0] <= pct <= PCT_RANGE[1]:
        raise AdjustmentError(
            f"change_pct must be from {PCT_RANGE[0]:g} to {PCT_RANGE[1]:g}, got {pct:g}", column="change_pct"
        )
    if units is not None and abs(units) > MAX_UNITS:
        raise AdjustmentError(f"change_units must be within +-{MAX_UNITS:,.0f}, got {units:g}", column="change_units")
    return pct, units


def check_reason(reason: Any) -> str:
    text = " ".join(str(reason if reason is not None else "").split())
    if not text:
        raise AdjustmentError("a reason is required", column="reason")
    if len(text) > MAX_REASON:
        raise AdjustmentError(f"the reason is too long ({len(text)} characters, at most {MAX_REASON})", column="reason")
    return text


def month_range(session: Session) -> tuple[dt.date, dt.date]:
    """The first and last month the latest run forecasts (an adjustment's month must be within)."""
    run = latest_run(session=session)
    if run is None:
        raise AdjustmentError("there is no finished recompute yet: run a recompute first", column="period")
    first, last = session.execute(
        select(func.min(Forecast.period), func.max(Forecast.period)).where(
            Forecast.run_id == run.id, Forecast.kind == "future"
        )
    ).one()
    if first is None:
        raise AdjustmentError("the latest recompute has no forecast periods", column="period")
    return first.replace(day=1), last.replace(day=1)


def check_month(month: dt.date, months: tuple[dt.date, dt.date]) -> None:
    if not months[0] <= month <= months[1]:
        raise AdjustmentError(
            f"{month.isoformat()[:7]} is outside the forecast: choose a month from {months[0].isoformat()[:7]} to "
            f"{months[1].isoformat()[:7]}",
            column="period",
        )


def _who(user: Any) -> str:
    who = " ".join(str(user or "").split())[:255]
    if not who:
        raise AdjustmentError("who is adjusting must be known (user is empty)")
    return who


# --- saving -----------------------------------------------------------------------------------------------------


def store_adjustment(
    *,
    session: Session,
    scope_kind: str,
    scope: str,
    period: dt.date,
    change_pct: float | None,
    change_units: float | None,
    reason: str,
    user: str,
    source: str = "page",
) -> AdjustmentView:
    """Write one checked adjustment (superseding the one in force for its scope and month) and audit it."""
    now = utcnow()
    for old in session.scalars(
        select(DemandAdjustment).where(
            DemandAdjustment.scope_kind == scope_kind,
            DemandAdjustment.scope == scope,
            DemandAdjustment.period == period,
            DemandAdjustment.deleted_at.is_(None),
        )
    ):
        old.deleted_at, old.deleted_by = now, user
    row = DemandAdjustment(
        scope_kind=scope_kind,
        scope=scope,
        period=period,
        change_pct=change_pct,
        change_units=change_units,
        reason=reason,
        user_email=user,
        created_at=now,
    )
    session.add(row)
    session.flush()
    view = _view(row)
    audit.record(
        session=session,
        action="consensus.adjustment",
        user_email=user,
        target=f"{scope_kind}:{scope}"[:255],
        details={**view.as_dict(), "source": source},
    )
    return view


def add_adjustment(
    *,
    session: Session,
    scope: str,
    period: Any,
    change_pct: Any = None,
    change_units: Any = None,
    reason: str,
    user: str,
    source: str = "page",
) -> AdjustmentView:
    """Validate and save one adjustment (rules in the module docstring); the caller commits and recomputes
    (:func:`recompute_after_adjustments`).

    Raises
    ------
    AdjustmentError
        Unknown scope, bad or out-of-range month, both or neither change, a change out of range, no reason.
    """
    who = _who(user)
    codes, categories = known_scopes(session)
    kind, name = resolve_scope(scope, codes=codes, categories=categories)
    month = parse_month(period)
    check_month(month, month_range(session))
    pct, units = check_change(change_pct, change_units)
    text = check_reason(reason)
    return store_adjustment(
        session=session,
        scope_kind=kind,
        scope=name,
        period=month,
        change_pct=pct,
        change_units=units,
        reason=text,
        user=who,
        source=source,
    )


def delete_adjustment(*, session: Session, adjustment_id: int, user: str) -> AdjustmentView:
    """Mark the adjustment in force ``adjustment_id`` deleted and audit it.

    Raises
    ------
    AdjustmentError
        No such adjustment in force.
    """
    who = _who(user)
    row = session.get(DemandAdjustment, int(adjustment_id))
    if row is None or row.deleted_at is not None:
        raise AdjustmentError(f"there is no adjustment {adjustment_id} in force")
    row.deleted_at, row.deleted_by = utcnow(), who
    session.flush()
    view = _view(row)
    audit.record(
        session=session,
        action="consensus.adjustment_delete",
        user_email=who,
        target=f"{row.scope_kind}:{row.scope}"[:255],
        details=view.as_dict(),
    )
    return view


def list_adjustments(*, session: Session, include_deleted: bool = False) -> list[AdjustmentView]:
    """The adjustments in force (with ``include_deleted`` the superseded and deleted ones too), newest first."""
    query = select(DemandAdjustment).order_by(DemandAdjustment.created_at.desc(), DemandAdjustment.id.desc())
    if not include_deleted:
        query = query.where(DemandAdjustment.deleted_at.is_(None))
    return [_view(r) for r in session.scalars(query)]


def scope_codes(*, session: Session, scopes: Sequence[tuple[str, str]]) -> list[str]:
    """The active SKU codes of ``scopes`` ((kind, name) pairs)."""
    codes = {name for kind, name in scopes if kind == "sku"}
    cats = [name for kind, name in scopes if kind == "category"]
    if cats:
        codes |= set(session.scalars(select(Sku.code).where(Sku.active.is_(True), Sku.category.in_(cats))))
    return sorted(codes)


def recompute_after_adjustments(*, session: Session, scopes: Sequence[tuple[str, str]], user: str) -> Any:
    """Recompute the SKUs of ``scopes`` (a partial run; the others are carried forward) so their consensus, policy and
    orders use the adjustments. Commits ``session``; returns the run summary (None without a SKU)."""
    codes = scope_codes(session=session, scopes=scopes)
    if not codes:
        return None
    who = " ".join(str(user or "").split()) or "adjustment"
    return jobs.recompute_portfolio(session=session, triggered_by=f"{who} (adjustments)"[:255], sku_codes=codes)


# --- layers and forecast value added ------------------------------------------------------------------------------


def layer_table(*, session: Session, future_only: bool = True) -> pd.DataFrame:
    """The layers of record per SKU and period (the latest run's forecast periods with ``future_only``):
    ``code``, ``category``, ``period``, ``statistical``, ``overridden``, ``consensus``, ``adjustment_id``. Cells not
    listed have all layers equal to the stored forecast."""
    since = None
    if future_only:
        run = latest_run(session=session)
        if run is None:
            return cl.layer_rows(session.connection(), since=dt.date.max)
        since = session.scalar(
            select(func.min(Forecast.period)).where(Forecast.run_id == run.id, Forecast.kind == "future")
        )
    return cl.layer_rows(session.connection(), since=since)


def fva_frame(*, session: Session) -> pd.DataFrame:
    """The layers of record whose actuals have arrived (:func:`services.consensus_layers.fva_frame`)."""
    return cl.fva_frame(session=session)


def fva_report(*, session: Session, by: str = "layer") -> list[dict[str, Any]]:
    """Forecast value added per layer (``by="layer"``), per layer and person (``"who"``: overrides by who made
    them, commercial by who adjusted), category or SKU: :func:`core.consensus.layer_fva` rows as dicts.

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
    group = {
        "layer": None,
        "who": {"overrides": "override_by", "commercial": "adjusted_by"},
        "category": dict.fromkeys(("overrides", "commercial", "consensus"), "category"),
        "sku": dict.fromkeys(("overrides", "commercial", "consensus"), "code"),
    }[by]
    table = layer_fva(frame=frame, by=group)
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in table.to_dict(orient="records")
    ]


def adjustment_cells(*, session: Session, adjustment_id: int) -> pd.DataFrame:
    """The layers of record an adjustment set (for its outcome in the decision log)."""
    rows = cl.layer_rows(session.connection())
    return rows[rows["adjustment_id"] == int(adjustment_id)]


__all__ = [
    "AdjustmentError",
    "AdjustmentView",
    "add_adjustment",
    "delete_adjustment",
    "fva_report",
    "layer_table",
    "list_adjustments",
    "recompute_after_adjustments",
]
