"""The executive summary on page 1 of the portfolio briefing (issue 23: page 1 was 40 % blank): two panels side by
side under the key figures, "Decisions needed" (the orders awaiting approval, overdue ones first, and capacity
alerts) and "Top risks" (the riskiest SKUs in one line each), so an executive reads the decisions and the risks
without turning the page. The full tables follow on the next pages.

Pure: draws on a :class:`reports.pdf_base.BriefingPDF` from :class:`reports.data.PortfolioBriefing` facts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fpdf.enums import XPos, YPos

from reports.data import PortfolioBriefing, is_missing
from reports.formatting import fmt_date, fmt_int, fmt_money, fmt_qty
from reports.pdf_base import FONT, MARGIN, SMALL_SIZE, rgb
from reports.theme import BRAND, status_color, status_label

MAX_LINES = 5  # per panel
GAP = 4.0  # mm between the panels
LINE = 3.6  # mm per text line


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def decision_lines(data: PortfolioBriefing) -> list[tuple[str, str | None]]:
    """("text", colour or None) lines of the "Decisions needed" panel, the headline first."""
    orders = list(data.purchase_orders)
    count = data.purchase_orders_total_count if data.purchase_orders_total_count is not None else len(orders)
    value = data.purchase_orders_total_value
    if value is None:
        value = sum(o.value for o in orders if not is_missing(o.value))
    today = _as_date(data.generated_at)
    overdue = [o for o in orders if today is not None and o.order_by < today]
    lines: list[tuple[str, str | None]] = []
    if count:
        money = fmt_money(value, data.currency_symbol)
        head = f"{fmt_int(count)} recommended order line{'s' if count != 1 else ''} ({money})"
        head += f" await approval; {fmt_int(len(overdue))} overdue." if overdue else " await approval."
        lines.append((head, BRAND["bad"] if overdue else None))
    pack = data.meeting_pack
    if pack is not None and pack.needed:
        for n in pack.needed:
            lines.append(
                (
                    f"{n.code} {n.name}: approve {fmt_qty(n.qty)} by {fmt_date(n.order_by)} "
                    f"({status_label(n.status)}, {fmt_money(n.value_at_risk, data.currency_symbol)} at risk)",
                    None,
                )
            )
    else:
        for o in sorted(orders, key=lambda o: o.order_by)[: MAX_LINES - 1]:
            late = today is not None and o.order_by < today
            lines.append(
                (
                    f"{o.code} {o.name}: order {fmt_qty(o.qty)} from {o.supplier or 'the supplier'} "
                    f"by {fmt_date(o.order_by)}" + (" (overdue)" if late else ""),
                    BRAND["bad"] if late else None,
                )
            )
    lines.extend((f"Capacity: {alert}", BRAND["bad"]) for alert in data.capacity_alerts)
    if not lines:
        lines.append(("No order or capacity decision is waiting.", BRAND["muted"]))
    return lines[:MAX_LINES]


def risk_lines(data: PortfolioBriefing) -> list[tuple[str, str | None]]:
    """("text", status colour) lines of the "Top risks" panel, in the given (ranked) order."""
    lines: list[tuple[str, str | None]] = []
    for r in list(data.top_risks)[:MAX_LINES]:
        at_risk = "" if is_missing(r.value_at_risk) else f", {fmt_money(r.value_at_risk, data.currency_symbol)} at risk"
        text = f"{r.code} {r.name} \u2013 {status_label(r.status)}: {r.reason}{at_risk}"
        lines.append((text, status_color(r.status)))
    if not lines:
        lines.append(("No SKU is at risk in this run.", BRAND["muted"]))
    return lines


def _panel(pdf: Any, x: float, y: float, width: float, title: str, lines: list[tuple[str, str | None]]) -> float:
    """Draw one panel; returns its bottom y."""
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", 10)
    pdf.set_text_color(*rgb(BRAND["primary"]))
    pdf.cell(width, 5.5, title, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_draw_color(*rgb(BRAND["accent"]))
    pdf.set_line_width(0.5)
    pdf.line(x, pdf.get_y(), x + 14, pdf.get_y())
    pdf.ln(1.5)
    for text, color in lines:
        top = pdf.get_y()
        pdf.set_fill_color(*rgb(color or BRAND["rule"]))
        pdf.rect(x, top + 0.9, 1.2, 1.8, style="F")
        pdf.set_xy(x + 3, top)
        pdf.set_font(FONT, "", SMALL_SIZE)
        pdf.set_text_color(*rgb(BRAND["muted"] if color == BRAND["muted"] else BRAND["text"]))
        pdf.multi_cell(width - 3, LINE, text, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT, max_line_height=LINE)
        pdf.set_x(x)
        pdf.ln(0.8)
    return pdf.get_y()


def executive_summary(pdf: Any, data: PortfolioBriefing) -> None:
    """Draw "Decisions needed" and "Top risks" side by side at the cursor (page 1, under the key figures)."""
    decisions, risks = decision_lines(data), risk_lines(data)
    pdf.ln(3)
    y = pdf.get_y()
    width = (pdf.epw - GAP) / 2
    bottom = max(
        _panel(pdf, MARGIN, y, width, "Decisions needed", decisions),
        _panel(pdf, MARGIN + width + GAP, y, width, "Top risks", risks),
    )
    pdf.set_xy(MARGIN, bottom)
    pdf.set_font(FONT, "", SMALL_SIZE)
    pdf.set_text_color(*rgb(BRAND["muted"]))
    pdf.cell(0, 4, "The full tables follow: top risks, recommended purchase orders, decisions.")
    pdf.ln(4)
    pdf._reset_style()
