"""Offline writer: grounded, 3-6 sentences, and different prose for different situations."""

from __future__ import annotations

import re
from datetime import date

import pytest

from ai.facts import STATUSES, PortfolioFacts, SkuFacts, portfolio_facts, sku_facts
from ai.grounding import check_text, count_sentences
from ai.prompts import MAX_CHARS, build_prompt
from ai.providers.offline import OfflineWriter
from tests.unit.ai.ai_samples import KPIS, PREVIOUS_KPIS, make_row, snapshot_frame

WRITER = OfflineWriter()


def _skeleton(sentence: str, facts: SkuFacts | PortfolioFacts) -> str:
    """The sentence's structure: names and numbers replaced by placeholders."""
    labels = [facts.name, facts.code] if isinstance(facts, SkuFacts) else []
    if isinstance(facts, PortfolioFacts):
        labels += [entry.name for entry in [*facts.top_movers, *facts.top_risks]]
    for label in sorted(labels, key=len, reverse=True):
        sentence = sentence.replace(label, "<name>")
    return re.sub(r"[$]?\d[\d,.]*%?", "#", sentence)


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z0-9$])", text)


def _assert_well_formed(text: str, facts: SkuFacts | PortfolioFacts) -> None:
    result = check_text(text, facts=facts)
    assert result.ok, (result.reasons, text)
    assert 3 <= count_sentences(text) <= 6, text
    assert len(text) <= MAX_CHARS
    assert result.text == text  # already plain: nothing to clean


@pytest.mark.parametrize("status", STATUSES)
def test_sku_text_per_status_is_grounded_and_bounded(sku_facts_by_status: dict[str, SkuFacts], status: str) -> None:
    facts = sku_facts_by_status[status]
    text = WRITER.write(facts)
    _assert_well_formed(text, facts)
    assert facts.name in text and facts.code in text


def test_sku_texts_differ_by_situation(sku_facts_by_status: dict[str, SkuFacts]) -> None:
    texts = {status: WRITER.write(facts) for status, facts in sku_facts_by_status.items()}
    leads = {status: _skeleton(_sentences(text)[0], sku_facts_by_status[status]) for status, text in texts.items()}
    assert len(set(leads.values())) == len(STATUSES), leads  # a different opening structure per status
    skeletons = {
        status: {_skeleton(s, sku_facts_by_status[status]) for s in _sentences(text)} for status, text in texts.items()
    }
    for first in STATUSES:  # not one template with blanks: most sentences differ between any two statuses
        for second in STATUSES:
            if first < second:
                shared = skeletons[first] & skeletons[second]
                assert len(shared) <= 1, (first, second, shared)


def test_sku_text_follows_the_facts(sku_facts_by_status: dict[str, SkuFacts]) -> None:
    stockout = WRITER.write(sku_facts_by_status["stockout_risk"])
    # the rule that fired, in the words of ai.wording: cover shorter than the lead time (issue 15 item 9)
    assert "its 6.2 days of cover are shorter than its 14-day lead time" in stockout
    assert "risen by 35 to 415" in stockout and "grown by 13 to 153 units" in stockout
    assert "when it was normal" in stockout
    assert "Order 600 units now" in stockout
    assert "4.1 standard deviations" in WRITER.write(sku_facts_by_status["surge"])
    assert "has not sold for 19 weeks" in WRITER.write(sku_facts_by_status["dead_stock"])
    assert "$9,412" in WRITER.write(sku_facts_by_status["overstock"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"demand_recent": 120.0, "demand_baseline": 80.0}, "Demand is rising: 120 units a week recently, 50% above"),
        ({"demand_recent": 60.0, "demand_baseline": 80.0}, "Demand has eased to 60 units a week, 25% below"),
        ({"demand_recent": 81.0, "demand_baseline": 80.0}, "Demand is flat at 81 units a week"),
        ({"demand_recent": 3.0, "demand_baseline": 0.0}, "It has only just started selling, at 3 units a week"),
    ],
)
def test_sku_trend_direction_changes_the_sentence(changes: dict, expected: str) -> None:
    facts = sku_facts(row=make_row("normal", **changes))
    text = WRITER.write(facts)
    _assert_well_formed(text, facts)
    assert expected in text


@pytest.mark.parametrize(
    ("sigma", "expected"),
    # the words of ai.wording's CV bands (stable < 0.5 <= variable < 1 <= volatile), as on the SKU page and the PDF
    [(8.0, "Demand is stable"), (60.0, "Demand is variable"), (130.0, "Demand is volatile")],
)
def test_sku_volatility_changes_the_sentence(sigma: float, expected: str) -> None:
    facts = sku_facts(row=make_row("normal", sigma=sigma), previous=make_row("normal", sigma=sigma / 2))
    text = WRITER.write(facts)
    _assert_well_formed(text, facts)
    assert expected in text and "since the previous run" in text


def test_sparse_sku_facts_still_make_three_sentences() -> None:
    facts = sku_facts(row={"code": "X-1", "status": "stockout_risk"})
    text = WRITER.write(facts)
    _assert_well_formed(text, facts)


def test_long_names_keep_the_text_within_bounds() -> None:
    facts = sku_facts(row=make_row("stockout_risk", name="Industrial hydraulic pump assembly " * 4))
    text = WRITER.write(facts)
    _assert_well_formed(text, facts)


