"""What an import works with: its options, the detected format, the result, the plan a preparer returns
(rows read / accepted / rejected and the write to run), and the grain of demand periods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Demand
from services.ingest.coverage import Coverage
from services.ingest.names import NameMatch, NearDuplicate, names_summary
from services.ingest.report import ErrorLog, FileRejectedError, RowError
from settings import get_settings

Progress = Callable[[float, str], None]
GRAINS = ("daily", "weekly", "monthly")
MAX_STORED_ERRORS = 200


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file.

    on_error: ``"reject"`` (default) rejects the whole file when any row is bad; ``"skip"`` imports the good rows
    and reports the others. create_skus: create unknown SKUs with the documented defaults instead of reporting
    them. date_format: a strptime format for day-first / month-first dates (e.g. ``%d/%m/%Y``); ISO dates are
    always accepted. full_extract: a demand file that lists every active SKU's sales in the periods it covers;
    an active SKU (or period) missing from it sold nothing and gets an explicit zero row. confirm_new_skus: create
    new SKUs even when their names are close to existing ones (near-duplicates); without it such an import is
    refused (a check still runs and lists them). sheet: the sheet of a workbook (.xlsx, .xlsm, .ods) to read.
    """

    on_error: str = "reject"
    create_skus: bool = False
    date_format: str | None = None
    max_bytes: int | None = None
    full_extract: bool = False
    confirm_new_skus: bool = False
    sheet: str | None = None  # a workbook's sheet to read (default: the first whose header matches the kind)

    def __post_init__(self) -> None:
        if self.on_error not in ("reject", "skip"):
            raise ValueError(f"on_error must be 'reject' or 'skip', not {self.on_error!r}")
        if self.date_format is not None:
            if "%" not in self.date_format or len(self.date_format) > 40:
                raise ValueError(f"date_format must be a strptime format such as %d/%m/%Y, not {self.date_format!r}")
            try:
                dt.date(2024, 1, 31).strftime(self.date_format)
            except ValueError as exc:
                raise ValueError(f"date_format {self.date_format!r} is not a valid format: {exc}") from exc

    def limit(self) -> int:
        return self.max_bytes or get_settings().max_upload_mb * 1024 * 1024


@dataclass
class DetectedFormat:
    """What the importer found out about the file (shown before committing)."""

    encoding: str = ""
    delimiter: str = ""
    layout: str = ""  # long | wide | m5
    grain: str | None = None
    date_min: dt.date | None = None
    date_max: dt.date | None = None
    sku_count: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # field -> header in the file
    ignored: list[str] = field(default_factory=list)
    size_bytes: int = 0
    sheet: str | None = None  # a workbook: the sheet read
    sheets: list[str] = field(default_factory=list)  # a workbook: all its worksheets (for the sheet picker)

    def describe(self) -> str:
        parts = [f"{self.layout} layout" if self.layout else "", self.encoding, f"{self.delimiter}-separated"]
        if self.grain:
            parts.append(f"{self.grain} grain")
        if self.date_min:
            parts.append(f"{self.date_min} to {self.date_max}")
        if self.sku_count:
            parts.append(f"{self.sku_count:,} SKUs")
        return ", ".join(p for p in parts if p and p != "-separated")


