"""One import: sniff -> parse and validate (vectorised, chunked) -> check keys and SKUs -> write in one transaction.

Nothing is written until the whole file has been validated; with ``on_error="reject"`` (the default) any rejected
row leaves the planning tables exactly as they were. Every import, committed or rejected, is recorded in
``import_batch`` and the audit log (in the caller's transaction).

The options, results and plans are :mod:`services.ingest.plan`; each kind of file has its preparer (parse,
validate, check keys, return a :class:`~services.ingest.plan.Plan`): :mod:`~services.ingest.prepare_demand`,
:mod:`~services.ingest.prepare_stock` (stock and receipts), :mod:`~services.ingest.prepare_skus` (the SKU master,
resources and lanes). This module runs them (:data:`PREPARERS`) and writes, records and reports the import.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from db.models import Demand, ImportBatch, Sku
from db.session import session_scope
from services import audit, jobs
from services.ingest import columns as cols
from services.ingest import validate as v
from services.ingest import workbook as wb
from services.ingest import workbook_fast
from services.ingest.events import prepare_events
from services.ingest.names import NearDuplicate
from services.ingest.plan import MAX_STORED_ERRORS, ImportOptions, ImportResult, Plan, Progress
from services.ingest.prepare_adjustments import prepare_adjustments
from services.ingest.prepare_demand import prepare_demand
from services.ingest.prepare_skus import prepare_lanes, prepare_resources, prepare_skus
from services.ingest.prepare_stock import prepare_receipts, prepare_stock
from services.ingest.promotions import prepare_promotions
from services.ingest.report import FileRejectedError
from services.ingest.sniff import check_size, sniff
from settings import get_settings

log = logging.getLogger(__name__)
DATABASE_OUTAGES = (OperationalError, InterfaceError, DisconnectionError)  # answered 503 by the app, not recorded

PREPARERS = {
    "demand": prepare_demand,
    "skus": prepare_skus,
    "stock": prepare_stock,
    "receipts": prepare_receipts,
    "resources": prepare_resources,
    "lanes": prepare_lanes,
    "promotions": prepare_promotions,
    "events": prepare_events,
    "adjustments": prepare_adjustments,
}


# --- the import ------------------------------------------------------------------------------------------------------


def import_file(
    *,
    session: Session,
    path: str | Path,
    kind: str,
    file_name: str | None = None,
    options: ImportOptions | None = None,
    user: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import the CSV at ``path`` as ``kind`` (demand, skus, stock, receipts) in the session's transaction.

    Never raises for a bad file: the result says ``rejected`` with the reasons (``result.errors``). With
    ``dry_run`` the file is fully validated but nothing is written (status ``checked``; for the preview).
    An import that fails for any other reason is rolled back and recorded in the import history as rejected with
    that reason (the traceback goes to the log). A database outage (connection lost, server restarting) rolls back
    and propagates, as does any error while recording the failure.
    """
    if kind not in PREPARERS:
        raise ValueError(f"kind must be one of {', '.join(cols.KINDS)}, not {kind!r}")
    started = time.perf_counter()
    try:
        return _import_file(
            session=session,
            path=path,
            kind=kind,
            file_name=file_name,
            options=options,
            user=user,
            progress=progress,
            dry_run=dry_run,
        )
    except DATABASE_OUTAGES:
        session.rollback()
        raise  # the database is unavailable: nothing can be recorded; the caller answers 503
    except Exception as exc:
        log.exception("import of %s as %s failed", file_name or path, kind)
        session.rollback()
        name = file_name or Path(path).name
        reason = f"the import failed unexpectedly ({type(exc).__name__}); nothing was imported"
        result = ImportResult(kind=kind, file_name=name, message=reason)
        result.errors.add_one(line=None, column=None, value="", reason=reason)
        try:
            return _finish(session, result, user, dry_run, started)
        except Exception:
            log.warning("could not record the failed import of %s", name, exc_info=True)
            session.rollback()
            raise exc from None


