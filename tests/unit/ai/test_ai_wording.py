"""ai/wording.py: one table of bands turns CV, ADI and cover into words for the commentary (facts, offline writer,
prompt), the SKU page and the PDF (issue 15 item 9). A "CV of 1" is never "moderately predictable"; a stockout
sentence names the rule that fired and says that the lead time is longer than the cover."""

from __future__ import annotations

import math

import pytest

from ai import wording
from ai.facts import sku_facts
from ai.prompts import build_prompt
from ai.providers.offline import OfflineWriter
from tests.unit.ai.ai_samples import make_row

WRITER = OfflineWriter()


@pytest.mark.parametrize(
    ("cv", "key", "word"),
    [
        (0.0, "low", "stable"),
        (0.494, "low", "stable"),
        (0.4951, "moderate", "variable"),  # quoted as 0.50: banded as quoted
        (0.99, "moderate", "variable"),
        (0.9996, "high", "volatile"),  # quoted as 1.00
        (1.0, "high", "volatile"),
        (3.2, "high", "volatile"),
    ],
)
def test_cv_bands_compare_the_value_as_quoted(cv: float, key: str, word: str) -> None:
    band = wording.cv_band(cv)
    assert band is not None and (band.key, band.word) == (key, word)
    assert wording.cv_text(cv).endswith(f": {word}")


def test_adi_and_cover_bands_and_missing_values() -> None:
    assert wording.adi_band(1.0).word == "regular" and wording.adi_band(1.32).word == "intermittent"
    assert wording.cover_band(21, 28).key == "short" and wording.cover_band(91, 120).key == "short"
    assert wording.cover_band(28, 28).key == "adequate" and wording.cover_band(84, 28).key == "long"
    assert wording.cover_text(21, 28) == "short: below the 28-day lead time"
    for missing in (None, math.nan, "x"):
        assert wording.cv_band(missing) is None and wording.adi_band(missing) is None
    assert wording.cover_band(10, 0) is None and wording.cover_band(None, 10) is None
    assert wording.forecast_cv(5.0, 0.0, 10.0) == 0.5 and wording.forecast_cv(None, 10.0) is None
    with pytest.raises(ValueError, match="bands"):
        wording.band([], 1.0)
    with pytest.raises(ValueError, match="bands"):
        wording.band(list(reversed(wording.CV_BANDS)), 1.0)


def test_facts_carry_the_words_of_the_table() -> None:
    row = make_row("normal", sigma=86.0, forecast_per_period=86.0)  # CV exactly 1
    facts = sku_facts(row=row)
    assert facts.volatility_cv == 1 and facts.volatility_level == "high" and facts.volatility_word == "volatile"
    text = WRITER.write(facts)
    assert "Demand is volatile" in text and "moderately predictable" not in text


def test_a_stockout_sentence_names_the_rule_and_the_longer_lead_time() -> None:
    # 91 days of cover, a 120-day lead time: the cover rule fired; the text must say the lead time is longer
    row = make_row(
        "stockout_risk",
        days_of_cover=91.0,
        lead_time_periods=120.0 / 7,
        inventory_position=5000.0,
        reorder_point=3000.0,
        on_hand=5000.0,
    )
    facts = sku_facts(row=row)
    assert facts.stockout_rule == "cover" and facts.cover_vs_lead_time == "short"
    text = WRITER.write(facts)
    assert "its 91 days of cover are shorter than its 120-day lead time" in text
    # the reorder-point rule alone: cover outlasts the lead time, and the text says so
    row = make_row("stockout_risk", days_of_cover=40.0, inventory_position=200.0, reorder_point=250.0, on_hand=200.0)
    facts = sku_facts(row=row)
    assert facts.stockout_rule == "reorder_point" and facts.cover_vs_lead_time != "short"
    text = WRITER.write(facts)
    assert "at or below the reorder point of 250" in text and "outlast the 14-day lead time" in text


def test_the_prompt_states_the_same_bands() -> None:
    prompt = build_prompt(sku_facts(row=make_row("normal")))
    assert "{{WORDING_BANDS}}" not in prompt.system
    assert wording.prompt_text() in prompt.system
    for band in (*wording.CV_BANDS, *wording.ADI_BANDS, *wording.COVER_BANDS):
        assert f'"{band.word}"' in prompt.system
    assert '"volatility_word"' in prompt.system and "stockout_rule" in prompt.system