@dataclass
class ImportResult:
    """The outcome of an import (or of a check with ``dry_run``)."""

    kind: str
    file_name: str
    status: str = "rejected"  # committed | rejected | checked
    format: DetectedFormat = field(default_factory=DetectedFormat)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skus_created: int = 0
    skus_to_create: int = 0
    errors: ErrorLog = field(default_factory=ErrorLog)
    message: str = ""
    batch_id: int | None = None
    error_report: Path | None = None
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)
    recompute: str | None = None
    full_extract: bool = False
    coverage: Coverage | None = None  # demand: periods, rows per SKU, SKUs not in the file
    names: NameMatch | None = None  # files identifying SKUs by product name

    @property
    def near_duplicates(self) -> list[NearDuplicate]:
        return self.names.near_duplicates if self.names is not None and self.skus_to_create else []

    @property
    def ok(self) -> bool:
        return self.status in ("committed", "checked")

    def first_errors(self, n: int = 20) -> list[RowError]:
        return self.errors.first(n)

    def summary(self) -> str:
        """One line for people: what happened and why."""
        if self.status == "rejected":
            return f"{self.file_name}: rejected - {self.message}"
        if self.status == "checked":
            extra = f", {self.skus_to_create:,} new SKUs" if self.skus_to_create else ""
            return (
                f"{self.file_name}: {self.rows_accepted:,} rows valid, {self.rows_rejected:,} rejected{extra} "
                f"({self.format.describe()})"
            )
        created = f", {self.skus_created:,} SKUs created" if self.skus_created else ""
        return (
            f"{self.file_name}: {self.inserted:,} inserted, {self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{self.rows_rejected:,} rejected{created} ({self.format.describe()})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "status": self.status,
            "message": self.message,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skus_created": self.skus_created,
            "skus_to_create": self.skus_to_create,
            "error_count": self.errors.count,
            "batch_id": self.batch_id,
            "error_report": str(self.error_report) if self.error_report else None,
            "format": {
                "encoding": self.format.encoding,
                "delimiter": self.format.delimiter,
                "layout": self.format.layout,
                "grain": self.format.grain,
                "date_min": self.format.date_min.isoformat() if self.format.date_min else None,
                "date_max": self.format.date_max.isoformat() if self.format.date_max else None,
                "sku_count": self.format.sku_count,
                "columns": self.format.columns,
                "ignored": self.format.ignored,
                "size_bytes": self.format.size_bytes,
                "sheet": self.format.sheet,
                "sheets": self.format.sheets,
            },
            "timings": self.timings,
            "recompute": self.recompute,
            "full_extract": self.full_extract,
            "coverage": self.coverage.as_dict() if self.coverage is not None else None,
            "names": names_summary(self.names, self.skus_to_create),
            "error_groups": self.errors.grouped(),
        }


@dataclass
class Plan:
    """A validated file, ready to write: ``write(session, progress)`` returns (inserted, updated, unchanged,
    skus created)."""

    rows_read: int
    accepted: int
    rejected: int
    format: DetectedFormat
    preview: pd.DataFrame
    write: Callable[[Session, Progress | None], tuple[int, int, int, int]]
    skus_to_create: int = 0
    discard: Callable[[], None] = field(default=lambda: None)  # undo work done while validating (not writing)
    coverage: Coverage | None = None
    names: NameMatch | None = None


def _nothing() -> None:
    """Nothing to undo."""


def today_date() -> np.datetime64:
    return np.datetime64(dt.date.today(), "D")


def to_date(value: np.datetime64 | None) -> dt.date | None:
    if value is None or np.isnat(value):
        return None
    return value.astype("datetime64[D]").astype(dt.date)


# --- grain ------------------------------------------------------------------------------------------------------


def detect_grain(periods: np.ndarray) -> str | None:
    """daily / weekly / monthly from the median gap between distinct dates (None with fewer than 2 dates).

    Raises :class:`FileRejectedError` when the dates are regular but of another grain (quarterly) or irregular.
    """
    distinct = np.unique(np.asarray(periods, dtype="datetime64[D]"))
    distinct = distinct[~np.isnat(distinct)]
    if len(distinct) < 2:
        return None
    gap = float(np.median(np.diff(distinct).astype(np.int64)))
    if gap <= 1.5:
        return "daily"
    if 5 <= gap <= 9:
        return "weekly"
    if 27 <= gap <= 32:
        return "monthly"
    raise FileRejectedError(
        f"the dates are {gap:g} days apart (median): only daily, weekly or monthly demand is supported"
    )


def stored_periods(*, session: Session) -> list[dt.date]:
    """The latest (at most 60) distinct periods of the stored demand history, newest first."""
    return list(session.scalars(select(Demand.period).distinct().order_by(Demand.period.desc()).limit(60)).all())


def database_grain(*, session: Session, periods: list[dt.date] | None = None) -> str | None:
    """The grain of the demand history already stored (None when there is none)."""
    periods = stored_periods(session=session) if periods is None else periods
    if len(periods) < 2:
        return None
    try:
        return detect_grain(np.array(periods, dtype="datetime64[D]"))
    except FileRejectedError:
        return None
