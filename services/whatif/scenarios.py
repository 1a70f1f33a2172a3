"""The Profit optimizer's named scenarios (``scenario`` table): save, list, get, delete and compare."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Scenario
from services import audit
from services.whatif.controls import PROFIT_FIELDS
from services.whatif.profit import EoqView, NewsvendorView
from services.whatif.scope import SCENARIO_NAME_MAX, Scope, WhatIfError

# --------------------------------------------------------------------------------------------------------------------
# scenarios

SCENARIO_RESULT_FIELDS: dict[str, str] = {
    "underage_cost": "Underage cost Cu",
    "overage_cost": "Overage cost Co",
    "critical_ratio": "Critical ratio",
    "quantity": "Optimal order quantity",
    "expected_profit": "Expected profit",
    "expected_leftover": "Expected leftover",
    "expected_lost_sales": "Expected lost sales",
    "fill_rate": "Expected fill rate",
    "order_value": "Order value at cost",
    "eoq": "EOQ",
    "feasible_lot": "Feasible lot (MOQ / multiple)",
    "eoq_cost": "Ordering + holding cost at EOQ / year",
    "feasible_cost": "Ordering + holding cost at feasible lot / year",
}


def scenario_results(nv: NewsvendorView, eq: EoqView) -> dict[str, float]:
    """The figures a scenario stores (JSON-safe floats)."""
    out = {
        "underage_cost": nv.underage_cost,
        "overage_cost": nv.overage_cost,
        "critical_ratio": nv.critical_ratio,
        "quantity": nv.quantity,
        "expected_profit": nv.expected_profit,
        "expected_leftover": nv.expected_leftover,
        "expected_lost_sales": nv.expected_lost_sales,
        "fill_rate": nv.fill_rate,
        "order_value": nv.order_value,
        "eoq": eq.eoq,
        "feasible_lot": eq.feasible,
        "eoq_cost": eq.cost_at_eoq,
        "feasible_cost": eq.cost_at_feasible,
    }
    return {k: (float(v) if v is not None and math.isfinite(float(v)) else None) for k, v in out.items()}


@dataclass(frozen=True)
class ScenarioRow:
    id: int
    name: str
    scope: str
    user_email: str | None
    created_at: dt.datetime
    inputs: dict[str, Any]
    results: dict[str, Any]


def _row(s: Scenario) -> ScenarioRow:
    return ScenarioRow(
        id=s.id,
        name=s.name,
        scope=s.sku_code or "portfolio",
        user_email=s.user_email,
        created_at=s.created_at,
        inputs=dict(s.inputs or {}),
        results=dict(s.results or {}),
    )


def save_scenario(
    *,
    session: Session,
    name: str,
    scope: Scope,
    inputs: Mapping[str, Any],
    results: Mapping[str, Any],
    user: str | None,
) -> ScenarioRow:
    """Store a named scenario (inputs and results); names are unique. Audit-logged; the caller commits."""
    clean = " ".join((name or "").split())
    if not clean:
        raise WhatIfError("Give the scenario a name")
    if len(clean) > SCENARIO_NAME_MAX:
        raise WhatIfError(f"Scenario names are at most {SCENARIO_NAME_MAX} characters")
    if session.scalar(select(Scenario.id).where(func.lower(Scenario.name) == clean.lower())) is not None:
        raise WhatIfError(f"A scenario named \u201c{clean}\u201d exists already: choose another name")
    row = Scenario(
        name=clean,
        sku_code=scope.key[:64],
        inputs={k: v for k, v in inputs.items()},
        results={k: v for k, v in results.items()},
        user_email=user,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session, action="scenario.save", user_email=user, target=clean[:255], details={"scope": scope.key}
    )
    return _row(row)


def list_scenarios(*, session: Session, limit: int = 200) -> list[ScenarioRow]:
    """Saved scenarios, newest first."""
    return [_row(s) for s in session.scalars(select(Scenario).order_by(Scenario.id.desc()).limit(limit))]


def get_scenario(*, session: Session, scenario_id: int) -> ScenarioRow | None:
    s = session.get(Scenario, int(scenario_id))
    return _row(s) if s else None


def delete_scenario(*, session: Session, scenario_id: int, user: str | None) -> bool:
    """Delete a scenario (audit-logged; the caller commits). False when it did not exist."""
    s = session.get(Scenario, int(scenario_id))
    if s is None:
        return False
    audit.record(session=session, action="scenario.delete", user_email=user, target=s.name[:255])
    session.delete(s)
    return True


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    kind: str  # "input" | "result"
    key: str
    a: Any
    b: Any
    difference: float | None


INPUT_LABELS = {f.name: f.label for f in PROFIT_FIELDS.values()}


def compare_scenarios(a: ScenarioRow, b: ScenarioRow) -> list[ComparisonRow]:
    """Inputs and results of two scenarios side by side, with B - A where both are numbers."""
    rows: list[ComparisonRow] = []
    keys_in = [k for k in PROFIT_FIELDS if k in a.inputs or k in b.inputs]
    for kind, keys, labels, src_a, src_b in (
        ("input", keys_in, INPUT_LABELS, a.inputs, b.inputs),
        ("result", list(SCENARIO_RESULT_FIELDS), SCENARIO_RESULT_FIELDS, a.results, b.results),
    ):
        for key in keys:
            va, vb = src_a.get(key), src_b.get(key)
            diff = None
            if isinstance(va, int | float) and isinstance(vb, int | float):
                diff = float(vb) - float(va)
            rows.append(ComparisonRow(label=labels.get(key, key), kind=kind, key=key, a=va, b=vb, difference=diff))
    return rows
