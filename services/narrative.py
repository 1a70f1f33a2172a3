"""Commentary for the portfolio and for one SKU: facts from the latest snapshot -> ``ai`` -> cached in ``narrative``.

Facts. Built from the latest *finished* ``recompute_run`` and its ``sku_snapshot`` rows: the portfolio KPIs come from
``run.kpis`` (the previous finished run's KPIs give the changes), the grain from ``run.grain`` (weekly when unknown),
the date from ``run.data_as_of``, SKU names and categories from ``sku``; a SKU's changes compare its row with its row
in the previous finished run.

Provider. ``ai.narrative.provider_from_settings`` with the settings' Gemini key, model, base URL, timeout and retries:
Gemini when ``GEMINI_API_KEY`` is set, else the offline writer. Every text passes the ``ai`` grounding check; a
failed model answer is replaced by the offline writer's text (``fell_back=True``) and the view says why.

Cache (table ``narrative``, scope ``portfolio`` or ``sku:<code>``). A commentary is looked up by scope and
``facts_hash`` (sha256 of the facts and the prompt version, see ``ai.narrative.facts_hash``): same facts + same prompt
-> the stored text, no provider call. It is written again only when

- the facts or the prompt version change (a new run, a changed SKU name, a new template), or
- ``regenerate=True`` (a planner's "Regenerate"; always asks the configured provider), or
- a Gemini key is configured and the stored text is the offline writer's (it fell back, or was written before the key
  was set) and is older than :data:`FALLBACK_RETRY_AFTER` (15 minutes): so a fallback text is not served forever, and
  the model is asked again at most once per 15 minutes per scope.

When Gemini fails to answer (connection error, timeout, HTTP error, empty answer), this process does not ask it again
for :data:`PROVIDER_PAUSE` (2 minutes; per base URL and model, per process): commentaries written meanwhile come from
the offline writer at once (``fell_back=True``, retried later as above), so a Gemini outage does not make every page
wait for the timeout. ``regenerate=True`` ignores the pause. A text that fails the check does not pause the model.

Each scope keeps its :data:`KEEP_PER_SCOPE` newest rows. The functions add and flush rows in the caller's session;
the caller commits (``db.session.session_scope`` does). Two requests missing the cache at the same moment may both ask
the provider; the newest row wins.

Rendering: the text is plain text (checked by ``ai.grounding``, which refuses HTML and markdown links); show it as
text (``html.P(text)``), never through ``dcc.Markdown`` or ``dangerously_allow_html``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ai import PROMPT_VERSION, Commentary, PortfolioFacts, SkuFacts, facts_hash, portfolio_facts, sku_facts
from ai.narrative import provider_from_settings, write_commentary
from ai.prompts import prompt_version_for
from ai.providers.base import Provider, ProviderError
from core import formats
from db.models import Forecast, Narrative, Sku, SkuSnapshot, utcnow
from services import master_data
from services.runs import RunInfo, known_grain, latest_run, previous_run
from settings import Settings, get_settings

logger = logging.getLogger(__name__)

FALLBACK_RETRY_AFTER = dt.timedelta(minutes=15)
"""With a Gemini key set, a stored offline-writer text older than this is written again by the model."""
PROVIDER_PAUSE = dt.timedelta(minutes=2)
"""After Gemini fails to answer, this process does not ask it again for this long (``regenerate`` ignores it)."""
KEEP_PER_SCOPE = 3
"""Stored commentaries kept per scope (older ones are deleted when a new one is written)."""
TOP_N = 5
"""Top movers and top risks in the portfolio facts."""
PORTFOLIO_SCOPE = "portfolio"
SKU_SCOPE_PREFIX = "sku:"
OFFLINE_PROVIDER = "offline"

PROVIDER_LABELS = {"gemini": "Gemini", OFFLINE_PROVIDER: "the offline writer"}

_PORTFOLIO_COLUMNS = (
    "status",
    "demand_recent",
    "demand_baseline",
    "value_at_risk",
    "days_of_cover",
    "inventory_value",
    "excess_value",
)
_SKU_SKIP = frozenset({"id", "run_id", "sku_id"})

# (base_url, model) -> time.monotonic() until which the model is not asked (see PROVIDER_PAUSE)
_PAUSED_UNTIL: dict[tuple[str, str], float] = {}


@dataclass(frozen=True)
class CommentaryView:
    """A commentary as pages, the CLI and reports show it.

    Attributes
    ----------
    text : str
        Plain text (render as text, never as markdown / HTML).
    provider, model : str
        Who wrote ``text`` ("gemini" / "gemini-2.5-flash", or "offline" / "offline-v1").
    created_at : datetime
        When it was written (naive UTC, as stored).
    grounded : bool
        ``text`` passed the number / plain-text check.
    fell_back : bool
        The model's text could not be used; ``text`` is the offline writer's.
    reasons : tuple of str
        Why the model's text was not used (only known right after writing; empty for a cached text).
    notice : str or None
        One sentence for the reader when ``fell_back`` (e.g. "Gemini's text failed the number check; ...").
    scope : str
        "portfolio" or "sku:<code>".
    run_id : int
        The recompute run whose snapshot the facts came from.
    cached : bool
        Served from the ``narrative`` table without asking a provider.
    facts_hash, prompt_version : str
        The cache key parts.
    """

    text: str
    provider: str
    model: str
    created_at: dt.datetime
    grounded: bool
    fell_back: bool
    scope: str
    run_id: int
    reasons: tuple[str, ...] = ()
    notice: str | None = None
    cached: bool = False
    facts_hash: str = ""
    prompt_version: str = ""

    @property
    def provider_label(self) -> str:
        """Display name of the provider ("Gemini", "the offline writer")."""
        return PROVIDER_LABELS.get(self.provider, self.provider)

    @property
    def written_by(self) -> str:
        """'Written by Gemini (gemini-2.5-flash) at 2026-03-02 10:15 UTC'."""
        return f"Written by {self.provider_label} ({self.model}) at {formats.fmt_datetime(self.created_at)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``created_at`` as ISO 8601 UTC)."""
        return {
            "scope": self.scope,
            "run_id": self.run_id,
            "text": self.text,
            "provider": self.provider,
            "model": self.model,
            "created_at": self.created_at.replace(tzinfo=dt.UTC).isoformat(),
            "grounded": self.grounded,
            "fell_back": self.fell_back,
            "reasons": list(self.reasons),
            "notice": self.notice,
            "cached": self.cached,
            "facts_hash": self.facts_hash,
            "prompt_version": self.prompt_version,
        }


