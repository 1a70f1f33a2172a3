"""PDF briefings (fpdf2): a portfolio briefing for executives and a one-SKU briefing for planners.

Both builders are pure: typed facts in (:mod:`reports.data`), PDF bytes out; no database, no network.
Text is set in DejaVu Sans (shipped with matplotlib) with a CJK fallback font when one is installed
(see :mod:`reports.fonts`); characters no embedded font can draw print as U+FFFD instead of failing.
Charts come from :mod:`reports.charts` as SVG and are embedded as vectors.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace, ViewerPreferences
from fpdf.enums import Align, MethodReturnValue, PageMode, TableBordersLayout, TableCellFillMode, XPos, YPos

from ai import wording
from core import formats
from reports import charts
from reports.briefing_decisions import meeting_pack_section
from reports.data import (
    Commentary,
    FvaRow,
    MethodNotes,
    Mover,
    PolicyCard,
    PortfolioBriefing,
    PortfolioKpis,
    PurchaseOrderLine,
    RiskRow,
    SkuBriefing,
    TimeSeries,
    is_missing,
)
from reports.fonts import REPLACEMENT_CHAR, FontSet, font_set
from reports.formatting import (
    MISSING,
    NO_CHANGE,
    fmt_change,
    fmt_date,
    fmt_date_prose,
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
from reports.theme import BRAND, STATUS_ORDER, hex_to_rgb, status_color, status_label, tint

__all__ = ["build_portfolio_briefing", "build_sku_briefing"]

FONT = "dejavu"
CJK_FONT = "cjkfallback"
PRODUCT = "Inventory Command Center"

MARGIN = 15.0  # mm, left / right
TOP = 20.0  # mm, first line under the header
BOTTOM = 17.0  # mm, automatic page break margin (the footer sits inside it)
BODY_SIZE = 9.0
SMALL_SIZE = 7.5
TABLE_SIZE = 7.5
MAX_CHART_ROWS = 15

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

DEFAULT_LANG = "en"
"""The PDF's language when the caller names none (BCP 47)."""


def _rgb(color: str) -> tuple[int, int, int]:
    return hex_to_rgb(color)


# --------------------------------------------------------------------------------------------- the document


