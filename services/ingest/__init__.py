"""Validated, fast CSV import of demand history, the SKU master, stock positions and receipts.

Public API::

    import_file(*, session, path, kind, file_name=None, options=None, user=None, progress=None, dry_run=False)
        -> ImportResult
    import_m5(*, session, directory, options=None, user=None, progress=None, dry_run=False) -> ImportResult
    recompute_after_import(*, triggered_by) -> str | None

Kinds: ``demand``, ``skus``, ``stock``, ``receipts``, ``resources`` (formats in docs/csv-formats.md). The column
validators in :mod:`services.ingest.validate` and :func:`services.ingest.records.validate_record` are shared with the
Data page.
"""

from services.ingest.columns import FIELDS, KINDS
from services.ingest.m5 import import_m5
from services.ingest.pipeline import error_report_path, import_file, recompute_after_import
from services.ingest.plan import DetectedFormat, ImportOptions, ImportResult, database_grain, detect_grain
from services.ingest.report import ErrorLog, FileRejectedError, RowError

__all__ = [
    "FIELDS",
    "KINDS",
    "DetectedFormat",
    "ErrorLog",
    "FileRejectedError",
    "ImportOptions",
    "ImportResult",
    "RowError",
    "database_grain",
    "detect_grain",
    "error_report_path",
    "import_file",
    "import_m5",
    "recompute_after_import",
]
