"""The decision log (issue 19 item 3): every planning decision with who, when, what, and its outcome once knowable.

Built from the audit log (services/audit.py records each decision in the same transaction as the change): no
parallel table. The decisions are the audit actions in :data:`KINDS`; their outcomes come from the evidence now in
the database through the pure rules of :mod:`core.decisions`:

- an order approved / edited / received: the order's arrival (marked received, or a receipt imported for its SKU
  and order date) against its promised date, and whether a stock count showed the SKU at zero before it arrived;
- an order rejected: whether the SKU stocked out within its lead time after the rejection;
- an override: its forecast value added once its periods' actuals have arrived;
- a policy applied from the Risk page: realised fill and average on-hand of its SKUs since, against the same span
  before;
- a commercial adjustment (:mod:`services.consensus`): the forecast value added of the consensus over the
  forecast after overrides in the periods it set, once their actuals have arrived;
- a supply scenario saved, a cycle closed, an adjustment deleted: no outcome to follow.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import decisions as rules
from core import formats
from db.models import AuditLog, Demand, PurchaseOrder, Receipt, Sku, StockPosition, utcnow
from services import consensus_layers as cl
from services.errors import UserFacingError
from services.runs import days_per_period, latest_run

KINDS: dict[str, str] = {
    "order.approve": "order approved",
    "order.edit": "order edited",
    "order.reject": "order rejected",
    "order.cancel": "order cancelled",
    "order.receive": "order received",
    "forecast.override": "override saved",
    "policy.apply": "policy applied",
    "supply.scenario.save": "scenario saved",
    "cycle.close": "cycle closed",
    "consensus.adjustment": "adjustment saved",
    "consensus.adjustment_delete": "adjustment deleted",
}
"""Audit action -> the decision's kind as shown."""
OUTCOME_FILTERS = ("known", "pending", "none")
MAX_LIMIT = 5000
POLICY_SKUS = 50  # an applied policy's outcome follows at most this many of its SKUs (the audit row keeps 50 codes)


@dataclass(frozen=True)
class Decision:
    """One decision: the audit row it comes from (``id``), what it was and what became of it."""

    id: int
    kind: str
    action: str
    at: dt.datetime
    user: str | None
    sku: str | None
    target: str | None
    what: str
    before: Any
    after: Any
    outcome: rules.Outcome

    def as_dict(self) -> dict[str, Any]:
        out = self.outcome.as_dict()
        return {
            "id": self.id,
            "kind": self.kind,
            "action": self.action,
            "at": self.at.isoformat(timespec="seconds"),
            "user": self.user,
            "sku": self.sku,
            "target": self.target,
            "what": self.what,
            "before": self.before,
            "after": self.after,
            "outcome_state": out["state"],
            "outcome": out["summary"],
            "outcome_values": {k: _plain(v) for k, v in out["values"].items()},
        }

    def row(self) -> dict[str, Any]:
        """A flat row for the Decisions grid and its CSV."""
        return {
            "id": self.id,
            "at": formats.fmt_datetime(self.at),
            "kind": self.kind,
            "sku": self.sku or "",
            "user": self.user or "command line",
            "what": self.what,
            "before": _text(self.before),
            "after": _text(self.after),
            "outcome_state": self.outcome.state,
            "outcome": self.outcome.summary,
        }


def _plain(value: Any) -> Any:
    return formats.fmt_date(value) if isinstance(value, dt.date) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1 else f"{value:,.0f}"
    return str(value)


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _order_id(target: str | None) -> int | None:
    if target and target.startswith("order:") and target[6:].isdigit():
        return int(target[6:])
    return None


