"""SKU briefing: master data, status, policy card, forecast facts and commentary are printed as given."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reports import build_sku_briefing
from reports.data import ForecastSeries, PolicyCard, SkuBriefing, TimeSeries
from reports.samples import sample_sku_briefing
from tests.slow.reports._pdf import assert_not_blank, page_texts, render_pages


@pytest.fixture(scope="module")
def data() -> SkuBriefing:
    return sample_sku_briefing(code="BEV-0007", name="Café crème 東京")


@pytest.fixture(scope="module")
def pdf(data: SkuBriefing) -> bytes:
    return build_sku_briefing(data)


@pytest.fixture(scope="module")
def text(pdf: bytes) -> str:
    return " ".join(page_texts(pdf))


def test_cover_and_status(text: str) -> None:
    assert "SKU briefing" in text
    assert "GENERATED 2026-03-14 07:30 UTC DATA AS OF 2026-03-13 RUN run-0042" in text
    assert "HEALTH STATUS Stockout risk Cover 3.0 d < lead time 14 d; position 60 below reorder point 158" in text


def test_master_and_stock_position(text: str) -> None:
    for row in (
        "SKU BEV-0007",
        "Category Beverages",
        "Location DC Rotterdam",
        "Unit cost / price $4.85 / $7.90",
        "MOQ / order multiple 240 / 24",
        "On hand 60",
        "On order 0",
        "Days of cover 3.0",
        "Recommended order 480",
        "Order by 2026-03-13",
        "Order value $2,328",
    ):
        assert row in text, row


def test_policy_card(text: str) -> None:
    for row in (
        "Demand pattern smooth",
        "ABC / XYZ class A / Y",
        "Service level target 97.0%",
        "Lead time 14.0 d ± 3.2 d",
        "Lead time source learned from 11 receipts",
        "Safety stock 46",
        "Reorder point 158",
        "EOQ 480",
        "Newsvendor quantity 505",
        "Reorder point method: normal",
        "the normal approximation holds.",
    ):
        assert row in text, row


def test_forecast_model_and_runners_up(text: str) -> None:
    for row in (
        "Chosen model ets",
        "MASE 0.74",
        "WAPE 18.6%",
        "Bias -1.90",
        "Runner-up 1 seasonal_naive · MASE 0.91",
        "Runner-up 2 ml_gbm · MASE 0.95",
        "Runner-up 3 croston_sba · MASE 1.22",
    ):
        assert row in text, row
    assert "2 planner overrides shown as diamonds" in text


def test_commentary(text: str) -> None:
    assert "Written by offline · model template-v1 · 2026-03-14 07:30 UTC" in text
    assert "fallback writer" in text
    assert "Order 480 units" in text


def test_page_numbers(pdf: bytes) -> None:
    pages = page_texts(pdf)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "SKU briefing · BEV-0007" in page


def test_pages_render_not_blank(pdf: bytes) -> None:
    for image in render_pages(pdf):
        assert_not_blank(image)


def test_unicode_name(needs_cjk_font: None, text: str) -> None:
    assert "BEV-0007 — Café crème 東京" in text
    assert "Name Café crème 東京" in text
    assert "Supplier Kyoto Trading 株式会社" in text


def test_new_sku_without_history_or_order(data: SkuBriefing) -> None:
    policy = replace(data.policy, runners_up=(), mase=None, wape=None, bias=None, safety_stock=None)
    bare = replace(
        data,
        history=TimeSeries.empty(),
        forecast=ForecastSeries.empty(),
        overrides=TimeSeries.empty(),
        projected_stock=TimeSeries.empty(),
        recommended_order=None,
        commentary=None,
        policy=policy,
        status="normal",
        status_reason="",
    )
    pdf = build_sku_briefing(bare)
    text = " ".join(page_texts(pdf))
    assert "Recommended order none" in text
    assert "No forecast in this run." in text
    assert "No commentary was generated for this SKU." in text
    assert "MASE –" in text
    for image in render_pages(pdf):
        assert_not_blank(image)


def test_single_point_series_and_nan_values(data: SkuBriefing) -> None:
    d = data.data_as_of
    sparse = replace(
        data,
        history=TimeSeries([d], [float("nan")]),
        forecast=ForecastSeries([d], [1.0], [0.5], [2.0]),
        projected_stock=TimeSeries([d], [-5.0]),
    )
    assert build_sku_briefing(sparse).startswith(b"%PDF-")


def test_long_reason_and_commentary_wrap_across_pages(data: SkuBriefing) -> None:
    long_text = "\n\n".join(f"Paragraph {i}: " + "the forecast moved " * 40 for i in range(12))
    pdf = build_sku_briefing(
        replace(
            data,
            status_reason="Very long reason " * 30,
            commentary=replace(data.commentary, text=long_text),  # type: ignore[type-var]
        )
    )
    pages = page_texts(pdf)
    assert len(pages) >= 3
    joined = " ".join(pages)
    assert "Paragraph 11:" in joined
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_rejects_wrong_data_type() -> None:
    with pytest.raises(ValueError, match="data"):
        build_sku_briefing(object())  # type: ignore[arg-type]


def test_policy_card_type() -> None:
    assert PolicyCard.__dataclass_fields__["runners_up"].default == ()


def test_very_long_master_values_still_lay_out(data: SkuBriefing) -> None:
    long = "very long value " * 60
    pdf = build_sku_briefing(
        replace(
            data,
            sku=replace(data.sku, name=long, supplier=long, location=long),
            policy=replace(data.policy, lead_time_source=long, rop_method_reason=long),
        )
    )
    pages = page_texts(pdf)
    joined = " ".join(pages)
    assert "Stock and order" in joined and "Forecast model" in joined and "Chosen model ets" in joined
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    for image in render_pages(pdf):
        assert_not_blank(image)
