"""Apply as policy: write the Risk page's service level and lead time to the SKU master of every SKU of the scope
(audit-logged); the recompute that follows is the caller's (:func:`services.jobs.recompute_portfolio`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Sku
from services import audit
from services.whatif.risk import RiskControls, clip_csl, policy_inputs, policy_levels
from services.whatif.scope import Items

# --------------------------------------------------------------------------------------------------------------------
# apply as policy


@dataclass(frozen=True)
class ApplyResult:
    codes: list[str]
    service_levels: list[float]
    lead_times_changed: bool
    learned_lead_times: int  # SKUs whose lead time the engine learns from receipts (the master value is not used)
    message: str


def apply_policy(*, session: Session, items: Items, controls: RiskControls, user: str | None) -> ApplyResult:
    """Write the page's service level (as each SKU's cycle service level; a fill-rate target is stored as the CSL
    that gives the same safety stock; a cycle service level left at the value shown keeps every SKU's own target)
    and, where changed, lead time mean / spread to the SKU master of every SKU in the scope; audit-logged. The
    caller commits and then recomputes.

    Demand variability, order quantity and review policy are what-if inputs only: the recompute re-estimates
    variability, derives the lot from the EOQ and reviews every period.
    """
    inputs = policy_inputs(items, controls)
    shown = (controls.baseline or {}).get("target_pct")  # the target left as shown: every SKU keeps its own
    own = inputs.measure == "csl" and shown is not None and math.isclose(inputs.target * 100, float(shown))
    lv = policy_levels(inputs, target=items.service_level if own else None)
    csl = np.where(
        inputs.demand_mean > 0, clip_csl(lv.cycle_service_level), items.service_level if own else inputs.target
    )
    csl = np.clip(csl, 0.001, 0.999)
    days = items.run.days_per_period
    change_lt = inputs.changed.get("lead_time_days", False)
    change_sd = inputs.changed.get("lead_time_std_days", False)
    skus = {s.id: s for s in session.scalars(select(Sku).where(Sku.id.in_([int(i) for i in items.sku_ids])))}
    for i, sku_id in enumerate(items.sku_ids):
        sku = skus.get(int(sku_id))
        if sku is None:
            continue
        sku.service_level_target = float(round(csl[i], 6))
        if change_lt:
            sku.lead_time_mean = float(round(inputs.lead_time[i] * days, 4))
        if change_sd:
            sku.lead_time_std = float(round(inputs.lead_time_std[i] * days, 4))
    learned = sum(1 for s in items.lead_time_source if s == "receipts") if (change_lt or change_sd) else 0
    measure = "cycle service level" if inputs.measure == "csl" else "fill rate"
    details = {
        "scope": items.scope.key,
        "skus": items.n,
        "measure": inputs.measure,
        "target": inputs.target,
        "policy": inputs.policy,
        "lead_time_changed": change_lt,
        "lead_time_std_changed": change_sd,
        "codes": items.codes[:50],
    }
    if items.n == 1:
        details.update(
            service_level_target=float(csl[0]),
            lead_time_days=float(inputs.lead_time[0] * days),
            lead_time_std_days=float(inputs.lead_time_std[0] * days),
        )
    audit.record(session=session, action="policy.apply", user_email=user, target=items.scope.key[:255], details=details)
    parts = [f"{inputs.target:.1%} {measure} written to {items.n:,} SKU{'s' if items.n != 1 else ''}"]
    if change_lt or change_sd:
        parts.append("with the new lead times")
    msg = " ".join(parts) + "."
    if learned:
        msg += (
            f" {learned:,} of them use lead times learned from receipts; the engine keeps those, "
            "the master value applies when receipts are too few."
        )
    return ApplyResult(
        codes=list(items.codes),
        service_levels=[float(x) for x in csl],
        lead_times_changed=change_lt or change_sd,
        learned_lead_times=learned,
        message=msg,
    )
