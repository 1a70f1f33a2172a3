"""What a demand file changes: the periods it covers on the portfolio's grid, rows added / updated per SKU, the active
SKUs it does not mention and what that means, incomplete trailing periods, and the zero rows of a full extract.

- **The grid**: the grain of the stored history (or of the file into an empty database). A file of a finer grain
  (daily rows into a weekly portfolio) is summed into the portfolio's periods: a week is aligned on the stored weeks
  (a Monday grid stays a Monday grid), a month is the calendar month. A coarser file is refused.
- **Periods covered**: from the file's first to its last period on that grid.
- **Incomplete periods**: a period the file covers only in part (daily rows through Wednesday summed into a week; the
  first period when the file starts mid-period) or that has not ended yet (this week, this month).
- **SKUs not in the file**: nothing is written for them; their history ends at their last reported period. With a
  **full extract** every active SKU gets a row for every period the file covers; a missing one is recorded as zero
  sales (0 replaces a stored value of such a period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table

from db import ingest as dbi
from services.ingest.report import FileRejectedError

GRAIN_ORDER = {"daily": 0, "weekly": 1, "monthly": 2}
GRAIN_NOUN = {"daily": "day", "weekly": "week", "monthly": "month"}
SHOWN_ABSENT = 20
_MONDAY = np.datetime64("1970-01-05", "D")


def _month_length(months: np.ndarray) -> np.ndarray:
    return ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)


def bucket_bounds(
    days: np.ndarray, *, grain: str, reference: np.datetime64 | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label, first day, day after the last) of the grid period holding each day.

    Weekly periods are 7-day steps aligned on ``reference`` (a stored period; Mondays without one); monthly periods
    are calendar months labelled on the reference's day of the month (the 1st without one), daily periods are days.
    """
    days = np.asarray(days, dtype="datetime64[D]")
    if grain == "daily":
        return days, days, days + 1
    if grain == "weekly":
        anchor = np.datetime64(reference, "D") if reference is not None else _MONDAY
        start = days - ((days - anchor).astype(np.int64) % 7)
        return start, start, start + 7
    if grain == "monthly":
        months = days.astype("datetime64[M]")
        offset = (np.datetime64(reference, "D") - np.datetime64(reference, "M")).astype(np.int64) if reference else 0
        label = months.astype("datetime64[D]") + np.minimum(offset, _month_length(months) - 1)
        return label, months.astype("datetime64[D]"), (months + 1).astype("datetime64[D]")
    raise ValueError(f"grain must be one of {', '.join(GRAIN_ORDER)}, not {grain!r}")


def grid_between(
    first: np.datetime64, last: np.datetime64, *, grain: str, reference: np.datetime64 | None
) -> np.ndarray:
    """The labels of the grid periods from ``first``'s period to ``last``'s (inclusive)."""
    if grain == "monthly":
        months = np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1)
        return bucket_bounds(months.astype("datetime64[D]"), grain=grain, reference=reference)[0]
    step = 1 if grain == "daily" else 7
    start = bucket_bounds(np.array([first]), grain=grain, reference=reference)[0][0]
    return np.arange(start, np.datetime64(last, "D") + 1, step)


def _date(value: np.datetime64) -> dt.date:
    return np.datetime64(value, "D").astype(dt.date)


@dataclass(frozen=True)
class IncompletePeriod:
    period: dt.date
    covered_from: dt.date
    covered_to: dt.date
    reason: str

    def __str__(self) -> str:
        return f"{self.period.isoformat()}: {self.reason}"


