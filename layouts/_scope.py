"""The scope bar and the page pieces that Risk (/risk) and Profit (/profit) share.

The scope picker (one SKU or a segment: category, ABC class, location, supplier, the whole portfolio) with its note
of what the scope holds, cards and graphs in the house style, the message and "no snapshot" states, and
:func:`scoped_items`, the SKUs a page's query names (``?sku=``, ``?category=``, ``?abc=`` ...). The callbacks of
both pages read :data:`HIDDEN` / :data:`SHOWN` and :func:`message` / :func:`scope_note` from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts._charts import (
    GRAPH_CONFIG,
    MISSING,
    SECTION_CLASS,
    empty_figure,
    fmt_date_prose,
    fmt_datetime,
)
from layouts._components import empty_state, fmt_input
from services import whatif as svc
from services import whatif_baseline

GRID = "#eef0f3"
CARD = "shadow-sm border-0 h-100"
VIEW_OPTIONS = [{"label": "One SKU", "value": "sku"}, {"label": "Segment", "value": "segment"}]
HIDDEN = {"display": "none"}
SHOWN: dict[str, str] = {}

# --------------------------------------------------------------------------------------------------------------------
# shared pieces (also used by layouts/profit.py)


def scope_from_query(query: dict[str, Any]) -> svc.Scope:
    """The scope a URL asks for (?sku=, ?category=, ?abc=), else the portfolio."""
    for key, kind in (("sku", "sku"), ("category", "category"), ("abc", "abc")):
        value = query.get(key)
        if isinstance(value, str) and value.strip():
            return svc.Scope(kind=kind, value=value.strip()[:100])
    return svc.Scope(kind="portfolio")


def segment_options(options: svc.ScopeOptions) -> list[dict[str, str]]:
    out = [{"label": f"Whole portfolio ({options.sku_count:,} SKUs)", "value": "portfolio"}]
    out += [{"label": f"ABC class {a}", "value": f"abc:{a}"} for a in options.abc_classes]
    out += [{"label": f"Category · {c}", "value": f"category:{c}"} for c in options.categories]
    return out


def sku_option(code: str, name: str, category: str) -> dict[str, str]:
    return {"label": f"{code} · {name} ({category})", "value": code}


def scope_bar(
    *,
    scope: svc.Scope,
    items: svc.Items | None,
    options: svc.ScopeOptions,
    view_id: str,
    sku_id: str,
    sku_wrap: str,
    segment_id: str,
    segment_wrap: str,
    note_id: str,
    reset_id: str,
) -> dbc.Card:
    """View (one SKU / segment), the SKU type-ahead or the segment list, what the scope holds, reset to today."""
    is_sku = scope.kind == "sku"
    sku_options = []
    if is_sku and items is not None:
        sku_options = [sku_option(items.codes[0], items.names[0], items.categories[0])]
    return dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        dbc.RadioItems(
                            id=view_id,
                            options=VIEW_OPTIONS,
                            value="sku" if is_sku else "segment",
                            inline=True,
                            className="fw-semibold",
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        [
                            html.Div(
                                dcc.Dropdown(
                                    id=sku_id,
                                    options=sku_options,
                                    value=items.codes[0] if is_sku and items is not None else None,
                                    placeholder="Type a SKU code or name…",
                                    searchable=True,
                                    clearable=False,
                                ),
                                id=sku_wrap,
                                style=SHOWN if is_sku else HIDDEN,
                            ),
                            html.Div(
                                dcc.Dropdown(
                                    id=segment_id,
                                    options=segment_options(options),
                                    value=scope.key if not is_sku else "portfolio",
                                    clearable=False,
                                    searchable=True,
                                ),
                                id=segment_wrap,
                                style=HIDDEN if is_sku else SHOWN,
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(html.Div(scope_note(items), id=note_id, className="small text-secondary"), md=True),
                    dbc.Col(
                        dbc.Button("Reset to today", id=reset_id, color="secondary", outline=True, size="sm"),
                        width="auto",
                    ),
                ],
                className="g-3 align-items-center",
            ),
            className="py-2",
        ),
        className="shadow-sm border-0 mb-3",
    )


def scope_note(items: svc.Items | None) -> list[Any]:
    """What the page is looking at, from the snapshot."""
    if items is None:
        return [MISSING]
    run = items.run
    head: list[Any]
    if items.n == 1:
        cls = str(items.demand_class[0]).replace("_", " ")
        head = [
            html.B(items.names[0] or items.codes[0]),
            f" · {items.categories[0]} · class {items.abc[0]} · {cls} demand",
        ]
    else:
        head = [html.B(items.scope.label), f" · {items.n:,} SKUs"]
    return [
        *head,
        html.Br(),
        f"Snapshot {fmt_datetime(run.finished_at)} · data through {fmt_date_prose(run.data_as_of)} · "
        f"one period = one {run.period_unit}",
    ]


def graph(figure: dict[str, Any], height: int, *, graph_id: str | None = None) -> dcc.Graph:
    """A chart with a fixed height (a responsive graph inside a new container would collapse to its minimum)."""
    props: dict[str, Any] = {"id": graph_id} if graph_id else {}
    return dcc.Graph(figure=figure, config=GRAPH_CONFIG, style={"height": f"{height}px"}, **props)


def section(title: str, *children: Any, note: Any = None, class_name: str = "", fill: bool = True) -> dbc.Card:
    """A titled card; ``fill`` stretches it to the height of its row."""
    head: list[Any] = [html.Span(title, className=SECTION_CLASS)]
    if note:
        head.append(html.Span(note, className="small text-secondary ms-2"))
    card_class = CARD if fill else "shadow-sm border-0"
    return dbc.Card(dbc.CardBody([html.Div(head, className="mb-1"), *children]), className=f"{card_class} {class_name}")


def message(notes: Sequence[str], *, error: str | None = None) -> list[Any]:
    """The page's message area: an input error (red) and notes about the scope (grey)."""
    out: list[Any] = []
    if error:
        out.append(
            dbc.Alert(
                [html.B("Check the inputs: "), error, html.Span(" The figures show the last valid inputs.")],
                color="danger",
                className="py-2 mb-2",
            )
        )
    out += [dbc.Alert(n, color="light", className="border py-2 mb-2 small") for n in notes]
    return out


