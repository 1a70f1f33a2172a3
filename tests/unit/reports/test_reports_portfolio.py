"""Portfolio briefing: the PDF's text matches the input facts, pages render, edge cases do not crash."""

from __future__ import annotations

import io
import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from reports import build_portfolio_briefing
from reports import fonts as fonts_module
from reports.data import (
    Commentary,
    FvaRow,
    Mover,
    PortfolioBriefing,
    PortfolioKpis,
    PurchaseOrderLine,
    RiskRow,
    default_method_notes,
)
from reports.formatting import fmt_date, fmt_money, fmt_qty
from reports.samples import empty_portfolio_briefing
from tests.unit.reports._pdf import assert_not_blank, page_texts, render_pages

UNICODE_NAME = "Café crème 東京"

KPIS = PortfolioKpis(
    sku_count=1250,
    inventory_value=2_845_310.42,
    value_at_risk=184_220.0,
    fill_rate=0.9621,
    turns=7.43,
    days_of_supply=49.26,
    wape=0.2841,
    status_counts={
        "stockout_risk": 75,
        "surge": 38,
        "low_velocity": 138,
        "dead_stock": 50,
        "overstock": 112,
        "normal": 837,
    },
)
PREVIOUS = PortfolioKpis(
    sku_count=1238,
    inventory_value=2_887_990.0,
    value_at_risk=186_983.0,
    fill_rate=0.948,
    turns=7.3,
    days_of_supply=50.0,
    wape=0.288,
    status_counts={
        "stockout_risk": 80,
        "surge": 38,
        "low_velocity": 130,
        "dead_stock": 50,
        "overstock": 113,
        "normal": 827,
    },
)
# deliberately not sorted by code or value: the builder must keep the given order
RISKS = (
    RiskRow(
        "ZZ-900",
        "Sparkling water 1.5 L",
        "Beverages",
        "stockout_risk",
        "Position 120 below reorder point 410",
        18450.0,
        2.1,
    ),
    RiskRow("AA-100", UNICODE_NAME, "Beverages", "surge", "Recent demand 340/wk is 3.8σ above forecast", 12990.5, 4.4),
    RiskRow("MM-500", "Basmati rice 5 kg", "Dry goods", "overstock", "Cover 212 d > 3 × target 41 d", 11200.0, 212.0),
    RiskRow("BB-200", "Dish soap", "Household", "dead_stock", "No sale for 19 weeks", 7040.0, math.inf),
    RiskRow("YY-800", "Frozen peas 1 kg", "Frozen", "stockout_risk", "Cover 1.6 d < lead time 7 d", 6120.0, 1.6),
    RiskRow("CC-300", "Dark chocolate", "Snacks", "low_velocity", "Recent demand is 22 % of baseline", 4210.0, 96.0),
    RiskRow("XX-700", "Shampoo", "Personal care", "overstock", "Cover 160 d > 3 × target", 3900.0, 160.0),
    RiskRow("DD-400", "Cold brew", "Beverages", "surge", "Recent demand 3.1σ above forecast", 2650.0, 6.8),
    RiskRow("WW-600", "Rolled oats", "Dry goods", "stockout_risk", "Cover 5.5 d < lead time 7 d", 1480.0, 5.5),
    RiskRow("EE-050", "Tea bags", "Beverages", "stockout_risk", "Position 3 below reorder point 20", None, None),
)
MOVERS = (
    Mover("AA-100", UNICODE_NAME, 340.0, 176.0, 93.2),
    Mover("CC-300", "Dark chocolate", 4.0, 18.0, -77.8),
)
POS = tuple(
    PurchaseOrderLine(
        supplier=f"Supplier {i % 3}",
        code=f"PO-SKU-{i:03d}",
        name=f"Item {i}",
        qty=float(1200 - 37 * i),
        order_by=date(2026, 3, 13) + timedelta(days=i),
        value=(1200 - 37 * i) * 2.5,
    )
    for i in range(6)
)
GENERATED = datetime(2026, 3, 14, 7, 30, tzinfo=UTC)