@dataclass
class Coverage:
    """What a demand import changes (see the module doc); ``as_dict`` feeds the preview, ``lines`` the CLI."""

    grain: str | None = None
    aggregated_from: str | None = None
    periods: list[dt.date] = field(default_factory=list)
    incomplete: list[IncompletePeriod] = field(default_factory=list)
    # the file's SKUs: code, added, updated, unchanged, zero (gaps a full extract fills), first, last
    per_sku: pd.DataFrame = field(default_factory=pd.DataFrame)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    full_extract: bool = False
    zero_rows: int = 0  # rows of zero sales a full extract writes (new or replacing a stored value)
    absent_count: int = 0
    absent: list[tuple[str, str, dt.date | None]] = field(default_factory=list)  # code, name, last reported

    def period_text(self) -> str:
        if not self.periods:
            return "no period"
        noun = GRAIN_NOUN.get(self.grain or "", "period")
        first, last = self.periods[0].isoformat(), self.periods[-1].isoformat()
        count = len(self.periods)
        if count == 1:
            return f"the {noun} of {first}" if noun != "day" else first
        return f"{count} {noun}s, {first} to {last}"

    def absent_text(self) -> str:
        """What the import means for the active SKUs not in the file (empty when every active SKU is in it)."""
        if not self.absent_count:
            return ""
        head = f"{self.absent_count:,} active SKU{'s' if self.absent_count != 1 else ''} not in this file"
        if self.full_extract:
            return f"{head}: will be recorded as zero sales for {self.period_text()} (full extract)"
        return f"{head}: their history ends at their last reported period, nothing is recorded for them"

    def lines(self, *, max_skus: int = 20) -> list[str]:
        """The coverage as text lines (CLI)."""
        out = [f"periods covered: {self.period_text()}" + (f" ({self.grain})" if self.grain else "")]
        if self.aggregated_from:
            out.append(f"{self.aggregated_from} rows are summed into the portfolio's {self.grain} periods")
        out += [f"incomplete period {p}" for p in self.incomplete]
        out.append(
            f"rows: {self.added:,} added, {self.updated:,} updated, {self.unchanged:,} unchanged"
            + (f" (of which {self.zero_rows:,} zero rows of the full extract)" if self.zero_rows else "")
        )
        if len(self.per_sku):
            table = self.per_sku.head(max_skus)
            width = max(8, int(table["code"].str.len().max()))
            out.append(f"  {'SKU':<{width}}  {'added':>7}  {'updated':>7}  first       last")
            for row in table.itertuples(index=False):
                out.append(
                    f"  {row.code:<{width}}  {row.added:>7,}  {row.updated:>7,}  {row.first.isoformat()}  "
                    f"{row.last.isoformat()}"
                )
            if len(self.per_sku) > max_skus:
                out.append(f"  ... {len(self.per_sku) - max_skus:,} more SKUs")
        if self.absent_count:
            out.append(self.absent_text())
            shown = ", ".join(
                f"{code} (last reported {last.isoformat() if last else 'never'})" for code, _n, last in self.absent[:8]
            )
            more = f", ... {self.absent_count - 8:,} more" if self.absent_count > 8 else ""
            out.append(f"  {shown}{more}")
        return out

    def as_dict(self, *, max_skus: int = 200) -> dict[str, Any]:
        table = self.per_sku.head(max_skus)
        return {
            "grain": self.grain,
            "aggregated_from": self.aggregated_from,
            "periods": [p.isoformat() for p in self.periods],
            "period_text": self.period_text(),
            "incomplete": [
                {
                    "period": p.period.isoformat(),
                    "covered_from": p.covered_from.isoformat(),
                    "covered_to": p.covered_to.isoformat(),
                    "reason": p.reason,
                }
                for p in self.incomplete
            ],
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "full_extract": self.full_extract,
            "zero_rows": self.zero_rows,
            "sku_count": len(self.per_sku),
            "per_sku": [
                {
                    "code": r.code,
                    "added": int(r.added),
                    "updated": int(r.updated),
                    "unchanged": int(r.unchanged),
                    "zero": int(r.zero),
                    "first": r.first.isoformat(),
                    "last": r.last.isoformat(),
                }
                for r in table.itertuples(index=False)
            ],
            "absent_count": self.absent_count,
            "absent_text": self.absent_text(),
            "absent": [
                {"code": c, "name": n, "last_reported": last.isoformat() if last else None}
                for c, n, last in self.absent
            ],
        }


@dataclass
class DemandRows:
    """The rows to write: index into the plan's codes, period, quantity (file rows, summed, plus zero rows)."""

    index: np.ndarray
    period: np.ndarray
    quantity: np.ndarray
    status: np.ndarray  # 0 new, 1 changed, 2 unchanged (compared with the stored rows)


def effective_grain(file_grain: str | None, stored_grain: str | None) -> tuple[str | None, bool]:
    """(the grain to write, whether the file is summed into it); a coarser file than the history is refused."""
    if not stored_grain or not file_grain or file_grain == stored_grain:
        return stored_grain or file_grain, False
    if GRAIN_ORDER[file_grain] < GRAIN_ORDER[stored_grain]:
        return stored_grain, True
    raise FileRejectedError(
        f"this file holds {file_grain} demand but the database holds {stored_grain} demand; a file may be finer than "
        "the history (it is summed into its periods) but not coarser (delete the demand history first, e.g. with a "
        "factory reset)"
    )


def _period_end(start: np.datetime64, grain: str) -> np.datetime64:
    """The day after the period that starts on ``start`` (a week: 7 days; a month: the same day a month later)."""
    start = np.datetime64(start, "D")
    if grain == "weekly":
        return start + 7
    month = np.datetime64(start, "M")
    offset = (start - month.astype("datetime64[D]")).astype(np.int64)
    following = month + 1
    length = int(_month_length(np.array([following]))[0])
    return following.astype("datetime64[D]") + min(int(offset), length - 1)