PICK_A_SKU = "Pick a SKU: type its code or name in the box above to see its figures."


def picking(scope_data: dict[str, Any] | None) -> bool:
    """True while "One SKU" is chosen and no SKU is picked yet (the scope store says ``pick``)."""
    return bool((scope_data or {}).get("pick"))


def pick_outputs(kinds: Sequence[str]) -> tuple[Any, ...]:
    """The figures' outputs while no SKU is picked: the message, then per output kind ("children", "figure",
    "data") an empty value, so no portfolio figure stays on screen under "One SKU"."""
    empty = {"children": [], "figure": empty_figure("Pick a SKU"), "data": None}
    return (message([PICK_A_SKU]), *[empty[k] for k in kinds])


def edited_hints(
    values: Sequence[Any],
    names: Sequence[str],
    scope_data: dict[str, Any] | None,
    *,
    keys: dict[str, str] | None = None,
) -> list[Any]:
    """The hint under each control: today's hint while the value is today's; once edited, "edited · today X", so a
    hint never claims an edited value comes from the SKU master. ``keys``: control name -> its key in the
    baseline (default: the same name)."""
    data = scope_data or {}
    hints, base = data.get("hints") or {}, data.get("baseline") or {}
    out: list[Any] = []
    for name, value in zip(names, values, strict=True):
        today = base.get((keys or {}).get(name, name))
        entered = svc.number_text(value)
        try:
            same = today is None or abs(float(entered) - float(today)) <= 1e-9 * max(1.0, abs(float(today)))
        except (TypeError, ValueError):
            same = True  # not a number: the message says so; the hint stays
        out.append(hints.get(name, "") if same else f"edited · today {fmt_input(today)}")
    return out


def no_snapshot() -> html.Div:
    return empty_state(
        "There is no snapshot yet: import data and run a recompute on the Watchtower first.", "/", "Open the Watchtower"
    )


def unknown_scope(scope: svc.Scope) -> dbc.Alert:
    what = f"No SKU \u201c{scope.value}\u201d" if scope.kind == "sku" else f"Nothing in {scope.label.lower()}"
    return dbc.Alert(f"{what} in the latest snapshot: showing the whole portfolio.", color="warning", className="py-2")


def page_intro(title: str, blurb: str) -> html.Div:
    """The page title with a line on what the page answers."""
    return html.Div([html.H1(title, className="h4 mb-0"), html.P(blurb, className="text-secondary small mb-2")])


def no_snapshot_page(title: str) -> html.Div:
    """The whole page when there is no snapshot yet: its title and a pointer to the Watchtower."""
    return html.Div([html.H1(title, className="h4"), no_snapshot()])


def scoped_items(*, session: Any, query: dict[str, Any]) -> tuple[svc.Items | None, dbc.Alert | None]:
    """The latest snapshot's items for the URL's scope as today's model (:func:`services.whatif_baseline.load_model`:
    stored levels, one-shot SKUs as their season's newsvendor, stopped sellers without demand), or the whole
    portfolio and a warning when nothing matches."""
    scope = scope_from_query(query)
    items = whatif_baseline.load_model(session=session, scope=scope)
    if items is not None:
        return items, None
    return whatif_baseline.load_model(session=session, scope=svc.Scope(kind="portfolio")), unknown_scope(scope)