def sku_of(entry: AuditLog) -> str | None:
    """The SKU code a decision is about, where there is one."""
    details = entry.details or {}
    if entry.action.startswith("order.") and details.get("sku"):
        return str(details["sku"])
    if entry.action == "forecast.override" and (entry.target or "").startswith("sku:"):
        return entry.target[4:]
    if entry.action.startswith("consensus.") and (entry.target or "").startswith("sku:"):
        return entry.target[4:]
    if entry.action == "policy.apply" and details.get("skus") == 1 and details.get("codes"):
        return str(details["codes"][0])
    return None


# --- evidence -----------------------------------------------------------------------------------------------------


class _Evidence:
    """What the outcome rules need, loaded once for a list of decisions."""

    def __init__(self, session: Session, entries: list[AuditLog], today: dt.date) -> None:
        self.session, self.today = session, today
        ids = {i for e in entries if (i := _order_id(e.target)) is not None}
        self.orders = {o.id: o for o in session.scalars(select(PurchaseOrder).where(PurchaseOrder.id.in_(ids)))}
        codes = {c for e in entries for c in _codes(e)}
        self.sku_ids = dict(session.execute(select(Sku.code, Sku.id).where(Sku.code.in_(codes))).all())
        self.lead_time = dict(session.execute(select(Sku.id, Sku.lead_time_mean).where(Sku.code.in_(codes))).all())
        sku_ids = set(self.sku_ids.values()) | {o.sku_id for o in self.orders.values()}
        self.stockouts: dict[int, list[dt.date]] = defaultdict(list)
        self.counts: dict[int, list[tuple[dt.date, float]]] = defaultdict(list)
        for sku_id, as_of, on_hand in session.execute(
            select(StockPosition.sku_id, StockPosition.as_of, StockPosition.on_hand).where(
                StockPosition.sku_id.in_(sku_ids)
            )
        ):
            self.counts[sku_id].append((as_of, float(on_hand)))
            if float(on_hand) <= 0:
                self.stockouts[sku_id].append(as_of)
        self.stock_through = session.scalar(select(func.max(StockPosition.as_of)))
        self.receipts: dict[tuple[int, dt.date], dt.date] = {}
        for sku_id, ordered, received in session.execute(
            select(Receipt.sku_id, Receipt.order_date, Receipt.received_date).where(Receipt.sku_id.in_(sku_ids))
        ):
            key = (sku_id, ordered)
            self.receipts[key] = min(received, self.receipts.get(key, received))
        run = latest_run(session=session)
        self.grain = (run.grain if run else None) or "weekly"
        last = session.scalar(select(func.max(Demand.period)))
        self.demand_through = _period_end(last, self.grain) if last is not None else None
        self._demand: dict[int, list[tuple[dt.date, float]]] | None = None
        self.layers, self.actuals = _adjustment_evidence(session, entries)
        self._sku_ids = sku_ids

    def demand(self, sku_id: int) -> list[tuple[dt.date, float]]:
        if self._demand is None:
            self._demand = defaultdict(list)
            for sku_id_, period, qty in self.session.execute(
                select(Demand.sku_id, Demand.period, Demand.quantity).where(Demand.sku_id.in_(self._sku_ids))
            ):
                self._demand[sku_id_].append((period, float(qty)))
        return self._demand.get(sku_id, [])


