"""The "incomplete master data" line of a SKU (its fields still at their defaults, services.master_data)."""

from __future__ import annotations

from collections.abc import Sequence

from dash import html

from layouts import _ids as ids
from services import master_data


def incomplete_note(fields: Sequence[str]) -> html.Div | None:
    """Names the master-data fields nobody provided; without a unit cost the SKU's money values are unknown."""
    if not fields:
        return None
    money = (
        " Unit cost missing: its values (stock, value at risk, orders) are unknown, not $0."
        if ("unit_cost" in fields)
        else ""
    )
    return html.Div(
        [
            html.Strong("Incomplete master data: "),
            f"{master_data.describe(fields)} still at the defaults "
            "(import the SKU master or edit it on the Data page).",
            money,
        ],
        id=ids.SKU_INCOMPLETE_MASTER,
        className="small text-warning-emphasis mt-1",
    )