def make_briefing(**changes: object) -> PortfolioBriefing:
    base = PortfolioBriefing(
        company_name="Northwind Grocers",
        title="Portfolio briefing",
        generated_at=GENERATED,
        data_as_of=date(2026, 3, 13),
        run_id="run-0042",
        scope_label="Category: Beverages",
        kpis=KPIS,
        previous_kpis=PREVIOUS,
        top_risks=RISKS,
        top_movers=MOVERS,
        commentary=Commentary(
            text="Service is **holding up**.\n\n- Order ZZ-900 today.\n- Watch AA-100.",
            provider="gemini",
            model="gemini-2.5-flash",
            generated_at=datetime(2026, 3, 14, 7, 25, tzinfo=UTC),
        ),
        purchase_orders=POS,
        fva=(FvaRow("Beverages", 0.312, 0.291, 2.1), FvaRow("Snacks", 0.275, 0.281, -0.6)),
        method_notes=default_method_notes(service_level_policy="Cycle service level 98% for A items."),
    )
    return replace(base, **changes)


@pytest.fixture(scope="module")
def briefing_pdf() -> bytes:
    return build_portfolio_briefing(make_briefing())


@pytest.fixture(scope="module")
def text(briefing_pdf: bytes) -> str:
    return " ".join(page_texts(briefing_pdf))


def test_output_is_a_pdf(briefing_pdf: bytes) -> None:
    assert briefing_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(briefing_pdf))
    assert reader.metadata.title == "Portfolio briefing"
    assert reader.metadata.author == "Northwind Grocers"


def test_cover_block(text: str) -> None:
    for expected in (
        "Portfolio briefing",
        "Category: Beverages",
        "Northwind Grocers",
        "2026-03-14 07:30 UTC",
        "2026-03-13",
        "run-0042",
    ):
        assert expected in text


def test_kpi_values_as_formatted(text: str) -> None:
    expected_rows = [
        "SKUs in scope 1,250 1,238 +12",
        "Inventory value (at cost) $2,845,310 $2,887,990 -$42,680 (-1.5%)",
        "Value at risk $184,220 $186,983 -$2,763 (-1.5%)",
        "Fill rate 96.2% 94.8% +1.4 pp",
        "Inventory turns (per year) 7.4 7.3 +0.1",
        "Days of supply 49.3 50.0 -0.7",
        "Forecast error (WAPE) 28.4% 28.8% -0.4 pp",
    ]
    for row in expected_rows:
        assert row in text, row


def test_status_counts_with_change(text: str) -> None:
    for expected in (
        "STOCKOUT RISK 75 -5 vs previous",
        "SURGE 38 unchanged",
        "LOW VELOCITY 138 +8 vs previous",
        "DEAD STOCK 50 unchanged",
        "OVERSTOCK 112 -1 vs previous",
        "NORMAL 837 +10 vs previous",
    ):
        assert expected in text, expected


def test_top_risks_in_given_order_with_reasons(text: str) -> None:
    section = text[text.index("Top risks") :]
    positions = [section.index(f"{rank} {risk.code} ") for rank, risk in enumerate(RISKS, start=1)]
    assert positions == sorted(positions)
    for risk in RISKS[:9]:
        assert risk.reason in section, risk.reason
        assert fmt_money(risk.value_at_risk) in section
    assert "10 EE-050 Tea bags Beverages Stockout risk Position 3 below reorder point 20 – –" in section
    assert "BB-200 Dish soap Household Dead stock No sale for 19 weeks $7,040 ∞" in section


def test_top_movers(text: str) -> None:
    section = text[text.index("Top movers") :]
    assert "AA-100" in section and "340.0 176.0 ▲ +93%" in section
    assert "CC-300 Dark chocolate 4.0 18.0 ▼ -78%" in section


def test_purchase_order_rows(text: str) -> None:
    section = text[text.index("Recommended purchase orders") :]
    for po in POS:
        # an order-by date before the briefing's date (14 Mar) reads "overdue by N days" (issue 15 item 7)
        late = " overdue by 1 day" if po.order_by < GENERATED.date() else ""
        row = f"{po.supplier} {po.code} {po.name} {fmt_qty(po.qty)} {fmt_date(po.order_by)}{late} {fmt_money(po.value)}"
        assert row in section, row
    assert section.count("overdue by") == 1  # only the line due on 13 Mar
    total = sum(po.value for po in POS)
    assert f"Total of the 6 listed lines {fmt_money(total)}" in section
    assert f"6 recommended lines, total value {fmt_money(total)}" in section


def test_commentary_with_provenance(text: str) -> None:
    assert "Written by gemini · model gemini-2.5-flash · 2026-03-14 07:25 UTC" in text
    assert "Service is holding up." in text  # markdown emphasis markers are removed
    assert "**" not in text
    assert "• Order ZZ-900 today." in text
    assert "fallback writer" not in text


def test_fva_and_method_notes(text: str) -> None:
    assert "Beverages 31.2% 29.1% +2.1" in text
    assert "Snacks 27.5% 28.1% -0.6" in text
    assert "Cycle service level 98% for A items." in text
    assert "SS = z · √(L·σ_D² + D²·σ_L²)" in text


