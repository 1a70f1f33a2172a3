"""API routes of the briefing downloads (the portfolio or a segment, one SKU) with their contract
(:mod:`api.contract`). Registered on the /api/v1 blueprint when :mod:`api` is imported."""

from __future__ import annotations

import datetime as dt

from flask import Response
from pydantic import Field

from api.briefing_since import since_arguments
from api.constants import ENUM_FILTERS
from api.contract import BAD_PARAMETER, QueryModel, operation
from api.errors import ApiError, invalid
from api.models_skus import Text100
from api.routes import CODE_SCHEMA, blueprint, requires
from auth.identity import current_email
from db.session import session_scope
from services import briefing
from services.errors import UserFacingError

SEGMENT = "Only the SKUs of this {} (KPIs computed for the segment)"
PDF_CONTENT = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
PDF_DESCRIPTION = "The PDF (Content-Disposition: attachment; X-Briefing-Id: the stored copy's id)"
ABC_CLASSES = ENUM_FILTERS["abc"]


def _pdf(made: briefing.BriefingFile) -> Response:
    response = Response(made.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{made.file_name}"'
    response.headers["Cache-Control"] = "no-store"
    if made.id is not None:
        response.headers["X-Briefing-Id"] = str(made.id)
    return response


class BriefingQuery(QueryModel):
    """The segment of ``GET /briefings/portfolio.pdf`` (blank or absent: the whole portfolio)."""

    category: Text100 | None = Field(default=None, description=SEGMENT.format("category"))
    location: Text100 | None = Field(default=None, description=SEGMENT.format("location"))
    abc: Text100 | None = Field(
        default=None, description=SEGMENT.format("ABC class"), json_schema_extra={"enum": list(ABC_CLASSES)}
    )
    since_cycle: str | None = Field(
        default=None, max_length=120, description="'What changed since' starts from this closed cycle (name or id)"
    )
    since_run: int | None = Field(default=None, ge=1, description="... from this finished run (give at most one)")
    since_date: dt.date | None = Field(
        default=None, description="... from the latest run finished on or before this date (give at most one)"
    )


@blueprint.get("/briefings/portfolio.pdf")
@requires("viewer")
@operation(
    "portfolioBriefing",
    "The portfolio (or one segment's) briefing PDF of the latest snapshot, kept for download again",
    query=BriefingQuery,
    content=PDF_CONTENT,
    description=PDF_DESCRIPTION,
    errors={400: BAD_PARAMETER, 422: "No SKU of the latest snapshot is in the segment (code validation_failed)"},
)
def portfolio_briefing(query: BriefingQuery) -> Response:
    """The portfolio briefing PDF of the latest snapshot; ``category``, ``location``, ``abc`` narrow it to a segment."""
    try:
        scope = briefing.BriefingScope.make(**query.model_dump(include={"category", "location", "abc"}))
    except UserFacingError as exc:
        field = next((n for n in ("category", "location", "abc") if str(exc).startswith(n)), "abc")
        raise invalid(field, str(exc)) from None
    with session_scope() as session:
        since = since_arguments(session, query)  # issue 19 item 4: what changed since a cycle, a run or a date
        made = briefing.make_briefing(session=session, scope=scope, user=current_email(), source="api", **since)
    return _pdf(made)


@blueprint.get("/briefings/sku/<code>.pdf")
@requires("viewer")
@operation(
    "skuBriefing",
    "One SKU's briefing PDF: history and forecast band, projected stock, policy card, commentary",
    content=PDF_CONTENT,
    description=PDF_DESCRIPTION,
    path={"code": CODE_SCHEMA},
    errors={404: "No SKU has that code", 409: "The SKU is not in the latest finished recompute (code no_snapshot)"},
)
def sku_briefing(code: str) -> Response:
    """One SKU's briefing PDF (latest snapshot); 404 for an unknown code, 409 when the SKU is not in the snapshot."""
    try:
        scope = briefing.BriefingScope.make(sku=code)
        with session_scope() as session:
            made = briefing.make_briefing(session=session, scope=scope, user=current_email(), source="api")
    except briefing.BriefingNotFoundError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except UserFacingError as exc:
        raise ApiError(409, "no_snapshot", str(exc)) from None
    return _pdf(made)