# --------------------------------------------------------------------------------------------------------------------
# public API


def portfolio_commentary(*, session: Session, regenerate: bool = False) -> CommentaryView | None:
    """The portfolio commentary of the latest finished run (None when there is no finished run yet).

    Parameters
    ----------
    session
        Reads the snapshot; a newly written commentary is added and flushed (the caller commits).
    regenerate
        Ask the configured provider again even when a stored text matches (a planner's "Regenerate").
    """
    run = latest_run(session=session)
    if run is None:
        return None
    facts = portfolio_facts_for_run(session=session, run=run)
    return _commentary(session=session, scope=PORTFOLIO_SCOPE, facts=facts, run_id=run.id, regenerate=regenerate)


def sku_commentary(*, session: Session, code: str, regenerate: bool = False) -> CommentaryView | None:
    """The commentary of SKU ``code`` in the latest finished run (None when there is no finished run, the code is
    unknown or the SKU is not in that run).

    Parameters
    ----------
    session
        Reads the snapshot; a newly written commentary is added and flushed (the caller commits).
    code
        The SKU code (exact match, surrounding spaces ignored).
    regenerate
        Ask the configured provider again even when a stored text matches.
    """
    code = (code or "").strip()
    if not code:
        raise ValueError("code must be a non-empty SKU code")
    run = latest_run(session=session)
    if run is None:
        return None
    facts = sku_facts_for_run(session=session, run=run, code=code)
    if facts is None:
        return None
    scope = SKU_SCOPE_PREFIX + code
    return _commentary(session=session, scope=scope, facts=facts, run_id=run.id, regenerate=regenerate)


def commentary_for_scope(*, session: Session, scope: str, regenerate: bool = False) -> CommentaryView | None:
    """``portfolio_commentary`` for scope "portfolio", ``sku_commentary`` for "sku:<code>".

    Raises
    ------
    ValueError
        For any other scope.
    """
    if scope == PORTFOLIO_SCOPE:
        return portfolio_commentary(session=session, regenerate=regenerate)
    if isinstance(scope, str) and scope.startswith(SKU_SCOPE_PREFIX) and scope[len(SKU_SCOPE_PREFIX) :].strip():
        return sku_commentary(session=session, code=scope[len(SKU_SCOPE_PREFIX) :], regenerate=regenerate)
    raise ValueError(f"scope must be 'portfolio' or 'sku:<code>', got {scope!r}")


# --------------------------------------------------------------------------------------------------------------------
# facts from the snapshot


def _grain(run: RunInfo) -> str:
    return known_grain(run.grain)


