"""Causal drivers of demand (prices, promotions, named causal columns, events) as features of the global model.

A planner knows the price and promotion plan and the event calendar ahead: these arrays cover the history AND the
forecast horizon, so the model forecasts with the planned future values (Cooper et al. 1999, "PromoCast: a new
forecasting method for promotion planning", Marketing Science 18(3); Ma, Fildes & Huang 2016, "Demand forecasting
with high dimensional data: the case of SKU retail sales forecasting with intra- and inter-category promotional
information", EJOR 249(1)).

Features of a row (series i, origin o = periods observed, target period t), each known at the origin or planned:

- price: ``price[t] / regular[o]`` and ``price[o-1] / regular[o]``, where the regular price is the rolling median of
  the (forward-filled) prices over the ``regular_window`` periods before the origin (a price cut of 20 % reads 0.8
  on any currency or price level; the median ignores short promotional cuts); a horizon period without a planned
  price is at the regular price (ratio 1);
- promotion: flag at t, label code at t (categorical), flag at o-1 and the share of promoted periods over the
  regular window before the origin (so the model knows when the recent level, its scale, was inflated);
- named causal columns (feature, display, TPR ...): their value at t and at o-1;
- events: frequent events (held in more than ``FREQUENT_EVENT_SHARE`` of the history periods, e.g. paydays or
  benefit days) each as a 0/1 column at t; rare events (holidays) as the code of the event at t (categorical),
  the periods until the next one and since the last one (leads and lags, capped at ``event_window``).

Unknown values (no price or no data for a series) are NaN: the tree routes them apart, so series without causal data
are forecast from the other features as before. The plan-free ("baseline") variant replaces, in the forecast
horizon only, the planned price by the regular price, and the promotion flag, label and named columns by 0;
events stay (they are not part of the plan). Uplift = forecast with the plan / forecast without it.

Measured on the M5 subset (bench/accuracy_causal.py, prices, calendar events and SNAP days; every price constant in
the test window): the next-event code as a further categorical column and the event codes alone scored within the
noise of each other; a per-series SNAP lift estimated on the last one or two years and applied to the forecast
improved the mean RMSSE by 0.3 % only, so M5's causal signal in that window is small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FREQUENT_EVENT_SHARE = 0.1
MAX_FREQUENT_EVENTS = 4
MAX_CODE = 250  # categorical codes of the boosting model must stay below its 255 bins
PLAN_RATIO_BOUNDS = (0.2, 5.0)  # the plan's multiplier on models that cannot see it, see plan_ratio


@dataclass(frozen=True)
class CausalInputs:
    """Known drivers per series and period, history then horizon: every array is (n, T + h).

    Attributes
    ----------
    price
        Selling price per period; NaN where unknown (in the history forward-filled from the last known price; in
        the horizon the regular price).
    promotion
        Promotion label code per period: 0 none, k >= 1 label k (1 for a plain 0/1 flag); None = no promotion data.
    features
        Named numeric causal columns (e.g. ``feature``, ``display``, ``tpr_only``); NaN read as 0.
    events
        Event name -> bool (n, T + h): the event applies to that series (its location) in that period.
    """

    price: np.ndarray | None = None
    promotion: np.ndarray | None = None
    features: dict[str, np.ndarray] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return self.price is None and self.promotion is None and not self.features and not self.events

    def check(self, *, n: int, length: int) -> None:
        """Raise ValueError naming the array whose shape is not (n, length)."""
        arrays = {"price": self.price, "promotion": self.promotion}
        arrays.update({f"features[{k!r}]": v for k, v in self.features.items()})
        arrays.update({f"events[{k!r}]": v for k, v in self.events.items()})
        for name, arr in arrays.items():
            if arr is not None and np.shape(arr) != (n, length):
                raise ValueError(f"causal {name} must have shape {(n, length)}, got {np.shape(arr)}")

    def span(self, stop: int) -> CausalInputs:
        """The first ``stop`` periods of every array (a panel of T periods plus its horizon); periods beyond the
        arrays are unknown (NaN price, no promotion, no event)."""

        def cut(arr: np.ndarray | None, fill: float) -> np.ndarray | None:
            if arr is None:
                return None
            arr = np.asarray(arr)[:, :stop]
            short = stop - arr.shape[1]
            if short > 0:
                arr = np.concatenate([arr, np.full((arr.shape[0], short), fill, dtype=arr.dtype)], axis=1)
            return arr

        return CausalInputs(
            price=cut(self.price, np.nan),
            promotion=cut(self.promotion, 0),
            features={k: cut(v, 0) for k, v in self.features.items()},
            events={k: cut(v, False) for k, v in self.events.items()},
        )

    def subset(self, rows: np.ndarray | slice) -> CausalInputs:
        """The same inputs for a subset of the series (rows of every array)."""
        return CausalInputs(
            price=None if self.price is None else self.price[rows],
            promotion=None if self.promotion is None else self.promotion[rows],
            features={k: v[rows] for k, v in self.features.items()},
            events={k: v[rows] for k, v in self.events.items()},
        )


def regular_window(season_length: int) -> int:
    """Periods of the rolling median giving the regular price: 4 seasons, at least 13 and at most 26 periods."""
    return int(min(max(4 * season_length, 13), 26))


def event_window(season_length: int) -> int:
    """Periods of lead and lag looked at around rare events: one season, at least 2 and at most 7."""
    return int(min(max(season_length, 2), 7))


def _pad(arr: np.ndarray, pad: int, fill: float) -> np.ndarray:
    return np.concatenate([np.full((arr.shape[0], pad), fill), arr], axis=1)


def _ffill(arr: np.ndarray) -> np.ndarray:
    return pd.DataFrame(arr.T).ffill().to_numpy().T


def _distance_next(mask: np.ndarray, cap: int) -> np.ndarray:
    """Periods from t to the next True strictly after t, capped at cap + 1."""
    n, length = mask.shape
    idx = np.where(mask, np.arange(length)[None, :], length + cap + 1)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]
    nxt = np.concatenate([nxt[:, 1:], np.full((n, 1), length + cap + 1)], axis=1)
    return np.minimum(nxt - np.arange(length)[None, :], cap + 1)


def _distance_prev(mask: np.ndarray, cap: int) -> np.ndarray:
    """Periods from t back to the last True strictly before t, capped at cap + 1."""
    n, length = mask.shape
    idx = np.where(mask, np.arange(length)[None, :], -(cap + 2))
    prev = np.maximum.accumulate(idx, axis=1)
    prev = np.concatenate([np.full((n, 1), -(cap + 2)), prev[:, :-1]], axis=1)
    return np.minimum(np.arange(length)[None, :] - prev, cap + 1)


class CausalFeatures:
    """Feature columns of ``CausalInputs`` for rows (series, origin, target) in the padded time axis of ``ml``."""

    def __init__(self, causal: CausalInputs, *, pad: int, t_len: int, season_length: int) -> None:
        self.pad, self.t_len = pad, t_len
        self.window = regular_window(season_length)
        self.cap = event_window(season_length)
        self.categorical: list[int] = []  # positions within the causal block
        self.price = self.regular = None
        if causal.price is not None and np.isfinite(causal.price).any():
            given = np.where(np.asarray(causal.price, dtype=np.float64) > 0, causal.price, np.nan)
            # the history is forward-filled; a horizon period without a planned price is at the regular price
            price = np.concatenate([_ffill(given[:, :t_len]), given[:, t_len:]], axis=1)
            # regular[o] = median of the prices of periods o - window .. o - 1 (known at origin o)
            med = pd.DataFrame(price.T).rolling(self.window, min_periods=1).median().to_numpy().T
            regular = np.concatenate([np.full((price.shape[0], 1), np.nan), med[:, :-1]], axis=1)
            self.price, self.regular = _pad(price, pad, np.nan), _pad(regular, pad, np.nan)
        self.promo = self.promo_cs = None
        if causal.promotion is not None and (np.nan_to_num(causal.promotion) > 0).any():
            code = np.clip(np.nan_to_num(np.asarray(causal.promotion, dtype=np.float64)), 0, MAX_CODE)
            self.promo = _pad(code, pad, 0.0)
            flag = (self.promo > 0).astype(np.float64)
            self.promo_cs = np.concatenate([np.zeros((flag.shape[0], 1)), np.cumsum(flag, axis=1)], axis=1)
        self.features = {
            k: _pad(np.nan_to_num(np.asarray(v, dtype=np.float64)), pad, 0.0) for k, v in causal.features.items()
        }
        self._events(causal.events)

    def _events(self, events: dict[str, np.ndarray]) -> None:
        self.frequent: list[np.ndarray] = []
        self.ev_code = None
        if not events:
            return
        share = {k: float(np.asarray(v)[:, : self.t_len].mean()) for k, v in events.items()}
        frequent = sorted((k for k in events if share[k] > FREQUENT_EVENT_SHARE), key=lambda k: -share[k])
        rare = sorted((k for k in events if k not in frequent[:MAX_FREQUENT_EVENTS] and share[k] > 0), key=str)
        self.frequent = [
            _pad(np.asarray(events[k], dtype=np.float64), self.pad, 0.0) for k in frequent[:MAX_FREQUENT_EVENTS]
        ]
        if not rare:
            return
        shape = np.shape(events[rare[0]])
        code = np.zeros(shape)
        codes = {k: min(j, MAX_CODE) for j, k in enumerate(rare, start=1)}
        for k in sorted(rare, key=lambda k: -share[k]):  # the rarest event wins where several fall on one period
            code = np.where(np.asarray(events[k], dtype=bool), codes[k], code)
        mask = code > 0
        nxt = _distance_next(mask, self.cap)
        self.ev_code = _pad(code, self.pad, 0.0)
        self.ev_next = _pad(nxt.astype(np.float64), self.pad, self.cap + 1.0)
        self.ev_prev = _pad(_distance_prev(mask, self.cap).astype(np.float64), self.pad, self.cap + 1.0)

    def columns(
        self,
        i: np.ndarray,
        o: np.ndarray,
        target: np.ndarray,
        *,
        with_plan: bool = True,
        plan_from: int | None = None,
    ) -> list[np.ndarray]:
        """Columns for rows (i, padded origin o, padded target).

        ``with_plan=False`` gives the plan-free variant for the targets from period ``plan_from`` (unpadded; default
        T, the forecast horizon) on.
        """
        cols: list[np.ndarray] = []
        self.categorical = []
        first = self.t_len if plan_from is None else plan_from
        future = (target - self.pad) >= first if not with_plan else np.zeros(i.size, dtype=bool)
        if self.price is not None:
            reg = self.regular[i, o]
            reg = np.where(reg > 0, reg, np.nan)
            rel = self.price[i, target] / reg
            rel = np.where(future | ((target - self.pad >= self.t_len) & np.isnan(rel)), 1.0, rel)
            cols += [rel, self.price[i, o - 1] / reg]
        if self.promo is not None:
            code = np.where(future, 0.0, self.promo[i, target])
            lo = np.maximum(o - self.window, 0)
            share = (self.promo_cs[i, o] - self.promo_cs[i, lo]) / np.maximum(o - lo, 1)
            cols.append((code > 0).astype(np.float64))
            self.categorical.append(len(cols))
            cols += [code, (self.promo[i, o - 1] > 0).astype(np.float64), share]
        for arr in self.features.values():
            cols += [np.where(future, 0.0, arr[i, target]), arr[i, o - 1]]
        for arr in self.frequent:
            cols.append(arr[i, target])
        if self.ev_code is not None:
            self.categorical.append(len(cols))
            cols += [self.ev_code[i, target], self.ev_next[i, target], self.ev_prev[i, target]]
        return cols

    @property
    def has_plan(self) -> bool:
        """True when there is price, promotion or named-column data (the plan an uplift is measured against)."""
        return self.price is not None or self.promo is not None or bool(self.features)


def plan_ratio(with_plan: np.ndarray, without_plan: np.ndarray) -> np.ndarray:
    """Multiplier of the plan: forecast with the plan / without it (1 where the latter is 0), bounded to
    ``PLAN_RATIO_BOUNDS``. Applied to the models that cannot see causal data (exponential smoothing, Croston ...),
    as in base-times-lift promotion models (Cooper et al. 1999, PromoCast)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(without_plan > 0, with_plan / without_plan, 1.0)
    return np.clip(np.nan_to_num(ratio, nan=1.0), *PLAN_RATIO_BOUNDS)