def _incomplete(
    raw: np.ndarray,
    *,
    grain: str,
    file_grain: str | None,
    summed: bool,
    reference: np.datetime64 | None,
    today: np.datetime64,
) -> list[IncompletePeriod]:
    out: list[IncompletePeriod] = []
    if grain == "daily" or len(raw) == 0:
        return out
    step = {"daily": 1, "weekly": 7}.get(file_grain or "daily", 1)
    first_day, last_day = raw.min(), raw.max()
    noun = GRAIN_NOUN[grain]
    (label_first,), (start_first,), (end_first,) = bucket_bounds(
        np.array([first_day]), grain=grain, reference=reference
    )
    (label_last,), (start_last,), (end_last,) = bucket_bounds(np.array([last_day]), grain=grain, reference=reference)
    covered_to = min(last_day + step - 1, end_last - 1)
    total = int((end_last - start_last).astype(np.int64))
    if summed and covered_to < end_last - 1:
        days = int((covered_to - max(start_last, first_day)).astype(np.int64)) + 1
        out.append(
            IncompletePeriod(
                _date(label_last),
                _date(max(start_last, first_day)),
                _date(covered_to),
                f"the file covers only {_date(max(start_last, first_day))} to {_date(covered_to)} of this {noun} "
                f"({days} of {total} days): an incomplete {noun}, not a low one",
            )
        )
    elif not summed and _period_end(last_day, grain) - 1 > today:  # the file's own last period, not yet over
        out.append(
            IncompletePeriod(
                _date(last_day),
                _date(last_day),
                _date(today),
                f"this {noun} runs to {_date(_period_end(last_day, grain) - 1)}: it is not over yet "
                f"(today is {_date(today)})",
            )
        )
    elif summed and end_last - 1 > today:
        out.append(
            IncompletePeriod(
                _date(label_last),
                _date(start_last),
                _date(today),
                f"this {noun} runs to {_date(end_last - 1)}: it is not over yet (today is {_date(today)})",
            )
        )
    if summed and first_day > start_first and label_first != label_last:
        out.insert(
            0,
            IncompletePeriod(
                _date(label_first),
                _date(first_day),
                _date(end_first - 1),
                f"the file starts on {_date(first_day)}, inside this {noun}: its sum replaces the whole {noun}",
            ),
        )
    return out


