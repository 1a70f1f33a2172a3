"""The house style of the PDF briefings (fpdf2): the A4 document with its header, footer ("Page X of Y"), fonts
and drawing helpers (:class:`BriefingPDF`), light-Markdown text, and :func:`make_pdf`, which opens a document with
its metadata. :mod:`reports.portfolio_doc` and :mod:`reports.sku_doc` draw on it.

Text is set in DejaVu Sans (shipped with matplotlib) with CJK fallback fonts: the installed one if any, then the
shipped subset (see :mod:`reports.fonts`); characters no embedded font can draw print as U+FFFD instead of failing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace, ViewerPreferences
from fpdf.enums import MethodReturnValue, PageMode, TableBordersLayout, TableCellFillMode, XPos, YPos

from reports.data import (
    Commentary,
    PortfolioBriefing,
    SkuBriefing,
)
from reports.fonts import REPLACEMENT_CHAR, FontSet, font_set
from reports.formatting import (
    fmt_date_prose,
    fmt_datetime,
)
from reports.theme import BRAND, hex_to_rgb, status_color, status_label, tint

FONT = "dejavu"
CJK_FONT = "cjkfallback"
BUNDLED_CJK = "cjksubset"
PRODUCT = "Inventory Command Center"

MARGIN = 15.0  # mm, left / right
TOP = 20.0  # mm, first line under the header
BOTTOM = 17.0  # mm, automatic page break margin (the footer sits inside it)
BODY_SIZE = 9.0
SMALL_SIZE = 7.5
TABLE_SIZE = 7.5
MAX_CHART_ROWS = 15

DEFAULT_LANG = "en"
"""The PDF's language when the caller names none (BCP 47)."""


def rgb(color: str) -> tuple[int, int, int]:
    """An RGB triple of a ``#rrggbb`` colour."""
    return hex_to_rgb(color)


# --------------------------------------------------------------------------------------------- the document


