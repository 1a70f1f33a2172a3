"""Deterministic sample briefing data: for previews, tests, benchmarks and the docs images.

Nothing here reads the database; the numbers are made up but internally consistent.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from reports.data import (
    Commentary,
    ForecastSeries,
    FvaRow,
    Mover,
    PolicyCard,
    PortfolioBriefing,
    PortfolioKpis,
    PurchaseOrderLine,
    RecommendedOrder,
    RiskRow,
    SkuBriefing,
    SkuMaster,
    TimeSeries,
    default_method_notes,
)

AS_OF = date(2026, 3, 13)
GENERATED = datetime(2026, 3, 14, 7, 30, tzinfo=UTC)

_RISKS = (
    (
        "BEV-0042",
        "Sparkling water 1.5 L",
        "Beverages",
        "stockout_risk",
        "Position 120 below reorder point 410; cover 2.1 d < lead time 9 d",
        18450.0,
        2.1,
    ),
    (
        "SNK-0107",
        "Sea-salt crisps 150 g",
        "Snacks",
        "surge",
        "Recent demand 340/wk is 3.8\u03c3 above forecast 190/wk",
        12990.5,
        4.4,
    ),
    (
        "DRY-0311",
        "Basmati rice 5 kg",
        "Dry goods",
        "overstock",
        "Cover 212 d > 3 \u00d7 target 41 d; excess 1,450 units",
        11200.0,
        212.0,
    ),
    (
        "BEV-0007",
        "Caf\u00e9 cr\u00e8me \u6771\u4eac",
        "Beverages",
        "stockout_risk",
        "Cover 3.0 d < lead time 14 d; on order 0",
        9875.25,
        3.0,
    ),
    (
        "HHL-0020",
        "Dish soap lemon 750 ml",
        "Household",
        "dead_stock",
        "No sale for 19 weeks; 640 units at cost",
        7040.0,
        math.inf,
    ),
    ("FRZ-0513", "Frozen peas 1 kg", "Frozen", "stockout_risk", "Position 35 below reorder point 160", 6120.0, 1.6),
    (
        "SNK-0044",
        "Dark chocolate 85 %",
        "Snacks",
        "low_velocity",
        "Recent demand 4/wk is 22 % of baseline 18/wk",
        4210.0,
        96.0,
    ),
    (
        "PER-0601",
        "Shampoo sensitive 400 ml",
        "Personal care",
        "overstock",
        "Cover 160 d > 3 \u00d7 target 35 d",
        3900.0,
        160.0,
    ),
    (
        "BEV-0199",
        "Cold brew coffee 250 ml",
        "Beverages",
        "surge",
        "Recent demand 95/wk is 3.1\u03c3 above forecast 52/wk",
        2650.0,
        6.8,
    ),
    ("DRY-0090", "Rolled oats 1 kg", "Dry goods", "stockout_risk", "Cover 5.5 d < lead time 7 d", 1480.0, 5.5),
)


def sample_kpis(*, sku_count: int = 1250, scale: float = 1.0) -> PortfolioKpis:
    """KPIs of a made-up portfolio of ``sku_count`` SKUs; ``scale`` shifts the money figures (previous run)."""
    shares = {"stockout_risk": 0.06, "surge": 0.03, "low_velocity": 0.11, "dead_stock": 0.04, "overstock": 0.09}
    counts = {s: int(round(sku_count * v * scale)) for s, v in shares.items()}
    counts["normal"] = max(sku_count - sum(counts.values()), 0)
    return PortfolioKpis(
        sku_count=sku_count,
        inventory_value=2_845_310.42 * scale,
        value_at_risk=184_220.0 * scale,
        fill_rate=min(0.962 / scale, 0.999),
        turns=7.4 / scale,
        days_of_supply=49.3 * scale,
        wape=0.284 * scale,
        status_counts=counts,
    )


def sample_commentary() -> Commentary:
    """A short commentary as the offline writer might produce it."""
    return Commentary(
        text=(
            "Service is holding up: fill rate is 96.2%, 1.5 points better than the previous run, and value at risk "
            "fell to $184,220.\n\n"
            "What needs attention this week:\n"
            "- BEV-0042 Sparkling water 1.5 L is below its reorder point with 2 days of cover against a 9-day lead "
            "time: order 1,200 units today.\n"
            "- SNK-0107 Sea-salt crisps is surging (demand 3.8\u03c3 above forecast); check the promotion calendar "
            "before raising the forecast.\n"
            "- Dry goods carry most of the excess: Basmati rice 5 kg alone holds 212 days of cover.\n\n"
            "Forecast error (WAPE 28.4%) is stable; planner overrides added 2.1 points of accuracy in Beverages."
        ),
        provider="gemini",
        model="gemini-2.5-flash",
        generated_at=GENERATED,
        fell_back=False,
    )


def sample_portfolio_briefing(*, n_purchase_orders: int = 14, sku_count: int = 1250) -> PortfolioBriefing:
    """A full portfolio briefing (10 risks, 6 movers, ``n_purchase_orders`` PO lines, FVA, method notes)."""
    risks = tuple(RiskRow(c, n, cat, s, r, v, d) for c, n, cat, s, r, v, d in _RISKS)
    movers = (
        Mover("SNK-0107", "Sea-salt crisps 150 g", 340.0, 176.0, 93.2),
        Mover("BEV-0199", "Cold brew coffee 250 ml", 95.0, 51.0, 86.3),
        Mover("BEV-0007", "Caf\u00e9 cr\u00e8me \u6771\u4eac", 61.0, 40.0, 52.5),
        Mover("SNK-0044", "Dark chocolate 85 %", 4.0, 18.0, -77.8),
        Mover("PER-0601", "Shampoo sensitive 400 ml", 7.5, 22.0, -65.9),
        Mover("HHL-0020", "Dish soap lemon 750 ml", 0.0, 12.0, -100.0),
    )
    suppliers = ("AquaPure Ltd", "Crunchy Foods", "Nordic Grains", "Kyoto Trading \u682a\u5f0f\u4f1a\u793e")
    pos = tuple(
        PurchaseOrderLine(
            supplier=suppliers[i % len(suppliers)],
            code=_RISKS[i % len(_RISKS)][0] if i < len(_RISKS) else f"SKU-{1000 + i:05d}",
            name=_RISKS[i % len(_RISKS)][1] if i < len(_RISKS) else f"Generic item {i}",
            qty=float(1200 - 37 * (i % 30)),
            order_by=AS_OF + timedelta(days=i // 3),
            value=(1200 - 37 * (i % 30)) * (1.25 + (i % 7) * 0.9),
        )
        for i in range(n_purchase_orders)
    )
    fva = (
        FvaRow("Beverages", 0.312, 0.291, 2.1),
        FvaRow("Snacks", 0.275, 0.281, -0.6),
        FvaRow("Dry goods", 0.198, 0.198, 0.0),
        FvaRow("All overridden SKUs", 0.262, 0.251, 1.1),
    )
    return PortfolioBriefing(
        company_name="Northwind Grocers",
        title="Portfolio briefing",
        generated_at=GENERATED,
        data_as_of=AS_OF,
        run_id="run-0042",
        scope_label="Whole portfolio",
        kpis=sample_kpis(sku_count=sku_count),
        previous_kpis=sample_kpis(sku_count=sku_count - 12, scale=1.015),
        top_risks=risks,
        top_movers=movers,
        commentary=sample_commentary(),
        purchase_orders=pos,
        fva=fva,
        method_notes=default_method_notes(
            service_level_policy="Cycle service level 98% for A items, 95% for B and 90% for C unless the SKU "
            "master sets its own target."
        ),
    )


def empty_portfolio_briefing() -> PortfolioBriefing:
    """A briefing for a portfolio with zero SKUs (a fresh install)."""
    return PortfolioBriefing(
        company_name="Northwind Grocers",
        title="Portfolio briefing",
        generated_at=GENERATED,
        data_as_of=AS_OF,
        run_id="run-0001",
        scope_label="Whole portfolio",
        kpis=PortfolioKpis(0, 0.0, 0.0, None, None, None, None, {}),
    )


def sample_sku_briefing(
    *, code: str = "BEV-0007", name: str = "Caf\u00e9 cr\u00e8me \u6771\u4eac", n_history: int = 104, horizon: int = 13
) -> SkuBriefing:
    """A single-SKU briefing with weekly history, a forecast band, two overrides and a stock projection."""
    start = AS_OF - timedelta(weeks=n_history - 1)
    hist_dates = [start + timedelta(weeks=i) for i in range(n_history)]
    hist = [
        max(0.0, 40 + 12 * math.sin(2 * math.pi * i / 52) + 6 * math.sin(i * 1.7) + i * 0.12) for i in range(n_history)
    ]
    f_dates = [AS_OF + timedelta(weeks=i + 1) for i in range(horizon)]
    mean = [55 + 10 * math.sin(2 * math.pi * (n_history + i) / 52) for i in range(horizon)]
    p10 = [m * 0.72 for m in mean]
    p90 = [m * 1.31 for m in mean]
    overrides = TimeSeries(f_dates[2:4], [mean[2] * 1.25, mean[3] * 1.2])
    # (s, Q) policy: order 480 when the position reaches the reorder point 158; receipts after 2 weeks
    stock, level, pipeline = [], 60.0, {1: 480.0}  # the recommended order (placed now) arrives in week 2
    for i, m in enumerate(mean):
        level += pipeline.pop(i, 0.0)
        level -= m
        stock.append(round(level, 1))
        if level + sum(pipeline.values()) <= 158:
            pipeline[i + 2] = 480.0
    policy = PolicyCard(
        demand_class="smooth",
        abc="A",
        xyz="Y",
        service_level=0.97,
        lead_time_mean_days=14.0,
        lead_time_std_days=3.2,
        lead_time_source="learned from 11 receipts",
        safety_stock=46.0,
        reorder_point=158.0,
        eoq=480.0,
        newsvendor_qty=505.0,
        rop_method="normal",
        rop_method_reason="Lead-time demand 112 units is large and smooth (CV\u00b2 0.08): "
        "the normal approximation holds.",
        forecast_model="ets",
        mase=0.74,
        wape=0.186,
        bias=-1.9,
        runners_up=(("seasonal_naive", 0.91), ("ml_gbm", 0.95), ("croston_sba", 1.22)),
        days_of_cover=3.0,
    )
    return SkuBriefing(
        company_name="Northwind Grocers",
        title="SKU briefing",
        generated_at=GENERATED,
        data_as_of=AS_OF,
        run_id="run-0042",
        sku=SkuMaster(
            code=code,
            name=name,
            category="Beverages",
            location="DC Rotterdam",
            supplier="Kyoto Trading \u682a\u5f0f\u4f1a\u793e",
            unit_cost=4.85,
            unit_price=7.9,
            moq=240,
            order_multiple=24,
            on_hand=60,
            on_order=0,
            grain="weekly",
        ),
        status="stockout_risk",
        status_reason="Cover 3.0 d < lead time 14 d; position 60 below reorder point 158; on order 0.",
        policy=policy,
        history=TimeSeries(hist_dates, hist),
        forecast=ForecastSeries(f_dates, mean, p10, p90),
        overrides=overrides,
        projected_stock=TimeSeries([AS_OF, *f_dates], [60.0, *stock]),
        recommended_order=RecommendedOrder(
            qty=480, order_by=AS_OF, value=480 * 4.85, arrival=AS_OF + timedelta(weeks=2)
        ),
        commentary=Commentary(
            text="Caf\u00e9 cr\u00e8me \u6771\u4eac will run out in about 3 days while a new order takes 14 days "
            "to arrive. Order 480 units (two cases of 240) today; demand is 50% above last year's level, so the "
            "forecast team raised weeks 3 and 4 by a fifth for the spring promotion.",
            provider="offline",
            model="template-v1",
            generated_at=GENERATED,
            fell_back=True,
        ),
    )
