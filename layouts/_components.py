"""Small shared UI pieces."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from auth.identity import current_role
from services.users import has_role

#: AG Grid's keyboard model made usable: Tab enters and leaves a grid, the arrow keys move between its headers and
#: cells (by default Tab walks every header and cell, which keeps a keyboard user inside a long grid)
KEYBOARD_GRID_OPTIONS: dict[str, Any] = {
    "tabToNextCell": {"function": "false"},
    "tabToNextHeader": {"function": "false"},
}
#: on a wrapper of a grid whose row click opens something: Enter on a focused cell does the same (assets/a11y.js)
OPEN_ON_ENTER = "grid-open-on-enter"


def page_header(title: str, subtitle: str | None = None) -> html.Div:
    return html.Div(
        [html.H1(title, className="h4 mb-0"), html.P(subtitle, className="text-muted small mb-3") if subtitle else None]
    )


def group_label(text: str, control_id: Any) -> dbc.Label:
    """The text at the left of an input group as the control's real ``<label for>`` (an input group's plain text
    names nothing for a screen reader)."""
    return dbc.Label(text, html_for=control_id, className="input-group-text mb-0")


def forbidden(required: str) -> html.Div:
    return html.Div(
        dbc.Alert(f"This page needs the {required} role. Ask an administrator if you need access.", color="warning"),
        className="mt-4",
    )


def allowed(required: str) -> bool:
    """True when the signed-in user has at least ``required`` (checked on the server when the layout renders)."""
    return has_role(current_role(), required)


def empty_state(message: str, href: str | None = None, link_text: str | None = None) -> dbc.Alert:
    children: list = [message]
    if href and link_text:
        children += [" ", dbc.Button(link_text, href=href, size="sm", color="primary", className="ms-2")]
    return dbc.Alert(children, color="light", className="border")


def fmt_input(value: Any, *, decimals: int = 4) -> Any:
    """A control's value as shown in its (text) input: thousands separators, no trailing zeros (``8696.3`` ->
    ``"8,696.3"``, ``223427.0`` -> ``"223,427"``); None and text unchanged. The what-if services read it back
    (:func:`services.whatif.number_text`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_row(
    label: str,
    control_id: str,
    value: float | None,
    *,
    unit: str | None = None,
    step: Any = "any",
    hint_id: str | None,
    hint: str | None = None,
    disabled: bool = False,
) -> html.Div:
    """A labelled number input (debounced) with an optional unit and a hint line below. A text input, so the value
    reads with thousands separators (:func:`fmt_input`); ``step`` is kept for the signature (text has none)."""
    group: list[Any] = [
        dbc.Input(
            id=control_id,
            type="text",
            value=fmt_input(value),
            debounce=0.4,
            inputMode="decimal",
            disabled=disabled,
            autoComplete="off",
        )
    ]
    if unit:
        group.append(dbc.InputGroupText(unit))
    return html.Div(
        [
            dbc.Label(label, html_for=control_id, className="small fw-semibold mb-1"),
            dbc.InputGroup(group, size="sm"),
            html.Div(hint, id=hint_id, className="form-text mt-0") if hint_id else None,
        ],
        className="mb-2",
    )


def named_number_rows(
    *,
    control_ids: Mapping[str, str],
    values: Mapping[str, Any],
    hint_ids: Mapping[str, str],
    hints: Mapping[str, str],
) -> Callable[..., html.Div]:
    """A :func:`number_row` maker, ``row(label, name, **options)``, looking up id, value and hint by the field name."""

    def row(label: str, name: str, **options: Any) -> html.Div:
        return number_row(label, control_ids[name], values[name], hint_id=hint_ids[name], hint=hints[name], **options)

    return row
