"""Import of lanes (kind ``lanes``): the routes stock can move over between two locations (issue 21).

A lanes file has one row per route: ``from_location, to_location, lead_time_days, cost_per_unit`` and optionally
``min_qty`` (docs/csv-formats.md). Rules, on top of the cell rules every file follows (a negative lead time or cost,
a blank cell, a min_qty below 1 are row errors):

- **Known locations**: both ends must be locations of the SKU master (``sku.location``); an unknown one is a row
  error naming it (import the SKU master first).
- **Two places**: a lane from a location to itself is a row error.
- **Natural key** (from_location, to_location): a route given twice in the file is a row error; a stored lane with
  the same key is replaced (inserted / updated / unchanged counted). Lanes are one-way: B -> A is its own row.

Nothing here imports the import pipeline: :mod:`services.ingest.pipeline` calls :func:`check_lanes_file`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Lane, Sku
from services.ingest import columns as cols
from services.ingest import validate as v
from services.ingest.parse import parse_long
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed

Progress = Callable[[float, str], None]
UNKNOWN_LOCATION = "unknown location"
SAME_LOCATION = "a lane joins two different locations"
VALUE_COLUMNS = ("lead_time_days", "cost_per_unit", "min_qty")
EXPORT_COLUMNS = ["from_location", "to_location", *VALUE_COLUMNS]


@dataclass
class CheckedLanes:
    """A validated lanes file: counts and ``write(session) -> (inserted, updated, unchanged)``."""

    resolved: cols.Resolved
    rows_read: int
    accepted: int
    rejected: int
    preview: pd.DataFrame
    write: Callable[[Session], tuple[int, int, int]]


def known_locations(session: Session) -> set[str]:
    """Every location of the SKU master."""
    return set(session.scalars(select(Sku.location).distinct()))


def check_lanes_file(
    *, session: Session, sniffed: Sniffed, date_format: str | None, errors: ErrorLog, progress: Progress | None
) -> CheckedLanes:
    """Validate a lanes file completely (nothing is written until ``write`` is called)."""
    resolved = cols.resolve(sniffed.header, cols.LANES, kind="lanes")
    parsed = parse_long(sniffed, resolved, cols.LANES, errors=errors, date_format=date_format, progress=progress)
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    known = known_locations(session)
    for end in ("from_location", "to_location"):
        names = np.asarray(parsed.values[end], dtype=object)
        bad = ok & ~np.isin(names, list(known) or [""])
        if bad.any():
            errors.add(
                lines=parsed.lines[bad],
                column=resolved.header(end),
                values=names[bad],
                reasons=f"{UNKNOWN_LOCATION} (no SKU of the SKU master is at it; import the SKU master first)",
            )
            ok &= ~bad
    origin = np.asarray(parsed.values["from_location"], dtype=object)
    target = np.asarray(parsed.values["to_location"], dtype=object)
    same = ok & (origin == target)
    if same.any():
        errors.add(
            lines=parsed.lines[same],
            column=resolved.header("to_location"),
            values=target[same],
            reasons=f"{v.OUT_OF_RANGE}: {SAME_LOCATION}",
        )
        ok &= ~same
    seen: dict[tuple[str, str], int] = {}
    for row in np.flatnonzero(ok):
        key = (origin[row], target[row])
        if key in seen:
            errors.add_one(
                line=int(parsed.lines[row]),
                column=resolved.header("to_location"),
                value=f"{key[0]} -> {key[1]}",
                reason=f"{v.DUPLICATE} (first on line {seen[key]})",
            )
            ok[row] = False
        else:
            seen[key] = int(parsed.lines[row])
    frame = pd.DataFrame(
        {
            "from_location": origin[ok],
            "to_location": target[ok],
            "lead_time_days": np.asarray(parsed.values["lead_time_days"], dtype=float)[ok],
            "cost_per_unit": np.asarray(parsed.values["cost_per_unit"], dtype=float)[ok],
            "min_qty": _min_qty(parsed.values.get("min_qty"), ok),
        }
    )

    def write(session: Session) -> tuple[int, int, int]:
        return write_lanes(session=session, frame=frame)

    return CheckedLanes(
        resolved=resolved,
        rows_read=parsed.rows_read,
        accepted=int(ok.sum()),
        rejected=int((~ok).sum()),
        preview=parsed.preview,
        write=write,
    )


def _min_qty(values: np.ndarray | None, ok: np.ndarray) -> np.ndarray:
    if values is None:
        return np.ones(int(ok.sum()))
    given = np.asarray(values, dtype=float)[ok]
    return np.where(np.isnan(given), 1.0, given)


def write_lanes(*, session: Session, frame: pd.DataFrame) -> tuple[int, int, int]:
    """Upsert lanes on (from_location, to_location); returns (inserted, updated, unchanged)."""
    existing = {(lane.from_location, lane.to_location): lane for lane in session.scalars(select(Lane))}
    inserted = updated = unchanged = 0
    for item in frame.itertuples(index=False):
        values = {c: float(getattr(item, c)) for c in VALUE_COLUMNS}
        lane = existing.get((item.from_location, item.to_location))
        if lane is None:
            session.add(Lane(from_location=item.from_location, to_location=item.to_location, **values))
            inserted += 1
        elif any(getattr(lane, c) != values[c] for c in VALUE_COLUMNS):
            for column, value in values.items():
                setattr(lane, column, value)
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return inserted, updated, unchanged


def lane_rows(*, session: Session) -> list[dict[str, object]]:
    """Every lane (from, then to), for the Data page grid."""
    lanes = session.scalars(select(Lane).order_by(Lane.from_location, Lane.to_location))
    return [{"id": lane.id, **{c: getattr(lane, c) for c in EXPORT_COLUMNS}} for lane in lanes]


def lane_frame(session: Session) -> pd.DataFrame:
    """Every lane in the import format, for exports."""
    rows = lane_rows(session=session)
    return pd.DataFrame(rows, columns=["id", *EXPORT_COLUMNS])[EXPORT_COLUMNS]
