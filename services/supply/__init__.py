"""The S&OP supply side: resources and capacities, the supply plan (chase, level, optimal) and its scenarios.

Public API::

    PlanRequest.parse(horizon=, strategy=, overtime_pct=) -> PlanRequest
    make_plan(*, session, request, progress=None) -> PlanResult        (services.supply.plan)
    document(result) -> dict                                           the JSON of the CLI and the API
    capacity_alerts(*, session, horizon=12) -> (alerts, unit)          for the Watchtower and the briefing
    save_scenario / list_scenarios / get_scenarios / delete_scenario   (services.supply.scenarios)

"Demand" is defined in one place: :func:`services.supply.demand.plan_demand`.
"""

from services.supply.inputs import PlanRequest, SupplyPlanError
from services.supply.plan import CapacityAlert, PlanResult, capacity_alerts, document, make_plan

__all__ = [
    "CapacityAlert",
    "PlanRequest",
    "PlanResult",
    "SupplyPlanError",
    "capacity_alerts",
    "document",
    "make_plan",
]