def _adjustment_evidence(session: Session, entries: list[AuditLog]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The layers of record of the adjustments among ``entries`` and the actuals of their arrived periods."""
    ids = {(e.details or {}).get("id") for e in entries if e.action == "consensus.adjustment"} - {None}
    rows = cl.layer_rows(session.connection()) if ids else pd.DataFrame(columns=["adjustment_id"])
    rows = rows[rows["adjustment_id"].isin(list(ids))] if ids else rows
    if rows.empty:
        return rows, pd.DataFrame(columns=["sku_id", "period", "actual"])
    return rows, cl.period_actuals(session=session, frame=rows)[["sku_id", "period", "actual"]]


def _codes(entry: AuditLog) -> list[str]:
    details = entry.details or {}
    if entry.action == "policy.apply":
        return [str(c) for c in (details.get("codes") or [])[:POLICY_SKUS]]
    code = sku_of(entry)
    return [code] if code else []


def _period_end(start: dt.date, grain: str) -> dt.date:
    if grain == "monthly":
        return (pd.Timestamp(start) + pd.DateOffset(months=1)).date()
    return start + dt.timedelta(days=days_per_period(grain))


# --- outcomes -----------------------------------------------------------------------------------------------------


def _order(entry: AuditLog, ev: _Evidence) -> rules.Outcome:
    po = ev.orders.get(_order_id(entry.target) or -1)
    if po is None:
        return rules.Outcome(rules.NONE, "the order is no longer in the database")
    if entry.action == "order.reject":
        return rules.rejection_outcome(
            rejected_on=entry.created_at.date(),
            lead_time_days=float(ev.lead_time.get(po.sku_id, po.sku.lead_time_mean) or 0.0),
            stockout_days=ev.stockouts.get(po.sku_id, []),
            data_through=ev.stock_through,
        )
    if entry.action == "order.cancel":
        return rules.Outcome(rules.KNOWN, "cancelled: never arrived", {"status": po.status})
    arrival = po.received_date
    if arrival is None and po.order_date is not None:
        arrival = ev.receipts.get((po.sku_id, po.order_date))
    return rules.order_outcome(
        status=po.status,
        order_date=po.order_date,
        promised_date=po.promised_date,
        arrival_date=arrival,
        stockout_days=ev.stockouts.get(po.sku_id, []),
        today=ev.today,
    )


def _override(entry: AuditLog, ev: _Evidence) -> rules.Outcome:
    details = entry.details or {}
    sku_id = ev.sku_ids.get(sku_of(entry) or "")
    qty = _num(details.get("qty"))
    stat = details.get("statistical") or {}
    periods = [dt.date.fromisoformat(p) for p in details.get("periods") or []]
    if sku_id is None or qty is None or not periods:
        return rules.NO_OUTCOME
    history = ev.demand(sku_id)
    actuals: list[float | None] = []
    for start in periods:
        end = _period_end(start, ev.grain)
        if ev.demand_through is None or end > ev.demand_through:
            actuals.append(None)
        else:
            actuals.append(sum(q for day, q in history if start <= day < end))
    statistical = [_num(stat.get(p.isoformat())) or 0.0 for p in periods]
    return rules.override_outcome(actuals=actuals, statistical=statistical, override=[qty] * len(periods))


def _policy(entry: AuditLog, ev: _Evidence) -> rules.Outcome:
    applied = entry.created_at.date()
    span = (ev.demand_through - applied) if ev.demand_through is not None else dt.timedelta(0)
    before_start = applied - span
    out: dict[str, list[Any]] = defaultdict(list)
    for code in _codes(entry):
        sku_id = ev.sku_ids.get(code)
        if sku_id is None:
            continue
        zero = ev.stockouts.get(sku_id, [])
        for start, qty in ev.demand(sku_id):
            end = _period_end(start, ev.grain)
            side = "after" if start >= applied else "before" if start >= before_start else None
            if side is None or (ev.demand_through is not None and end > ev.demand_through):
                continue
            out[f"demand_{side}"].append(qty)
            out[f"stocked_out_{side}"].append(any(start <= d < end for d in zero))
        for as_of, on_hand in ev.counts.get(sku_id, []):
            if as_of >= applied:
                out["on_hand_after"].append(on_hand)
            elif as_of >= before_start:
                out["on_hand_before"].append(on_hand)
    return rules.policy_outcome(**{k: out.get(k, []) for k in _POLICY_ARGS})


_POLICY_ARGS = (
    "demand_after",
    "stocked_out_after",
    "on_hand_after",
    "demand_before",
    "stocked_out_before",
    "on_hand_before",
)


def _outcome(entry: AuditLog, ev: _Evidence) -> rules.Outcome:
    if entry.action.startswith("order."):
        return _order(entry, ev)
    if entry.action == "forecast.override":
        return _override(entry, ev)
    if entry.action == "policy.apply":
        return _policy(entry, ev)
    if entry.action == "consensus.adjustment":
        return _adjustment(entry, ev)
    return rules.NO_OUTCOME


def _adjustment(entry: AuditLog, ev: _Evidence) -> rules.Outcome:
    """A commercial adjustment's forecast value added over the periods it set (its layers of record): the consensus
    against the forecast after overrides, pending until every period's actual has arrived."""
    adjustment_id = (entry.details or {}).get("id")
    cells = ev.layers[ev.layers["adjustment_id"] == adjustment_id] if adjustment_id is not None else ev.layers[:0]
    if cells.empty:
        return rules.Outcome(rules.PENDING, "waits for a recompute of its periods")
    keys = zip(ev.actuals["sku_id"], ev.actuals["period"], strict=True)
    arrived = dict(zip(keys, ev.actuals["actual"], strict=True))
    actuals = [arrived.get((k, p)) for k, p in zip(cells["sku_id"], cells["period"], strict=True)]
    out = rules.override_outcome(
        actuals=[None if a is None else float(a) for a in actuals],
        statistical=cells["overridden"].astype(float).tolist(),
        override=cells["consensus"].astype(float).tolist(),
    )
    return rules.Outcome(out.state, out.summary.replace("the override", "the adjustment"), out.values)


# --- what was decided ---------------------------------------------------------------------------------------------


def _what(entry: AuditLog, ev: _Evidence) -> tuple[str, Any, Any]:
    """A sentence, and the numbers before / after."""
    d = entry.details or {}
    code = sku_of(entry)
    po = ev.orders.get(_order_id(entry.target) or -1)
    if entry.action == "order.approve":
        before = po.recommended_qty if po is not None else None
        return f"approved order {d.get('order_id')} for {code}: {_text(_num(d.get('qty')))} units", before, d.get("qty")
    if entry.action == "order.edit":
        return f"changed order quantity for {code}: {d.get('reason') or ''}".strip(), d.get("old_qty"), d.get("new_qty")
    if entry.action in ("order.reject", "order.cancel"):
        verb = "rejected" if entry.action == "order.reject" else "cancelled"
        reason = f" ({d['reason']})" if d.get("reason") else ""
        return f"{verb} the order for {code}{reason}", d.get("qty"), 0.0
    if entry.action == "order.receive":
        when = formats.fmt_date(d.get("received_date"))
        return f"received the order for {code} on {when}", d.get("ordered_qty"), d.get("received_qty")
    if entry.action == "forecast.override":
        periods = d.get("periods") or []
        stat = d.get("statistical") or {}
        total = sum(_num(v) or 0.0 for v in stat.values())
        span = f"{formats.fmt_date(periods[0])} to {formats.fmt_date(periods[-1])}" if periods else ""
        text = f"override for {code}, {len(periods)} period{'s' if len(periods) != 1 else ''} {span}: {d.get('reason')}"
        return text, round(total / len(stat), 4) if stat else None, d.get("qty")
    if entry.action == "policy.apply":
        target = d.get("target")
        measure = "cycle service level" if d.get("measure") == "csl" else "fill rate"
        aim = f"{float(target):.1%} {measure}" if _num(target) is not None else measure
        return f"applied {aim} ({d.get('policy')}) to {d.get('skus')} SKU(s) in {d.get('scope')}", None, target
    if entry.action == "supply.scenario.save":
        return f"saved supply scenario {entry.target!r} ({d.get('strategy')}, {d.get('horizon')} periods)", None, None
    if entry.action.startswith("consensus."):
        verb = "deleted" if entry.action.endswith("_delete") else "adjusted"
        text = f"{verb} {entry.target} {str(d.get('period'))[:7]}: {d.get('change')} ({d.get('reason')})"
        return text, None, d.get("change_pct") if d.get("change_pct") is not None else d.get("change_units")
    if entry.action == "cycle.close":
        return f"closed cycle {entry.target!r} ({d.get('skus')} SKUs, run {d.get('run_id')})", None, None
    return entry.action, None, None


# --- reading ------------------------------------------------------------------------------------------------------


def _entries(
    session: Session,
    *,
    actions: Iterable[str],
    user: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
) -> list[AuditLog]:
    query = (
        select(AuditLog)
        .where(AuditLog.action.in_(list(actions)), AuditLog.outcome == "ok")
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(limit)
    )
    if user:
        pattern = "%" + user.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(AuditLog.user_email).like(pattern, escape="\\"))
    if since is not None:
        query = query.where(AuditLog.created_at > since)
    if until is not None:
        query = query.where(AuditLog.created_at < until)
    return list(session.scalars(query))


