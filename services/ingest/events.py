"""Import of calendar events (kind ``events``): holidays and company events the forecast sees (issue 20).

An events file has one row per event and date: ``date, event`` and optionally ``location`` (blank: every location;
else the event applies to the SKUs of that location only, e.g. a regional holiday or benefit-payment days of one
state). Rules on top of the cell rules every file follows: one row per (date, event, location) in the file
(duplicate key: row error); a stored event with the same key is kept (counted unchanged), new ones are added.
Dates may lie in the future (the plan of events).

Nothing here imports the import pipeline: :mod:`services.ingest.pipeline` calls :func:`prepare_events`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CalendarEvent
from services.ingest import columns as cols
from services.ingest.keys import _duplicates, _report_duplicates
from services.ingest.parse import parse_long
from services.ingest.plan import ImportOptions, Plan, Progress
from services.ingest.prepare_stock import long_format
from services.ingest.report import ErrorLog, FileRejectedError
from services.ingest.sniff import Sniffed

FIELDS = cols.EVENTS
EXPORT_COLUMNS = ["date", "event", "location"]


def prepare_events(
    session: Session, sniffed: Sniffed, options: ImportOptions, errors: ErrorLog, progress: Progress | None
) -> Plan:
    """Validate an events file (module docstring); nothing is written until the plan's ``write``."""
    resolved = cols.resolve(sniffed.header, FIELDS, kind="events")
    parsed = parse_long(sniffed, resolved, FIELDS, errors=errors, date_format=options.date_format, progress=progress)
    if parsed.rows_read == 0:
        raise FileRejectedError("the file has a header but no data rows")
    ok = parsed.ok.copy()
    period = np.asarray(parsed.values["date"], dtype="datetime64[D]")
    name = parsed.values["event"]
    location = pd.Series(parsed.values.get("location", np.full(len(ok), None, dtype=object))).fillna("")
    location = location.astype(str).to_numpy(dtype=object)
    dup, first = _duplicates([period, name, location], ok)
    _report_duplicates(errors, dup, first, parsed.lines, resolved.header("event"), [period, name, location])
    ok &= ~dup
    frame = pd.DataFrame({"period": period, "name": name, "location": location})[ok]
    fmt = long_format(sniffed, resolved, first=period[ok], last=period[ok], sku_count=0)

    def write(session: Session, progress: Progress | None) -> tuple[int, int, int, int]:
        return (*write_events(session=session, frame=frame), 0)

    return Plan(parsed.rows_read, int(ok.sum()), int((~ok).sum()), fmt, parsed.preview, write)


def write_events(*, session: Session, frame: pd.DataFrame) -> tuple[int, int, int]:
    """Add the events not stored yet; returns (inserted, 0, unchanged)."""
    stored = {
        (row.period, row.name, row.location)
        for row in session.execute(select(CalendarEvent.period, CalendarEvent.name, CalendarEvent.location))
    }
    inserted = unchanged = 0
    for item in frame.itertuples(index=False):
        key = (pd.Timestamp(item.period).date(), str(item.name), str(item.location))
        if key in stored:
            unchanged += 1
            continue
        session.add(CalendarEvent(period=key[0], name=key[1], location=key[2]))
        stored.add(key)
        inserted += 1
    session.flush()
    return inserted, 0, unchanged


def event_frame(session: Session) -> pd.DataFrame:
    """Every stored event in the import format (date, then event)."""
    rows = session.execute(
        select(CalendarEvent.period, CalendarEvent.name, CalendarEvent.location).order_by(
            CalendarEvent.period, CalendarEvent.name, CalendarEvent.location
        )
    ).all()
    frame = pd.DataFrame(rows, columns=EXPORT_COLUMNS)
    frame["date"] = [p.isoformat() for p in frame["date"]]
    return frame
