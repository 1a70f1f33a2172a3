"""The portfolio briefing (executives): KPIs against the previous run, status tiles, the riskiest SKUs, the biggest
movers, the purchase orders to place, forecast value added, the commentary and the method notes.

Pure: typed facts in (:class:`reports.data.PortfolioBriefing`), PDF bytes out; the house style is
:mod:`reports.pdf_base`. Charts come from :mod:`reports.charts` as SVG and are embedded as vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpdf import FontFace
from fpdf.enums import TableBordersLayout, TableCellFillMode, XPos, YPos

from core import formats
from reports import charts
from reports.briefing_decisions import meeting_pack_section
from reports.data import (
    FvaRow,
    MethodNotes,
    Mover,
    PortfolioBriefing,
    PortfolioKpis,
    PurchaseOrderLine,
    RiskRow,
    is_missing,
)
from reports.exec_summary import executive_summary
from reports.formatting import (
    MISSING,
    NO_CHANGE,
    fmt_change,
    fmt_date,
    fmt_datetime,
    fmt_days,
    fmt_int,
    fmt_money,
    fmt_money_compact,
    fmt_num,
    fmt_pct,
    fmt_qty,
    fmt_signed_pct,
    rounds_to_zero,
)
from reports.pdf_base import (
    BODY_SIZE,
    FONT,
    MARGIN,
    MAX_CHART_ROWS,
    OVERDUE_FACE,
    SMALL_SIZE,
    BriefingPDF,
    make_pdf,
    pdf_bytes,
    rgb,
)
from reports.theme import BRAND, STATUS_ORDER, status_color, status_label, tint

# (key, label, kind for formatting, which direction is better: "up" | "down" | None)
KPI_ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("sku_count", "SKUs in scope", "count", None),
    ("inventory_value", "Inventory value (at cost)", "money", None),
    ("value_at_risk", "Value at risk", "money", "down"),
    ("fill_rate", "Fill rate", "fraction", "up"),
    ("turns", "Inventory turns (per year)", "number", "up"),
    ("days_of_supply", "Days of supply", "number", None),
    ("wape", "Forecast error (WAPE)", "fraction", "down"),
)


def build_portfolio_briefing(
    data: PortfolioBriefing, *, cjk_font_path: str | Path | None = None, lang: str | None = None
) -> bytes:
    """Build the portfolio briefing PDF.

    Sections: cover block (title, company, generation time, data as-of date, run id, scope); KPI table with
    the change against the previous run; status distribution chart and per-status counts; commentary with
    its provider, model and time; top risks in the given order with their reasons; top movers; recommended
    purchase orders; forecast value added (when rows are given); method appendix. A portfolio with zero SKUs
    gives a one-page briefing saying so.

    Parameters
    ----------
    data
        The facts to print (see :class:`reports.data.PortfolioBriefing`).
    cjk_font_path
        Optional CJK font file; by default a known installed font is used when the text needs one.
    lang
        The document's language (BCP 47, e.g. "en-GB"); by default ``DEFAULT_LANG``
        (the briefing service passes the settings' ``APP_LOCALE``).

    Returns
    -------
    bytes
        The PDF document.
    """
    if not isinstance(data, PortfolioBriefing):
        raise ValueError(f"data must be a PortfolioBriefing, got {type(data).__name__}")
    pdf = make_pdf(data, header_right=f"{data.title} \u00b7 {data.scope_label}", cjk_font_path=cjk_font_path, lang=lang)
    sym = data.currency_symbol
    pdf.cover(
        title=data.title,
        subtitle=data.scope_label,
        meta=(
            ("Company", data.company_name),
            ("Generated", fmt_datetime(data.generated_at)),
            ("Data as of", fmt_date(data.data_as_of)),
            ("Run", data.run_id),
        ),
    )
    empty = data.kpis.sku_count == 0
    _kpi_section(pdf, data.kpis, data.previous_kpis, symbol=sym, show_chart=not empty)
    if empty:
        pdf.ln(3)
        pdf.note_box(
            "No SKUs in scope for this run, so there are no risks, movers or purchase orders to report. "
            "Import sales history, the SKU master and stock on hand, then run a recompute to populate this briefing."
        )
        if data.commentary is not None and data.commentary.text.strip():
            pdf.section("Commentary", keep_with=20)
            pdf.commentary(data.commentary, empty_text="")
        return pdf_bytes(pdf)

    executive_summary(pdf, data)  # page 1: decisions needed and top risks (reports.exec_summary, issue 23)
    if data.policy_backtest:
        pdf.ln(2)
        pdf.note_box(data.policy_backtest)
    pdf.section("Commentary", keep_with=25)
    pdf.commentary(data.commentary, empty_text="No commentary was generated for this run.")

    _risk_section(pdf, data.top_risks, symbol=sym)
    _movers_section(pdf, data.top_movers)
    _purchase_order_section(
        pdf,
        data.purchase_orders,
        total_count=data.purchase_orders_total_count,
        total_value=data.purchase_orders_total_value,
        symbol=sym,
        as_of=data.generated_at,
    )
    if data.fva:
        _fva_section(pdf, data.fva)
    if data.capacity_alerts:
        pdf.section("Capacity", keep_with=20)
        pdf.note_box(" ".join(data.capacity_alerts), color=BRAND["bad"])
    meeting_pack_section(pdf, data.meeting_pack, symbol=sym)  # issue 19: the meeting pack, after page 1
    if data.method_notes is not None:
        _method_section(pdf, data.method_notes)
    return pdf_bytes(pdf)


def _kpi_value(kpis: PortfolioKpis | None, key: str) -> float | None:
    if kpis is None:
        return None
    value = getattr(kpis, key)
    return None if is_missing(value) else float(value)


def _money_fit(value: float | None, symbol: str, *, compact_from: float) -> str:
    """Whole money amount, or the compact form (``$1.50B``) from ``compact_from`` on so narrow columns do not wrap."""
    if not is_missing(value) and abs(value) >= compact_from:  # type: ignore[arg-type]
        return fmt_money_compact(value, symbol)
    return fmt_money(value, symbol)


def _fmt_kpi(value: float | None, kind: str, symbol: str) -> str:
    if kind == "count":
        return fmt_int(value)
    if kind == "money":
        return _money_fit(value, symbol, compact_from=1e9)
    if kind == "fraction":
        return fmt_pct(value)
    return fmt_num(value, 1)


def _change_color(current: float | None, previous: float | None, better: str | None, *, text: str = "") -> str:
    """Green when the KPI improved, red when it worsened, grey when neither or when the change ``text`` reads
    "no change" (below display precision: the Watchtower's rule)."""
    if better is None or current is None or previous is None or current == previous or text == NO_CHANGE:
        return BRAND["muted"]
    improved = (current > previous) == (better == "up")
    return BRAND["good"] if improved else BRAND["bad"]


def _kpi_section(
    pdf: BriefingPDF, kpis: PortfolioKpis, previous: PortfolioKpis | None, *, symbol: str, show_chart: bool
) -> None:
    pdf.section("Key figures", keep_with=60)
    y0 = pdf.get_y()
    table_width = 116.0 if show_chart else pdf.epw
    prev_label = "Previous" if previous is not None else "Previous (none)"
    with pdf.table(
        width=table_width,
        align="LEFT",
        col_widths=(38, 24, 22, 32) if show_chart else (70, 35, 35, 40),
        line_height=4.6,
    ) as table:
        head = table.row()
        for text, align in (("Indicator", "LEFT"), ("Current", "RIGHT"), (prev_label, "RIGHT"), ("Change", "RIGHT")):
            head.cell(text, align=align)
        for key, label, kind, better in KPI_ROWS:
            cur, prev = _kpi_value(kpis, key), _kpi_value(previous, key)
            row = table.row()
            row.cell(label)
            row.cell(_fmt_kpi(cur, kind, symbol), align="RIGHT", style=FontFace(emphasis="BOLD"))
            row.cell(_fmt_kpi(prev, kind, symbol), align="RIGHT", style=FontFace(color=rgb(BRAND["muted"])))
            change = fmt_change(cur, prev, kind=kind, symbol=symbol)
            row.cell(
                change,
                align="RIGHT",
                style=FontFace(color=rgb(_change_color(cur, prev, better, text=change))),
            )
    y_table_end = pdf.get_y()
    if show_chart:
        chart_w, chart_h = pdf.epw - table_width - 4, max(y_table_end - y0, 48.0)
        svg = charts.status_distribution_chart(
            kpis.status_counts, width_mm=chart_w, height_mm=chart_h, cjk_font_path=pdf.cjk_font_path
        )
        alt = "SKUs per status: " + ", ".join(f"{status_label(s)} {kpis.count(s):,}" for s in STATUS_ORDER)
        pdf.image_svg(svg, x=MARGIN + table_width + 4, y=y0, w=chart_w, h=chart_h, alt_text=alt)
        pdf.set_y(max(y_table_end, y0 + chart_h))
    pdf.ln(3)
    _status_tiles(pdf, kpis, previous)


def _status_tiles(pdf: BriefingPDF, kpis: PortfolioKpis, previous: PortfolioKpis | None) -> None:
    """One tile per status: colour bar, label, count, change against the previous run."""
    statuses = list(STATUS_ORDER) + sorted(s for s in kpis.status_counts if s not in STATUS_ORDER)
    gap = 2.0
    width = (pdf.epw - gap * (len(statuses) - 1)) / len(statuses)
    height = 17.0
    pdf.ensure_space(height + 2)
    y = pdf.get_y()
    for i, status in enumerate(statuses):
        x = MARGIN + i * (width + gap)
        color = status_color(status)
        pdf.set_fill_color(*tint(color, 0.9))
        pdf.rect(x, y, width, height, style="F")
        pdf.set_fill_color(*rgb(color))
        pdf.rect(x, y, width, 1.2, style="F")
        pdf.set_xy(x + 1.5, y + 2)
        pdf.set_font(FONT, "B", SMALL_SIZE - 0.5)
        pdf.set_text_color(*rgb(color))
        pdf.cell(width - 3, 3.5, status_label(status).upper())
        count = kpis.count(status)
        pdf.set_xy(x + 1.5, y + 6)
        pdf.set_font(FONT, "B", 13)
        pdf.set_text_color(*rgb(BRAND["text"]))
        pdf.cell(width - 3, 6, fmt_int(count))
        pdf.set_xy(x + 1.5, y + 12.2)
        pdf.set_font(FONT, "", SMALL_SIZE - 1)
        pdf.set_text_color(*rgb(BRAND["muted"]))
        if previous is not None:
            change = fmt_change(count, previous.count(status), kind="count")
            note = f"{change} vs previous" if change != NO_CHANGE else "unchanged"
        else:
            share = count / kpis.sku_count if kpis.sku_count else 0.0
            note = f"{share:.0%} of SKUs"
        pdf.cell(width - 3, 3.5, note)
    pdf.set_y(y + height)
    pdf._reset_style()


def _risk_section(pdf: BriefingPDF, rows: Sequence[RiskRow], *, symbol: str) -> None:
    pdf.section("Top risks", keep_with=min(20 + 9 * len(rows), 110))
    if not rows:
        pdf.paragraph("No SKU is at risk in this run.", color=BRAND["muted"])
        return
    pdf.paragraph(
        "Ranked by value at risk. Cover is in days at the forecast rate.", size=SMALL_SIZE, color=BRAND["muted"]
    )
    pdf.ln(1)
    with pdf.table(col_widths=(7, 24, 33, 18, 24, 43, 18, 13)) as table:
        head = table.row()
        for text, align in (
            ("#", "RIGHT"),
            ("SKU", "LEFT"),
            ("Name", "LEFT"),
            ("Category", "LEFT"),
            ("Status", "LEFT"),
            ("Reason", "LEFT"),
            ("Value at risk", "RIGHT"),
            ("Cover", "RIGHT"),
        ):
            head.cell(text, align=align)
        for rank, r in enumerate(rows, start=1):
            row = table.row()
            row.cell(str(rank), align="RIGHT", style=FontFace(color=rgb(BRAND["muted"])))
            row.cell(r.code, style=FontFace(emphasis="BOLD"))
            row.cell(r.name)
            row.cell(r.category or MISSING)
            row.cell(status_label(r.status), style=FontFace(emphasis="BOLD", color=rgb(status_color(r.status))))
            row.cell(r.reason or MISSING)
            row.cell(_money_fit(r.value_at_risk, symbol, compact_from=1e8), align="RIGHT")
            row.cell(fmt_days(r.days_of_cover), align="RIGHT")
    values = [r.value_at_risk for r in rows if not is_missing(r.value_at_risk)]
    if values and max(values) > 0:
        charted = list(rows)[:MAX_CHART_ROWS]  # the table lists every row; the chart stays within one page
        height = 10 + 5.2 * len(charted)
        pdf.ln(3)
        pdf.ensure_space(height)
        svg = charts.risk_value_chart(
            charted, currency_symbol=symbol, width_mm=pdf.epw, height_mm=height, cjk_font_path=pdf.cjk_font_path
        )
        y = pdf.get_y()
        bars = ", ".join(f"{r.code} {_money_fit(r.value_at_risk, symbol, compact_from=1e8)}" for r in charted)
        pdf.image_svg(svg, x=MARGIN, y=y, w=pdf.epw, h=height, alt_text=f"Value at risk by SKU: {bars}")
        pdf.set_y(y + height)


def _movers_section(pdf: BriefingPDF, rows: Sequence[Mover]) -> None:
    pdf.section("Top movers", keep_with=30)
    if not rows:
        pdf.paragraph("No SKU moved markedly against its baseline.", color=BRAND["muted"])
        return
    pdf.paragraph(
        "Recent demand (mean of the latest periods) against the baseline before it, units per period.",
        size=SMALL_SIZE,
        color=BRAND["muted"],
    )
    pdf.ln(1)
    with pdf.table(col_widths=(28, 76, 26, 26, 24)) as table:
        head = table.row()
        for text, align in (
            ("SKU", "LEFT"),
            ("Name", "LEFT"),
            ("Recent", "RIGHT"),
            ("Baseline", "RIGHT"),
            ("Change", "RIGHT"),
        ):
            head.cell(text, align=align)
        for m in rows:
            row = table.row()
            row.cell(m.code, style=FontFace(emphasis="BOLD"))
            row.cell(m.name)
            row.cell(fmt_num(m.demand_recent, 1), align="RIGHT")
            row.cell(fmt_num(m.demand_baseline, 1), align="RIGHT")
            text = fmt_signed_pct(m.change_pct)
            # "+0%" is neither up nor down; "new" (no baseline) is up
            moved = not is_missing(m.change_pct) and (math.isinf(m.change_pct) or not rounds_to_zero(text))  # type: ignore[arg-type]
            up = moved and m.change_pct > 0  # type: ignore[operator]
            color = status_color("surge") if up else status_color("low_velocity") if moved else BRAND["muted"]
            arrow = "\u25b2 " if up else "\u25bc " if moved else ""
            row.cell(arrow + text, align="RIGHT", style=FontFace(emphasis="BOLD", color=rgb(color)))


def _order_by_cell(row: Any, order_by: Any, as_of: Any) -> None:
    """An order-by date cell: ISO, with "overdue by N days" in red when it is before ``as_of``."""
    late = formats.overdue_days(order_by, as_of) if as_of is not None and order_by is not None else None
    if late:
        row.cell(f"{fmt_date(order_by)}\n{formats.overdue_text(late)}", style=OVERDUE_FACE)
    else:
        row.cell(fmt_date(order_by))


def _purchase_order_section(
    pdf: BriefingPDF,
    rows: Sequence[PurchaseOrderLine],
    *,
    total_count: int | None,
    total_value: float | None,
    symbol: str,
    as_of: Any = None,
) -> None:
    """The recommended order lines; an order-by date before ``as_of`` (the briefing's date) reads "overdue by N
    days" in red under the date (:func:`core.formats.overdue_days`)."""
    pdf.section("Recommended purchase orders", keep_with=30)
    if not rows:
        pdf.paragraph("No purchase order is recommended in this run.", color=BRAND["muted"])
        return
    shown_value = sum(r.value for r in rows if not is_missing(r.value))
    count = total_count if total_count is not None else len(rows)
    value = total_value if total_value is not None else shown_value
    summary = f"{fmt_int(count)} recommended line{'s' if count != 1 else ''}, total value {fmt_money(value, symbol)}."
    if count > len(rows):
        summary += f" The {len(rows)} most urgent are listed."
    pdf.paragraph(
        summary + " Quantities are rounded to MOQ and order multiples; approve them in the app.",
        size=SMALL_SIZE,
        color=BRAND["muted"],
    )
    pdf.ln(1)
    with pdf.table(col_widths=(34, 24, 50, 16, 34, 22)) as table:
        head = table.row()
        for text, align in (
            ("Supplier", "LEFT"),
            ("SKU", "LEFT"),
            ("Name", "LEFT"),
            ("Qty", "RIGHT"),
            ("Order by", "LEFT"),
            ("Value", "RIGHT"),
        ):
            head.cell(text, align=align)
        for r in rows:
            row = table.row()
            row.cell(r.supplier or MISSING)
            row.cell(r.code, style=FontFace(emphasis="BOLD"))
            row.cell(r.name)
            row.cell(fmt_qty(r.qty), align="RIGHT", style=FontFace(emphasis="BOLD"))
            _order_by_cell(row, r.order_by, as_of)
            row.cell(fmt_money(r.value, symbol), align="RIGHT")
        total = table.row()
        total.cell(f"Total of the {len(rows)} listed lines", colspan=5, style=FontFace(emphasis="BOLD"))
        total.cell(fmt_money(shown_value, symbol), align="RIGHT", style=FontFace(emphasis="BOLD"))


def _fva_section(pdf: BriefingPDF, rows: Sequence[FvaRow]) -> None:
    pdf.section("Forecast value added by overrides", keep_with=25)
    pdf.paragraph(
        "WAPE of the statistical forecast against the forecast after planner overrides. Positive FVA "
        "(percentage points) means the overrides reduced the error.",
        size=SMALL_SIZE,
        color=BRAND["muted"],
    )
    pdf.ln(1)
    with pdf.table(col_widths=(72, 36, 36, 36)) as table:
        head = table.row()
        for text, align in (
            ("Group", "LEFT"),
            ("Statistical WAPE", "RIGHT"),
            ("Override WAPE", "RIGHT"),
            ("FVA (pp)", "RIGHT"),
        ):
            head.cell(text, align=align)
        for r in rows:
            row = table.row()
            row.cell(r.group)
            row.cell(fmt_pct(r.stat_wape), align="RIGHT")
            row.cell(fmt_pct(r.override_wape), align="RIGHT")
            text = MISSING if is_missing(r.fva_points) else f"{r.fva_points:+.1f}"
            if rounds_to_zero(text):  # "-0.0" is neither a gain nor a loss
                text = "0.0" if text != MISSING else text
            color = (
                BRAND["muted"] if rounds_to_zero(text) else (BRAND["good"] if r.fva_points > 0 else BRAND["bad"])  # type: ignore[operator]
            )
            row.cell(text, align="RIGHT", style=FontFace(emphasis="BOLD", color=rgb(color)))


def _method_section(pdf: BriefingPDF, notes: MethodNotes) -> None:
    pdf.section("Method notes", keep_with=30)
    pdf.set_font(FONT, "B", BODY_SIZE - 0.5)
    pdf.cell(0, 4.6, "Service level policy", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.paragraph(notes.service_level_policy, size=BODY_SIZE - 0.5)
    if notes.formulas:
        pdf.ln(2)
        with pdf.table(
            col_widths=(34, 146),
            borders_layout=TableBordersLayout.NONE,
            cell_fill_mode=TableCellFillMode.NONE,
            first_row_as_headings=False,
            v_align="TOP",
        ) as table:
            for name, formula in notes.formulas:
                row = table.row()
                row.cell(name, style=FontFace(emphasis="BOLD", color=rgb(BRAND["primary"])))
                row.cell(formula)
    for note in notes.notes:
        pdf.ln(1)
        pdf.paragraph(note, size=SMALL_SIZE, color=BRAND["muted"])


# --------------------------------------------------------------------------------------------- one SKU