def plan_changes(
    *,
    connection: Connection,
    table: Table,
    codes: list[str],
    ids: dict[str, int],
    index: np.ndarray,
    period: np.ndarray,
    quantity: np.ndarray,
    file_grain: str | None,
    stored_grain: str | None,
    reference: np.datetime64 | None,
    active: pd.DataFrame,
    full_extract: bool,
    stored_empty: bool,
    today: np.datetime64,
) -> tuple[Coverage, DemandRows, list[str]]:
    """Sum the accepted rows onto the grid, add a full extract's zero rows and compare with what is stored.

    ``codes`` / ``ids``: the plan's SKU codes (``index`` points into them) and the ids of existing SKUs; ``active``:
    id, code, name of the active SKUs. Returns the coverage, the rows to write and the codes of active SKUs absent
    from the file that the rows refer to (appended to ``codes`` by the caller: indices ``len(codes)...``).
    """
    grain, summed = effective_grain(file_grain, stored_grain)
    raw = np.asarray(period, dtype="datetime64[D]")
    index = np.asarray(index, dtype=np.int64)
    quantity = np.asarray(quantity, dtype=np.float64)
    if grain and stored_grain and not summed and len(raw):
        off_grid = bucket_bounds(raw, grain=grain, reference=reference)[0] != raw
        summed = bool(off_grid.any()) and (file_grain is None)  # one date that is not on the grid: a partial period
    labels = bucket_bounds(raw, grain=grain, reference=reference)[0] if summed else raw
    frame = pd.DataFrame({"index": index, "period": labels, "quantity": quantity})
    if summed:
        frame = frame.groupby(["index", "period"], sort=False, as_index=False)["quantity"].sum()
    coverage = Coverage(
        grain=grain, aggregated_from=(file_grain or "daily") if summed else None, full_extract=full_extract
    )
    if len(frame):
        first, last = frame["period"].min(), frame["period"].max()
        on_grid = grain is not None and bool(
            (
                bucket_bounds(frame["period"].to_numpy(), grain=grain, reference=reference)[0]
                == frame["period"].to_numpy()
            ).all()
        )
        grid = (
            grid_between(first, last, grain=grain, reference=reference)
            if on_grid
            else np.unique(frame["period"].to_numpy())
        )
        coverage.periods = [_date(p) for p in np.asarray(grid, dtype="datetime64[D]")]
        coverage.incomplete = _incomplete(
            raw, grain=grain or "daily", file_grain=file_grain, summed=summed, reference=reference, today=today
        )
    used_ids = {ids[codes[i]] for i in np.unique(frame["index"].to_numpy()) if codes[i] in ids}
    absent = active[~active["id"].isin(used_ids)].sort_values("code")
    coverage.absent_count = len(absent)
    extra_codes = absent["code"].tolist() if full_extract else []
    frame["zero"] = False
    if full_extract and coverage.periods:
        skus = np.concatenate([np.unique(frame["index"].to_numpy()), len(codes) + np.arange(len(extra_codes))])
        grid_days = np.array(coverage.periods, dtype="datetime64[D]")
        full = pd.DataFrame({"index": np.repeat(skus, len(grid_days)), "period": np.tile(grid_days, len(skus))})
        merged = full.merge(frame[["index", "period"]].assign(_have=True), on=["index", "period"], how="left")
        zeros = merged[merged["_have"].isna()][["index", "period"]].assign(quantity=0.0, zero=True)
        frame = pd.concat([frame, zeros], ignore_index=True)
    all_codes = codes + extra_codes
    sku_ids = (
        np.array([ids.get(all_codes[i], -1) for i in range(len(all_codes))], dtype=np.int64)[frame["index"].to_numpy()]
        if len(frame)
        else np.zeros(0, np.int64)
    )
    days = np.asarray(frame["period"].to_numpy(), dtype="datetime64[D]").astype(np.int64)
    status = np.zeros(len(frame), dtype=np.int8)  # 0 added, 1 updated, 2 unchanged
    known = sku_ids >= 0
    if not stored_empty and known.any():
        stored = dbi.read_demand_range(
            connection,
            table=table,
            sku_ids=sku_ids[known],
            first=np.datetime64(int(days.min()), "D"),
            last=np.datetime64(int(days.max()), "D"),
        )
        if len(stored):
            span = np.int64(1 << 22)
            key = sku_ids * span + (days + 25567)
            stored_key = stored["sku_id"].to_numpy() * span + (stored["day"].to_numpy() + 25567)
            position = pd.Index(stored_key).get_indexer(key)
            hit = (position >= 0) & known
            same = np.zeros(len(frame), dtype=bool)
            same[hit] = stored["quantity"].to_numpy()[position[hit]] == frame["quantity"].to_numpy()[hit]
            status[hit] = np.where(same[hit], 2, 1)
    frame["status"] = status
    zero_changes = frame["zero"].to_numpy() & (status != 2)
    coverage.zero_rows = int(zero_changes.sum())
    coverage.added = int((status == 0).sum())
    coverage.updated = int((status == 1).sum())
    coverage.unchanged = int((status == 2).sum())
    if len(frame):
        grouped = frame.assign(
            added=status == 0, updated=status == 1, unchanged=status == 2, zero_count=zero_changes
        ).groupby("index", sort=False)
        per_sku = pd.DataFrame(
            {
                "added": grouped["added"].sum(),
                "updated": grouped["updated"].sum(),
                "unchanged": grouped["unchanged"].sum(),
                "zero": grouped["zero_count"].sum(),
                "first": grouped["period"].min(),
                "last": grouped["period"].max(),
            }
        )
        per_sku = per_sku[per_sku.index < len(codes)]  # the file's SKUs; those not in it are summed up apart
        per_sku.insert(0, "code", [all_codes[i] for i in per_sku.index])
        for column in ("first", "last"):  # datetime.date objects, converted in one go
            per_sku[column] = per_sku[column].to_numpy(dtype="datetime64[D]").astype(object)
        coverage.per_sku = per_sku.sort_values("code").reset_index(drop=True)
    shown = absent.head(SHOWN_ABSENT)
    last = (
        dbi.last_periods(connection, table=table, sku_ids=shown["id"].tolist())
        if len(shown) and not stored_empty
        else {}
    )
    coverage.absent = [(str(r.code), str(r.name), last.get(int(r.id))) for r in shown.itertuples(index=False)]
    rows = DemandRows(
        index=frame["index"].to_numpy(dtype=np.int64),
        period=np.asarray(frame["period"].to_numpy(), dtype="datetime64[D]"),
        quantity=frame["quantity"].to_numpy(dtype=np.float64),
        status=status,
    )
    return coverage, rows, extra_codes
