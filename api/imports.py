"""API route of the imports (``POST /imports/<kind>``: a CSV or a workbook, the Data page's validation and errors)
with its contract (:mod:`api.contract`): the form and the answer as pydantic models. Registered on the /api/v1
blueprint when :mod:`api` is imported."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from flask import current_app, request
from pydantic import BeforeValidator, Field, StringConstraints
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from api.contract import ApiModel, QueryModel, operation, parse_query
from api.errors import ApiError, invalid
from api.routes import blueprint, requires
from api.serialize import plain
from auth.identity import current_email
from db.session import session_scope
from services import ingest
from settings import get_settings

KIND_TEXT = "What the file holds (formats: docs/csv-formats.md)"
Kind = Literal[ingest.KINDS]  # type: ignore[valid-type]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class ImportForm(QueryModel):
    """The multipart form's fields beside ``file`` (blank: the default)."""

    on_error: Annotated[Literal["reject", "skip"], BeforeValidator(_lower)] = Field(
        default="reject", description="reject: any bad row rejects the file; skip: import the good rows"
    )
    create_skus: bool = False
    confirm_new_skus: bool = Field(
        default=False,
        description="With create_skus: create SKUs whose names are close to existing SKU names (near-duplicates); "
        "without it such an import is rejected (a dry run lists them in names.near_duplicates)",
    )
    full_extract: bool = Field(
        default=False,
        description="Demand: the file lists every active SKU; an active SKU or period missing from it in the periods "
        "it covers is recorded as zero sales",
    )
    date_format: str | None = Field(default=None, examples=["%d/%m/%Y"])
    sheet: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None,
        description="A workbook's sheet to read (default: the first sheet whose header fits the kind); row numbers "
        "in errors are the spreadsheet's",
    )
    dry_run: bool = Field(default=False, description="Validate only; nothing is written")


class RowError(ApiModel):
    line: int | None = Field(description="1 is the header; null for the whole file")
    column: str | None
    value: str
    reason: str


class ImportResult(ApiModel):
    """What an import did (or, with dry_run, would do)."""

    kind: Kind
    file_name: str
    status: Literal["committed", "checked"]
    message: str | None
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    inserted: int
    updated: int
    unchanged: int
    skus_created: int
    skus_to_create: int
    error_count: int
    batch_id: int | None
    format: dict[str, Any]
    full_extract: bool
    coverage: dict[str, Any] | None = Field(
        description="Demand files: periods covered, incomplete periods, rows added / updated per SKU (per_sku), the "
        "active SKUs not in the file (absent_count, absent, absent_text)"
    )
    names: dict[str, Any] | None = Field(
        description="Files naming products: names matched by name (by_name), SKUs to create (new) and near_duplicates "
        "of existing names"
    )
    error_groups: list[dict[str, Any]] = Field(
        description="One entry per distinct problem: column, reason, count, lines (first five), values"
    )
    errors: list[RowError] = Field(description="Skipped rows (first 100)")
    summary: str

    @classmethod
    def of(cls, result: ingest.ImportResult) -> ImportResult:
        data = {k: v for k, v in result.as_dict().items() if k not in ("error_report", "timings", "recompute")}
        return cls.model_validate({**plain(data), "errors": _row_errors(result), "summary": result.summary()})


MAX_ERROR_DETAILS = 100


def _row_errors(result: ingest.ImportResult) -> list[dict[str, Any]]:
    return [
        {"line": e.line, "column": e.column, "value": e.value, "reason": e.reason}
        for e in result.first_errors(MAX_ERROR_DETAILS)
    ]


MB = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # room for the form's other fields and part headers around the file


def _upload() -> Any:
    """The multipart ``file``, refused with 413 before it is read when the body is over the limit: at once from
    ``Content-Length``; for a chunked body, as soon as the limit is passed."""
    limit_mb = get_settings().max_upload_mb
    ceiling = min(limit_mb * MB + MULTIPART_OVERHEAD, current_app.config.get("MAX_CONTENT_LENGTH") or 1 << 62)
    too_large = f"The upload is larger than the limit of {limit_mb:,} MB (setting MAX_UPLOAD_MB)."
    if request.content_length is not None and request.content_length > ceiling:
        size = f"The upload is {request.content_length / MB:,.1f} MB; the limit is {limit_mb:,} MB"
        raise ApiError(413, "payload_too_large", f"{size} (setting MAX_UPLOAD_MB).")
    request.max_content_length = ceiling
    try:
        return request.files.get("file")
    except RequestEntityTooLarge:
        raise ApiError(413, "payload_too_large", too_large) from None


@blueprint.post("/imports/<kind>")
@requires("planner")
@operation(
    "importCsv",
    "Import a CSV file or a workbook (.xlsx, .xlsm, .ods; same validation and errors as the Data page); does not "
    "recompute",
    response=ImportResult,
    form=ImportForm,
    description="Imported (or checked, with dry_run)",
    path={
        "kind": {
            "type": "string",
            "enum": list(ingest.KINDS),
            "description": "What the file holds (docs/csv-formats.md)",
        }
    },
    errors={
        400: "No file, or a form field is not valid",
        404: "Unknown kind",
        413: "The file is larger than the upload limit",
        422: "The file was rejected (code import_rejected; details: the row errors, first 100)",
    },
)
def import_csv(kind: str) -> ImportResult:
    """Import a CSV or a workbook (.xlsx, .xlsm, .ods; multipart field ``file``, optional ``sheet``) with the same
    validation and errors as the Data page."""
    if kind not in ingest.KINDS:
        raise ApiError(404, "not_found", f"No import kind {kind[:40]!r}; use one of {', '.join(ingest.KINDS)}.")
    upload = _upload()
    if upload is None or not upload.filename:
        raise ApiError(
            400,
            "missing_file",
            "Send the CSV or workbook as multipart/form-data in a field named 'file'.",
            [{"field": "file"}],
        )
    form = parse_query(ImportForm, request.form)  # after _upload: the body is read within the limit
    try:
        options = ingest.ImportOptions(
            on_error=form.on_error,
            create_skus=form.create_skus,
            date_format=form.date_format or None,
            full_extract=form.full_extract and kind == "demand",
            confirm_new_skus=form.confirm_new_skus,
            sheet=form.sheet or None,
        )
    except ValueError as exc:
        raise invalid("date_format", str(exc)) from None
    file_name = secure_filename(upload.filename)[:200] or f"{kind}.csv"
    folder = Path(get_settings().data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"api-{secrets.token_hex(8)}.csv"
    try:
        upload.save(path)
        with session_scope() as session:
            result = ingest.import_file(
                session=session,
                path=path,
                kind=kind,
                file_name=file_name,
                options=options,
                user=current_email(),
                dry_run=form.dry_run,
            )
    finally:
        path.unlink(missing_ok=True)
    if result.status == "rejected":
        raise ApiError(422, "import_rejected", result.summary(), _row_errors(result))
    return ImportResult.of(result)
