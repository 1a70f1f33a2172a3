"""Grounding check: numbers must come from the facts, text must be plain and bounded."""

from __future__ import annotations

import pytest

from ai.facts import PortfolioFacts, sku_facts
from ai.grounding import allowed_values, check_text, clean_text, count_sentences
from tests.unit.ai.ai_samples import make_row

GOOD = (
    "The portfolio holds $412,345 of stock across 20 SKUs. "
    "Value at risk is $34,952, up $4,842 since the previous run. "
    "Fill rate is 97.3%, up 0.4 points."
)


def test_a_grounded_text_passes(portfolio: PortfolioFacts) -> None:
    result = check_text(GOOD, facts=portfolio)
    assert result.ok, result.reasons
    assert result.sentences == 3
    assert result.numbers == ("$412,345", "20", "$34,952", "$4,842", "97.3%", "0.4")


@pytest.mark.parametrize(
    "quote",
    [
        "$412,345",
        "412345",
        "412,345",
        "$412.3k",
        "$412k",
        "$0.4m",
        "0.41 million",
        "97.3%",
        "97%",
        "97.30 percent",
        "88%",
        "140.9%",
        "-13.9%",
        "\u221213.9%",
        "the top 3",
    ],
)
def test_allowed_number_formats(portfolio: PortfolioFacts, quote: str) -> None:
    text = f"The figure to note is {quote}. Nothing else changed."
    result = check_text(text, facts=portfolio)
    assert result.ok, (quote, result.reasons)


@pytest.mark.parametrize("quote", ["$412,000", "97.25%", "97.4%", "$412.4k", "$0.5m", "17", "1,000,000", "-44"])
def test_invented_or_wrongly_rounded_numbers_fail(portfolio: PortfolioFacts, quote: str) -> None:
    text = f"The figure to note is {quote}. Nothing else changed."
    result = check_text(text, facts=portfolio)
    assert not result.ok
    assert any(quote.strip("-$%") in reason for reason in result.reasons), result.reasons


@pytest.mark.parametrize(
    ("date_text", "ok"),
    [
        ("2026-03-02", True),
        ("2 March 2026", True),
        ("March 2, 2026", True),
        ("Mar 2nd 2026", True),
        ("March 2026", True),
        ("in 2026", True),
        ("2026-03-05", False),
        ("March 3, 2026", False),
        ("February 2026", False),
        ("in 2025", False),
        ("2026-02-31", False),
    ],
)
def test_dates_and_years_must_match_the_run_date(portfolio: PortfolioFacts, date_text: str, ok: bool) -> None:
    result = check_text(f"As of {date_text} the portfolio holds 20 SKUs. Fill rate is 97.3%.", facts=portfolio)
    assert result.ok is ok, result.reasons


def test_years_without_a_date_fact_fail() -> None:
    facts = sku_facts(row=make_row())
    result = check_text("Steel bracket 40mm sold 86 units a week in 2026. That is flat.", facts=facts)
    assert not result.ok and result.reasons == ("year '2026' is not in the facts",)


def test_numbers_in_names_and_codes_are_not_figures() -> None:
    facts = sku_facts(row=make_row(code="SKU-0042", name="Bolt M8 50mm x 1000"))
    text = "Bolt M8 50mm x 1000 (SKU-0042) sells 86 units a week. Cover is 41 days. The reorder point is 234."
    assert check_text(text, facts=facts).ok


def test_a_numeric_name_is_removed_as_a_whole_word_only() -> None:
    facts = sku_facts(row=make_row(code="5", name="5"))
    assert check_text("SKU 5 sells 86 units a week. Cover is 41.3 days.", facts=facts).ok
    result = check_text("SKU 5 sells 86 units a week. Demand rose 15%.", facts=facts)
    assert not result.ok and "number '15%' is not in the facts" in result.reasons