def _import_file(
    *,
    session: Session,
    path: str | Path,
    kind: str,
    file_name: str | None,
    options: ImportOptions | None,
    user: str | None,
    progress: Progress | None,
    dry_run: bool,
) -> ImportResult:
    options = options or ImportOptions()
    path = Path(path)
    name = file_name or path.name
    result = ImportResult(kind=kind, file_name=name)
    started = time.perf_counter()
    converted: wb.Converted | None = None
    scratch: Path | None = None
    try:
        try:
            if wb.is_workbook(path):
                check_size(path, max_bytes=options.limit())
                scratch = wb.scratch_file()
                converted = workbook_fast.convert(path=path, kind=kind, target=scratch, sheet=options.sheet)
                sniffed = converted.sniffed
                result.errors.sheet = converted.sheet
            else:
                wb.refuse_misnamed(name)
                sniffed = sniff(path, max_bytes=options.limit())
            extra: dict[str, Any] = {"stream": not dry_run, "writing": not dry_run} if kind == "demand" else {}
            if kind == "adjustments":
                extra["user"] = user  # who made each adjustment
            plan = PREPARERS[kind](session, sniffed, options, result.errors, _stage(progress, 0.0, 0.6), **extra)
        except FileRejectedError as exc:
            message = f"sheet '{converted.sheet}': {exc}" if converted is not None else str(exc)
            if converted is not None:
                result.format.sheet, result.format.sheets = converted.sheet, converted.sheets
            elif scratch is not None:  # the workbook opened: offer its sheets (e.g. a sheet name that is not there)
                result.format.sheets = wb.sheets_or_none(path)
            result.errors.shift_lines(converted.line_offset if converted is not None else 0)
            result.errors.add_one(line=None, column=None, value="", reason=message)
            result.message = message
            return _finish(session, result, user, dry_run, started)
        if converted is not None:
            result.errors.shift_lines(converted.line_offset)
            plan.format.delimiter = ""
            plan.format.size_bytes = path.stat().st_size
            plan.format.sheet, plan.format.sheets = converted.sheet, converted.sheets
        return run_plan(
            session=session,
            plan=plan,
            result=result,
            options=options,
            user=user,
            progress=progress,
            dry_run=dry_run,
            started=started,
        )
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)


def run_plan(
    *,
    session: Session,
    plan: Plan,
    result: ImportResult,
    options: ImportOptions,
    user: str | None,
    progress: Progress | None,
    dry_run: bool,
    started: float,
) -> ImportResult:
    """Apply the error policy to a validated plan, then write it (unless ``dry_run``) and record the batch."""
    result.timings["validate_s"] = round(time.perf_counter() - started, 3)
    result.rows_read = plan.rows_read
    result.format = plan.format
    result.preview = plan.preview
    malformed = int(result.errors.frame()["reason"].astype(str).str.startswith(v.BAD_LINE).sum())
    result.rows_rejected = plan.rejected + malformed
    result.rows_accepted = plan.accepted
    result.skus_to_create = plan.skus_to_create
    result.coverage, result.names, result.full_extract = plan.coverage, plan.names, options.full_extract
    near = result.near_duplicates if options.create_skus else []
    unconfirmed = bool(near) and not options.confirm_new_skus
    if result.errors and options.on_error == "reject":
        result.message = (
            f"{result.errors.count:,} problem(s) in {result.errors.rejected_line_count():,} line(s); nothing was "
            "imported (choose 'skip' to import the valid rows)"
        )
        result.rows_accepted = 0
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    if plan.accepted == 0:
        result.message = "no valid rows to import"
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    if dry_run:
        result.status = "checked"
        result.message = "the file is valid" if not result.errors else "valid rows can be imported; others skipped"
        if unconfirmed:
            result.message += f"; {near_duplicate_note(near)}: confirm before importing"
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    if unconfirmed:
        result.message = f"{near_duplicate_note(near)}; nothing was imported: check them and confirm to create them"
        result.errors.add_one(line=None, column=None, value="", reason=result.message)
        result.rows_accepted = 0
        plan.discard()
        return _finish(session, result, user, dry_run, started)
    write_started = time.perf_counter()
    try:
        inserted, updated, unchanged, created = plan.write(session, _stage(progress, 0.6, 1.0))
    except BaseException:
        plan.discard()
        raise
    result.timings["write_s"] = round(time.perf_counter() - write_started, 3)
    result.inserted, result.updated, result.unchanged, result.skus_created = inserted, updated, unchanged, created
    result.status = "committed"
    result.message = "imported"
    return _finish(session, result, user, dry_run, started)


