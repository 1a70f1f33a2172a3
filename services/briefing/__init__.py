"""PDF briefings: facts from the latest finished snapshot -> :mod:`reports` -> PDF bytes kept in ``briefing``.

Scopes (:class:`BriefingScope`)
-------------------------------
- the whole portfolio (``portfolio``);
- a segment: any of one category, one location and one ABC class (``portfolio?abc=A&category=Beverages``);
- one SKU (``sku:<code>``).

Where each part of a portfolio briefing comes from
--------------------------------------------------
- Run, data date, grain: the latest finished ``recompute_run`` (:func:`services.runs.latest_run`); the change
  columns compare with the finished run before it (:func:`services.runs.previous_run`).
- KPIs, whole portfolio: the run's stored KPIs (``recompute_run.kpis``, what the Watchtower shows), with the SKU count
  and the status counts taken from the run's ``sku_snapshot`` rows (as the Watchtower counts them).
- KPIs, segment: computed from the segment's snapshot rows with the engine's own definitions,
  :func:`core.kpi.portfolio_kpis` (sums for inventory value / value at risk / excess, demand-value-weighted WAPE,
  turns = annual cost of goods / inventory value, ...). The per-SKU expected fill rate the engine weights is not
  stored, so it is rebuilt from the stored policy: beta = 1 - n(ROP) / Q with Q = max(lot, D x R), lot = min(EOQ,
  365 days of demand) rounded to MOQ / multiple, sigma_LTD = sqrt(L sigma^2 + D^2 sigma_L^2)
  (:func:`services.runs.segment_kpis`; the same steps as :func:`core.portfolio.compute_batch`, so on the whole
  portfolio it gives the stored KPIs back while the SKU master is unchanged). The previous run's figures for the
  segment come from the previous run's rows with the same filters (None when that run's rows were pruned).
- Top risks: the 10 SKUs with the highest value at risk (> 0), ties by code, with their status reasons.
- Top movers: the 8 SKUs whose recent demand moved most against the baseline in units per period (the ranking the
  commentary uses, :func:`ai.portfolio_facts`); the change is shown in percent of the baseline.
- Commentary: whole portfolio -> :func:`services.narrative.portfolio_commentary` (Gemini or the offline writer, cached);
  segment -> the offline writer over the segment's own facts (grounded, no model call, so the text never quotes
  whole-portfolio figures as the segment's).
- Purchase orders: ``purchase_order`` rows with status ``recommended`` (:func:`services.orders.list_orders`) of the
  SKUs in scope; the :data:`MAX_PO_LINES` most urgent (order-by date, then value) are printed,
  the count and value of all of them are stated.
- Forecast value added: :func:`services.overrides.fva_frame` (overridden periods whose actuals arrived) restricted to
  the SKUs in scope, per category plus a total (:func:`core.accuracy.forecast_value_added`); omitted when empty.
- Company name: ``settings.company_name``.

A SKU briefing reads :func:`services.sku_detail.sku_detail` (history, forecast band, overrides, projected stock,
policy), the open recommended order of that SKU when there is one (else the snapshot's recommendation) and
:func:`services.narrative.sku_commentary`.

Every briefing made through :func:`make_briefing` is stored (the newest :data:`KEEP_BRIEFINGS` are kept) and
audit-logged; :func:`get_briefing` serves it again. Nothing here recomputes the engine.

Modules: :mod:`.scope` (scopes, options, constants), :mod:`.facts` (portfolio and SKU facts), :mod:`.storage` (build,
store, list, serve), :mod:`.preview` (page 1 as PNG). Their public names are re-exported here.
"""

from __future__ import annotations

from services.briefing.facts import (
    OrderLine,
    capacity_lines,
    portfolio_briefing_facts,
    recommended_orders,
    sku_briefing_facts,
    top_mover_rows,
    top_risk_rows,
)
from services.briefing.preview import (
    RENDERERS,
    Preview,
    render_preview,
)
from services.briefing.scope import (
    ABC_CLASSES,
    CURRENCY_SYMBOL,
    MAX_HISTORY_POINTS,
    MAX_PO_LINES,
    MAX_VALUE_LEN,
    PORTFOLIO,
    PORTFOLIO_TITLE,
    SKU_PREFIX,
    SKU_TITLE,
    TOP_MOVERS,
    TOP_RISKS,
    BriefingNotFoundError,
    BriefingScope,
    Progress,
    ScopeOptions,
    scope_label,
    scope_options,
)
from services.briefing.storage import (
    KEEP_BRIEFINGS,
    BriefingFile,
    BriefingRecord,
    build_briefing,
    file_name_for,
    get_briefing,
    list_briefings,
    make_briefing,
    pdf_page_count,
    store_briefing,
)

__all__ = [
    "ABC_CLASSES",
    "CURRENCY_SYMBOL",
    "KEEP_BRIEFINGS",
    "MAX_HISTORY_POINTS",
    "MAX_PO_LINES",
    "MAX_VALUE_LEN",
    "PORTFOLIO",
    "PORTFOLIO_TITLE",
    "RENDERERS",
    "SKU_PREFIX",
    "SKU_TITLE",
    "TOP_MOVERS",
    "TOP_RISKS",
    "BriefingFile",
    "BriefingNotFoundError",
    "BriefingRecord",
    "BriefingScope",
    "OrderLine",
    "Preview",
    "Progress",
    "ScopeOptions",
    "build_briefing",
    "capacity_lines",
    "file_name_for",
    "get_briefing",
    "list_briefings",
    "make_briefing",
    "pdf_page_count",
    "portfolio_briefing_facts",
    "recommended_orders",
    "render_preview",
    "scope_label",
    "scope_options",
    "sku_briefing_facts",
    "store_briefing",
    "top_mover_rows",
    "top_risk_rows",
]
