"""SKU page callbacks: the search type-ahead (/sku and the not-found page), the commentary panel and the
"what if we order X" projection. They read the snapshot; nothing is recomputed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from auth.guard import guarded_callback
from db.session import session_scope
from layouts import _ids as ids
from layouts._charts import commentary_card, projection_figure, status_label
from layouts._components import allowed
from layouts.sku import projection_note
from services import sku_detail as svc

SEARCH_LIMIT = 15


def option(hit: svc.SkuHit) -> dict[str, str]:
    status = f" · {status_label(hit.status)}" if hit.status else ""
    return {"label": f"{hit.code} · {hit.name} ({hit.category}{status})", "value": hit.code}


@guarded_callback(
    "viewer",
    Output(ids.SKU_SEARCH, "options"),
    Input(ids.SKU_SEARCH, "search_value"),
    State(ids.SKU_SEARCH, "value"),
    State(ids.SKU_SEARCH, "options"),
    prevent_initial_call=True,
)
def search_options(text: str | None, value: str | None, current: list[dict[str, str]] | None) -> list[dict]:
    """Type-ahead: SKUs whose code or name contains the text (the chosen one stays in the list)."""
    if not text or not text.strip():
        raise PreventUpdate
    with session_scope() as session:
        hits = svc.search_skus(session=session, text=text, limit=SEARCH_LIMIT)
    options = [option(h) for h in hits]
    if value and all(o["value"] != value for o in options):
        options += [o for o in current or [] if o.get("value") == value]
    return options


@guarded_callback(
    "viewer",
    Output(ids.SKU_SEARCH_NAV, "href"),
    Input(ids.SKU_SEARCH, "value"),
    prevent_initial_call=True,
)
def open_chosen(code: str | None) -> str:
    """Choosing a SKU in the search opens its page."""
    if not code:
        raise PreventUpdate
    return f"/sku/{quote(code, safe='')}"


@guarded_callback(
    "viewer",
    Output(ids.SKU_COMMENTARY, "children"),
    Input(ids.SKU_CODE, "data"),
)
def commentary(data: dict[str, Any] | None) -> Any:
    """The SKU's commentary (narrative service when present, else its status reason and reorder rule)."""
    code = (data or {}).get("code")
    if not code:
        raise PreventUpdate
    with session_scope() as session:
        detail = svc.sku_detail(session=session, code=code, run_id=(data or {}).get("run_id"))
        if detail is None:
            raise PreventUpdate
        result = svc.sku_commentary(session=session, detail=detail)
    return commentary_card(
        result,
        scope=f"sku:{code}",
        title="Commentary",
        fallback_title="Why this status",
        empty="This SKU is not in the latest snapshot.",
        can_regenerate=allowed("planner"),
        link_codes=False,
    )


@guarded_callback(
    "viewer",
    Output(ids.SKU_PROJECTION_CHART, "figure"),
    Output(ids.SKU_PROJECTION_NOTE, "children"),
    Input(ids.SKU_ORDER_QTY, "value"),
    State(ids.SKU_CODE, "data"),
    prevent_initial_call=True,
)
def what_if(order_qty: float | None, data: dict[str, Any] | None) -> tuple[dict, str]:
    """Re-project the stock with another order quantity (read-only: nothing is saved)."""
    code = (data or {}).get("code")
    if not code or order_qty is None:
        raise PreventUpdate
    try:
        qty = max(0.0, float(order_qty))
    except (TypeError, ValueError):
        raise PreventUpdate from None
    with session_scope() as session:
        detail = svc.sku_detail(session=session, code=code, run_id=(data or {}).get("run_id"))
    if detail is None or detail.snapshot is None:
        raise PreventUpdate
    projection = svc.projection_for(detail, order_qty=qty)
    return projection_figure(projection), projection_note(detail, projection)


# Opening a SKU from the Watchtower's grid kept the grid's scroll position, with the headline off screen (issue 23):
# the page starts at the top whenever it opens (its code store is created).
dash.clientside_callback(
    """
    function(data) {
        window.scrollTo(0, 0);
        return data ? data.code : null;
    }
    """,
    Output(ids.SKU_SCROLL, "data"),
    Input(ids.SKU_CODE, "data"),
)