def _actions(kind: str | None) -> list[str]:
    if not kind:
        return list(KINDS)
    wanted = [a for a, label in KINDS.items() if kind in (a, label)]
    if not wanted:
        raise UserFacingError(f"kind must be one of {', '.join(KINDS.values())}, got {kind!r}")
    return wanted


def list_decisions(
    *,
    session: Session,
    kind: str | None = None,
    sku: str | None = None,
    user: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    since: dt.datetime | None = None,
    outcome: str | None = None,
    limit: int = 500,
    today: dt.date | None = None,
) -> list[Decision]:
    """The decisions, newest first, with their outcomes as the data stands now.

    Filters: ``kind`` (an action or its label in :data:`KINDS`), ``sku`` (exact code, case-insensitive),
    ``user`` (part of the e-mail), ``date_from`` / ``date_to`` (inclusive UTC days), ``since`` (strictly after a
    time), ``outcome`` (``known`` / ``pending`` / ``none``). ``today`` defaults to the UTC date.

    Raises
    ------
    UserFacingError
        Unknown kind or outcome, a limit outside 1..:data:`MAX_LIMIT`, ``date_from`` after ``date_to``.
    """
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise UserFacingError(f"limit must be from 1 to {MAX_LIMIT:,}, got {limit}")
    if outcome and outcome not in OUTCOME_FILTERS:
        raise UserFacingError(f"outcome must be one of {', '.join(OUTCOME_FILTERS)}, got {outcome!r}")
    if date_from and date_to and date_from > date_to:
        raise UserFacingError(
            f"the start date {formats.fmt_date(date_from)} is after the end {formats.fmt_date(date_to)}"
        )
    start = dt.datetime.combine(date_from, dt.time.min) - dt.timedelta(microseconds=1) if date_from else None
    if since is not None:
        start = max(start, since) if start is not None else since
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min) if date_to else None
    scan = MAX_LIMIT if (sku or outcome) else int(limit)  # filters applied after reading: read more
    entries = _entries(session, actions=_actions(kind), user=user, since=start, until=end, limit=scan)
    if sku:
        code = sku.strip().lower()
        entries = [e for e in entries if code in (c.lower() for c in _codes(e))]
    ev = _Evidence(session, entries, today or utcnow().date())
    out = []
    for entry in entries:
        result = _outcome(entry, ev)
        if outcome and result.state != outcome:
            continue
        what, before, after = _what(entry, ev)
        out.append(
            Decision(
                id=int(entry.id),
                kind=KINDS[entry.action],
                action=entry.action,
                at=entry.created_at,
                user=entry.user_email,
                sku=sku_of(entry),
                target=entry.target,
                what=what,
                before=before,
                after=after,
                outcome=result,
            )
        )
        if len(out) >= limit:
            break
    return out


def users(*, session: Session) -> list[str]:
    """The people who made decisions (for a filter list)."""
    query = select(AuditLog.user_email).where(AuditLog.action.in_(list(KINDS))).distinct()
    return sorted(u for u in session.scalars(query) if u)
