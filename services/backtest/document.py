"""The backtest's JSON document (CLI ``--json``, ``GET /api/v1/backtest``, the stored result) and its words.

Document (every number a plain float, NaN as null)::

    {"periods": N,
     "portfolio": {"fill_rate", "cycle_service_level", "average_inventory_value", "target_service_level"},
     "baseline":  {same keys},
     "frontier":  [{"service_target", "fill_rate", "average_inventory_value"}, ...],
     "skus":      [{"code", "demand", "fill_rate", "cycle_service_level", "stockout_periods",
                    "average_inventory_units", "average_inventory_value", "orders"}, ...],
     "excluded":  [{"code", "reason"}, ...],
     "comparison": {"fill_gap_at_equal_inventory", "inventory_ratio_at_equal_fill",
                    "baseline_fill_at_equal_inventory", "baseline_inventory_at_equal_fill", "verdict"},
     "scope": {"key", "label", "category", "abc", "sku"}, "grain", "data_as_of", "replay_start", "replay_end",
     "fit_periods", "sku_count", "computed_at", "seconds"}

``portfolio`` is the engine's policy; its fill rate is demand-weighted (units served from stock / units demanded over
every replayed SKU), its cycle service level the mean over SKUs with demand of the share of periods without a
stockout, its inventory the sum over SKUs of the average on-hand value. ``baseline`` is the textbook policy at each
SKU's own target; ``frontier`` the textbook at uniform targets 0.50-0.999. ``comparison`` reads the engine's point
against the frontier: the fill-rate gap at equal inventory (engine - textbook) and the inventory ratio at equal fill
(engine / textbook); null when the engine's point lies outside the frontier's range.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from core.backtest import ReplaySummary
from services.backtest.results import Replayed
from services.backtest.scope import BacktestScope

if TYPE_CHECKING:
    import pandas as pd

PORTFOLIO_KEYS: tuple[str, ...] = (
    "fill_rate",
    "cycle_service_level",
    "average_inventory_value",
    "target_service_level",
)
FRONTIER_KEYS: tuple[str, ...] = ("service_target", "fill_rate", "average_inventory_value")
SKU_KEYS: tuple[str, ...] = (
    "code",
    "demand",
    "fill_rate",
    "cycle_service_level",
    "stockout_periods",
    "average_inventory_units",
    "average_inventory_value",
    "orders",
)
ABOVE_FILL_PP = 0.01
"""The engine is *above* the frontier when it fills >= 1 pp more at equal inventory or needs <= 0.90x the inventory
for equal fill (the issue's bar); *below* when it fills less at equal inventory or needs more for equal fill."""
ABOVE_RATIO = 0.90
VERDICTS = ("above", "on", "below", "unknown")


def number(value: Any, digits: int | None = None) -> float | None:
    """A JSON number: a plain float (rounded to ``digits`` decimals), None for NaN / inf / None."""
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v):
        return None
    return round(v, digits) if digits is not None else v


def point(summary: ReplaySummary, target: float) -> dict[str, float | None]:
    return {
        "fill_rate": number(summary.fill_rate),
        "cycle_service_level": number(summary.cycle_service_level),
        "average_inventory_value": number(summary.average_inventory_value, 2),
        "target_service_level": number(target, 6),
    }


def verdict(gap: float | None, ratio: float | None) -> str:
    """``above`` / ``on`` / ``below`` the textbook frontier, ``unknown`` outside its range (see ABOVE_FILL_PP)."""
    if gap is None and ratio is None:
        return "unknown"
    if (gap is not None and gap >= ABOVE_FILL_PP - 1e-12) or (ratio is not None and ratio <= ABOVE_RATIO + 1e-12):
        return "above"
    if (gap is not None and gap < -1e-9) or (ratio is not None and ratio > 1.0 + 1e-9):
        return "below"
    return "on"


def comparison(replayed: Replayed) -> dict[str, Any]:
    e = replayed.engine.summary
    gap = number(replayed.fill_gap_at_equal_inventory)
    ratio = number(replayed.inventory_ratio_at_equal_fill)
    return {
        "fill_gap_at_equal_inventory": gap,
        "inventory_ratio_at_equal_fill": ratio,
        "baseline_fill_at_equal_inventory": number(e.fill_rate - gap) if gap is not None else None,
        "baseline_inventory_at_equal_fill": number(e.average_inventory_value / ratio, 2) if ratio else None,
        "verdict": verdict(gap, ratio),
    }


