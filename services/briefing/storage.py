"""Build a briefing's PDF from its facts (:mod:`reports`), store it (the newest ``KEEP_BRIEFINGS`` are kept), list,
serve and audit-log it."""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import formats
from db.models import Briefing, RecomputeRun, utcnow
from reports import build_portfolio_briefing, build_sku_briefing
from reports.data import (
    PortfolioBriefing,
    SkuBriefing,
)
from reports.formatting import fmt_date, fmt_datetime
from services import audit
from services.briefing.facts import portfolio_briefing_facts, sku_briefing_facts
from services.briefing.scope import BriefingNotFoundError, BriefingScope, Progress, scope_label
from services.errors import UserFacingError
from settings import get_settings

KEEP_BRIEFINGS = 100
"""Stored briefings kept (older ones are deleted when a new one is stored)."""

# --------------------------------------------------------------------------------------------------------------------
# build, store, list


@dataclass(frozen=True)
class BriefingRecord:
    """A stored briefing without its bytes (the list on the Briefings page)."""

    id: int
    scope: str
    scope_label: str
    run_id: int | None
    data_as_of: dt.date | None
    user_email: str | None
    created_at: dt.datetime
    file_name: str
    size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "scope_label": self.scope_label,
            "run_id": self.run_id,
            "data_as_of": self.data_as_of.isoformat() if self.data_as_of else None,
            "user_email": self.user_email,
            "created_at": formats.fmt_datetime(self.created_at),
            "file_name": self.file_name,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True)
class BriefingFile:
    """A briefing's PDF and what describes it.

    ``cover_lines``: the cover's title, scope and facts (for a text preview); ``timings``: seconds per step
    (``read``, ``pdf``, ``store``, ``total``) when it was just built.
    """

    record: BriefingRecord | None
    scope: BriefingScope
    file_name: str
    pdf: bytes
    run_id: int | None
    page_count: int
    cover_lines: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> int | None:
        return self.record.id if self.record else None


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:40] or "x"


def file_name_for(scope: BriefingScope, *, data_as_of: dt.date | None, run_id: int | None) -> str:
    """``briefing-portfolio-2026-03-13-run12.pdf`` (ASCII; the scope's values slugged)."""
    if scope.is_sku:
        what = "sku-" + _slug(scope.sku or "")
    elif scope.is_segment:
        what = "-".join(_slug(getattr(scope, n)) for n in ("category", "location", "abc") if getattr(scope, n))
    else:
        what = "portfolio"
    when = data_as_of.isoformat() if data_as_of else "no-data"
    run = f"-run{run_id}" if run_id is not None else ""
    return f"briefing-{what}-{when}{run}.pdf"


_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF written by fpdf2 (page objects are not compressed); 0 for bytes that are not a PDF."""
    return len(_PAGE.findall(pdf)) if pdf.startswith(b"%PDF") else 0


def _cover_lines(facts: PortfolioBriefing | SkuBriefing) -> tuple[str, ...]:
    subtitle = (
        facts.scope_label if isinstance(facts, PortfolioBriefing) else f"{facts.sku.code} \u2014 {facts.sku.name}"
    )
    return (
        facts.title,
        subtitle,
        f"Company: {facts.company_name}",
        f"Generated: {fmt_datetime(facts.generated_at)}",
        f"Data as of: {fmt_date(facts.data_as_of)}",
        f"Run: {facts.run_id}",
    )


def build_briefing(
    *,
    session: Session,
    scope: BriefingScope,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    since_cycle: str | None = None,
    since_run: int | None = None,
    since_date: dt.date | None = None,
) -> BriefingFile:
    """Gather the facts of ``scope`` and build the PDF (not stored: see :func:`make_briefing`); ``since_cycle``: the
    cycle the portfolio briefing's "what changed" starts from (default: the one before the latest)."""
    say = progress or (lambda _f, _m: None)
    t0 = time.perf_counter()
    say(0.05, "reading the snapshot")
    if scope.is_sku:
        sku_facts, run = sku_briefing_facts(session=session, code=scope.sku or "", now=now)
        facts: PortfolioBriefing | SkuBriefing = sku_facts
        run_id: int | None = run.id
        data_as_of = run.data_as_of
    else:
        facts, run_info = portfolio_briefing_facts(
            session=session,
            scope=scope,
            now=now,
            since_cycle=since_cycle,
            since_run=since_run,
            since_date=since_date,
        )
        run_id = run_info.id if run_info else None
        data_as_of = run_info.data_as_of if run_info else None
    t1 = time.perf_counter()
    say(0.4, "drawing the PDF")
    lang = get_settings().locale
    pdf = (
        build_sku_briefing(facts, lang=lang)
        if isinstance(facts, SkuBriefing)
        else build_portfolio_briefing(facts, lang=lang)
    )
    t2 = time.perf_counter()
    return BriefingFile(
        record=None,
        scope=scope,
        file_name=file_name_for(scope, data_as_of=data_as_of, run_id=run_id),
        pdf=pdf,
        run_id=run_id,
        page_count=pdf_page_count(pdf),
        cover_lines=_cover_lines(facts),
        timings={"read": t1 - t0, "pdf": t2 - t1},
    )


def _record(row: Briefing, data_as_of: dt.date | None) -> BriefingRecord:
    return BriefingRecord(
        id=int(row.id),
        scope=row.scope,
        scope_label=scope_label(row.scope),
        run_id=row.run_id,
        data_as_of=data_as_of,
        user_email=row.user_email,
        created_at=row.created_at,
        file_name=row.file_name,
        size_bytes=int(row.size_bytes),
    )


