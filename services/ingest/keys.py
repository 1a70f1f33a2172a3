"""Keys of imported rows: which SKU each row belongs to (codes, locations, new SKUs) and which keys repeat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.ingest import validate as v
from services.ingest.report import ErrorLog


@dataclass
class SkuPlan:
    """Final SKU code of each record (index into ``codes``), which codes are new, and the id of existing ones."""

    index: np.ndarray  # int64 per record, -1 where unresolved
    codes: list[str]
    locations: list[str | None]
    new: np.ndarray  # bool per code
    ids: dict[str, int]


def resolve_skus(
    *,
    existing: pd.DataFrame,
    code: np.ndarray,
    location: np.ndarray | None,
    ok: np.ndarray,
    create: bool,
) -> tuple[SkuPlan, np.ndarray]:
    """Map (code[, location]) of each record to a SKU; returns the plan and a per-record 'unknown' mask.

    With a location: the SKU ``CODE@LOCATION`` if it exists, else ``CODE`` when that SKU is at this location;
    a new SKU is created (option) as ``CODE`` when the file has the code at one location only and no SKU has
    that code yet, otherwise as ``CODE@LOCATION``.
    """
    ids = dict(zip(existing["code"], existing["id"], strict=True))
    where = dict(zip(existing["code"], existing["location"], strict=True))
    n = len(code)
    index = np.full(n, -1, dtype=np.int64)
    unknown = np.zeros(n, dtype=bool)
    codes: list[str] = []
    locations: list[str | None] = []
    new: list[bool] = []
    if not ok.any():
        return SkuPlan(index, codes, locations, np.zeros(0, dtype=bool), ids), unknown
    if location is None:
        # without a location a code is its SKU: a known one, or a new one when creation is allowed
        pair_codes, unique_codes = pd.factorize(code[ok])
        known = pd.Index(existing["code"]).get_indexer(unique_codes) >= 0
        keep = known | create
        pair_target = np.where(keep, np.cumsum(keep) - 1, -1)
        rows = np.flatnonzero(ok)
        index[rows] = pair_target[pair_codes]
        unknown[rows] = pair_target[pair_codes] < 0
        codes = [str(c) for c in unique_codes[keep]]
        return SkuPlan(index, codes, [None] * len(codes), ~known[keep], ids), unknown
    pairs = pd.DataFrame({"code": code, "location": location})[ok]
    pair_codes, keyed = pd.factorize(pd.MultiIndex.from_frame(pairs.fillna({"location": ""})))
    uniques = list(keyed)
    per_code = pairs.groupby("code")["location"].nunique(dropna=True)
    final_index: dict[str, int] = {}
    pair_target = np.full(len(uniques), -1, dtype=np.int64)
    for i, (c, place) in enumerate(uniques):
        place = place or None
        candidate: str | None = None
        is_new = False
        if place is None:
            if c in ids:
                candidate = c
            elif create:
                candidate, is_new = c, True
        elif f"{c}@{place}" in ids:
            candidate = f"{c}@{place}"
        elif c in ids and where.get(c) == place:
            candidate = c
        elif create:
            single = per_code is not None and per_code.get(c, 0) <= 1
            candidate = c if (c not in ids and single) else f"{c}@{place}"
            is_new = candidate not in ids
        if candidate is None:
            continue
        if candidate not in final_index:
            final_index[candidate] = len(codes)
            codes.append(candidate)
            locations.append(place)
            new.append(is_new)
        pair_target[i] = final_index[candidate]
    rows = np.flatnonzero(ok)
    index[rows] = pair_target[pair_codes]
    unknown[rows] = pair_target[pair_codes] < 0
    return SkuPlan(index, codes, locations, np.array(new, dtype=bool), ids), unknown


def _duplicates(key_parts: list[np.ndarray], ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (among ``ok``) whose key occurs more than once -> (mask, index of the first row with that key)."""
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return np.zeros(len(ok), dtype=bool), np.full(len(ok), -1)
    if len(key_parts) == 2 and all(np.asarray(p).dtype.kind == "i" for p in key_parts):
        # fast path (files sorted by SKU then date): one int64 key; strictly increasing means no duplicates
        first_part, second = (np.asarray(p, dtype=np.int64)[rows] for p in key_parts)
        offset = second.min(initial=0)
        span = int(second.max(initial=0) - offset) + 1
        if span < (1 << 31) and first_part.max(initial=0) < (1 << 31):
            key = first_part * span + (second - offset)
            if len(key) < 2 or bool(np.all(key[1:] > key[:-1])):
                return np.zeros(len(ok), dtype=bool), np.full(len(ok), -1)
    frame = pd.DataFrame({f"k{i}": part[rows] for i, part in enumerate(key_parts)})
    dup = frame.duplicated(keep=False).to_numpy()
    mask = np.zeros(len(ok), dtype=bool)
    first = np.full(len(ok), -1, dtype=np.int64)
    if dup.any():
        sub = frame[dup].copy()
        sub["_row"] = rows[dup]
        sub["_first"] = sub.groupby([c for c in sub.columns if c.startswith("k")], sort=False)["_row"].transform("min")
        mask[sub["_row"].to_numpy()] = True
        first[sub["_row"].to_numpy()] = sub["_first"].to_numpy()
    return mask, first


def _report_duplicates(
    errors: ErrorLog, mask: np.ndarray, first: np.ndarray, lines: np.ndarray, column: str | np.ndarray, shown: list
) -> None:
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return
    first_lines = lines[first[rows]]
    reasons = np.where(
        first_lines == lines[rows],
        np.array([v.DUPLICATE + ": repeated on a later line"], dtype=object),
        np.array([f"{v.DUPLICATE}: first on line {x}" for x in first_lines], dtype=object),
    )
    parts = [_shown(part[rows]) for part in shown]
    values = np.array([" / ".join(str(p[i]) for p in parts) for i in range(len(rows))], dtype=object)
    errors.add(
        lines=lines[rows], column=column if isinstance(column, str) else column[rows], values=values, reasons=reasons
    )


def _mask_errors(
    errors: ErrorLog, mask: np.ndarray, lines: np.ndarray, column: str | np.ndarray, values: np.ndarray, reason: str
) -> None:
    if mask.any():
        errors.add(
            lines=lines[mask],
            column=column if isinstance(column, str) else column[mask],
            values=_shown(values[mask]),
            reasons=np.full(int(mask.sum()), reason, dtype=object),
        )


def _shown(values: np.ndarray) -> np.ndarray:
    """Dates as YYYY-MM-DD for error reports (only for the rows reported: formatting a million dates is slow)."""
    values = np.asarray(values)
    if values.dtype.kind == "M":
        return np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    return values
