"""Export a run's results (the latest finished run by default): the snapshot or the forecasts as CSV or an Excel
workbook, text cells that a spreadsheet would run as formulas neutralised (the CLI's ``export``)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

import core.forecast  # noqa: F401  (loads scikit-learn's OpenMP runtime so compute_one's thread limit reaches it)
from core import formats
from db import queries_recompute as q
from services import runs
from services.csv_safety import safe_frame
from services.errors import UserFacingError
from services.xlsx_export import is_xlsx_path, write_workbook

EXPORTS: tuple[str, ...] = ("snapshot", "forecasts")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading
    apostrophe (OWASP "CSV injection"; the project's one rule: :func:`services.csv_safety.safe_frame`)."""
    return safe_frame(frame)


def export_results(
    *, session: Session, what: str, target: str | os.PathLike[str] | io.TextIOBase, run_id: int | None = None
) -> int:
    """Write the latest finished run's ``snapshot`` (one row per SKU, with code, name, category, location, supplier)
    or ``forecasts`` (``future`` and ``backtest`` rows) as spreadsheet-safe CSV to a path or text stream (an Excel
    workbook when the path ends in ``.xlsx``).

    Returns the number of data rows.

    Raises
    ------
    UserFacingError
        Unknown ``what`` or no finished run yet.
    """
    if what not in EXPORTS:
        raise UserFacingError(f"what must be one of {', '.join(EXPORTS)}, got {what!r}")
    if run_id is None:
        run = runs.latest_run(session=session)
        if run is None:
            raise UserFacingError("there is no finished recompute yet: run `python cli.py recompute` first")
        run_id = run.id
    connection = session.connection()
    if what == "snapshot":
        frame = q.snapshot_frame(connection, run_id=run_id)
        frame["model_scores"] = [
            json.dumps(q.json_safe(v), sort_keys=True) if v is not None else "" for v in frame["model_scores"]
        ]
    else:
        frame = q.forecast_frame(connection, run_id=run_id)
        frame["period"] = pd.to_datetime(frame["period"]).dt.strftime(formats.DATE_FORMAT)
    frame.insert(0, "run_id", run_id)
    if is_xlsx_path(target):  # FILE.xlsx: an Excel workbook (same neutralisation, numbers and dates typed)
        write_workbook([(what, frame)], Path(target))
        return len(frame)
    safe = neutralise_formulas(frame)
    if isinstance(target, io.TextIOBase):
        safe.to_csv(target, index=False, lineterminator="\n")
    else:
        safe.to_csv(target, index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)