def portfolio_facts_for_run(*, session: Session, run: RunInfo) -> PortfolioFacts:
    """Portfolio facts of ``run``: its snapshot rows (with SKU names), its KPIs and the previous finished run's KPIs."""
    columns = [getattr(SkuSnapshot, name) for name in _PORTFOLIO_COLUMNS]
    rows = session.execute(
        select(Sku.code, Sku.name, Sku.category, Sku.defaulted_fields, *columns)
        .join(Sku, Sku.id == SkuSnapshot.sku_id)
        .where(SkuSnapshot.run_id == run.id)
        .order_by(Sku.code)
    ).all()
    frame = pd.DataFrame(rows, columns=["code", "name", "category", "defaulted_fields", *_PORTFOLIO_COLUMNS])
    frame["name"] = [name or code for code, name in zip(frame["code"], frame["name"], strict=True)]
    before = previous_run(session=session, run_id=run.id)
    kpis = dict(run.kpis or {})
    kpis.setdefault("sku_count", len(frame))
    return portfolio_facts(
        snapshot=frame,
        kpis=kpis,
        previous_kpis=dict(before.kpis) if before is not None and before.kpis else None,
        top_n=TOP_N,
        grain=_grain(run),
        as_of=run.data_as_of,
    )


def _snapshot_row(session: Session, *, run_id: int, sku_id: int) -> dict[str, Any] | None:
    snapshot = session.scalar(select(SkuSnapshot).where(SkuSnapshot.run_id == run_id, SkuSnapshot.sku_id == sku_id))
    if snapshot is None:
        return None
    return {c.key: getattr(snapshot, c.key) for c in SkuSnapshot.__table__.columns if c.key not in _SKU_SKIP}


def sku_facts_for_run(*, session: Session, run: RunInfo, code: str) -> SkuFacts | None:
    """Facts of SKU ``code`` in ``run`` (compared with its row in the previous finished run); None if it has no row."""
    sku = session.scalar(select(Sku).where(Sku.code == code))
    if sku is None:
        return None
    row = _snapshot_row(session, run_id=run.id, sku_id=sku.id)
    if row is None:
        return None
    before = previous_run(session=session, run_id=run.id)
    previous = _snapshot_row(session, run_id=before.id, sku_id=sku.id) if before is not None else None
    facts = sku_facts(
        row=row,
        previous=previous,
        code=sku.code,
        name=sku.name or None,
        category=sku.category or None,
        grain=_grain(run),
        defaulted_fields=[master_data.LABELS[f] for f in master_data.parse(sku.defaulted_fields)],
    )
    units, first = session.execute(  # issue 20: the planned promotions, as facts
        select(func.sum(Forecast.uplift), func.min(Forecast.period)).where(
            Forecast.run_id == run.id, Forecast.sku_id == sku.id, Forecast.kind == "future", Forecast.uplift > 0.05
        )
    ).one()
    if units is not None and units >= 0.5:
        facts = facts.model_copy(
            update={"planned_promotion_units": round(float(units)), "planned_promotion_from": first}
        )
    return facts


# --------------------------------------------------------------------------------------------------------------------
# provider, pause and cache


def model_configured(settings: Settings | None = None) -> bool:
    """True when a Gemini key is set (the model, not the offline writer, writes commentaries)."""
    settings = settings or get_settings()
    key = settings.gemini_api_key
    return key is not None and bool(key.get_secret_value().strip())


def _pause_key(settings: Settings) -> tuple[str, str]:
    return ((settings.gemini_base_url or "").strip(), (settings.gemini_model or "").strip())


def _paused(settings: Settings) -> float:
    """Seconds left in the pause of the configured model (0 when it may be asked)."""
    until = _PAUSED_UNTIL.get(_pause_key(settings))
    left = (until - time.monotonic()) if until is not None else 0.0
    return max(left, 0.0)


def clear_provider_pause() -> None:
    """Forget every provider pause of this process (tests; an operator after fixing the network)."""
    _PAUSED_UNTIL.clear()


class _PausedModel:
    """Stands in for the model during a pause: fails at once, so ``write_commentary`` uses the offline writer."""

    def __init__(self, *, name: str, model: str, seconds_left: float) -> None:
        self.name, self.model, self._left = name, model, seconds_left

    def generate(self, prompt: Any) -> str:
        raise ProviderError(f"not asked: it failed to answer recently (next try in {self._left:.0f} s)")


def _make_provider(settings: Settings) -> Provider:
    return provider_from_settings(
        gemini_api_key=settings.gemini_api_key,
        gemini_model=settings.gemini_model,
        gemini_base_url=settings.gemini_base_url,
        timeout_s=settings.gemini_timeout_s,
        max_retries=settings.gemini_max_retries,
    )


