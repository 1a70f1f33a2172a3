"""Briefing PDFs are tagged where fpdf2 allows (issue 25): title shown by viewers, language, an outline with a
bookmark per section on the page where it starts, and charts as tagged figures with a text alternative."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from reports import build_portfolio_briefing, build_sku_briefing
from reports.samples import sample_portfolio_briefing, sample_sku_briefing
from tests.slow.reports._pdf import page_texts


def _outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, 1-based page) of every bookmark, depth first."""
    out: list[tuple[int, str, int]] = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return out


def _figure_alts(reader: PdfReader) -> list[str]:
    """The /Alt texts of the structure tree's /Figure elements."""
    alts: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "get"):
            return
        if node.get("/S") == "/Figure" and "/Alt" in node:
            alts.append(str(node["/Alt"]))
        if "/K" in node:
            walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return alts


@pytest.mark.parametrize("kind", ["portfolio", "sku"])
def test_title_language_outline_and_figures(kind: str) -> None:
    if kind == "portfolio":
        data = sample_portfolio_briefing()
        pdf = build_portfolio_briefing(data)
        sections = ["Key figures", "Commentary", "Top risks", "Top movers", "Recommended purchase orders"]
    else:
        data = sample_sku_briefing()
        pdf = build_sku_briefing(data, lang="en-GB")
        sections = ["SKU and stock position", "Demand and forecast", "Projected stock", "Policy card", "Commentary"]
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]

    assert reader.metadata.title == data.title
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])  # viewers show the title, not the file name
    assert root["/Lang"] == ("en" if kind == "portfolio" else "en-GB")
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/PageMode"] == "/UseOutlines"

    outline = _outline(reader)
    assert outline[0][:2] == (0, data.title)
    level_one = [title for level, title, _page in outline if level == 1]
    assert level_one[: len(sections)] == sections
    texts = page_texts(pdf)
    for level, title, page in outline[1:]:
        assert level == 1 and title in texts[page - 1], f"bookmark {title!r} points at page {page}, not its page"

    alts = _figure_alts(reader)
    assert alts and all(any(ch.isdigit() for ch in alt) for alt in alts), alts
    if kind == "portfolio":
        assert any(alt.startswith("SKUs per status: Stockout risk ") for alt in alts)
    else:
        assert any(alt.startswith("Demand history: ") for alt in alts)
        assert any(alt.startswith("Projected stock: ") and "reorder point" in alt for alt in alts)


def test_language_defaults_to_english_without_a_caller_locale() -> None:
    """reports/ reads no settings (docs/architecture.md): the briefing service passes APP_LOCALE (tested in
    tests/integration/test_briefing_service.py); without one the PDF says English."""
    reader = PdfReader(io.BytesIO(build_sku_briefing(sample_sku_briefing())))
    assert reader.trailer["/Root"]["/Lang"] == "en"
