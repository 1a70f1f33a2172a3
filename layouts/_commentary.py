"""The commentary panel, reusable on any page (watchtower: scope "portfolio"; SKU page: scope "sku:<code>").

``commentary_panel(view, scope=..., can_regenerate=...)`` renders a ``services.narrative.CommentaryView``: the text
(plain text only: ``html.P`` children are strings, never ``dcc.Markdown`` or ``dangerously_allow_html``), who wrote it
and when, the fallback notice, and for planners a "Regenerate" button. Ids are pattern-matching dicts so several panels
can live on one page; ``callbacks/commentary.py`` answers the button (planner only, background job) by replacing the
body whose ``scope`` matches.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from services.narrative import PORTFOLIO_SCOPE, SKU_SCOPE_PREFIX, CommentaryView

REGENERATE_TYPE = "commentary-regenerate"
"""``{"type": REGENERATE_TYPE, "scope": scope}``: the planner's Regenerate button."""
BODY_TYPE = "commentary-body"
"""``{"type": BODY_TYPE, "scope": scope}``: the part of the panel the Regenerate callback replaces."""

TITLE_CLASS = "text-uppercase small fw-semibold text-secondary mb-0"
REGENERATE_LABEL = "Regenerate"
REGENERATING_LABEL = "Regenerating…"
EMPTY_TEXT = "No commentary yet: it is written from the latest finished recompute."


def _check_scope(scope: str) -> str:
    if scope == PORTFOLIO_SCOPE or (
        isinstance(scope, str) and scope.startswith(SKU_SCOPE_PREFIX) and scope[len(SKU_SCOPE_PREFIX) :].strip()
    ):
        return scope
    raise ValueError(f"scope must be 'portfolio' or 'sku:<code>', got {scope!r}")


def regenerate_id(scope: str) -> dict[str, str]:
    """Id of the Regenerate button of ``scope``."""
    return {"type": REGENERATE_TYPE, "scope": _check_scope(scope)}


def body_id(scope: str) -> dict[str, str]:
    """Id of the panel body of ``scope``."""
    return {"type": BODY_TYPE, "scope": _check_scope(scope)}


def commentary_body(view: CommentaryView | None, *, empty: str = EMPTY_TEXT) -> list[Any]:
    """The panel body: fallback notice (if any), the text as plain paragraphs, and who wrote it when."""
    if view is None or not view.text.strip():
        return [html.P(empty, className="text-secondary small mb-0")]
    children: list[Any] = []
    if view.fell_back and view.notice:
        children.append(dbc.Alert(view.notice, color="warning", className="small py-2 px-3 mb-2 commentary-notice"))
    paragraphs = [html.P(part.strip(), className="mb-2") for part in view.text.split("\n") if part.strip()]
    children.append(html.Div(paragraphs, className="commentary-text"))
    check = "numbers checked against the snapshot" if view.grounded else "numbers not verified"
    children.append(html.Div(f"{view.written_by} · {check}", className="text-secondary small mt-1 commentary-meta"))
    return children


def commentary_panel(
    view: CommentaryView | None,
    *,
    scope: str,
    can_regenerate: bool,
    title: str = "Commentary",
    empty: str = EMPTY_TEXT,
) -> dbc.Card:
    """A card with the commentary of ``scope`` ("portfolio" or "sku:<code>").

    Parameters
    ----------
    view
        From ``services.narrative.portfolio_commentary`` / ``sku_commentary`` (None: no finished run / SKU not in it).
    scope
        The commentary's scope; keys the pattern-matching ids.
    can_regenerate
        Show the Regenerate button (pass ``layouts._components.allowed("planner")``; the server refuses a viewer's
        request anyway).
    title, empty
        Card title and the text shown when there is no commentary.
    """
    head: list[Any] = [html.Div(title, className=TITLE_CLASS)]
    if can_regenerate and view is not None:
        head.append(
            dbc.Button(
                REGENERATE_LABEL,
                id=regenerate_id(scope),
                n_clicks=0,
                size="sm",
                color="secondary",
                outline=True,
                className="ms-auto py-0",
                title="Write this commentary again from the current snapshot",
            )
        )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(head, className="d-flex align-items-center gap-2 mb-2"),
                html.Div(commentary_body(view, empty=empty), id=body_id(scope), className="small"),
            ]
        ),
        className="shadow-sm border-0 h-100 commentary-panel",
    )