def store_briefing(*, session: Session, briefing: BriefingFile, user: str | None) -> BriefingRecord:
    """Add ``briefing`` to the ``briefing`` table (flushed; the caller commits) and keep the newest
    :data:`KEEP_BRIEFINGS`."""
    row = Briefing(
        scope=briefing.scope.key[:200],
        run_id=briefing.run_id,
        user_email=(user or None) and user[:255],
        created_at=utcnow(),
        file_name=briefing.file_name[:255],
        size_bytes=len(briefing.pdf),
        pdf=briefing.pdf,
    )
    session.add(row)
    session.flush()
    kept = list(session.scalars(select(Briefing.id).order_by(Briefing.id.desc()).limit(KEEP_BRIEFINGS)))
    if len(kept) >= KEEP_BRIEFINGS:
        session.execute(delete(Briefing).where(Briefing.id < min(kept)).execution_options(synchronize_session=False))
    as_of = session.scalar(select(RecomputeRun.data_as_of).where(RecomputeRun.id == row.run_id)) if row.run_id else None
    return _record(row, as_of)


def make_briefing(
    *,
    session: Session,
    scope: BriefingScope,
    user: str | None,
    store: bool = True,
    progress: Progress | None = None,
    source: str = "app",
    since_cycle: str | None = None,
    since_run: int | None = None,
    since_date: dt.date | None = None,
) -> BriefingFile:
    """Build the briefing of ``scope`` from the latest finished run, store it (unless ``store=False``) and
    audit-log it (action ``briefing.create``, ``source`` = app / api / cli).

    Raises
    ------
    BriefingNotFoundError
        A SKU scope with an unknown code.
    UserFacingError
        A SKU that is not in the latest finished run.
    """
    t0 = time.perf_counter()
    built = build_briefing(
        session=session,
        scope=scope,
        progress=progress,
        since_cycle=since_cycle,
        since_run=since_run,
        since_date=since_date,
    )
    say = progress or (lambda _f, _m: None)
    timings = dict(built.timings)
    record = None
    if store:
        say(0.9, "saving")
        t1 = time.perf_counter()
        record = store_briefing(session=session, briefing=built, user=user)
        timings["store"] = time.perf_counter() - t1
    audit.record(
        session=session,
        action="briefing.create",
        user_email=user,
        target=scope.key[:255],
        details={
            "briefing_id": record.id if record else None,
            "run_id": built.run_id,
            "size_bytes": len(built.pdf),
            "source": source,
        },
    )
    timings["total"] = time.perf_counter() - t0
    say(1.0, "done")
    return BriefingFile(
        record=record,
        scope=scope,
        file_name=built.file_name,
        pdf=built.pdf,
        run_id=built.run_id,
        page_count=built.page_count,
        cover_lines=built.cover_lines,
        timings=timings,
    )


def list_briefings(*, session: Session, limit: int = 20) -> list[BriefingRecord]:
    """The newest stored briefings (without their bytes), newest first."""
    if not 0 < limit <= KEEP_BRIEFINGS:
        raise ValueError(f"limit must be in 1..{KEEP_BRIEFINGS}, got {limit}")
    stmt = (
        select(
            Briefing.id,
            Briefing.scope,
            Briefing.run_id,
            RecomputeRun.data_as_of,
            Briefing.user_email,
            Briefing.created_at,
            Briefing.file_name,
            Briefing.size_bytes,
        )
        .outerjoin(RecomputeRun, RecomputeRun.id == Briefing.run_id)
        .order_by(Briefing.id.desc())
        .limit(limit)
    )
    return [
        BriefingRecord(
            id=int(i),
            scope=s,
            scope_label=scope_label(s),
            run_id=r,
            data_as_of=a,
            user_email=u,
            created_at=c,
            file_name=f,
            size_bytes=int(n),
        )
        for i, s, r, a, u, c, f, n in session.execute(stmt)
    ]


def get_briefing(*, session: Session, briefing_id: Any, user: str | None = None) -> BriefingFile:
    """A stored briefing with its PDF; the download is audit-logged (action ``briefing.download``).

    Raises
    ------
    BriefingNotFoundError
        No stored briefing has that id (it may have been pruned).
    """
    try:
        key = int(briefing_id)
    except (TypeError, ValueError):
        raise BriefingNotFoundError(f"No briefing {str(briefing_id)[:40]!r}.") from None
    row = session.get(Briefing, key) if 0 < key < 2**63 else None
    if row is None:
        raise BriefingNotFoundError(
            f"No briefing {key}; it may have been removed (the newest {KEEP_BRIEFINGS} are kept)."
        )
    as_of = session.scalar(select(RecomputeRun.data_as_of).where(RecomputeRun.id == row.run_id)) if row.run_id else None
    record = _record(row, as_of)
    audit.record(
        session=session,
        action="briefing.download",
        user_email=user,
        target=row.scope[:255],
        details={"briefing_id": key},
    )
    try:
        scope = BriefingScope.parse(row.scope)
    except (ValueError, UserFacingError):
        scope = BriefingScope()
    return BriefingFile(
        record=record,
        scope=scope,
        file_name=row.file_name,
        pdf=bytes(row.pdf),
        run_id=row.run_id,
        page_count=pdf_page_count(bytes(row.pdf)),
        cover_lines=(
            record.scope_label,
            f"Made {formats.fmt_datetime(record.created_at)} by {record.user_email or 'the command line'}",
            f"Run: {record.run_id if record.run_id is not None else 'none'}",
            f"Data as of: {record.data_as_of or 'unknown'}",
        ),
    )
