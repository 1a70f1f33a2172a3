"""The meeting-pack pages of the portfolio briefing (issue 19 item 4): "Decisions needed", "Decisions since the last
briefing" with their outcomes, "Outcomes now known" and "What changed since" a cycle. Drawn after the one-page
executive summary by :func:`meeting_pack_section`, called from :func:`reports.briefing.build_portfolio_briefing`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fpdf import FontFace

from reports.data import DecisionLine, MeetingPack
from reports.formatting import fmt_date, fmt_datetime, fmt_days, fmt_money, fmt_qty
from reports.theme import BRAND, hex_to_rgb, status_label

SMALL = 7.5
OUTCOME_COLORS = {"known": BRAND["text"], "pending": BRAND["muted"], "none": BRAND["muted"]}


def meeting_pack_section(pdf: Any, pack: MeetingPack | None, *, symbol: str) -> None:
    """Draw the meeting pack on ``pdf`` (a :class:`reports.pdf_base.BriefingPDF`), starting after page 1."""
    if pack is None:
        return
    if pdf.page == 1:  # page 1 stays the executive summary
        pdf.add_page()
    _needed(pdf, pack, symbol=symbol)
    pdf.section(f"Decisions since {pack.since_label}", keep_with=25)
    if not pack.decisions:
        pdf.paragraph("No decision was recorded in this period.", color=BRAND["muted"])
    else:
        more = pack.decisions_total - len(pack.decisions)
        note = f" The {len(pack.decisions)} newest are listed of {pack.decisions_total}." if more > 0 else ""
        pdf.paragraph(
            "Orders approved, edited, rejected or received, overrides, policies applied, scenarios saved and cycles "
            "closed, with what has become of them so far." + note,
            size=SMALL,
            color=BRAND["muted"],
        )
        pdf.ln(1)
        _decision_table(pdf, pack.decisions)
    if pack.outcomes:
        pdf.section("Outcomes of earlier decisions", keep_with=25)
        pdf.paragraph("Decisions before that period whose outcome is now known.", size=SMALL, color=BRAND["muted"])
        pdf.ln(1)
        _decision_table(pdf, pack.outcomes)
    if pack.changes:
        pdf.section(f"What changed since {pack.changes_label}", keep_with=20)
        pdf.paragraph(" ".join(pack.changes[:1]), size=SMALL, color=BRAND["muted"])
        for line in pack.changes[1:]:
            pdf.paragraph("\u2022 " + line, size=SMALL + 1)


def _needed(pdf: Any, pack: MeetingPack, *, symbol: str) -> None:
    pdf.section("Decisions needed", keep_with=25)
    if not pack.needed:
        pdf.paragraph("No at-risk SKU is waiting for an order approval.", color=BRAND["muted"])
        return
    pdf.paragraph(
        "At-risk SKUs whose recommended order awaits approval, highest value at risk first.",
        size=SMALL,
        color=BRAND["muted"],
    )
    pdf.ln(1)
    with pdf.table(col_widths=(24, 44, 24, 24, 18, 16, 22, 22)) as table:
        head = table.row()
        for text in ("SKU", "Name", "Status", "Value at risk", "Cover", "Qty", "Order value", "Order by"):
            head.cell(text)
        for r in pack.needed:
            row = table.row()
            row.cell(r.code, style=FontFace(emphasis="BOLD"))
            row.cell(r.name)
            row.cell(status_label(r.status))
            row.cell(fmt_money(r.value_at_risk, symbol), align="RIGHT")
            row.cell(fmt_days(r.days_of_cover), align="RIGHT")
            row.cell(fmt_qty(r.qty), align="RIGHT")
            row.cell(fmt_money(r.order_value, symbol), align="RIGHT")
            row.cell(fmt_date(r.order_by))


def _decision_table(pdf: Any, rows: Sequence[DecisionLine]) -> None:
    with pdf.table(col_widths=(26, 22, 22, 62, 62)) as table:
        head = table.row()
        for text in ("When", "Decision", "SKU", "What", "Outcome"):
            head.cell(text)
        for r in rows:
            row = table.row()
            row.cell(fmt_datetime(r.at))
            row.cell(r.kind)
            row.cell(r.sku or "\u2013", style=FontFace(emphasis="BOLD"))
            row.cell(f"{r.what} ({r.user})")
            color = hex_to_rgb(OUTCOME_COLORS.get(r.outcome_state, BRAND["text"]))
            state = "" if r.outcome_state == "known" else f"[{r.outcome_state}] "
            row.cell(state + r.outcome, style=FontFace(color=color))
