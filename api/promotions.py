"""API route for promotions and prices (issue 20), on the /api/v1 blueprint.

``GET /promotions`` (viewer): the stored promotion rows (history and plan), optionally of one SKU (``sku``) and from
a date (``since``, YYYY-MM-DD). Rows are imported with ``POST /imports/promotions`` (and events with
``POST /imports/events``). OpenAPI entries: :mod:`api.openapi_promotions`.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, jsonify, request

from api.errors import invalid
from api.routes import blueprint, requires
from api.serialize import plain
from db.session import session_scope
from services import promotions

MAX_ROWS = 100_000


@blueprint.get("/promotions")
@requires("viewer")
def list_promotions() -> Response:
    """Promotion rows by SKU then period."""
    sku = (request.args.get("sku") or "").strip() or None
    since_text = (request.args.get("since") or "").strip()
    since = None
    if since_text:
        try:
            since = dt.date.fromisoformat(since_text)
        except ValueError:
            raise invalid("since", f"not a date (YYYY-MM-DD): {since_text[:40]!r}") from None
    with session_scope() as session:
        rows = promotions.promotion_rows(session=session, sku_code=sku, since=since, limit=MAX_ROWS)
    keys = ("sku", "date", "price", "promoted", "promotion", "features")
    return jsonify({"promotions": [plain({k: row[k] for k in keys}) for row in rows]})