def test_page_numbers_on_every_page(briefing_pdf: bytes) -> None:
    pages = page_texts(briefing_pdf)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Northwind Grocers" in page  # header
        assert "run run-0042" in page  # footer


def test_pages_render_not_blank(briefing_pdf: bytes) -> None:
    images = render_pages(briefing_pdf)
    assert len(images) == len(page_texts(briefing_pdf))
    for image in images:
        assert_not_blank(image)


def test_unicode_sku_name_is_extractable(needs_cjk_font: None, text: str) -> None:
    assert f"AA-100 {UNICODE_NAME} Beverages Surge" in text


CJK_NAMES = ("東京 绿茶 500 ml", "抹茶ラテ 350 ml", "보리차 1 L")  # Chinese, Japanese, Korean


def test_without_an_installed_cjk_font_the_shipped_subset_prints_cjk_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh machine (no CJK font installed, no network): the names print from the shipped subset (issue 23)."""
    monkeypatch.setattr(fonts_module, "CJK_FONT_CANDIDATES", ())
    assert fonts_module.find_cjk_font() is None and fonts_module.font_set().bundled == fonts_module.BUNDLED_CJK_FONT
    risks = tuple(replace(r, name=n) for r, n in zip(RISKS, CJK_NAMES, strict=False))
    pdf = build_portfolio_briefing(make_briefing(top_risks=risks + RISKS[3:]))
    text = " ".join(page_texts(pdf))
    for name in CJK_NAMES:
        assert name in text
    assert "\ufffd" not in text  # no replacement glyph
    reader = PdfReader(io.BytesIO(pdf))
    embedded = {str(f["/BaseFont"]) for p in reader.pages for f in (p["/Resources"].get("/Font") or {}).values()}
    assert any("WenQuanYi" in name or "Micro" in name for name in embedded), embedded
    assert fonts_module.BUNDLED_CJK_FONT.stat().st_size < 1_500_000  # a subset, not the 5 MB font


def _embedded_fonts(pdf: bytes) -> list[str]:
    """The base font names of the document's fonts, one per font resource (two subsets may share a name)."""
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {key: str(f["/BaseFont"]) for p in reader.pages for key, f in (p["/Resources"].get("/Font") or {}).items()}
    return list(fonts.values())


def test_the_installed_cjk_font_is_loaded_only_for_what_the_subset_lacks(needs_cjk_font: None) -> None:
    common = build_portfolio_briefing(make_briefing())  # 東京: in the subset
    rare = build_portfolio_briefing(make_briefing(top_risks=(replace(RISKS[0], name="Tea 龘"),) + RISKS[1:]))
    assert len([f for f in _embedded_fonts(common) if "Micro" in f or "WenQuanYi" in f]) == 1
    assert len([f for f in _embedded_fonts(rare) if "Micro" in f or "WenQuanYi" in f]) == 2
    text = " ".join(page_texts(rare))
    assert "Tea 龘" in text and "\ufffd" not in text


def test_without_cjk_font_degrades_to_replacement_glyph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts_module, "CJK_FONT_CANDIDATES", ())
    monkeypatch.setattr(fonts_module, "BUNDLED_CJK_FONT", fonts_module.BUNDLED_CJK_FONT.with_name("missing.ttf"))
    pdf = build_portfolio_briefing(make_briefing(), cjk_font_path="/nonexistent/font.ttf")
    text = " ".join(page_texts(pdf))
    assert "Café crème \ufffd\ufffd" in text
    assert "東京" not in text


def test_deterministic_output(briefing_pdf: bytes) -> None:
    assert build_portfolio_briefing(make_briefing()) == briefing_pdf


def test_long_purchase_order_table_repeats_headers() -> None:
    pos = tuple(
        PurchaseOrderLine(f"Supplier {i % 4}", f"LONG-{i:04d}", f"Item {i}", 10 + i, date(2026, 3, 20), 100.0 + i)
        for i in range(120)
    )
    pdf = build_portfolio_briefing(
        make_briefing(purchase_orders=pos, purchase_orders_total_count=300, purchase_orders_total_value=99_999.0)
    )
    pages = page_texts(pdf)
    po_pages = [p for p in pages[1:] if "LONG-" in p]  # page 1's executive summary names the first few
    assert len(po_pages) >= 3
    for page in po_pages:
        assert "Supplier SKU Name Qty Order by Value" in page
    joined = " ".join(pages)
    assert "300 recommended lines, total value $99,999. The 120 most urgent are listed." in joined
    positions = [joined.index(f"LONG-{i:04d} ") for i in range(120)]
    assert positions == sorted(positions)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_empty_portfolio_gives_a_short_briefing() -> None:
    pdf = build_portfolio_briefing(empty_portfolio_briefing())
    pages = page_texts(pdf)
    assert len(pages) == 1
    text = pages[0]
    assert "No SKUs in scope" in text
    assert "SKUs in scope 0" in text
    assert "Page 1 of 1" in text
    assert "Top risks" not in text
    for image in render_pages(pdf):
        assert_not_blank(image)