class BriefingPDF(FPDF):
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
        # per glyph: the shipped CJK subset, then the installed CJK font for what the subset lacks (loaded only
        # then: parsing a 5 MB font costs time); a font the caller names (cjk_font_path) comes first (reports.fonts)
        candidates = [(BUNDLED_CJK, fonts.bundled, 0), (CJK_FONT, fonts.cjk, fonts.cjk_index)]
        if cjk_font_path is not None:
            candidates.reverse()
        fallbacks = []
        for name, path, index in candidates:
            missing = [c for c in missing if c not in covered]
            if not missing or path is None:
                continue
            try:  # only the code points the document needs: faster to load and to subset
                self.add_font(name, "", path, collection_font_number=index, unicode_range=missing)
            except Exception:  # noqa: BLE001, S112 - an unreadable fallback font must not break the briefing
                continue
            fallbacks.append(name)
            covered |= set(self.fonts[name].cmap)
        if fallbacks:
            self.set_fallback_fonts(fallbacks, exact_match=False)
        self._covered = frozenset(covered)
        self._normalized: dict[str, str] = {}
        self.set_text_color(*rgb(BRAND["text"]))
        self.set_draw_color(*rgb(BRAND["rule"]))
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
        self.set_text_color(*rgb(BRAND["primary"]))
        half = self.epw / 2
        self.cell(half, 5, fit_text(self, self.header_left, half - 2), align="L")
        self.set_font(FONT, "", SMALL_SIZE)
        self.set_text_color(*rgb(BRAND["muted"]))
        self.cell(half, 5, fit_text(self, self.header_right, half - 2), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*rgb(BRAND["primary"]))
        self.set_line_width(0.4)
        self.line(MARGIN, 13.8, self.w - MARGIN, 13.8)
        self._reset_style()
        self.set_y(TOP)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_draw_color(*rgb(BRAND["rule"]))
        self.set_line_width(0.2)
        self.line(MARGIN, self.get_y() - 1, self.w - MARGIN, self.get_y() - 1)
        self.set_font(FONT, "", SMALL_SIZE - 0.5)
        self.set_text_color(*rgb(BRAND["muted"]))
        width = self.epw * 0.75
        self.cell(width, 5, fit_text(self, self.footer_left, width - 2), align="L")
        self.cell(self.epw - width, 5, f"Page {self.page_no()} of {self.str_alias_nb_pages}", align="R")
        self._reset_style()

    def _reset_style(self) -> None:
        self.set_font(FONT, "", BODY_SIZE)
        self.set_text_color(*rgb(BRAND["text"]))
        self.set_draw_color(*rgb(BRAND["rule"]))
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
        self.set_text_color(*rgb(BRAND["primary"]))
        self.cell(0, 6.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*rgb(BRAND["accent"]))
        self.set_line_width(0.5)
        self.line(MARGIN, self.get_y(), MARGIN + 14, self.get_y())
        self.set_draw_color(*rgb(BRAND["rule"]))
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
        self.set_text_color(*rgb(color or BRAND["text"]))
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
        self.set_fill_color(*rgb(color))
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
        self.set_fill_color(*rgb(BRAND["primary"]))
        self.rect(MARGIN, y, self.epw, band, style="F")
        if accent:
            self.set_fill_color(*rgb(accent))
            self.rect(MARGIN, y, 2.2, band, style="F")
        self.set_xy(MARGIN + 6, y + 4)
        self.set_font(FONT, "B", 18)
        self.set_text_color(255, 255, 255)
        self.cell(self.epw - 12, 9, fit_text(self, title, self.epw - 12), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_x(MARGIN + 6)
        self.set_font(FONT, "", 10.5)
        self.set_text_color(*tint(BRAND["primary"], 0.75))
        self.cell(self.epw - 12, 7, fit_text(self, subtitle, self.epw - 12), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        # facts row
        y_meta = y + band
        height = 13.0
        self.set_fill_color(*rgb(BRAND["panel"]))
        self.rect(MARGIN, y_meta, self.epw, height, style="F")
        shares = (0.31, 0.27, 0.2, 0.22) if len(meta) == 4 else (1 / max(len(meta), 1),) * len(meta)
        x = MARGIN
        for i, ((label, value), share) in enumerate(zip(meta, shares, strict=True)):
            width = self.epw * share
            self.set_xy(x + 6 if i == 0 else x + 2, y_meta + 2)
            self.set_font(FONT, "", SMALL_SIZE - 0.5)
            self.set_text_color(*rgb(BRAND["muted"]))
            self.cell(width - 4, 4, label.upper())
            self.set_xy(x + 6 if i == 0 else x + 2, y_meta + 6.3)
            self.set_font(FONT, "B", BODY_SIZE - 0.5)
            self.set_text_color(*rgb(BRAND["text"]))
            self.cell(width - 8, 5, fit_text(self, value, width - 8))
            x += width
        self.set_y(y_meta + height + 2)
        self._reset_style()

    def status_pill(self, status: str, *, x: float, y: float, size: float = SMALL_SIZE) -> float:
        """Rounded coloured label; returns its width."""
        label = status_label(status)
        self.set_font(FONT, "B", size)
        width = self.get_string_width(label) + 4
        self.set_fill_color(*rgb(status_color(status)))
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
            "cell_fill_color": rgb(BRAND["row_alt"]),
            "cell_fill_mode": TableCellFillMode.EVEN_ROWS,
            "headings_style": FontFace(
                emphasis="BOLD",
                color=rgb(BRAND["heading_fg"]),
                fill_color=rgb(BRAND["heading_bg"]),
                size_pt=TABLE_SIZE,
            ),
            "line_height": 4.2,
            "padding": (1.0, 1.5, 1.0, 1.5),
            "text_align": "LEFT",
            "v_align": "MIDDLE",
        }
        defaults.update(kwargs)
        self.set_font(FONT, "", TABLE_SIZE)
        self.set_draw_color(*rgb(BRAND["rule"]))
        self.set_line_width(0.15)
        return super().table(*args, **defaults)

    def image_svg(self, svg: bytes, *, x: float, y: float, w: float, h: float | None = None, alt_text: str) -> None:
        """Draw a chart; ``alt_text`` (what it shows, with its numbers) is its tagged /Figure's text alternative."""
        import io

        # fpdf2 paints SVG shapes without an explicit fill in the current fill colour: make it the text colour
        self.set_fill_color(*rgb(BRAND["text"]))
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
        write_rich_text(self, commentary.text)


def fit_text(pdf: FPDF, text: str, width: float) -> str:
    """Truncate ``text`` with an ellipsis so it fits ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "\u2026") > width:
        text = text[:-1]
    return text + "\u2026"


_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def write_rich_text(pdf: BriefingPDF, text: str) -> None:
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
        pdf.set_text_color(*rgb(BRAND["text"]))
        if line.lstrip().startswith("#"):
            pdf.set_font(FONT, "B", BODY_SIZE + 0.5)
            pdf.set_text_color(*rgb(BRAND["primary"]))
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


def make_pdf(
    data: PortfolioBriefing | SkuBriefing, *, header_right: str, cjk_font_path: str | Path | None, lang: str | None
) -> BriefingPDF:
    """The document with its metadata: title (shown by viewers instead of the file name), language (``lang``, by
    default "en"; the briefing service passes the settings' APP_LOCALE), author, and the outline panel open on the
    section bookmarks."""
    fonts = font_set(cjk_font_path)
    pdf = BriefingPDF(
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


def pdf_bytes(pdf: FPDF) -> bytes:
    """The finished document's bytes."""
    return bytes(pdf.output())


# --------------------------------------------------------------------------------------------- portfolio

OVERDUE_FACE = FontFace(emphasis="BOLD", color=rgb(BRAND["bad"]))
