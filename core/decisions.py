"""Outcome rules of the decision log (issue 19 item 3): what became of a decision once it is knowable.

Pure functions (no database, no clock: "today" and the evidence are passed in). Each returns an :class:`Outcome`
with a state:

- ``known``: the evidence is in and the outcome is final;
- ``pending``: not knowable yet (actuals not in, the order not arrived, too little time since);
- ``none``: the decision has no outcome to follow (a scenario saved, a cycle closed).

Rules and sources:

- an override: forecast value added on its periods once every period's actual has arrived,
  FVA = WAPE(statistical) - WAPE(override), WAPE = sum |f - a| / sum a; positive = the override helped
  (Gilliland, *The Business Forecasting Deal*, 2010; the same measure as :func:`core.accuracy.forecast_value_added`);
- an approved order: days late = arrival date - promised date (negative = early), and whether a stock count showed
  the SKU at zero on hand on or after the order date and before the arrival (the stock-out the order was meant to
  prevent);
- a rejected order: whether a stock count showed zero on hand within the SKU's lead time after the rejection (the
  need the order covered was real), known once the stock data reaches the end of that window;
- an applied policy: realised fill = demand in periods with no zero stock count / total demand (the in-stock share
  of demand, a lost-sales proxy; Silver, Pyke & Thomas, *Inventory and Production Management*, 2017, ch. 7), and
  average on-hand of the stock counts, since the policy was applied against the same span before it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.formats import fmt_date_prose

KNOWN, PENDING, NONE = "known", "pending", "none"
STATES = (KNOWN, PENDING, NONE)


@dataclass(frozen=True)
class Outcome:
    """What became of one decision: ``state`` (:data:`STATES`), a one-line ``summary`` and the figures."""

    state: str
    summary: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "summary": self.summary, "values": dict(self.values)}


NO_OUTCOME = Outcome(NONE, "no outcome to follow")


def _wape(actual: Sequence[float], forecast: Sequence[float]) -> float | None:
    total = sum(actual)
    if total <= 0:
        return None
    return sum(abs(f - a) for a, f in zip(actual, forecast, strict=True)) / total


def override_outcome(
    *, actuals: Sequence[float | None], statistical: Sequence[float], override: Sequence[float]
) -> Outcome:
    """Forecast value added of one override over its periods (one value per period in each sequence).

    ``actuals[i]`` is None while period i's actual has not fully arrived: the outcome stays pending until all have.
    FVA = WAPE(statistical) - WAPE(override) with WAPE = sum |f - a| / sum a (Gilliland 2010).
    """
    if not (len(actuals) == len(statistical) == len(override)):
        raise ValueError("actuals, statistical and override must have one value per period")
    n = len(actuals)
    arrived = [a for a in actuals if a is not None]
    if n == 0:
        return NO_OUTCOME
    if len(arrived) < n:
        return Outcome(PENDING, f"actuals in for {len(arrived)} of {n} period{'s' if n != 1 else ''}")
    actual = [float(a) for a in arrived]
    stat_wape, final_wape = _wape(actual, statistical), _wape(actual, override)
    values = {"periods": n, "actual": sum(actual), "statistical_wape": stat_wape, "override_wape": final_wape}
    if stat_wape is None or final_wape is None:
        return Outcome(KNOWN, "no demand in its periods: nothing to compare", {**values, "fva": None})
    fva = stat_wape - final_wape
    if abs(fva) < 0.005:
        verdict = "no change in accuracy"
    else:
        verdict = "the override helped" if fva > 0 else "the override hurt"
    summary = f"FVA {fva * 100:+.1f} WAPE points ({verdict}; actual {sum(actual):,.0f} units)"
    return Outcome(KNOWN, summary, {**values, "fva": fva})


def _stockouts(days: Sequence[dt.date], start: dt.date, end: dt.date | None) -> list[dt.date]:
    return sorted(d for d in days if d >= start and (end is None or d < end))


def order_outcome(
    *,
    status: str,
    order_date: dt.date | None,
    promised_date: dt.date | None,
    arrival_date: dt.date | None,
    stockout_days: Sequence[dt.date],
    today: dt.date,
) -> Outcome:
    """An approved order's outcome: arrival against the promised date, and a stock-out before the arrival.

    ``status`` is the order's status now; ``arrival_date`` its received date (the order marked received or a
    receipt imported for its SKU and order date), None while it has not arrived; ``stockout_days`` the dates of
    stock counts with zero on hand. Days late = arrival - promised (negative = early).
    """
    if status == "recommended":
        return Outcome(PENDING, "awaiting approval")
    if status == "rejected" and arrival_date is None:
        return Outcome(KNOWN, "rejected: never ordered", {"status": status})
    if status == "cancelled" and arrival_date is None:
        return Outcome(KNOWN, "cancelled: never arrived", {"status": status})
    start = order_date or today
    if arrival_date is None:
        out = _stockouts(stockout_days, start, None)
        values: dict[str, Any] = {"status": status, "promised_date": promised_date, "stocked_out": bool(out)}
        if promised_date is not None and today > promised_date:
            late = (today - promised_date).days
            text = (
                f"not arrived: {late} day{'s' if late != 1 else ''} past its promised {fmt_date_prose(promised_date)}"
            )
        else:
            text = f"on order, promised {fmt_date_prose(promised_date)}"
        if out:
            text += f"; stocked out {fmt_date_prose(out[0])}"
        return Outcome(PENDING, text, values)
    out = _stockouts(stockout_days, start, arrival_date)
    late = (arrival_date - promised_date).days if promised_date is not None else None
    if late is None:
        timing = f"arrived {fmt_date_prose(arrival_date)}"
    elif late > 0:
        timing = f"arrived {fmt_date_prose(arrival_date)}, {late} day{'s' if late != 1 else ''} late"
    elif late < 0:
        timing = f"arrived {fmt_date_prose(arrival_date)}, {-late} day{'s' if late != -1 else ''} early"
    else:
        timing = f"arrived {fmt_date_prose(arrival_date)}, on time"
    stock = f"stocked out {fmt_date_prose(out[0])} before it arrived" if out else "no stock-out before it arrived"
    values = {
        "status": status,
        "promised_date": promised_date,
        "arrival_date": arrival_date,
        "days_late": late,
        "stocked_out": bool(out),
        "first_stockout": out[0] if out else None,
    }
    return Outcome(KNOWN, f"{timing}; {stock}", values)


def rejection_outcome(
    *, rejected_on: dt.date, lead_time_days: float, stockout_days: Sequence[dt.date], data_through: dt.date | None
) -> Outcome:
    """A rejected order's outcome: did the SKU stock out within its lead time after the rejection?

    Known once a stock-out falls in [rejected_on, rejected_on + lead time) or the stock data reaches the window's end.
    """
    end = rejected_on + dt.timedelta(days=max(1, math.ceil(lead_time_days)))
    out = _stockouts(stockout_days, rejected_on, end)
    values = {"window_end": end, "stocked_out": bool(out)}
    if out:
        return Outcome(KNOWN, f"stocked out {fmt_date_prose(out[0])}, within the lead time", values)
    if data_through is None or data_through < end:
        return Outcome(PENDING, f"watching for a stock-out until {fmt_date_prose(end)}", values)
    return Outcome(KNOWN, "no stock-out within the lead time", values)


def _fill(demand: Sequence[float], out_of_stock: Sequence[bool]) -> float | None:
    total = sum(demand)
    if total <= 0:
        return None
    return sum(d for d, out in zip(demand, out_of_stock, strict=True) if not out) / total


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def policy_outcome(
    *,
    demand_after: Sequence[float],
    stocked_out_after: Sequence[bool],
    on_hand_after: Sequence[float],
    demand_before: Sequence[float] = (),
    stocked_out_before: Sequence[bool] = (),
    on_hand_before: Sequence[float] = (),
) -> Outcome:
    """An applied policy's service and inventory since, against the same span before (the counterfactual).

    One entry per SKU-period of demand (``demand_*`` with ``stocked_out_*``: a zero stock count in that period) and
    one per stock count (``on_hand_*``). Realised fill = sum of demand in periods not stocked out / sum of demand;
    average inventory = mean on-hand of the counts. Pending until a period of demand after the decision is in.
    """
    if not demand_after:
        return Outcome(PENDING, "no full period of demand since it was applied")
    fill_after, fill_before = _fill(demand_after, stocked_out_after), _fill(demand_before, stocked_out_before)
    inv_after, inv_before = _mean(on_hand_after), _mean(on_hand_before)
    values = {
        "periods": len(demand_after),
        "fill_after": fill_after,
        "fill_before": fill_before,
        "avg_on_hand_after": inv_after,
        "avg_on_hand_before": inv_before,
    }
    parts = []
    if fill_after is None:
        parts.append("no demand since")
    else:
        parts.append(f"fill {fill_after:.1%}" + (f" (before {fill_before:.1%})" if fill_before is not None else ""))
    if inv_after is not None:
        parts.append(
            f"average on hand {inv_after:,.0f} units"
            + (f" (before {inv_before:,.0f})" if inv_before is not None else "")
        )
    return Outcome(KNOWN, "; ".join(parts) + f" over {len(demand_after):,} SKU-periods since", values)
