"""Named supply-plan scenarios: a plan's knobs, totals, per-resource rows and unmet-demand rows, kept for comparing
plans side by side (``supply_scenario``). Saving and deleting are audit-logged; the caller commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import SupplyScenario
from services import audit
from services.supply.inputs import SupplyPlanError
from services.supply.plan import PlanResult, resource_series, totals, unmet_rows

NAME_MAX = 120
STORED_UNMET = 200


@dataclass(frozen=True)
class ScenarioView:
    id: int
    name: str
    strategy: str
    requested_strategy: str
    horizon: int
    overtime_pct: float | None
    grain: str
    run_id: int | None
    totals: dict[str, float]
    plan: dict[str, Any]
    user_email: str | None
    created_at: dt.datetime


def _view(row: SupplyScenario) -> ScenarioView:
    return ScenarioView(
        id=int(row.id),
        name=row.name,
        strategy=row.strategy,
        requested_strategy=str((row.plan or {}).get("requested_strategy", row.strategy)),
        horizon=int(row.horizon),
        overtime_pct=row.overtime_pct,
        grain=row.grain,
        run_id=row.run_id,
        totals=dict(row.totals or {}),
        plan=dict(row.plan or {}),
        user_email=row.user_email,
        created_at=row.created_at,
    )


def save_scenario(*, session: Session, name: str, result: PlanResult, user: str | None) -> ScenarioView:
    """Store ``result`` under ``name`` (unique, case-insensitive); raises :class:`SupplyPlanError` for a bad name."""
    clean = " ".join(str(name or "").split())
    if not clean:
        raise SupplyPlanError("give the scenario a name")
    if len(clean) > NAME_MAX:
        raise SupplyPlanError(f"scenario names are at most {NAME_MAX} characters")
    clash = session.scalar(select(SupplyScenario.id).where(func.lower(SupplyScenario.name) == clean.lower()))
    if clash is not None:
        raise SupplyPlanError(f"a scenario named \u201c{clean}\u201d exists already: choose another name")
    row = SupplyScenario(
        name=clean,
        strategy=result.plan.strategy,
        horizon=result.request.horizon,
        overtime_pct=result.request.overtime_pct,
        grain=result.data.grain,
        run_id=result.data.run_id,
        totals=totals(result),
        plan={
            "requested_strategy": result.request.strategy,
            "message": result.message,
            "labels": result.labels,
            "periods": [day.isoformat() for day in result.data.periods],
            "resources": resource_series(result),
            "unmet": unmet_rows(result, limit=STORED_UNMET),
        },
        user_email=user,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        action="supply.scenario.save",
        user_email=user,
        target=clean[:255],
        details={"strategy": row.strategy, "horizon": row.horizon, "overtime_pct": row.overtime_pct},
    )
    return _view(row)


def list_scenarios(*, session: Session, limit: int = 200) -> list[ScenarioView]:
    """Saved scenarios, newest first."""
    query = select(SupplyScenario).order_by(SupplyScenario.id.desc()).limit(limit)
    return [_view(row) for row in session.scalars(query)]


def get_scenarios(*, session: Session, ids: list[int]) -> list[ScenarioView]:
    """The scenarios with these ids, in the order given (unknown ids are left out)."""
    rows = {row.id: row for row in session.scalars(select(SupplyScenario).where(SupplyScenario.id.in_(ids)))}
    return [_view(rows[i]) for i in ids if i in rows]


def delete_scenario(*, session: Session, scenario_id: int, user: str | None) -> bool:
    """Delete a scenario (audit-logged). False when it did not exist."""
    row = session.get(SupplyScenario, int(scenario_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(session=session, action="supply.scenario.delete", user_email=user, target=row.name[:255])
    return True