def _write(*, facts: PortfolioFacts | SkuFacts, settings: Settings, regenerate: bool) -> Commentary:
    """Ask the configured provider (or stand in for it during a pause) and return the checked commentary."""
    provider = _make_provider(settings)
    asked = provider
    left = _paused(settings) if model_configured(settings) and not regenerate else 0.0
    if left > 0:
        asked = _PausedModel(name=provider.name, model=provider.model, seconds_left=left)
    try:
        commentary = write_commentary(facts=facts, provider=asked)
    finally:
        close = getattr(provider, "close", None)
        if callable(close):
            close()
    failed_to_answer = commentary.fell_back and any(
        reason.startswith(f"{provider.name} failed:") for reason in commentary.reasons
    )
    if asked is provider and provider.name != OFFLINE_PROVIDER and failed_to_answer:
        _PAUSED_UNTIL[_pause_key(settings)] = time.monotonic() + PROVIDER_PAUSE.total_seconds()
        logger.warning("narrative: %s did not answer; not asking it for %s", provider.name, PROVIDER_PAUSE)
    return commentary


def _usable(row: Narrative, *, settings: Settings, now: dt.datetime) -> bool:
    """May the stored ``row`` be served without asking a provider? (module docstring, "Cache")"""
    if row.provider != OFFLINE_PROVIDER or not model_configured(settings):
        return True
    if _paused(settings) > 0:
        return True  # the model is known to be down: the stored offline text is what asking would give
    return now - row.created_at < FALLBACK_RETRY_AFTER


def _cached(session: Session, *, scope: str, digest: str, prompt_version: str) -> Narrative | None:
    return session.scalar(
        select(Narrative)
        .where(Narrative.scope == scope, Narrative.facts_hash == digest, Narrative.prompt_version == prompt_version)
        .order_by(Narrative.id.desc())
        .limit(1)
    )


def _prune(session: Session, *, scope: str, keep: int = KEEP_PER_SCOPE) -> None:
    kept = select(Narrative.id).where(Narrative.scope == scope).order_by(Narrative.id.desc()).limit(keep)
    kept_ids = list(session.scalars(kept))
    if len(kept_ids) >= keep:
        session.execute(
            delete(Narrative)
            .where(Narrative.scope == scope, Narrative.id.not_in(kept_ids))
            .execution_options(synchronize_session=False)
        )


def notice_for(*, fell_back: bool, reasons: tuple[str, ...] = (), requested_provider: str = "gemini") -> str | None:
    """The one-sentence notice shown with a fallback text (None when the model's own text is shown)."""
    if not fell_back:
        return None
    who = PROVIDER_LABELS.get(requested_provider, requested_provider)
    tail = "showing the offline writer's text."
    if not reasons:
        return f"{who}'s text could not be used when this commentary was written; {tail}"
    first = reasons[0]
    prefix = f"{requested_provider} failed:"
    if first.startswith(prefix):
        detail = first[len(prefix) :].strip()
        if detail.startswith("not asked:"):
            return f"{who} did not answer a moment ago, so it was not asked again; {tail}"
        detail = detail.removeprefix(f"{requested_provider} ").strip()
        return f"{who} did not answer ({detail}); {tail}"
    if any(reason.startswith(("number ", "date ", "year ")) for reason in reasons):
        return f"{who}'s text failed the number check ({first}); {tail}"
    return f"{who}'s text failed the check ({first}); {tail}"


def _view(row: Narrative, *, run_id: int, cached: bool, commentary: Commentary | None = None) -> CommentaryView:
    reasons = commentary.reasons if commentary is not None else ()
    requested = commentary.requested_provider if commentary is not None else "gemini"
    return CommentaryView(
        text=row.text,
        provider=row.provider,
        model=row.model,
        created_at=row.created_at,
        grounded=bool(row.grounded),
        fell_back=bool(row.fell_back),
        scope=row.scope,
        run_id=run_id,
        reasons=tuple(reasons),
        notice=notice_for(fell_back=bool(row.fell_back), reasons=tuple(reasons), requested_provider=requested),
        cached=cached,
        facts_hash=row.facts_hash,
        prompt_version=row.prompt_version,
    )


def _commentary(
    *, session: Session, scope: str, facts: PortfolioFacts | SkuFacts, run_id: int, regenerate: bool
) -> CommentaryView:
    settings = get_settings()
    prompt_version = prompt_version_for(facts, version=PROMPT_VERSION)
    digest = facts_hash(facts, prompt_version)
    if not regenerate:
        row = _cached(session, scope=scope, digest=digest, prompt_version=prompt_version)
        if row is not None and _usable(row, settings=settings, now=utcnow()):
            return _view(row, run_id=run_id, cached=True)
    commentary = _write(facts=facts, settings=settings, regenerate=regenerate)
    row = Narrative(
        scope=scope,
        facts_hash=commentary.facts_hash,
        prompt_version=commentary.prompt_version,
        provider=commentary.provider[:40],
        model=commentary.model[:80],
        text=commentary.text,
        grounded=commentary.grounded,
        fell_back=commentary.fell_back,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    _prune(session, scope=scope)
    return _view(row, run_id=run_id, cached=False, commentary=commentary)
