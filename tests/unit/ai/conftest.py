"""Fixtures of the ai/ tests: snapshot rows per status, facts, and the fake Gemini server."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ai.facts import PortfolioFacts, SkuFacts, portfolio_facts, sku_facts
from tests.fakes.gemini import fake_gemini  # noqa: F401  (fixture)
from tests.unit.ai.ai_samples import KPIS, PREVIOUS_KPIS, PREVIOUS_OVERRIDES, STATUS_OVERRIDES, make_row, snapshot_frame


@pytest.fixture
def rows() -> dict[str, dict[str, Any]]:
    """One snapshot row per status."""
    return {status: make_row(status) for status in STATUS_OVERRIDES}


@pytest.fixture
def sku_facts_by_status(rows: dict[str, dict[str, Any]]) -> dict[str, SkuFacts]:
    """SkuFacts per status; the stockout-risk SKU has a previous run row."""
    facts = {status: sku_facts(row=row) for status, row in rows.items()}
    previous = {**rows["stockout_risk"], **PREVIOUS_OVERRIDES}
    facts["stockout_risk"] = sku_facts(row=rows["stockout_risk"], previous=previous)
    return facts


@pytest.fixture
def portfolio() -> PortfolioFacts:
    """Portfolio facts of a 20-SKU snapshot with KPIs and a previous run."""
    return portfolio_facts(
        snapshot=snapshot_frame(),
        kpis=KPIS,
        previous_kpis=PREVIOUS_KPIS,
        top_n=3,
        as_of=date(2026, 3, 2),
    )