def test_numbers_quoted_from_the_status_reason_are_allowed() -> None:
    facts = sku_facts(row=make_row("surge"))  # reason: "recent demand 212 vs forecast 90 (z 4.1)"
    assert check_text("Cooling fan CF-12 is surging against a forecast of 90. The z-score is 4.1.", facts=facts).ok


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>Fill rate</b> is 97.3%. Fine.", "not plain text: HTML tag"),
        ("Fill rate is 97.3%.<script>alert(1)</script> Fine.", "not plain text: script"),
        ("Fill rate is 97.3%. <img src=x onerror='alert(1)'> Fine.", "not plain text: script"),
        ("Fill rate is 97.3%. See [the report](http://evil.example). Fine.", "not plain text: markdown link or image"),
        ("Fill rate is 97.3%. ![chart](x.png) Fine.", "not plain text: markdown link or image"),
        ("Fill rate is 97.3%. Details at https://evil.example/x today.", "not plain text: URL"),
        ("Fill rate is 97.3%. Go to www.evil.example now.", "not plain text: URL"),
        ("Fill rate is 97.3%. Load data:text/html;base64,PHNjcmlwdD4= now.", "not plain text: URL"),
        ("Fill rate is 97.3% &amp; steady. Fine.", "not plain text: HTML entity"),
        ("```\nFill rate is 97.3%.\n```", "not plain text: code block"),
        ("Fill rate is 97.3%. Click javascript:alert(1) now.", "not plain text: script"),
    ],
)
def test_html_scripts_links_are_refused(portfolio: PortfolioFacts, text: str, reason: str) -> None:
    result = check_text(text, facts=portfolio)
    assert not result.ok and result.text == ""
    assert reason in result.reasons


def test_ordinary_punctuation_is_not_markup(portfolio: PortfolioFacts) -> None:
    assert check_text("Cover of 6.2 days < lead time of 14 days. Fill rate is 97.3% > plan.", facts=portfolio).ok
    assert check_text("Based on the data: fill rate is 97.3%. Note: 20 SKUs in total.", facts=portfolio).ok


def test_harmless_markdown_is_stripped(portfolio: PortfolioFacts) -> None:
    text = "## Summary\n- **Fill rate** is 97.3%.\n- Value at risk is *$34,952*.\n1. `20` SKUs in total."
    result = check_text(text, facts=portfolio)
    assert result.ok, result.reasons
    assert result.text == "Summary Fill rate is 97.3%. Value at risk is $34,952. 20 SKUs in total."


def test_length_bounds(portfolio: PortfolioFacts) -> None:
    seven = " ".join(["Fill rate is 97.3%."] * 7)
    assert "too many sentences: 7 > 6" in check_text(seven, facts=portfolio).reasons
    assert "too few sentences: 1 < 2" in check_text("Fill rate is 97.3%.", facts=portfolio).reasons
    long_text = "Fill rate is 97.3% " + "and steady " * 100 + ". It held."
    assert any(r.startswith("too long") for r in check_text(long_text, facts=portfolio).reasons)
    assert check_text("", facts=portfolio).reasons == ("empty text",)
    assert check_text("  \n ", facts=portfolio).reasons == ("empty text",)
    assert check_text(None, facts=portfolio).reasons == ("empty text",)
    assert check_text(seven, facts=portfolio, max_sentences=7).ok
    with pytest.raises(ValueError, match="min_sentences"):
        check_text(GOOD, facts=portfolio, min_sentences=0)


def test_sentence_counting_ignores_decimals() -> None:
    assert count_sentences("Fill rate is 97.3%. Value at risk is $34,952.") == 2
    assert count_sentences("Is it 1.5? Yes! It is.") == 3
    assert clean_text("a\n\nb\u200b  c") == "a b c"


def test_allowed_values_cover_numbers_list_lengths_dates_and_labels(portfolio: PortfolioFacts) -> None:
    allowed = allowed_values(portfolio)
    assert {412345.0, 97.3, 0.4, 13.9, 3.0, 6.2}.issubset(allowed.values)
    assert {d.isoformat() for d in allowed.dates} == {"2026-03-02"}
    assert "Hydraulic pump HP-200" in allowed.labels and "SKU-0002" in allowed.labels
