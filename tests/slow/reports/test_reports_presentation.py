"""QA regressions in the briefings' presentation: a KPI change below display precision reads "no change" in grey
(the Watchtower's rule, one shared function), and the SKU policy card names the order policy (one-shot SKUs)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from reports import build_portfolio_briefing, build_sku_briefing
from reports.data import PortfolioKpis
from reports.formatting import NO_CHANGE, fmt_change, fmt_signed_pct, rounds_to_zero, signed_change
from reports.pdf_base import MARGIN
from reports.portfolio_doc import KPI_ROWS, _change_color
from reports.samples import sample_portfolio_briefing, sample_sku_briefing
from reports.theme import BRAND, hex_to_rgb
from tests.slow.reports._pdf import page_texts, render_pages

# a partial run: every KPI moved by less than the briefing prints (fill rate 99.93% -> 99.92% printed "-0.0 pp" in red)
TINY = {
    "sku_count": (200, 200),
    "inventory_value": (671_664.2, 671_664.0),
    "value_at_risk": (119_313.3, 119_313.0),
    "fill_rate": (0.99925, 0.99932),
    "turns": (3.4123, 3.4101),
    "days_of_supply": (109.52, 109.50),
    "wape": (0.49601, 0.49612),
}


def _kpis(which: int, **overrides: float) -> PortfolioKpis:
    values = {key: pair[which] for key, pair in TINY.items()} | overrides
    return PortfolioKpis(**values, status_counts={"normal": 152, "stockout_risk": 17, "surge": 31})


def test_changes_below_display_precision_read_no_change() -> None:
    assert fmt_change(0.99925, 0.99932, kind="fraction") == NO_CHANGE  # was "-0.0 pp"
    assert fmt_change(3.4123, 3.4101, kind="number") == NO_CHANGE  # was "+0.0"
    assert fmt_change(200, 200, kind="count") == NO_CHANGE  # was "+0"
    assert fmt_change(100.2, 100.0, kind="money") == NO_CHANGE  # was "+$0 (+0.2%)"
    assert fmt_change(0.95, 0.97, kind="fraction") == "-2.0 pp"
    assert fmt_change(0.9996, 0.9991, kind="fraction") == "+0.1 pp"  # rounds up to a visible change: signed
    assert fmt_change(110.0, 100.0, kind="money") == "+$10 (+10.0%)"


def test_one_rule_for_the_watchtower_and_the_briefings() -> None:
    from layouts import _charts, _watchtower_figures
    from services.watchtower import Kpi

    assert _watchtower_figures.NO_CHANGE is NO_CHANGE and _charts.signed_change is signed_change  # shared, not a copy
    assert signed_change(-0.0004, "0.0 pp") == NO_CHANGE and signed_change(-0.02, "2.0 pp") == "-2.0 pp"
    assert rounds_to_zero("$0") and rounds_to_zero("-0.0") and not rounds_to_zero("0.1") and rounds_to_zero("\u2013")
    fill = Kpi(key="fill_rate", label="Fill rate", value=0.99925, previous=0.99932, kind="fraction", good_when="up")
    assert _charts.fmt_delta(fill) == fmt_change(0.99925, 0.99932, kind="fraction") == NO_CHANGE


def test_no_change_is_grey_not_red_or_green() -> None:
    assert _change_color(0.99925, 0.99932, "up", text=NO_CHANGE) == BRAND["muted"]
    assert _change_color(3.4123, 3.4101, "up", text=NO_CHANGE) == BRAND["muted"]
    assert _change_color(0.95, 0.97, "up", text="-2.0 pp") == BRAND["bad"]
    assert _change_color(0.40, 0.45, "down", text="-5.0 pp") == BRAND["good"]


def _change_column(pdf: bytes, *, dpi: int = 100) -> Image.Image:
    """Page 1's KPI table "Change" column (the table is 116 mm wide, the column its last 32 mm; rows 65-127 mm down,
    above the status tiles)."""
    page = render_pages(pdf, dpi=dpi, mode="RGB")[0]
    mm = dpi / 25.4
    return page.crop((int((MARGIN + 116 - 32) * mm), int(65 * mm), int((MARGIN + 116) * mm), int(127 * mm)))


def _pixels_near(image: Image.Image, color: str, *, tolerance: int = 40) -> int:
    pixels = np.asarray(image, dtype=int)
    return int((np.abs(pixels - np.array(hex_to_rgb(color))) <= tolerance).all(axis=-1).sum())


def test_portfolio_kpi_table_prints_no_change_in_grey() -> None:
    data = replace(sample_portfolio_briefing(), kpis=_kpis(0), previous_kpis=_kpis(1))
    pdf = build_portfolio_briefing(data)
    text = page_texts(pdf)[0]
    for _key, label, _kind, _better in KPI_ROWS:
        row = text[text.index(label) :]
        assert row.split(" ", len(label.split()) + 2)[-1].startswith(NO_CHANGE), label
    assert "0.0 pp" not in text and "+0.0" not in text and "-0.0" not in text and "+$0" not in text
    column = _change_column(pdf)
    assert _pixels_near(column, BRAND["bad"]) == 0 and _pixels_near(column, BRAND["good"]) == 0

    # control: the same table with real changes has red and green in that column (the crop is the right place)
    moved = replace(data, kpis=_kpis(0, fill_rate=0.95, wape=0.40))
    column = _change_column(build_portfolio_briefing(moved))
    assert _pixels_near(column, BRAND["bad"]) > 20 and _pixels_near(column, BRAND["good"]) > 20


def test_status_tiles_say_unchanged_for_equal_counts() -> None:
    data = replace(sample_portfolio_briefing(), kpis=_kpis(0), previous_kpis=_kpis(1))
    text = page_texts(build_portfolio_briefing(data))[0]
    assert "NORMAL 152 unchanged" in text and "no change vs previous" not in text


def test_movers_and_fva_rounding_to_zero_have_no_sign_or_arrow() -> None:
    from reports.data import FvaRow, Mover

    base = sample_portfolio_briefing()
    flat = Mover(code="FLAT-1", name="Flat mover", demand_recent=100.3, demand_baseline=100.0, change_pct=0.3)
    data = replace(base, top_movers=(flat,), fva=(FvaRow("Beverages", 0.3121, 0.3123, -0.02),))
    text = " ".join(page_texts(build_portfolio_briefing(data)))
    assert fmt_signed_pct(0.3) == "+0%"
    assert "\u25b2 +0%" not in text and "Flat mover 100.3 100.0 +0%" in text
    assert "Beverages 31.2% 31.2% 0.0" in text and "-0.0" not in text


# ------------------------------------------------------------------------------------------------ order policy


@pytest.fixture(scope="module")
def one_shot_text() -> str:
    data = sample_sku_briefing(code="GS-00018", name="Fairy lights Family size")
    policy = replace(data.policy, one_shot=True, critical_ratio=0.6352, horizon_demand=570.27, horizon_periods=13)
    return " ".join(page_texts(build_sku_briefing(replace(data, policy=policy))))


def test_one_shot_sku_policy_card_says_newsvendor(one_shot_text: str) -> None:
    card = one_shot_text[one_shot_text.index("Policy card") :]
    for row in (
        "Order policy One-shot (newsvendor)",
        "Critical ratio 0.64",
        "Horizon demand 570 over 13 weeks",
        "One-shot buy: ordered once with the newsvendor quantity less the inventory position",
    ):
        assert row in card, row
    assert "Replenishment" not in card


def test_other_skus_say_replenishment() -> None:
    text = " ".join(page_texts(build_sku_briefing(sample_sku_briefing())))
    card = text[text.index("Policy card") :]
    assert "Order policy Replenishment" in card
    assert "One-shot" not in card and "Critical ratio" not in card and "Horizon demand" not in card


def test_one_shot_without_ratio_or_horizon_prints_dashes() -> None:
    data = sample_sku_briefing()
    policy = replace(data.policy, one_shot=True)
    text = " ".join(page_texts(build_sku_briefing(replace(data, policy=policy))))
    assert "Order policy One-shot (newsvendor)" in text
    assert "Critical ratio \u2013" in text and "Horizon demand \u2013" in text
