"""Purchase orders: recommendations from each recompute, the planner's approve / edit / reject / receive steps and
the export for suppliers. The lead times learned from receipts are :mod:`services.leadtimes`.

A package by responsibility (docs/architecture.md, "Who may import whom"): ``queries`` (the views, lists, totals and
the package's clock :func:`today`) <- ``recommend`` (orders from a run) <- ``actions`` (the planner's steps);
``queries`` <- ``export``. This module re-exports the public names, so ``services.orders.X`` keeps working.

Lifecycle (``purchase_order.status``)::

    recommended --approve--> approved --receive--> received
         |                       \\--cancel--> cancelled
         \\--reject--> rejected

Rules:

- :func:`sync_recommendations` runs inside a recompute's write transaction. It deletes the recommended orders that
  nobody acted on (status ``recommended`` and no quantity edit) of the run's SKUs and of inactive SKUs, and adds one
  ``recommended`` order per SKU whose snapshot ``recommended_qty`` is above 0. The quantity is the snapshot's
  (already rounded to MOQ and order multiple by the engine: reorder point with the EOQ lot, or up to the order-up-to
  level); the order-by date is the start of the run's first forecast period + ``order_by_periods`` periods
  (:func:`order_by_date`, the same date the SKU page shows). SKUs that keep
  an edited recommendation, or got an order approved while the run was computing, get no new one. Approved,
  received, rejected and cancelled orders are never touched.
- Approved orders count as on order in the next recompute (:mod:`services.engine_inputs`).
- Approving sets ``order_date`` (today, UTC) and ``promised_date`` (order date + the SKU master lead time).
- Receiving writes a ``receipt`` row (order date, promised date, received date, quantity), so the lead times are
  learned (:func:`services.leadtimes.lead_time_stats`, used by the recompute once a SKU has
  ``receipts_min_for_learned_lead_time`` receipts). When the SKU's latest stock count is older than the received
  date, a stock position dated on the received date with the quantity added to on hand is written (the count did not
  include the delivery yet).
- Rejecting or cancelling keeps the planner's reason (optional) on the order (``status_reason``) and in the audit log.
- A one-shot SKU (a seasonal buy: the run stored ``order_policy`` "newsvendor") is ordered with the newsvendor
  quantity; its reason names the "newsvendor one-shot buy" with the critical ratio and the horizon demand
  (:func:`one_shot_reason`).
- Every state change is audit-logged (actions ``order.approve``, ``order.edit``, ``order.reject``, ``order.cancel``,
  ``order.receive``). Invalid requests raise :class:`services.errors.UserFacingError` with the reason.
"""

from db.models import PO_STATUSES
from services.errors import UserFacingError
from services.leadtimes import LeadTimeInfo, LeadTimeStat, lead_time_stats
from services.orders.actions import (
    EditResult,
    approve_order,
    approve_orders,
    cancel_order,
    edit_quantity,
    pack_warnings,
    receive_order,
    reject_order,
    reject_orders,
)
from services.orders.export import EXPORT_COLUMNS, approved_frame, export_approved, export_approved_workbook
from services.orders.queries import (
    CLOSED_STATUSES,
    MAX_BATCH,
    MAX_REASON,
    OPEN_STATUSES,
    OrderTotals,
    OrderView,
    SupplierGroup,
    get_order,
    list_orders,
    order_totals,
    supplier_summary,
    today,
)
from services.orders.recommend import (
    SyncResult,
    one_shot_reason,
    order_by_date,
    reason_summary,
    recommendation_reason,
    sync_recommendations,
)

__all__ = [
    "CLOSED_STATUSES",
    "EXPORT_COLUMNS",
    "MAX_BATCH",
    "MAX_REASON",
    "OPEN_STATUSES",
    "PO_STATUSES",
    "EditResult",
    "LeadTimeInfo",
    "LeadTimeStat",
    "OrderTotals",
    "OrderView",
    "SupplierGroup",
    "SyncResult",
    "UserFacingError",
    "approve_order",
    "approve_orders",
    "approved_frame",
    "cancel_order",
    "edit_quantity",
    "export_approved",
    "export_approved_workbook",
    "get_order",
    "lead_time_stats",
    "list_orders",
    "one_shot_reason",
    "order_by_date",
    "order_totals",
    "pack_warnings",
    "reason_summary",
    "receive_order",
    "recommendation_reason",
    "reject_order",
    "reject_orders",
    "supplier_summary",
    "sync_recommendations",
    "today",
]
