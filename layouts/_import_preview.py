"""Pieces of the Data page's import preview: what a demand file changes (periods, rows per SKU, SKUs not in the file,
incomplete periods), SKUs matched or created from product names with their near-duplicates, and grouped errors.

Built from ``ImportResult.as_dict()`` (plain data), so the callbacks only pass it through.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from layouts import _ids as ids

SHOWN_SKUS = 25
SHOWN_ABSENT = 12


def _table(head: list[str], rows: list[list[Any]], *, numeric: set[int] | None = None) -> dbc.Table:
    numeric = numeric or set()
    return dbc.Table(
        [
            html.Thead(
                html.Tr([html.Th(h, className="text-end" if i in numeric else None) for i, h in enumerate(head)])
            ),
            html.Tbody(
                [
                    html.Tr([html.Td(v, className="text-end" if i in numeric else None) for i, v in enumerate(row)])
                    for row in rows
                ]
            ),
        ],
        size="sm",
        bordered=False,
        className="small mb-1",
        style={"maxWidth": "720px"},
    )


def _per_sku(coverage: dict[str, Any]) -> html.Div | None:
    rows = coverage.get("per_sku") or []
    if not rows:
        return None
    shown = rows[:SHOWN_SKUS]
    zero = any(r["zero"] for r in shown)
    head = ["SKU", "rows added", "rows updated", *(["zero rows"] if zero else []), "first period", "last period"]
    body = [
        [
            r["code"],
            f"{r['added']:,}",
            f"{r['updated']:,}",
            *([f"{r['zero']:,}"] if zero else []),
            r["first"],
            r["last"],
        ]
        for r in shown
    ]
    more = coverage["sku_count"] - len(shown)
    return html.Div(
        [
            html.Div("What changes per SKU", className="small fw-semibold mb-1"),
            _table(head, body, numeric={1, 2, 3} if zero else {1, 2}),
            html.Div(f"… and {more:,} more SKUs", className="small text-muted") if more > 0 else None,
        ],
        id=ids.DATA_PREVIEW_SKUS,
        className="mb-2",
    )


def _absent(coverage: dict[str, Any]) -> dbc.Alert | None:
    count = coverage.get("absent_count") or 0
    if not count:
        return None
    listed = coverage.get("absent") or []
    items = ", ".join(f"{a['code']} (last reported {a['last_reported'] or 'never'})" for a in listed[:SHOWN_ABSENT])
    more = f", … {count - min(len(listed), SHOWN_ABSENT):,} more" if count > min(len(listed), SHOWN_ABSENT) else ""
    head = f"{count:,} active SKU{'s' if count != 1 else ''} not in this file: "
    if coverage.get("full_extract"):
        meaning = f"they will be recorded as zero sales for {coverage['period_text']} (full extract)."
    else:
        meaning = (
            "their history ends at their last reported period, nothing is recorded for them. "
            "If the file lists every active SKU (those sold nothing), tick Full extract."
        )
    return dbc.Alert(
        [
            html.Strong(head),
            meaning,
            html.Div(items + more, className="small text-muted mt-1") if items else None,
        ],
        id=ids.DATA_PREVIEW_ABSENT,
        color="info" if coverage.get("full_extract") else "warning",
        className="py-2 mb-2",
    )


def coverage_section(coverage: dict[str, Any] | None) -> html.Div | None:
    """Periods covered, incomplete periods, rows per SKU, and the active SKUs the file does not mention."""
    if not coverage:
        return None
    summary = (
        f"Periods covered: {coverage['period_text']}"
        + (
            f" ({coverage['aggregated_from']} rows summed into {coverage['grain']} periods)"
            if coverage.get("aggregated_from")
            else ""
        )
        + f". Rows: {coverage['added']:,} added, {coverage['updated']:,} updated, {coverage['unchanged']:,} unchanged"
        + (f" ({coverage['zero_rows']:,} zero rows of the full extract)" if coverage.get("zero_rows") else "")
        + "."
    )
    incomplete = [
        dbc.Alert(
            [html.Strong(f"Incomplete period {p['period']}: "), p["reason"] + "."],
            color="warning",
            className="py-2 mb-2",
        )
        for p in coverage.get("incomplete") or []
    ]
    return html.Div(
        [html.P(summary, className="small mb-2"), *incomplete, _absent(coverage), _per_sku(coverage)],
        id=ids.DATA_PREVIEW_COVERAGE,
    )


def names_section(names: dict[str, Any] | None) -> html.Div | None:
    """Names matched to SKUs, SKUs the import creates from names, and near-duplicates to confirm."""
    if not names:
        return None
    parts: list[Any] = []
    if names.get("by_name"):
        parts.append(
            html.P(
                f"{names['by_name']:,} product name{'s' if names['by_name'] != 1 else ''} matched to existing SKUs "
                "by their name (case and spaces ignored).",
                className="small mb-1",
            )
        )
    new = names.get("new") or []
    if new:
        listed = ", ".join(f"'{n['name']}' → {n['code']}" for n in new[:10])
        more = f", … {names['new_count'] - 10:,} more" if names["new_count"] > 10 else ""
        parts.append(html.P(f"New SKUs from names: {listed}{more}.", className="small mb-1"))
    near = names.get("near_duplicates") or []
    if near:
        rows = [
            html.Li(
                [
                    html.Strong(f"'{d['name']}'"),
                    " is close to ",
                    "; ".join(f"{s['code']} '{s['name']}'" for s in d["similar"]),
                ]
            )
            for d in near[:15]
        ]
        parts.append(
            dbc.Alert(
                [
                    html.Strong(
                        f"{len(near):,} new name{'s are' if len(near) != 1 else ' is'} close to existing SKU names. "
                    ),
                    "Each would become a new SKU with default master data. Correct the file if they are the same "
                    "product, or tick the confirmation below to create them.",
                    html.Ul(rows, className="small mb-0 mt-1"),
                ],
                id=ids.DATA_PREVIEW_NEAR,
                color="warning",
                className="py-2 mb-2",
            )
        )
    return html.Div(parts) if parts else None


def error_groups(groups: list[dict[str, Any]], total: int) -> html.Div | None:
    """One line per distinct problem: its count and the first line numbers (the report has every row)."""
    if not groups:
        return None
    items = []
    for g in groups:
        lines = g.get("lines") or []
        count = g["count"]
        unit = "row" if g.get("sheet") else "line"  # a workbook: the rows its spreadsheet shows, on that sheet
        where = (
            f"{count:,} rows: {unit}s {', '.join(str(x) for x in lines)}{', …' if count > len(lines) else ''}"
            if count > 1
            else (f"{unit} {lines[0]}" if lines else "file")
        )
        if g.get("sheet"):
            where = f"sheet '{g['sheet']}', {where}"
        values = g.get("values") or []
        example = f" (e.g. {', '.join(values)})" if values and count > 1 else (f" ({values[0]})" if values else "")
        items.append(
            html.Li(
                [
                    html.Span(where, className="fw-semibold"),
                    html.Span(f", column '{g['column']}'" if g.get("column") else ""),
                    f": {g['reason']}",
                    html.Span(example, className="text-muted"),
                ]
            )
        )
    note = f" ({total:,} in all; download the report for every row)" if total > len(groups) else ""
    return html.Div(
        [
            html.Div(f"Problems{note}", className="small fw-semibold text-danger"),
            html.Ul(items, className="small mb-0"),
        ],
        id=ids.DATA_PREVIEW_ERRORS,
    )


def confirm_row() -> html.Div:
    """The explicit tick an import needs when it would create SKUs whose names are close to existing ones."""
    return html.Div(
        dbc.Checkbox(
            id=ids.DATA_CONFIRM_NEW,
            label="I checked the near-duplicates above: create these SKUs anyway",
            value=False,
            className="fw-semibold",
        ),
        id=ids.DATA_CONFIRM_ROW,
        className="mt-2",
        style={"display": "none"},
    )


def format_notes() -> list[html.P]:
    """The File formats panel's notes on product names, coverage, full extracts, incomplete master data and
    workbooks."""
    return [
        html.P(
            "Product names: in demand, stock and receipts files a product_name (or name) column instead of a SKU "
            "code matches a SKU code first, then SKU names ignoring case and extra spaces ('lemonade  1.5 L' is "
            "'Lemonade 1.5 l'). A name shared by several SKUs is an error naming them (a location column picks one). "
            "Create unknown SKUs creates only names that match nothing; names close to an existing one are listed as "
            "near-duplicates and need a confirmation tick before the import.",
            className="small text-muted mb-1",
        ),
        html.P(
            "Coverage: a demand file changes only the SKUs and periods it holds; an active SKU missing from it keeps "
            "its history, which ends at its last reported period. Full extract says the file lists every active SKU: "
            "a missing SKU or period in the file's periods is recorded as zero sales. A daily file in a weekly "
            "(or monthly) history is summed into its periods; a period the file covers only in part is flagged "
            "as incomplete. SKUs created with defaults (unit cost, category, lead time, supplier) are flagged as "
            "incomplete master data until the SKU master provides those fields.",
            className="small text-muted mb-1",
        ),
        html.P(
            "Workbooks (.xlsx, .xlsm, .ods): the first sheet whose header fits the kind is read (title rows above the "
            "header are skipped); pick another in the Sheet of the workbook list after the check. Codes stored as "
            "text keep their leading zeros, date cells and Excel serial dates in date columns become dates, formulas "
            "give their saved values and macros never run; problems name the sheet and its row numbers. A "
            "password-protected or damaged workbook is refused.",
            className="small text-muted mb-0",
        ),
    ]