def near_duplicate_note(near: list[NearDuplicate]) -> str:
    """One phrase: how many new SKU names are close to existing ones, with the first example."""
    return (
        f"{len(near):,} new SKU name{'s are' if len(near) != 1 else ' is'} close to existing SKU names (e.g. {near[0]})"
    )


def _stage(progress: Progress | None, start: float, end: float) -> Progress | None:
    if progress is None:
        return None

    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * max(0.0, min(1.0, fraction)), message)

    return report


def _finish(session: Session, result: ImportResult, user: str | None, dry_run: bool, started: float) -> ImportResult:
    if result.status == "rejected":
        result.rows_accepted = 0
    if result.errors:
        stem = f"check-{secrets.token_hex(6)}" if dry_run else f"import-{time.strftime('%Y%m%d-%H%M%S')}"
        result.error_report = result.errors.write(
            get_settings().data_dir / "import-errors" / f"{stem}-{secrets.token_hex(3)}-errors.csv"
        )
    result.timings["total_s"] = round(time.perf_counter() - started, 3)
    if dry_run:
        return result
    stored = [
        {"line": e.line, "column": e.column, "value": e.value, "reason": e.reason}
        for e in result.errors.first(MAX_STORED_ERRORS)
    ]
    batch = ImportBatch(
        file_name=result.file_name[:255],
        kind=result.kind,
        status=result.status,
        grain=result.format.grain,
        rows_accepted=result.rows_accepted if result.status == "committed" else 0,
        rows_rejected=result.rows_rejected,
        rows_inserted=result.inserted,
        rows_updated=result.updated,
        rows_unchanged=result.unchanged,
        errors=stored or None,
        user_email=user,
        full_extract=result.full_extract,
    )
    session.add(batch)
    session.flush()
    result.batch_id = batch.id
    if result.error_report is not None:
        final = result.error_report.with_name(f"batch-{batch.id}-errors.csv")
        result.error_report.replace(final)
        result.error_report = final
    audit.record(
        session=session,
        action="data.import",
        user_email=user,
        target=f"{result.kind}:{result.file_name}"[:255],
        outcome="ok" if result.status == "committed" else "error",
        details={
            "batch_id": batch.id,
            "status": result.status,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rows_rejected,
            "skus_created": result.skus_created,
            "full_extract": result.full_extract,
            "sheet": result.format.sheet,
            "incomplete_periods": [str(p) for p in result.coverage.incomplete] if result.coverage else [],
            "message": result.message[:500],
        },
    )
    return result


def error_report_path(batch_id: int) -> Path:
    """Where the full error report of an import batch is kept."""
    return get_settings().data_dir / "import-errors" / f"batch-{int(batch_id)}-errors.csv"


WAITING_FOR_DEMAND = (
    "the portfolio recompute waits for demand: no active SKU has a demand history yet "
    "(import one next, e.g. python cli.py import demand sales.csv)"
)


def has_active_demand(*, session: Session) -> bool:
    """Whether any active SKU has a demand row (a recompute has something to forecast)."""
    query = select(Demand.sku_id).join(Sku, Sku.id == Demand.sku_id).where(Sku.active.is_(True)).limit(1)
    return session.scalar(query) is not None


def recompute_after_import(*, triggered_by: str | None, progress: Progress | None = None) -> str | None:
    """Recompute the portfolio after a committed import (:func:`services.jobs.recompute_portfolio`); returns a note.

    Runs in its own session (recompute commits).
    """
    with session_scope() as session:
        if not has_active_demand(session=session):
            return WAITING_FOR_DEMAND
    with session_scope() as session:
        kwargs: dict[str, Any] = {"session": session, "triggered_by": triggered_by}
        if progress is not None:
            kwargs["progress"] = progress
        outcome = jobs.recompute_portfolio(**kwargs)
    status = getattr(outcome, "status", "finished")
    run_id = getattr(outcome, "run_id", None)
    if status != "finished":
        error = getattr(outcome, "error", None)
        return f"portfolio recompute {status}" + (f": {error}" if error else "")
    skus = getattr(outcome, "sku_count", None)
    seconds = getattr(outcome, "seconds", None)
    detail = ", ".join(
        part
        for part in (
            f"run {run_id}" if run_id else "",
            f"{skus:,} SKUs" if isinstance(skus, int) else "",
            f"{seconds:.1f} s" if isinstance(seconds, float) else "",
        )
        if part
    )
    return f"portfolio recomputed ({detail})" if detail else "portfolio recomputed"
