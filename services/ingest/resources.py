"""Import of resource capacities (kind ``resources``) and the check of the SKU master's ``resource`` column.

A resources file has one row per resource and period: ``resource, period, capacity`` and optionally
``overtime_capacity``, ``overtime_cost``, ``regular_cost`` (docs/csv-formats.md). Rules, on top of the cell rules
every file follows:

- **Grain**: monthly when at least half the periods fall on the 1st of a month, else weekly; a file whose periods
  are all further apart than that (every resource with three periods or more has no two within 32 days, or 9 for
  weekly: quarterly capacities) is rejected. Months or weeks without a row are allowed (planned without a limit).
  One grain for all resources: a file of another grain than the capacities already stored is rejected (delete
  those first). A monthly period must be the 1st of its month (row error).
- **Overlapping periods**: a period covers [period, next month) or [period, period + 7 days). A row whose period
  overlaps another row of the same resource -- in the file, or stored and not replaced by this file -- is a row
  error naming the other line or the stored period.
- **Natural key** (resource, period): a stored row with the same key is replaced (inserted / updated / unchanged
  counted); new resources are created.

Nothing here imports the import pipeline: :mod:`services.ingest.pipeline` calls :func:`check_resources_file` and
:func:`unknown_resources`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Resource, ResourceCapacity
from services.ingest import columns as cols
from services.ingest import validate as v
from services.ingest.parse import Parsed, parse_long
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed

Progress = Callable[[float, str], None]
UNKNOWN_RESOURCE = "unknown resource"
OVERLAP = "overlapping periods"
VALUE_COLUMNS = ("capacity", "overtime_capacity", "overtime_cost", "regular_cost")


@dataclass
class CheckedResources:
    """A validated resources file: counts, what was detected, and ``write(session) -> (ins, upd, unch)``."""

    resolved: cols.Resolved
    rows_read: int
    accepted: int
    rejected: int
    grain: str | None
    periods: np.ndarray  # datetime64[D] of the accepted rows
    resources: int
    preview: pd.DataFrame
    write: Callable[[Session], tuple[int, int, int]]


def stored_grain(session: Session) -> str | None:
    """The grain of the capacities already stored (None when there are none)."""
    return session.scalar(
        select(Resource.grain).join(ResourceCapacity, ResourceCapacity.resource_id == Resource.id).limit(1)
    )


def detect_grain(resource: np.ndarray, period: np.ndarray) -> str | None:
    """monthly when at least half the periods fall on the 1st of a month, else weekly; rejects a file whose periods
    are all further apart than the grain (module docstring)."""
    if len(period) == 0:
        return None
    frame = pd.DataFrame({"r": resource, "p": np.asarray(period, dtype="datetime64[D]")}).drop_duplicates()
    frame = frame.sort_values(["r", "p"])
    on_first = pd.DatetimeIndex(frame["p"]).day == 1
    grain = "monthly" if on_first.mean() >= 0.5 else "weekly"
    if grain == "monthly":
        frame = frame[on_first]  # the others are row errors (not the 1st), not a reason to refuse the file
    frame["gap"] = frame.groupby("r")["p"].diff().dt.days
    per_resource = frame.dropna(subset=["gap"]).groupby("r")["gap"].agg(["min", "count"])
    regular = per_resource[per_resource["count"] >= 2]  # three periods or more: a spacing to judge
    limit = 32 if grain == "monthly" else 9
    if len(regular) and (regular["min"] > limit).all():
        raise FileRejectedError(
            f"the periods of a resource are at least {int(regular['min'].min())} days apart: capacities are given "
            "per month (the 1st of each month) or per week"
        )
    return grain


def _end(period: np.ndarray, grain: str) -> np.ndarray:
    days = np.asarray(period, dtype="datetime64[D]")
    if grain == "monthly":
        return (days.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return days + 7


def _stored_rows(session: Session, names: list[str]) -> pd.DataFrame:
    query = (
        select(Resource.name, ResourceCapacity.period)
        .join(ResourceCapacity, ResourceCapacity.resource_id == Resource.id)
        .where(Resource.name.in_(names))
    )
    rows = session.execute(query).all() if names else []
    return pd.DataFrame(rows, columns=["resource", "period"])


def _overlaps(
    session: Session, parsed: Parsed, ok: np.ndarray, grain: str, errors: ErrorLog, header: str
) -> np.ndarray:
    """Rows (among ``ok``) whose period overlaps another of the same resource (module docstring)."""
    rows = np.flatnonzero(ok)
    resource = parsed.values["resource"][rows]
    period = np.asarray(parsed.values["period"][rows], dtype="datetime64[D]")
    mine = pd.DataFrame({"resource": resource, "start": period, "line": parsed.lines[rows], "row": rows})
    stored = _stored_rows(session, sorted(set(resource)))
    if len(stored):
        stored["start"] = pd.to_datetime(stored["period"]).to_numpy().astype("datetime64[D]")
        keys = set(zip(mine["resource"], mine["start"], strict=True))
        kept = [(r, s) not in keys for r, s in zip(stored["resource"], stored["start"], strict=True)]
        stored = stored[kept].assign(line=-1, row=-1)[["resource", "start", "line", "row"]]
        mine = pd.concat([mine, stored], ignore_index=True)
    mine = mine.sort_values(["resource", "start", "line"], kind="stable").reset_index(drop=True)
    mine["end"] = _end(mine["start"].to_numpy(), grain)
    bad = np.zeros(len(ok), dtype=bool)
    reasons: list[str] = []
    lines: list[int] = []
    values: list[str] = []
    previous = None
    for item in mine.itertuples(index=False):
        if previous is not None and previous.resource == item.resource and item.start < previous.end:
            culprit, other = (item, previous) if item.row >= 0 else (previous, item)
            if culprit.row >= 0 and not bad[culprit.row]:
                where = f"line {other.line}" if other.line >= 0 else "a period already stored"
                reasons.append(f"{OVERLAP}: overlaps the period starting {pd.Timestamp(other.start).date()} ({where})")
                lines.append(int(culprit.line))
                values.append(f"{culprit.resource} / {pd.Timestamp(culprit.start).date()}")
                bad[culprit.row] = True
        if previous is None or previous.resource != item.resource or item.end > previous.end:
            previous = item
    if lines:
        errors.add(lines=np.array(lines), column=header, values=np.array(values, dtype=object), reasons=reasons)
    return bad


def check_resources_file(
    *, session: Session, sniffed: Sniffed, date_format: str | None, errors: ErrorLog, progress: Progress | None
) -> CheckedResources:
    """Validate a resources file completely (nothing is written until ``write`` is called)."""
    resolved = cols.resolve(sniffed.header, cols.RESOURCES, kind="resources")
    parsed = parse_long(sniffed, resolved, cols.RESOURCES, errors=errors, date_format=date_format, progress=progress)
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    period = np.asarray(parsed.values["period"], dtype="datetime64[D]")
    grain = detect_grain(parsed.values["resource"][ok], period[ok])
    stored = stored_grain(session)
    if stored and int(ok.sum()) < 2:  # one period says little about a grain: the stored one applies (row errors)
        grain = stored
    if grain and stored and grain != stored:
        raise FileRejectedError(
            f"this file holds {grain} capacities but the database holds {stored} ones; one grain at a time "
            "(delete the stored capacities on the Data page first)"
        )
    grain = grain or stored or "monthly"
    if grain == "monthly":
        not_first = ok & (period.astype("datetime64[M]").astype("datetime64[D]") != period)
        if not_first.any():
            errors.add(
                lines=parsed.lines[not_first],
                column=resolved.header("period"),
                values=np.datetime_as_string(period[not_first], unit="D").astype(object),
                reasons=f"{v.OUT_OF_RANGE}: a monthly period starts on the 1st of a month",
            )
            ok &= ~not_first
    ok &= ~_overlaps(session, parsed, ok, grain, errors, resolved.header("period"))
    frame = pd.DataFrame(
        {
            "resource": parsed.values["resource"][ok],
            "period": period[ok],
            **{c: _column(parsed, c, ok) for c in VALUE_COLUMNS},
        }
    )

    def write(session: Session) -> tuple[int, int, int]:
        return write_capacities(session=session, frame=frame, grain=grain)

    return CheckedResources(
        resolved=resolved,
        rows_read=parsed.rows_read,
        accepted=int(ok.sum()),
        rejected=int((~ok).sum()),
        grain=grain,
        periods=period[ok],
        resources=int(frame["resource"].nunique()),
        preview=parsed.preview,
        write=write,
    )


def _column(parsed: Parsed, name: str, ok: np.ndarray) -> np.ndarray:
    values = parsed.values.get(name)
    if values is None:
        return np.zeros(int(ok.sum()))
    return np.nan_to_num(np.asarray(values, dtype=float)[ok])


def write_capacities(*, session: Session, frame: pd.DataFrame, grain: str) -> tuple[int, int, int]:
    """Upsert capacity rows (resource, period, capacity, overtime_capacity, overtime_cost, regular_cost) on the
    natural key, creating new resources; returns (inserted, updated, unchanged)."""
    ids = _resource_ids(session, sorted(set(frame["resource"])), grain)
    existing = {
        (row.resource_id, row.period): row
        for row in session.scalars(select(ResourceCapacity).where(ResourceCapacity.resource_id.in_(ids.values())))
    }
    inserted = updated = unchanged = 0
    for item in frame.itertuples(index=False):
        key = (ids[item.resource], pd.Timestamp(item.period).date())
        values = {c: float(getattr(item, c)) for c in VALUE_COLUMNS}
        row = existing.get(key)
        if row is None:
            session.add(ResourceCapacity(resource_id=key[0], period=key[1], **values))
            inserted += 1
        elif any(getattr(row, c) != values[c] for c in VALUE_COLUMNS):
            for column, value in values.items():
                setattr(row, column, value)
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return inserted, updated, unchanged


def _resource_ids(session: Session, names: list[str], grain: str) -> dict[str, int]:
    found = {r.name: r for r in session.scalars(select(Resource).where(Resource.name.in_(names)))} if names else {}
    for name in names:
        if name not in found:
            found[name] = Resource(name=name, grain=grain)
            session.add(found[name])
        else:
            found[name].grain = grain
    session.flush()
    return {name: int(resource.id) for name, resource in found.items()}


EXPORT_COLUMNS = ["resource", "period", *VALUE_COLUMNS]


def capacity_frame(session: Session) -> pd.DataFrame:
    """Every capacity row in the import format (resource, then period), for exports."""
    query = (
        select(Resource.name, ResourceCapacity.period, *(getattr(ResourceCapacity, c) for c in VALUE_COLUMNS))
        .join(Resource, Resource.id == ResourceCapacity.resource_id)
        .order_by(Resource.name, ResourceCapacity.period)
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=EXPORT_COLUMNS)
    frame["period"] = [p.isoformat() for p in frame["period"]]
    return frame


def known_resources(session: Session) -> set[str]:
    """Names of every resource."""
    return set(session.scalars(select(Resource.name)))


def unknown_resources(
    *, session: Session, values: np.ndarray, ok: np.ndarray, lines: np.ndarray, errors: ErrorLog, header: str
) -> np.ndarray:
    """Rows of a SKU master whose ``resource`` names no resource: reported as row errors; returns the mask."""
    names = np.asarray(values, dtype=object)
    given = ok & pd.notna(names)
    known = known_resources(session)
    bad = given & ~np.isin(names, list(known) or [""])
    if bad.any():
        errors.add(
            lines=lines[bad],
            column=header,
            values=names[bad],
            reasons=f"{UNKNOWN_RESOURCE} (import the resources file first, or leave the cell blank)",
        )
    return bad


def first_day(period: dt.date, grain: str) -> bool:
    """True when ``period`` may start a period of ``grain`` (monthly: the 1st of a month; weekly: any day)."""
    return grain != "monthly" or period.day == 1