class _BriefingPDF(FPDF):
    """A4 portrait document with the house header, footer ("Page X of Y") and drawing helpers."""

    def __init__(
        self,
        *,
        fonts: FontSet,
        texts: Iterable[str],
        header_left: str,
        header_right: str,
        footer_left: str,
        cjk_font_path: str | Path | None,
    ) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.header_left = header_left
        self.header_right = header_right
        self.footer_left = footer_left
        self.cjk_font_path = cjk_font_path
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.c_margin = 1.2
        self.add_font(FONT, "", fonts.regular)
        self.add_font(FONT, "B", fonts.bold)
        covered = set(self.fonts[FONT].cmap)
        missing = sorted({ord(ch) for text in texts if not text.isascii() for ch in text} - covered - {10, 13, 9})
        if missing and fonts.cjk is not None:
            try:  # only the code points the document needs: faster to load and to subset
                self.add_font(CJK_FONT, "", fonts.cjk, collection_font_number=fonts.cjk_index, unicode_range=missing)
                self.set_fallback_fonts([CJK_FONT], exact_match=False)
                covered |= set(self.fonts[CJK_FONT].cmap)
            except Exception:  # noqa: BLE001 - an unreadable fallback font must not break the briefing
                pass
        self._covered = frozenset(covered)
        self._normalized: dict[str, str] = {}
        self.set_text_color(*_rgb(BRAND["text"]))
        self.set_draw_color(*_rgb(BRAND["rule"]))
        self.set_font(FONT, "", BODY_SIZE)

    # fpdf2 hook: every text goes through here before it is measured or drawn
    def normalize_text(self, text: str) -> str:
        if text.isascii():
            return super().normalize_text(text)
        cached = self._normalized.get(text)
        if cached is None:
            covered = self._covered
            cached = "".join(ch if ord(ch) in covered or ch in "\n\r\t" else REPLACEMENT_CHAR for ch in text)
            self._normalized[text] = cached
        return super().normalize_text(cached)

    def header(self) -> None:
        self.set_y(8)
        self.set_font(FONT, "B", SMALL_SIZE + 0.5)
        self.set_text_color(*_rgb(BRAND["primary"]))
        half = self.epw / 2
        self.cell(half, 5, _fit(self, self.header_left, half - 2), align="L")
        self.set_font(FONT, "", SMALL_SIZE)
        self.set_text_color(*_rgb(BRAND["muted"]))
        self.cell(half, 5, _fit(self, self.header_right, half - 2), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*_rgb(BRAND["primary"]))
        self.set_line_width(0.4)
        self.line(MARGIN, 13.8, self.w - MARGIN, 13.8)
        self._reset_style()
        self.set_y(TOP)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_draw_color(*_rgb(BRAND["rule"]))
        self.set_line_width(0.2)
        self.line(MARGIN, self.get_y() - 1, self.w - MARGIN, self.get_y() - 1)
        self.set_font(FONT, "", SMALL_SIZE - 0.5)
        self.set_text_color(*_rgb(BRAND["muted"]))
        width = self.epw * 0.75
        self.cell(width, 5, _fit(self, self.footer_left, width - 2), align="L")
        self.cell(self.epw - width, 5, f"Page {self.page_no()} of {self.str_alias_nb_pages}", align="R")
        self._reset_style()

    def _reset_style(self) -> None:
        self.set_font(FONT, "", BODY_SIZE)
        self.set_text_color(*_rgb(BRAND["text"]))
        self.set_draw_color(*_rgb(BRAND["rule"]))
        self.set_fill_color(255, 255, 255)
        self.set_line_width(0.2)

    # ---- layout helpers

    def space_left(self) -> float:
        return self.page_break_trigger - self.get_y()

    def ensure_space(self, height: float) -> None:
        """Start a new page unless ``height`` mm fit below the cursor."""
        if self.space_left() < height:
            self.add_page()

    def section(self, title: str, *, keep_with: float = 30.0) -> None:
        """Section heading kept together with ``keep_with`` mm of what follows; a bookmark in the outline."""
        if self.get_y() > TOP + 1:
            self.ln(4)
        self.ensure_space(10 + keep_with)
        self.start_section(title, level=1, strict=False)
        self.set_font(FONT, "B", 11.5)
        self.set_text_color(*_rgb(BRAND["primary"]))
        self.cell(0, 6.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*_rgb(BRAND["accent"]))
        self.set_line_width(0.5)
        self.line(MARGIN, self.get_y(), MARGIN + 14, self.get_y())
        self.set_draw_color(*_rgb(BRAND["rule"]))
        self.set_line_width(0.2)
        self.line(MARGIN + 14, self.get_y(), self.w - MARGIN, self.get_y())
        self.ln(2.5)
        self._reset_style()

    def paragraph(
        self,
        text: str,
        *,
        size: float = BODY_SIZE,
        style: str = "",
        color: str | None = None,
        line_height: float | None = None,
        align: str = "L",
    ) -> None:
        self.set_font(FONT, style, size)
        self.set_text_color(*_rgb(color or BRAND["text"]))
        self.multi_cell(0, line_height or size * 0.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._reset_style()

    def note_box(self, text: str, *, color: str | None = None) -> None:
        """Light panel with an accent bar on the left and wrapped text."""
        color = color or BRAND["accent"]
        self.set_font(FONT, "", BODY_SIZE)
        inner = self.epw - 8
        height = self.multi_cell(inner, 4.6, text, dry_run=True, output=MethodReturnValue.HEIGHT) + 5
        self.ensure_space(height + 2)
        y = self.get_y()
        self.set_fill_color(*tint(color, 0.9))
        self.rect(MARGIN, y, self.epw, height, style="F")
        self.set_fill_color(*_rgb(color))
        self.rect(MARGIN, y, 1.3, height, style="F")
        self.set_xy(MARGIN + 5, y + 2.5)
        self.multi_cell(inner, 4.6, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(y + height)
        self._reset_style()

    def cover(self, *, title: str, subtitle: str, meta: Sequence[tuple[str, str]], accent: str | None = None) -> None:
        """Title band and a row of ``(label, value)`` facts at the top of page 1 (the outline's top entry)."""
        self.start_section(title, level=0, strict=False)
        y = self.get_y()
        band = 25.0
        self.set_fill_color(*_rgb(BRAND["primary"]))
        self.rect(MARGIN, y, self.epw, band, style="F")
        if accent:
            self.set_fill_color(*_rgb(accent))
            self.rect(MARGIN, y, 2.2, band, style="F")
        self.set_xy(MARGIN + 6, y + 4)
        self.set_font(FONT, "B", 18)
        self.set_text_color(255, 255, 255)
        self.cell(self.epw - 12, 9, _fit(self, title, self.epw - 12), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_x(MARGIN + 6)
        self.set_font(FONT, "", 10.5)
        self.set_text_color(*tint(BRAND["primary"], 0.75))
        self.cell(self.epw - 12, 7, _fit(self, subtitle, self.epw - 12), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        # facts row
        y_meta = y + band
        height = 13.0
        self.set_fill_color(*_rgb(BRAND["panel"]))
        self.rect(MARGIN, y_meta, self.epw, height, style="F")
        shares = (0.31, 0.27, 0.2, 0.22) if len(meta) == 4 else (1 / max(len(meta), 1),) * len(meta)
        x = MARGIN
        for i, ((label, value), share) in enumerate(zip(meta, shares, strict=True)):
            width = self.epw * share
            self.set_xy(x + 6 if i == 0 else x + 2, y_meta + 2)
            self.set_font(FONT, "", SMALL_SIZE - 0.5)
            self.set_text_color(*_rgb(BRAND["muted"]))
            self.cell(width - 4, 4, label.upper())
            self.set_xy(x + 6 if i == 0 else x + 2, y_meta + 6.3)
            self.set_font(FONT, "B", BODY_SIZE - 0.5)
            self.set_text_color(*_rgb(BRAND["text"]))
            self.cell(width - 8, 5, _fit(self, value, width - 8))
            x += width
        self.set_y(y_meta + height + 2)
        self._reset_style()

    def status_pill(self, status: str, *, x: float, y: float, size: float = SMALL_SIZE) -> float:
        """Rounded coloured label; returns its width."""
        label = status_label(status)
        self.set_font(FONT, "B", size)
        width = self.get_string_width(label) + 4
        self.set_fill_color(*_rgb(status_color(status)))
        self.rect(x, y, width, size * 0.55, style="F", round_corners=True, corner_radius=1.2)
        self.set_text_color(255, 255, 255)
        self.set_xy(x, y)
        self.cell(width, size * 0.55, label, align="C")
        self._reset_style()
        return width

    def table(self, *args: Any, **kwargs: Any):
        """fpdf2 table with the house style (navy headings, zebra rows, horizontal rules, small text)."""
        defaults: dict[str, Any] = {
            "borders_layout": TableBordersLayout.HORIZONTAL_LINES,
            "cell_fill_color": _rgb(BRAND["row_alt"]),
            "cell_fill_mode": TableCellFillMode.EVEN_ROWS,
            "headings_style": FontFace(
                emphasis="BOLD",
                color=_rgb(BRAND["heading_fg"]),
                fill_color=_rgb(BRAND["heading_bg"]),
                size_pt=TABLE_SIZE,
            ),
            "line_height": 4.2,
            "padding": (1.0, 1.5, 1.0, 1.5),
            "text_align": "LEFT",
            "v_align": "MIDDLE",
        }
        defaults.update(kwargs)
        self.set_font(FONT, "", TABLE_SIZE)
        self.set_draw_color(*_rgb(BRAND["rule"]))
        self.set_line_width(0.15)
        return super().table(*args, **defaults)

    def image_svg(self, svg: bytes, *, x: float, y: float, w: float, h: float | None = None, alt_text: str) -> None:
        """Draw a chart; ``alt_text`` (what it shows, with its numbers) is its tagged /Figure's text alternative."""
        import io

        # fpdf2 paints SVG shapes without an explicit fill in the current fill colour: make it the text colour
        self.set_fill_color(*_rgb(BRAND["text"]))
        self.image(io.BytesIO(svg), x=x, y=y, w=w, h=h or 0, alt_text=alt_text)
        self.set_fill_color(255, 255, 255)

    def commentary(self, commentary: Commentary | None, *, empty_text: str) -> None:
        if commentary is None or not commentary.text.strip():
            self.paragraph(empty_text, color=BRAND["muted"])
            return
        when = fmt_datetime(commentary.generated_at)
        meta = f"Written by {commentary.provider} \u00b7 model {commentary.model} \u00b7 {when}"
        self.paragraph(meta, size=SMALL_SIZE, color=BRAND["muted"])
        if commentary.fell_back:
            self.paragraph(
                "The preferred writer was unavailable; this text comes from the fallback writer.",
                size=SMALL_SIZE,
                color=status_color("low_velocity"),
                style="",
            )
        self.ln(1.5)
        _write_rich_text(self, commentary.text)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Truncate ``text`` with an ellipsis so it fits ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "\u2026") > width:
        text = text[:-1]
    return text + "\u2026"


_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def _write_rich_text(pdf: _BriefingPDF, text: str) -> None:
    """Plain text with light Markdown: blank lines split paragraphs, ``-``/``*``/``1.`` bullets, ``#`` headings,
    ``**bold**`` markers removed (not rendered, so stray ``--`` or ``__`` in SKU codes cannot switch styles)."""
    line_height = 4.7
    pending_gap = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = _MD_EMPHASIS.sub(r"\2", raw.rstrip())
        if not line.strip():
            pending_gap = True
            continue
        if pending_gap:
            pdf.ln(2)
            pending_gap = False
        pdf.set_font(FONT, "", BODY_SIZE)
        pdf.set_text_color(*_rgb(BRAND["text"]))
        if line.lstrip().startswith("#"):
            pdf.set_font(FONT, "B", BODY_SIZE + 0.5)
            pdf.set_text_color(*_rgb(BRAND["primary"]))
            pdf.multi_cell(0, line_height + 0.5, line.lstrip("# ").strip(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        elif match := _BULLET.match(line):
            marker = match.group(0).strip()
            bullet = "\u2022" if marker in {"-", "*", "\u2022"} else marker
            pdf.set_x(MARGIN + 2)
            pdf.cell(5, line_height, bullet)
            pdf.multi_cell(
                pdf.epw - 7, line_height, line[match.end() :], align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        else:
            pdf.multi_cell(0, line_height, line.strip(), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf._reset_style()


# --------------------------------------------------------------------------------------------- text scan


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a dataclass tree (tells which code points the CJK fallback font must provide)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        if value and isinstance(value[0], int | float):
            return
        for item in value:
            yield from _strings(item)


def _make_pdf(
    data: PortfolioBriefing | SkuBriefing, *, header_right: str, cjk_font_path: str | Path | None, lang: str | None
) -> _BriefingPDF:
    """The document with its metadata: title (shown by viewers instead of the file name), language (``lang``, by
    default "en"; the briefing service passes the settings' APP_LOCALE), author, and the outline panel open on the
    section bookmarks."""
    fonts = font_set(cjk_font_path)
    pdf = _BriefingPDF(
        fonts=fonts,
        texts=_strings(data),
        header_left=data.company_name,
        header_right=header_right,
        footer_left=f"{PRODUCT} \u00b7 run {data.run_id} \u00b7 data as of {fmt_date_prose(data.data_as_of)}",
        cjk_font_path=cjk_font_path,
    )
    pdf.set_title(data.title)
    pdf.set_lang(lang or DEFAULT_LANG)
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.page_mode = PageMode.USE_OUTLINES
    pdf.set_author(data.company_name)
    pdf.set_creator(PRODUCT)
    pdf.set_creation_date(data.generated_at)
    pdf.alias_nb_pages()
    pdf.add_page()
    return pdf


def _output(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


# --------------------------------------------------------------------------------------------- portfolio


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
    pdf = _make_pdf(
        data, header_right=f"{data.title} \u00b7 {data.scope_label}", cjk_font_path=cjk_font_path, lang=lang
    )
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
        return _output(pdf)

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
    return _output(pdf)


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
    pdf: _BriefingPDF, kpis: PortfolioKpis, previous: PortfolioKpis | None, *, symbol: str, show_chart: bool
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
            row.cell(_fmt_kpi(prev, kind, symbol), align="RIGHT", style=FontFace(color=_rgb(BRAND["muted"])))
            change = fmt_change(cur, prev, kind=kind, symbol=symbol)
            row.cell(
                change,
                align="RIGHT",
                style=FontFace(color=_rgb(_change_color(cur, prev, better, text=change))),
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


def _status_tiles(pdf: _BriefingPDF, kpis: PortfolioKpis, previous: PortfolioKpis | None) -> None:
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
        pdf.set_fill_color(*_rgb(color))
        pdf.rect(x, y, width, 1.2, style="F")
        pdf.set_xy(x + 1.5, y + 2)
        pdf.set_font(FONT, "B", SMALL_SIZE - 0.5)
        pdf.set_text_color(*_rgb(color))
        pdf.cell(width - 3, 3.5, status_label(status).upper())
        count = kpis.count(status)
        pdf.set_xy(x + 1.5, y + 6)
        pdf.set_font(FONT, "B", 13)
        pdf.set_text_color(*_rgb(BRAND["text"]))
        pdf.cell(width - 3, 6, fmt_int(count))
        pdf.set_xy(x + 1.5, y + 12.2)
        pdf.set_font(FONT, "", SMALL_SIZE - 1)
        pdf.set_text_color(*_rgb(BRAND["muted"]))
        if previous is not None:
            change = fmt_change(count, previous.count(status), kind="count")
            note = f"{change} vs previous" if change != NO_CHANGE else "unchanged"
        else:
            share = count / kpis.sku_count if kpis.sku_count else 0.0
            note = f"{share:.0%} of SKUs"
        pdf.cell(width - 3, 3.5, note)
    pdf.set_y(y + height)
    pdf._reset_style()


def _risk_section(pdf: _BriefingPDF, rows: Sequence[RiskRow], *, symbol: str) -> None:
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
            row.cell(str(rank), align="RIGHT", style=FontFace(color=_rgb(BRAND["muted"])))
            row.cell(r.code, style=FontFace(emphasis="BOLD"))
            row.cell(r.name)
            row.cell(r.category or MISSING)
            row.cell(status_label(r.status), style=FontFace(emphasis="BOLD", color=_rgb(status_color(r.status))))
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


def _movers_section(pdf: _BriefingPDF, rows: Sequence[Mover]) -> None:
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
            row.cell(arrow + text, align="RIGHT", style=FontFace(emphasis="BOLD", color=_rgb(color)))


def _order_by_cell(row: Any, order_by: Any, as_of: Any) -> None:
    """An order-by date cell: ISO, with "overdue by N days" in red when it is before ``as_of``."""
    late = formats.overdue_days(order_by, as_of) if as_of is not None and order_by is not None else None
    if late:
        row.cell(f"{fmt_date(order_by)}\n{formats.overdue_text(late)}", style=OVERDUE_FACE)
    else:
        row.cell(fmt_date(order_by))


def _purchase_order_section(
    pdf: _BriefingPDF,
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


def _fva_section(pdf: _BriefingPDF, rows: Sequence[FvaRow]) -> None:
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
            row.cell(text, align="RIGHT", style=FontFace(emphasis="BOLD", color=_rgb(color)))


def _method_section(pdf: _BriefingPDF, notes: MethodNotes) -> None:
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
                row.cell(name, style=FontFace(emphasis="BOLD", color=_rgb(BRAND["primary"])))
                row.cell(formula)
    for note in notes.notes:
        pdf.ln(1)
        pdf.paragraph(note, size=SMALL_SIZE, color=BRAND["muted"])


# --------------------------------------------------------------------------------------------- one SKU


def build_sku_briefing(data: SkuBriefing, *, cjk_font_path: str | Path | None = None, lang: str | None = None) -> bytes:
    """Build the one-SKU briefing PDF.

    Sections: cover block; status banner with its reason; SKU master and stock / order facts; demand history
    with forecast band and overrides; projected stock path with safety stock, reorder point and the recommended
    order; policy card (classification, service level, lead time and its source, safety stock, reorder point,
    EOQ, newsvendor quantity, order policy -- one-shot (newsvendor) with its critical ratio and horizon demand, or
    replenishment --, reorder-point method and why); forecast model with its accuracy and the runners-up;
    commentary.

    Parameters
    ----------
    data
        The facts to print (see :class:`reports.data.SkuBriefing`).
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
    if not isinstance(data, SkuBriefing):
        raise ValueError(f"data must be a SkuBriefing, got {type(data).__name__}")
    sku, policy = data.sku, data.policy
    sym = data.currency_symbol
    pdf = _make_pdf(data, header_right=f"{data.title} \u00b7 {sku.code}", cjk_font_path=cjk_font_path, lang=lang)
    pdf.cover(
        title=data.title,
        subtitle=f"{sku.code} \u2014 {sku.name}",
        meta=(
            ("Company", data.company_name),
            ("Generated", fmt_datetime(data.generated_at)),
            ("Data as of", fmt_date(data.data_as_of)),
            ("Run", data.run_id),
        ),
        accent=status_color(data.status),
    )
    _status_banner(pdf, data.status, data.status_reason)

    order = data.recommended_order
    master = [
        ("SKU", sku.code),
        ("Name", sku.name),
        ("Category", sku.category or MISSING),
        ("Supplier", sku.supplier or MISSING),
        ("Location", sku.location or MISSING),
        ("Unit cost / price", f"{_money2(sku.unit_cost, sym)} / {_money2(sku.unit_price, sym)}"),
        ("MOQ / order multiple", f"{fmt_qty(sku.moq)} / {fmt_qty(sku.order_multiple)}"),
    ]
    stock = [
        ("On hand", fmt_qty(sku.on_hand)),
        ("On order", fmt_qty(sku.on_order)),
        ("Days of cover", _cover_text(policy)),
        ("Safety stock", fmt_qty(policy.safety_stock)),
        ("Reorder point", fmt_qty(policy.reorder_point)),
        ("Recommended order", fmt_qty(order.qty) if order else "none"),
        ("Order by", _order_by_text(order.order_by, data.generated_at) if order else MISSING),
    ]
    if order is not None and not is_missing(order.value):
        stock.append(("Order value", fmt_money(order.value, sym)))
    pdf.section("SKU and stock position", keep_with=45)
    _two_kv_tables(pdf, ("SKU master", master), ("Stock and order", stock))

    demand_h, stock_h = 56.0, 50.0
    pdf.section("Demand and forecast", keep_with=demand_h)
    y = pdf.get_y()
    svg = charts.demand_forecast_chart(
        data.history,
        data.forecast,
        data.overrides,
        data_as_of=data.data_as_of,
        width_mm=pdf.epw,
        height_mm=demand_h,
        cjk_font_path=pdf.cjk_font_path,
    )
    pdf.image_svg(svg, x=MARGIN, y=y, w=pdf.epw, h=demand_h, alt_text=_series_alt("Demand history", data.history))
    pdf.set_y(y + demand_h)
    caption = (
        f"{sku.grain.capitalize()} periods. Forecast by {policy.forecast_model}; shaded band p10 to p90."
        if len(data.forecast)
        else f"{sku.grain.capitalize()} periods. No forecast in this run."
    )
    if len(data.overrides):
        caption += (
            f" {len(data.overrides)} planner override{'s' if len(data.overrides) != 1 else ''} shown as diamonds."
        )
    pdf.paragraph(caption, size=SMALL_SIZE, color=BRAND["muted"])

    pdf.section("Projected stock", keep_with=stock_h)
    y = pdf.get_y()
    svg = charts.stock_projection_chart(
        data.projected_stock,
        safety_stock=policy.safety_stock,
        reorder_point=policy.reorder_point,
        order=order,
        width_mm=pdf.epw,
        height_mm=stock_h,
        cjk_font_path=pdf.cjk_font_path,
    )
    alt = _series_alt("Projected stock", data.projected_stock)
    alt += f"; safety stock {fmt_qty(policy.safety_stock)}, reorder point {fmt_qty(policy.reorder_point)}"
    pdf.image_svg(svg, x=MARGIN, y=y, w=pdf.epw, h=stock_h, alt_text=alt)
    pdf.set_y(y + stock_h)

    _policy_section(pdf, data)
    pdf.section("Commentary", keep_with=25)
    pdf.commentary(data.commentary, empty_text="No commentary was generated for this SKU.")
    return _output(pdf)


def _series_alt(name: str, series: TimeSeries) -> str:
    """A chart's text alternative: how many periods, the range of dates and the lowest, highest and last value."""
    values = [float(v) for v in series.values if not is_missing(v)]
    if not values:
        return f"{name}: no data"
    span = f" from {fmt_date(series.dates[0])} to {fmt_date(series.dates[-1])}"
    return (
        f"{name}: {len(values)} periods{span}; lowest {fmt_qty(min(values))}, highest {fmt_qty(max(values))},"
        f" last {fmt_qty(values[-1])}"
    )


def _money2(value: float | None, symbol: str) -> str:
    if is_missing(value):
        return MISSING
    return f"{'-' if value < 0 else ''}{symbol}{abs(value):,.2f}"  # type: ignore[operator,arg-type]


def _status_banner(pdf: _BriefingPDF, status: str, reason: str) -> None:
    color = status_color(status)
    pdf.set_font(FONT, "", BODY_SIZE)
    label_w = 34.0
    text_w = pdf.epw - label_w - 6
    height = max(
        pdf.multi_cell(text_w, 4.6, reason or MISSING, dry_run=True, output=MethodReturnValue.HEIGHT) + 6, 12.0
    )
    y = pdf.get_y() + 2
    pdf.set_fill_color(*tint(color, 0.88))
    pdf.rect(MARGIN, y, pdf.epw, height, style="F")
    pdf.set_fill_color(*_rgb(color))
    pdf.rect(MARGIN, y, 1.5, height, style="F")
    pdf.set_xy(MARGIN + 4, y + 2.5)
    pdf.set_font(FONT, "", SMALL_SIZE - 0.5)
    pdf.set_text_color(*_rgb(BRAND["muted"]))
    pdf.cell(label_w - 4, 3, "HEALTH STATUS")
    pdf.status_pill(status, x=MARGIN + 4, y=y + 6.2, size=BODY_SIZE)
    pdf.set_xy(MARGIN + label_w + 2, y + 3)
    pdf.set_font(FONT, "", BODY_SIZE)
    pdf.set_text_color(*_rgb(BRAND["text"]))
    pdf.multi_cell(text_w, 4.6, reason or MISSING, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(y + height)
    pdf._reset_style()


def _kv_table(pdf: _BriefingPDF, title: str, pairs: Sequence[tuple[str, str]], *, width: float, align: str) -> None:
    label_w = width * 0.42
    with pdf.table(
        width=width,
        align=align,
        col_widths=(label_w, width - label_w),
        headings_style=FontFace(
            emphasis="BOLD", color=_rgb(BRAND["primary"]), fill_color=_rgb(BRAND["panel"]), size_pt=TABLE_SIZE + 0.5
        ),
    ) as table:
        head = table.row()
        head.cell(title, colspan=2)
        for label, value in pairs:
            row = table.row()
            row.cell(label, style=FontFace(color=_rgb(BRAND["muted"])))
            overdue = "overdue by" in value  # an order-by date past the briefing's date (_order_by_text): red
            row.cell(value, style=OVERDUE_FACE if overdue else FontFace(emphasis="BOLD"))


def _pattern_text(p: PolicyCard) -> str:
    """ "smooth (ADI 1.05: regular)": the demand class and its ADI in the words of ai.wording (as on the SKU page)."""
    cls = p.demand_class.replace("_", " ") or MISSING
    band = wording.adi_band(p.adi)
    return f"{cls} (ADI {fmt_num(p.adi, 2)}: {band.word})" if band is not None else cls


def _cover_text(p: PolicyCard) -> str:
    """ "21 (short: below the 28-day lead time)": days of cover in the words of ai.wording's cover bands."""
    words = wording.cover_text(p.days_of_cover, p.lead_time_mean_days)
    return fmt_days(p.days_of_cover) + (f" ({words})" if words else "")


def _two_kv_tables(
    pdf: _BriefingPDF, left: tuple[str, Sequence[tuple[str, str]]], right: tuple[str, Sequence[tuple[str, str]]]
) -> None:
    width = (pdf.epw - 6) / 2
    rows = max(len(left[1]), len(right[1])) + 1
    pdf.ensure_space(rows * 6.5)
    y0, page0 = pdf.get_y(), pdf.page
    _kv_table(pdf, left[0], left[1], width=width, align=Align.L)
    if pdf.page != page0:  # the left table broke across pages: stack the right one below it
        pdf.ln(3)
        _kv_table(pdf, right[0], right[1], width=width, align=Align.L)
        return
    y_left = pdf.get_y()
    pdf.set_y(y0)
    _kv_table(pdf, right[0], right[1], width=width, align=Align.R)
    if pdf.page == page0:
        pdf.set_y(max(y_left, pdf.get_y()))


def _policy_section(pdf: _BriefingPDF, data: SkuBriefing) -> None:
    p = data.policy
    lead = f"{fmt_num(p.lead_time_mean_days)} d"
    if not is_missing(p.lead_time_std_days):
        lead += f" \u00b1 {fmt_num(p.lead_time_std_days)} d"
    policy = [
        ("Demand pattern", _pattern_text(p)),
        ("ABC / XYZ class", f"{p.abc or MISSING} / {p.xyz or MISSING}"),
        ("Forecast error", wording.cv_text(p.forecast_cv) or MISSING),
        ("Service level target", fmt_pct(p.service_level)),
        ("Lead time", lead),
        ("Lead time source", p.lead_time_source or MISSING),
        ("Safety stock", fmt_qty(p.safety_stock)),
        ("Reorder point", fmt_qty(p.reorder_point)),
        ("EOQ", fmt_qty(p.eoq)),
        ("Newsvendor quantity", fmt_qty(p.newsvendor_qty)),
        *_order_policy_rows(p, grain=data.sku.grain),
    ]
    forecast = [
        ("Chosen model", p.forecast_model or MISSING),
        ("MASE", fmt_num(p.mase, 2)),
        ("WAPE", fmt_pct(p.wape)),
        ("Bias", fmt_num(p.bias, 2)),
    ]
    for rank, (model, score) in enumerate(list(p.runners_up)[:5], start=1):
        forecast.append((f"Runner-up {rank}", f"{model} \u00b7 MASE {fmt_num(score, 2)}"))
    pdf.section("Policy card", keep_with=70)
    _two_kv_tables(pdf, ("Inventory policy", policy), ("Forecast model", forecast))
    pdf.ln(2.5)
    pdf.set_font(FONT, "B", SMALL_SIZE + 0.5)
    pdf.set_text_color(*_rgb(BRAND["primary"]))
    pdf.cell(0, 4.5, f"Reorder point method: {p.rop_method or MISSING}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.paragraph(p.rop_method_reason or MISSING, size=SMALL_SIZE + 0.5)
    if p.one_shot:
        pdf.paragraph(ONE_SHOT_NOTE, size=SMALL_SIZE, color=BRAND["muted"])


OVERDUE_FACE = FontFace(emphasis="BOLD", color=_rgb(BRAND["bad"]))


def _order_by_text(order_by: Any, as_of: Any) -> str:
    """The order-by date of the SKU briefing, ``2026-11-30 (overdue by 6 days)`` when it is before ``as_of``."""
    late = formats.overdue_days(order_by, as_of) if as_of is not None else None
    return f"{fmt_date(order_by)} ({formats.overdue_text(late)})" if late else fmt_date(order_by)


ONE_SHOT_POLICY = "One-shot (newsvendor)"
PHASE_OUT_POLICY = "Phase-out (stopped seller, not replenished)"
REPLENISHMENT_POLICY = "Replenishment"
ONE_SHOT_NOTE = (
    "One-shot buy: ordered once with the newsvendor quantity less the inventory position; "
    "the reorder point does not trigger it."
)
_PERIOD_UNITS = {"daily": "day", "weekly": "week", "monthly": "month"}


def _order_policy_rows(p: PolicyCard, *, grain: str) -> list[tuple[str, str]]:
    """The policy card's order policy rows, as on the SKU page: a one-shot SKU is ordered by the newsvendor (its
    critical ratio and the demand over the forecast horizon), the others are replenished from the reorder point."""
    if p.phase_out:
        return [("Order policy", PHASE_OUT_POLICY)]
    if not p.one_shot:
        return [("Order policy", REPLENISHMENT_POLICY)]
    rows = [("Order policy", ONE_SHOT_POLICY), ("Critical ratio", fmt_num(p.critical_ratio, 2))]
    demand = fmt_int(p.horizon_demand)
    if p.horizon_periods and not is_missing(p.horizon_demand):
        unit = _PERIOD_UNITS.get(grain, "period")
        demand += f" over {p.horizon_periods} {unit}{'s' if p.horizon_periods != 1 else ''}"
    rows.append(("Horizon demand", demand))
    return rows