def _portfolio(statuses: dict[str, int], *, var: dict[str, float] | None = None, **kwargs) -> PortfolioFacts:
    """A portfolio with ``statuses`` counts; ``var`` sets per-code value at risk."""
    rows = []
    for status, count in statuses.items():
        for i in range(count):
            code = f"{status[:3].upper()}-{i:02d}"
            rows.append(
                make_row(
                    status,
                    code=code,
                    name=f"{status.replace('_', ' ').title()} item {i}",
                    value_at_risk=(var or {}).get(code, 0.0),
                    demand_recent=make_row(status)["demand_recent"] + i,
                )
            )
    return portfolio_facts(snapshot=rows, **kwargs)


PORTFOLIOS = {
    "all_normal": lambda: _portfolio({"normal": 12}, kpis={"fill_rate": 0.991}),
    "stockouts": lambda: _portfolio(
        {"stockout_risk": 5, "normal": 4, "overstock": 1},
        var={"STO-00": 9000.0, "STO-01": 8000.0, "OVE-00": 500.0},
        kpis={"fill_rate": 0.912, "value_at_risk": 17500.0, "inventory_value": 50000.0},
        previous_kpis={"fill_rate": 0.95, "value_at_risk": 6000.0, "count_stockout_risk": 2, "count_normal": 7},
    ),
    "excess": lambda: _portfolio(
        {"overstock": 6, "dead_stock": 2, "normal": 3},
        var={f"OVE-{i:02d}": 1000.0 + i for i in range(6)} | {"DEA-00": 900.0, "DEA-01": 800.0},
    ),
    "surge": lambda: _portfolio({"surge": 4, "normal": 3, "stockout_risk": 1}, var={"STO-00": 1200.0}),
    "slow": lambda: _portfolio({"low_velocity": 5, "dead_stock": 3, "normal": 2}, var={"LOW-00": 50.0}),
    "healthy_with_flags": lambda: _portfolio({"normal": 18, "surge": 1, "overstock": 1}, var={"OVE-00": 700.0}),
}


@pytest.mark.parametrize("name", PORTFOLIOS)
def test_portfolio_text_is_grounded_and_bounded(name: str) -> None:
    facts = PORTFOLIOS[name]()
    text = WRITER.write(facts)
    _assert_well_formed(text, facts)


def test_portfolio_texts_differ_by_situation() -> None:
    built = {name: make() for name, make in PORTFOLIOS.items()}
    texts = {name: WRITER.write(facts) for name, facts in built.items()}
    leads = {name: _skeleton(_sentences(text)[0], built[name]) for name, text in texts.items()}
    assert len(set(leads.values())) == len(PORTFOLIOS), leads
    actions = {name: _skeleton(_sentences(text)[-1], built[name]) for name, text in texts.items()}
    assert len(set(actions.values())) >= 4, actions
    assert "Supply is the pressing issue" in texts["stockouts"]
    assert "Excess stock is the main theme" in texts["excess"]
    assert "All 12 SKUs are running normally" in texts["all_normal"]
    assert "Fill rate slipped to 91.2%, 3.8 points below the previous run" in texts["stockouts"]
    assert "3 more SKUs are at risk of stocking out" in texts["stockouts"]


def test_portfolio_risk_concentration_changes_the_sentence() -> None:
    concentrated = PORTFOLIOS["excess"]()  # the top 5 of 8 risks hold 65%
    spread = _portfolio({"overstock": 10}, var={f"OVE-{i:02d}": 1000.0 for i in range(10)})
    assert "Exposure is concentrated" in WRITER.write(concentrated)
    assert "Only 3 SKUs carry the $17,500 at risk" in WRITER.write(PORTFOLIOS["stockouts"]())
    spread_text = WRITER.write(spread)
    assert "is spread widely" in spread_text and "only 50%" in spread_text
    _assert_well_formed(spread_text, spread)


def test_the_fixture_portfolio_and_an_empty_one(portfolio: PortfolioFacts) -> None:
    text = WRITER.write(portfolio)
    _assert_well_formed(text, portfolio)
    assert "up 0.4 points" in text and "$4,842" in text and "Cooling fan CF-12" in text
    empty = portfolio_facts(snapshot=snapshot_frame().iloc[0:0], as_of=date(2026, 3, 2))
    _assert_well_formed(WRITER.write(empty), empty)


def test_generate_uses_the_prompt_facts(portfolio: PortfolioFacts) -> None:
    assert WRITER.generate(build_prompt(portfolio)) == WRITER.write(portfolio)
    assert (WRITER.name, WRITER.model) == ("offline", "offline-v1")
    with pytest.raises(ValueError, match="facts"):
        WRITER.write(KPIS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_sentences"):
        OfflineWriter(max_sentences=2)


def test_previous_kpis_without_counts() -> None:
    facts = _portfolio({"normal": 3, "surge": 1}, kpis=KPIS | {"sku_count": 4}, previous_kpis={"fill_rate": 0.97})
    assert facts.status_count_changes is None
    _assert_well_formed(WRITER.write(facts), facts)
    assert PREVIOUS_KPIS  # the shared sample stays importable


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("overstock", "Do not reorder; plan a markdown or a return before the season ends."),
        ("stockout_risk", "Place the season's order of 600 units now."),
    ],
)
def test_one_shot_sku_text_talks_about_the_season_not_a_reorder_point(status: str, action: str) -> None:
    row = make_row(status, order_policy="newsvendor", newsvendor_qty=1083.4)
    facts = sku_facts(row=row)
    assert facts.one_shot and facts.newsvendor_qty == 1083
    text = WRITER.write(facts)
    _assert_well_formed(text, facts)
    assert action in text
    assert "reorder point" not in text and "replenish" not in text.lower()
    assert "newsvendor quantity for the season is 1,083 units" in text
    plain = sku_facts(row=make_row(status, newsvendor_qty=1083.4))
    assert not plain.one_shot and plain.newsvendor_qty is None  # only one-shot SKUs carry it
