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
from db.models import AuditLog, RecomputeRun
from reports.data import ApprovalNeeded, DecisionLine, MeetingPack
from services import cycles, decisions
from services.briefing.scope import BriefingScope
from services.errors import UserFacingError
from services.runs import RunInfo, get_run, latest_run, segment_kpis, snapshot_frame
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


def since_run(*, session: Session, run_id: int | None = None, day: dt.date | None = None) -> RunInfo | None:
    """The earlier run "what changed" starts from: run ``run_id`` (finished), or the latest run finished on or before
    ``day`` (UTC); None when neither is given.

    Raises
    ------
    UserFacingError
        Both given, no such finished run, or no run finished by ``day``.
    """
    if run_id is not None and day is not None:
        raise UserFacingError("compare with a run or with a date, not both")
    if run_id is not None:
        run = get_run(session=session, run_id=int(run_id))
        if run is None or run.status != "finished":
            raise UserFacingError(f"there is no finished run {run_id} to compare with")
        return run
    if day is None:
        return None
    found = session.scalar(
        select(RecomputeRun)
        .where(
            RecomputeRun.status == "finished",
            RecomputeRun.finished_at < dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min),
        )
        .order_by(RecomputeRun.finished_at.desc(), RecomputeRun.id.desc())
        .limit(1)
    )
    if found is None:
        raise UserFacingError(f"no recompute had finished by {fmt_date_prose(day)}: choose a later date")
    return RunInfo.of(found)


RUN_FIELDS = {
    "inventory_value": ("Inventory value", "{:,.0f}"),
    "value_at_risk": ("Value at risk", "{:,.0f}"),
    "fill_rate": ("Expected fill rate", "{:.1%}"),
    "count_stockout_risk": ("SKUs at stock-out risk", "{:,.0f}"),
}


def run_changes(*, session: Session, base: RunInfo, scope: BriefingScope) -> tuple[str, list[str]]:
    """What changed from run ``base`` to the latest finished run: a label and lines (KPIs of the scope, SKUs whose
    status changed, the largest forecast changes per period)."""
    latest = latest_run(session=session)
    when = fmt_date_prose(base.finished_at or base.started_at)
    label = f"run {base.id} (finished {when})"
    if latest is None or latest.id == base.id:
        return label, [f"Run {base.id} is the latest run: nothing has been recomputed since."]
    where = scope.filters().conditions()
    now, then = (snapshot_frame(session=session, run_id=r.id, where=where) for r in (latest, base))
    lines = [f"Compared with the latest run {latest.id} (finished {fmt_date_prose(latest.finished_at)})."]
    if scope.is_segment:
        new = segment_kpis(now, days_per_period=latest.days_per_period) if len(now) else {}
        old = segment_kpis(then, days_per_period=base.days_per_period) if len(then) else {}
    else:
        new, old = dict(latest.kpis), dict(base.kpis)
    for key, (title, pattern) in RUN_FIELDS.items():
        a, b = clean_number(old.get(key)), clean_number(new.get(key))
        if a is not None and b is not None:
            lines.append(f"{title}: {pattern.format(a)} to {pattern.format(b)}.")
    if then.empty:
        lines.append(f"Run {base.id}'s SKU rows are no longer kept (only the last runs are): totals only.")
        return label, lines
    both = now.merge(then, on="code", suffixes=("", "_before"))
    moved = both[both["status"] != both["status_before"]]
    if len(moved):
        at_risk = int((moved["status"] == "stockout_risk").sum())
        lines.append(f"{len(moved):,} SKUs changed status; {at_risk:,} of them are now at stock-out risk.")
    change = both["forecast_per_period"] - both["forecast_per_period_before"]
    both = both.assign(change=change, abs_change=change.abs()).dropna(subset=["abs_change"])
    for r in (
        both[both["abs_change"] > 0]
        .sort_values(["abs_change", "code"], ascending=[False, True])
        .head(MAX_CHANGED_SKUS)
        .itertuples()
    ):
        pct = 100.0 * r.change / r.forecast_per_period_before if r.forecast_per_period_before else None
        lines.append(
            f"{r.code}: forecast {r.forecast_per_period_before:,.0f} to {r.forecast_per_period:,.0f} per "
            f"{latest.period_unit}{_pct(pct)}."
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
    since_run_id: int | None = None,
    since_date: dt.date | None = None,
) -> MeetingPack:
    """The meeting pack of ``scope`` at ``now`` (``frame``: the snapshot rows in scope; ``lines``: the recommended
    orders in scope, most urgent first). "What changed since": run ``since_run_id`` or the latest run finished by
    ``since_date`` when given (:func:`run_changes`), else the cycle ``since_cycle`` (:func:`cycle_changes`).

    Raises
    ------
    UserFacingError
        More than one "since" given, or an unknown run / a date before any run.
    """
    if since_cycle and (since_run_id is not None or since_date is not None):
        raise UserFacingError("compare with a cycle, a run or a date: choose one")
    base = since_run(session=session, run_id=since_run_id, day=since_date)
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
    if base is not None:
        changes_label, changes = run_changes(session=session, base=base, scope=scope)
    else:
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
