"""The constants of the /api/v1 contract that the routes and their models (:mod:`api.contract`,
``api/models_*.py``) share: the path prefix, the paging limits and the values an enum filter takes."""

from __future__ import annotations

from services import watchtower

PREFIX = "/api/v1"

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
MAX_PAGE = 100_000
ENUM_FILTERS: dict[str, tuple[str, ...]] = {
    "status": tuple(watchtower.STATUS_LABELS),
    "abc": ("A", "B", "C"),
    "xyz": ("X", "Y", "Z"),
    "demand_class": watchtower.DEMAND_CLASSES,
    "master_data": watchtower.MASTER_DATA_VALUES,
}
MAX_ID = 2**63 - 1
ORDER_STATUSES = ("recommended", "approved", "received", "cancelled", "rejected")