def test_no_risks_movers_or_orders_say_so() -> None:
    pdf = build_portfolio_briefing(
        make_briefing(
            top_risks=(),
            top_movers=(),
            purchase_orders=(),
            fva=(),
            method_notes=None,
            commentary=None,
            previous_kpis=None,
        )
    )
    text = " ".join(page_texts(pdf))
    assert "No SKU is at risk in this run." in text
    assert "No SKU moved markedly" in text
    assert "No purchase order is recommended" in text
    assert "No commentary was generated" in text
    assert "Forecast value added" not in text
    assert "Previous (none)" in text
    assert "Fill rate 96.2% – –" in text


def test_missing_kpis_and_fallback_commentary() -> None:
    kpis = replace(KPIS, fill_rate=None, turns=float("nan"))
    commentary = Commentary("Offline text.", "offline", "template-v1", GENERATED, fell_back=True)
    text = " ".join(page_texts(build_portfolio_briefing(make_briefing(kpis=kpis, commentary=commentary))))
    assert "Fill rate – 94.8% –" in text
    assert "Inventory turns (per year) – 7.3 –" in text
    assert "Written by offline · model template-v1" in text
    assert "fallback writer" in text


def test_rejects_wrong_data_type() -> None:
    with pytest.raises(ValueError, match="data"):
        build_portfolio_briefing({"title": "x"})  # type: ignore[arg-type]


def test_extreme_inputs_do_not_break_the_layout() -> None:
    long_code = "X" * 45
    risks = (
        RiskRow(long_code, "word " * 60, "Category " * 5, "quarantined", "reason " * 80, 1.5e9, 1e6),
        *RISKS[:3],
    )
    kpis = replace(
        KPIS,
        inventory_value=9.87e9,
        value_at_risk=1.2e9,
        status_counts={**KPIS.status_counts, "quarantined": 4},
    )
    pdf = build_portfolio_briefing(
        make_briefing(company_name="Company " * 30, scope_label="Scope " * 40, top_risks=risks, kpis=kpis)
    )
    pages = page_texts(pdf)
    joined = " ".join(pages)
    assert long_code in joined.replace(" ", "")
    assert "Inventory value (at cost) $9.87B $2,887,990 +$9.87B (+341660.2%)" in joined  # compact from a billion
    assert "$1.50B >9,999" in joined
    assert "QUARANTINED 4" in joined and "Quarantined" in joined
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    for image in render_pages(pdf):
        assert_not_blank(image)


def test_more_than_ten_risks_are_all_listed() -> None:
    risks = tuple(replace(RISKS[i % len(RISKS)], code=f"R-{i:03d}") for i in range(45))
    pages = page_texts(build_portfolio_briefing(make_briefing(top_risks=risks, purchase_orders=(), fva=())))
    joined = " ".join(pages)
    positions = [joined.index(f"{i + 1} R-{i:03d} ") for i in range(45)]
    assert positions == sorted(positions)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_page_one_holds_the_executive_summary(briefing_pdf: bytes) -> None:
    """Page 1 is not 40 % blank (issue 23): the decisions needed and the top risks are on it, under the key figures."""
    first = page_texts(briefing_pdf)[0]
    assert "Decisions needed" in first and "Top risks" in first
    assert first.index("Key figures") < first.index("Decisions needed") < first.index("Commentary")
    assert "6 recommended order lines" in first and "await approval" in first
    assert "ZZ-900 Sparkling water 1.5 L" in first and "$18,450 at risk" in first  # the first-ranked risk
    image = render_pages(briefing_pdf)[0]
    assert_not_blank(image)
    width, height = image.size
    body = image.crop((0, 0, width, int(height * 0.9)))  # above the footer
    rows = [y for y in range(body.height) if min(body.crop((0, y, width, y + 1)).getdata()) < 200]
    assert rows[-1] > 0.6 * height, f"page 1 ends at {rows[-1] / height:.0%} of its height"