def sku_rows(replayed: Replayed, codes: list[str]) -> list[dict[str, Any]]:
    r = replayed.engine.replay
    return [
        {
            "code": code,
            "demand": number(r.demand[i], 4),
            "fill_rate": number(r.fill_rate[i], 6),
            "cycle_service_level": number(r.cycle_service_level[i], 6),
            "stockout_periods": int(r.stockout_periods[i]),
            "average_inventory_units": number(r.average_on_hand_units[i], 4),
            "average_inventory_value": number(r.average_on_hand_value[i], 2),
            "orders": int(r.orders[i]),
        }
        for i, code in enumerate(codes)
    ]


def build_document(
    *,
    replayed: Replayed,
    codes: list[str],
    scope: BacktestScope,
    grain: str,
    replay_dates: pd.DatetimeIndex,
    fit_periods: int,
    excluded: list[dict[str, str]],
    computed_at: dt.datetime,
    seconds: float,
) -> dict[str, Any]:
    """The backtest document (module docstring) of a joined replay."""
    target = replayed.target_service_level
    return {
        "periods": int(replayed.periods),
        "portfolio": point(replayed.engine.summary, target),
        "baseline": point(replayed.baseline.summary, target),
        "frontier": [
            {
                "service_target": number(p.service_target),
                "fill_rate": number(p.summary.fill_rate),
                "average_inventory_value": number(p.summary.average_inventory_value, 2),
            }
            for p in replayed.frontier
        ],
        "skus": sku_rows(replayed, codes),
        "excluded": list(excluded),
        "comparison": comparison(replayed),
        "scope": scope.as_dict(),
        "grain": grain,
        "data_as_of": replay_dates[-1].date().isoformat() if len(replay_dates) else None,
        "replay_start": replay_dates[0].date().isoformat() if len(replay_dates) else None,
        "replay_end": replay_dates[-1].date().isoformat() if len(replay_dates) else None,
        "fit_periods": int(fit_periods),
        "sku_count": len(codes),
        "computed_at": computed_at.replace(microsecond=0).isoformat(),
        "seconds": round(float(seconds), 3),
    }


# --------------------------------------------------------------------------------------------------------------------
# words


def _plain_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _pair(a: float | None, b: float | None, fmt: Callable[[float | None], str]) -> tuple[str, str]:
    """Two fill rates as text that tells them apart: two decimals where ``fmt`` would print them alike."""
    left, right = fmt(a), fmt(b)
    if left == right and a is not None and b is not None and abs(a - b) > 1e-12:
        sign = " %" if left.endswith(" %") else "%"
        return f"{100 * a:.2f}{sign}", f"{100 * b:.2f}{sign}"
    return left, right


def _plain_money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _grain_unit(document: dict[str, Any], count: int) -> str:
    word = {"daily": "day", "weekly": "week", "monthly": "month"}.get(document.get("grain") or "", "period")
    return word if count == 1 else word + "s"


def headline(
    document: dict[str, Any],
    *,
    money: Callable[[float | None], str] = _plain_money,
    pct: Callable[[float | None], str] | None = None,
) -> str:
    """One sentence: what the engine's policies achieved over the replay against their target."""
    _pct = pct or _plain_pct
    p = document["portfolio"]
    n = int(document["periods"])
    span = f"the last {n} {_grain_unit(document, n)}"
    if p["fill_rate"] is None:
        return f"No demand in {span} of the replay: there is nothing to fill."
    return (
        f"Replayed through {span} of real demand (hidden from the fit), the engine's policies filled "
        f"{_pct(p['fill_rate'])} of demand from stock against a {_pct(p['target_service_level'])} service target "
        f"(cycle service {_pct(p['cycle_service_level'])}), holding {money(p['average_inventory_value'])} of "
        "inventory on average."
    )


