"""The meeting pack of the portfolio briefing (issue 19 item 4): decisions since the last briefing with their
outcomes, outcomes of earlier decisions now known, decisions needed (recommended orders awaiting approval on at-risk
SKUs) and what changed since a cycle (services.cycles.compare). Read by :mod:`services.briefing.facts`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.formats import fmt_date_prose
from db.models import AuditLog
from reports.data import ApprovalNeeded, DecisionLine, MeetingPack
from services import cycles, decisions
from services.briefing.scope import BriefingScope
from services.watchtower import clean_number

LOOK_BACK_DAYS = 30  # decisions shown when the scope has no earlier briefing
OUTCOME_DAYS = 90  # earlier decisions whose known outcome is shown
MAX_DECISIONS = 20
MAX_OUTCOMES = 10
MAX_NEEDED = 10
MAX_CHANGED_SKUS = 5
AT_RISK = ("stockout_risk", "surge")


def last_briefing(*, session: Session, scope: BriefingScope, before: dt.datetime) -> dt.datetime | None:
    """When the previous briefing of ``scope`` was made (its ``briefing.create`` audit entry), or None."""
    return session.scalar(
        select(AuditLog.created_at)
        .where(AuditLog.action == "briefing.create", AuditLog.target == scope.key[:255], AuditLog.created_at < before)
        .order_by(AuditLog.created_at.desc())
        .limit(1)
    )


def _line(d: decisions.Decision) -> DecisionLine:
    return DecisionLine(
        at=d.at,
        kind=d.kind,
        sku=d.sku or "",
        user=d.user or "command line",
        what=d.what,
        outcome=d.outcome.summary,
        outcome_state=d.outcome.state,
    )


def _in_scope(found: Sequence[decisions.Decision], codes: set[str] | None) -> list[decisions.Decision]:
    return list(found) if codes is None else [d for d in found if d.sku in codes]


def approvals_needed(*, frame: pd.DataFrame, lines: Sequence[Any], limit: int = MAX_NEEDED) -> list[ApprovalNeeded]:
    """At-risk SKUs of ``frame`` (stock-out risk or surge) with a recommended order in ``lines`` awaiting approval,
    highest value at risk first."""
    orders: dict[str, Any] = {}
    for o in lines:
        orders.setdefault(o.code, o)
    risky = frame[frame["status"].isin(AT_RISK) & frame["code"].isin(list(orders))]
    risky = risky.assign(_var=risky["value_at_risk"].fillna(0.0)).sort_values(["_var", "code"], ascending=[False, True])
    out = []
    for r in risky.head(limit).itertuples(index=False):
        o = orders[r.code]
        out.append(
            ApprovalNeeded(
                code=r.code,
                name=r.name,
                status=r.status,
                value_at_risk=clean_number(r.value_at_risk),
                days_of_cover=clean_number(r.days_of_cover),
                qty=float(o.qty),
                order_value=clean_number(o.value),
                order_by=o.order_by,
            )
        )
    return out


def _pct(value: float | None) -> str:
    return "" if value is None else f" ({value:+.1f}%)"


def cycle_changes(*, session: Session, since_cycle: str | None) -> tuple[str, list[str]]:
    """What changed since ``since_cycle`` (default: the cycle before the latest) up to the latest closed cycle:
    a label and lines (totals, then the largest SKU demand changes)."""
    closed = cycles.list_cycles(session=session, limit=2)
    if not closed:
        return "", []
    latest = closed[0]
    if since_cycle:
        base = cycles.get_cycle(session=session, ref=since_cycle)
    elif len(closed) > 1:
        base = closed[1]
    else:
        return "", []
    label = f"cycle {base.name} (closed {fmt_date_prose(base.closed_at)})"
    if base.id == latest.id:
        return label, [f"{latest.name} is the latest closed cycle: close a new one to compare with it."]
    doc = cycles.compare(session=session, a=base.id, b=latest.id, limit=MAX_CHANGED_SKUS)
    lines = [f"Compared with cycle {latest.name} (closed {fmt_date_prose(latest.closed_at)})."]
    names = {
        "demand": "Demand",
        "revenue": "Revenue",
        "margin": "Margin",
        "ending_inventory_value": "Ending stock value",
    }
    for field, title in names.items():
        pair = doc["totals"].get(field)
        if pair is not None and pair["change"] is not None:
            lines.append(f"{title}: {pair['a'] or 0:,.0f} to {pair['b'] or 0:,.0f}{_pct(pair['change_pct'])}.")
    for s in doc["skus"]:
        if s["change"]:
            lines.append(
                f"{s['code']}: demand {s['demand_a'] or 0:,.0f} to {s['demand_b'] or 0:,.0f}{_pct(s['change_pct'])}."
            )
    return label, lines


def meeting_pack(
    *,
    session: Session,
    scope: BriefingScope,
    frame: pd.DataFrame,
    lines: Sequence[Any],
    now: dt.datetime,
    since_cycle: str | None = None,
) -> MeetingPack:
    """The meeting pack of ``scope`` at ``now`` (``frame``: the snapshot rows in scope; ``lines``: the recommended
    orders in scope, most urgent first)."""
    moment = now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now
    since = last_briefing(session=session, scope=scope, before=moment)
    if since is None:
        start, label = moment - dt.timedelta(days=LOOK_BACK_DAYS), f"the last {LOOK_BACK_DAYS} days"
    else:
        start, label = since, f"the last briefing ({fmt_date_prose(since)})"
    codes = set(frame["code"]) if scope.is_segment else None
    today = moment.date()
    recent = _in_scope(decisions.list_decisions(session=session, since=start, limit=1000, today=today), codes)
    earlier = decisions.list_decisions(
        session=session,
        date_from=today - dt.timedelta(days=OUTCOME_DAYS),
        outcome="known",
        limit=200,
        today=today,
    )
    earlier = [d for d in _in_scope(earlier, codes) if d.at <= start]
    changes_label, changes = cycle_changes(session=session, since_cycle=since_cycle)
    return MeetingPack(
        since=start,
        since_label=label,
        decisions=tuple(_line(d) for d in recent[:MAX_DECISIONS]),
        decisions_total=len(recent),
        outcomes=tuple(_line(d) for d in earlier[:MAX_OUTCOMES]),
        needed=tuple(approvals_needed(frame=frame, lines=lines)),
        changes_label=changes_label,
        changes=tuple(changes),
    )