def comparison_sentences(
    document: dict[str, Any],
    *,
    money: Callable[[float | None], str] = _plain_money,
    pct: Callable[[float | None], str] | None = None,
) -> list[str]:
    """The engine's point against the textbook frontier in words (equal inventory, equal fill, own targets)."""
    _pct = pct or _plain_pct
    p, b, c = document["portfolio"], document["baseline"], document.get("comparison") or {}
    if p["fill_rate"] is None:
        return []
    out: list[str] = []
    frontier = [f for f in document.get("frontier") or [] if f["fill_rate"] is not None]
    gap = c.get("fill_gap_at_equal_inventory")
    if gap is not None:
        book, engine = _pair(c.get("baseline_fill_at_equal_inventory"), p["fill_rate"], _pct)
        out.append(f"At the same inventory the textbook reaches {book}; the engine {engine} ({100 * gap:+.1f} pp).")
    elif frontier:
        low = min(f["average_inventory_value"] for f in frontier)
        high = max(f["average_inventory_value"] for f in frontier)
        side = "more" if (p["average_inventory_value"] or 0) > high else "less"
        out.append(
            f"The engine holds {side} inventory than any textbook target from {_pct(frontier[0]['service_target'])} "
            f"to {_pct(frontier[-1]['service_target'])} ({money(low)} to {money(high)}): no comparison at equal "
            "inventory."
        )
    ratio = c.get("inventory_ratio_at_equal_fill")
    if ratio is not None:
        out.append(
            f"For the same fill rate the textbook needs {money(c.get('baseline_inventory_at_equal_fill'))} of "
            f"inventory; the engine holds {ratio:.2f}\u00d7 that."
        )
    elif frontier:
        best = max(f["fill_rate"] for f in frontier)
        if p["fill_rate"] > best:
            engine, book = _pair(p["fill_rate"], best, _pct)
            out.append(
                f"No textbook target reaches the engine's fill rate of {engine} (the textbook's best is {book})."
            )
        else:
            engine, book = _pair(p["fill_rate"], min(f["fill_rate"] for f in frontier), _pct)
            out.append(f"The engine's fill rate of {engine} is below every textbook target's ({book} and up).")
    if b["fill_rate"] is not None:
        out.append(
            f"The textbook at each SKU's own target fills {_pct(b['fill_rate'])} with "
            f"{money(b['average_inventory_value'])} of inventory."
        )
    return out


def excluded_sentence(document: dict[str, Any]) -> str | None:
    """How many SKUs were left out and why (the first reason as an example), or None."""
    rows = document.get("excluded") or []
    if not rows:
        return None
    first = rows[0]
    more = f" and {len(rows) - 1:,} more" if len(rows) > 1 else ""
    return f"{len(rows):,} SKU(s) left out of the replay: {first['code']} ({first['reason']}){more}."


def summary_line(
    document: dict[str, Any],
    *,
    money: Callable[[float | None], str] = _plain_money,
    pct: Callable[[float | None], str] | None = None,
) -> str:
    """The briefing's line: replayed fill rate and inventory against the target and the textbook."""
    _pct = pct or _plain_pct
    p, b = document["portfolio"], document["baseline"]
    n = int(document["periods"])
    if p["fill_rate"] is None:
        return f"Policy replay over the last {n} {_grain_unit(document, n)}: no demand to fill."
    c = document.get("comparison") or {}
    gap = c.get("fill_gap_at_equal_inventory")
    versus = (
        f"; the textbook reaches {_pct(c.get('baseline_fill_at_equal_inventory'))} at the same inventory"
        if gap is not None
        else f"; the textbook at the same targets {_pct(b['fill_rate'])} with {money(b['average_inventory_value'])}"
    )
    return (
        f"Policy replay over the last {n} {_grain_unit(document, n)} of demand ({document['sku_count']:,} SKUs): "
        f"fill rate {_pct(p['fill_rate'])} against a {_pct(p['target_service_level'])} target, average inventory "
        f"{money(p['average_inventory_value'])}{versus}."
    )


def sku_paths(result_replay: Any, index: int) -> dict[str, list[float]]:
    """One SKU's per-period paths of a replay kept with ``keep_paths`` (name -> list), {} without paths."""
    paths = getattr(result_replay, "paths", None) or {}
    return {name: [float(v) for v in np.asarray(values)[index]] for name, values in paths.items()}


__all__ = [
    "FRONTIER_KEYS",
    "PORTFOLIO_KEYS",
    "SKU_KEYS",
    "VERDICTS",
    "build_document",
    "comparison_sentences",
    "excluded_sentence",
    "headline",
    "number",
    "sku_paths",
    "summary_line",
    "verdict",
]
