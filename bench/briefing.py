"""Speed of the PDF briefings (targets: portfolio <= 3 s, one SKU <= 1 s; docs/architecture.md, Targets).

Portfolio: a synthetic engine snapshot of 10,000 SKUs is reduced with pandas to the briefing facts (status counts,
top-10 risks, top movers, purchase orders: the 50 most urgent printed, totals over all), then the PDF is built.
SKU: one SKU with 156 weeks of history, a 13-week forecast band, overrides and a stock projection.

Run: ``.venv/bin/python bench/briefing.py [--skus 10000] [--repeat 5] [--out /tmp]`` (or ``-m bench.briefing``).
Prints wall and CPU seconds (the first build in a process also loads fonts and matplotlib: reported as "cold").
Not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from reports.theme import STATUS_ORDER  # noqa: E402

AS_OF = date(2026, 3, 13)
TARGET_PORTFOLIO_S = 3.0
TARGET_SKU_S = 1.0


def synthetic_snapshot(n: int, *, seed: int = 0) -> pd.DataFrame:
    """A snapshot shaped like the engine's (only the columns the briefing reads), one row per SKU."""
    rng = np.random.default_rng(seed)
    categories = np.array(["Beverages", "Snacks", "Dry goods", "Frozen", "Household", "Personal care"])
    status = rng.choice(np.array(STATUS_ORDER), size=n, p=[0.06, 0.03, 0.11, 0.04, 0.09, 0.67])
    unit_cost = rng.gamma(2.0, 3.0, n).round(2) + 0.5
    baseline = rng.gamma(1.5, 20.0, n)
    recent = baseline * rng.lognormal(0.0, 0.35, n)
    lead_days = rng.choice(np.array([7.0, 14.0, 21.0, 28.0]), n)
    on_hand = rng.poisson(baseline * 6)
    cover = np.where(recent > 0, on_hand / np.maximum(recent, 1e-9) * 7, np.inf)
    var = np.where(status == "normal", 0.0, rng.gamma(1.2, 900.0, n))
    reorder = np.where(np.isin(status, ["stockout_risk", "surge"]), (baseline * 8).round(), 0.0)
    return pd.DataFrame(
        {
            "code": [f"SKU-{i:05d}" for i in range(n)],
            "name": [f"Synthetic item {i}" for i in range(n)],
            "category": categories[rng.integers(0, len(categories), n)],
            "supplier": [f"Supplier {i % 40:02d}" for i in range(n)],
            "status": status,
            "status_reason": [
                f"Cover {c:.1f} d vs lead time {lt:.0f} d" for c, lt in zip(cover, lead_days, strict=True)
            ],
            "value_at_risk": var,
            "days_of_cover": cover,
            "demand_recent": recent,
            "demand_baseline": baseline,
            "unit_cost": unit_cost,
            "inventory_value": on_hand * unit_cost,
            "recommended_qty": reorder,
            "order_by_periods": rng.integers(0, 6, n),
        }
    ).set_index("code")


def portfolio_facts(snapshot: pd.DataFrame):
    """Reduce a snapshot to the briefing facts (the job the briefing service will do from the database)."""
    from reports.data import Mover, PortfolioBriefing, PortfolioKpis, PurchaseOrderLine, RiskRow, default_method_notes
    from reports.samples import sample_commentary

    counts = snapshot["status"].value_counts().to_dict()
    kpis = PortfolioKpis(
        sku_count=len(snapshot),
        inventory_value=float(snapshot["inventory_value"].sum()),
        value_at_risk=float(snapshot["value_at_risk"].sum()),
        fill_rate=0.961,
        turns=7.2,
        days_of_supply=48.0,
        wape=0.29,
        status_counts={k: int(v) for k, v in counts.items()},
    )
    at_risk = snapshot[snapshot["status"] != "normal"].nlargest(10, "value_at_risk")
    risks = tuple(
        RiskRow(code, r["name"], r["category"], r["status"], r["status_reason"], r["value_at_risk"], r["days_of_cover"])
        for code, r in at_risk.iterrows()
    )
    change = (snapshot["demand_recent"] / snapshot["demand_baseline"].where(snapshot["demand_baseline"] > 0) - 1) * 100
    movers_idx = change.abs().nlargest(8).index
    movers = tuple(
        Mover(
            code,
            snapshot.at[code, "name"],
            snapshot.at[code, "demand_recent"],
            snapshot.at[code, "demand_baseline"],
            float(change[code]),
        )
        for code in movers_idx
    )
    orders = snapshot[snapshot["recommended_qty"] > 0].copy()
    orders["value"] = orders["recommended_qty"] * orders["unit_cost"]
    orders = orders.sort_values(["order_by_periods", "value"], ascending=[True, False])
    printed = orders.head(50)
    pos = tuple(
        PurchaseOrderLine(
            r["supplier"],
            code,
            r["name"],
            r["recommended_qty"],
            AS_OF + timedelta(weeks=int(r["order_by_periods"])),
            r["value"],
        )
        for code, r in printed.iterrows()
    )
    return PortfolioBriefing(
        company_name="Benchmark Foods",
        title="Portfolio briefing",
        generated_at=datetime(2026, 3, 14, 7, 30, tzinfo=UTC),
        data_as_of=AS_OF,
        run_id="bench",
        scope_label="Whole portfolio",
        kpis=kpis,
        previous_kpis=replace(
            kpis,
            sku_count=len(snapshot) - 20,
            inventory_value=kpis.inventory_value * 0.98,
            value_at_risk=kpis.value_at_risk * 1.05,
            fill_rate=0.955,
        ),
        top_risks=risks,
        top_movers=movers,
        commentary=sample_commentary(),
        purchase_orders=pos,
        purchase_orders_total_count=len(orders),
        purchase_orders_total_value=float(orders["value"].sum()),
        method_notes=default_method_notes(),
    )


def _time(fn, repeat: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus


def _report(label: str, walls: list[float], cpus: list[float], target: float) -> None:
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    verdict_wall = f"wall {'OK' if wall <= target else 'OVER'} ({target / wall:.1f}x)"
    verdict_cpu = f"CPU {'OK' if cpu <= target else 'OVER'} ({target / cpu:.1f}x)"
    print(
        f"  {label:<38s} wall median {wall:6.3f} s (min {min(walls):.3f}, max {max(walls):.3f});"
        f" CPU median {cpu:.3f} s; target <= {target:.1f} s: {verdict_wall}, {verdict_cpu}"
    )


def docs_images(folder: Path, *, dpi: int = 100) -> None:
    """Page 1 of the sample portfolio and SKU briefings as PNG (needs pdftoppm from poppler-utils)."""
    import shutil
    import subprocess
    import tempfile

    from PIL import Image

    from reports import build_portfolio_briefing, build_sku_briefing
    from reports.samples import sample_portfolio_briefing, sample_sku_briefing

    exe = shutil.which("pdftoppm")
    if exe is None:
        print("docs images skipped: pdftoppm not installed (apt-get install -y poppler-utils)")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name, pdf in (
        ("briefing-portfolio", build_portfolio_briefing(sample_portfolio_briefing())),
        ("briefing-sku", build_sku_briefing(sample_sku_briefing())),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "doc.pdf"
            source.write_bytes(pdf)
            subprocess.run(
                [exe, "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", source, Path(tmp) / "p"], check=True
            )
            image = Image.open(Path(tmp) / "p.png").convert("RGB")
            target = folder / f"{name}.png"
            image.save(target, optimize=True)
            print(f"{target}: {image.width}x{image.height}, {target.stat().st_size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="folder to write the PDFs to")
    parser.add_argument(
        "--docs-images", type=Path, default=None, help="render page 1 of the sample briefings as PNG into this folder"
    )
    args = parser.parse_args()
    if args.docs_images is not None:
        docs_images(args.docs_images)

    t = time.perf_counter()
    from reports import build_portfolio_briefing, build_sku_briefing
    from reports.samples import sample_sku_briefing

    print(f"import reports: {time.perf_counter() - t:.3f} s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (wall times stretch when load > cores)")

    snapshot = synthetic_snapshot(args.skus)
    walls, cpus = _time(lambda: portfolio_facts(snapshot), args.repeat)
    facts = portfolio_facts(snapshot)
    print(
        f"Portfolio of {args.skus:,} SKUs: {facts.purchase_orders_total_count:,} recommended lines "
        f"({len(facts.purchase_orders)} printed), {len(facts.top_risks)} risks, {len(facts.top_movers)} movers"
    )
    print(f"  reduce snapshot to facts (pandas)      wall median {statistics.median(walls):6.3f} s")

    t = time.perf_counter()
    pdf = build_portfolio_briefing(facts)
    print(f"  first build (cold: fonts, matplotlib)  wall {time.perf_counter() - t:6.3f} s, {len(pdf) / 1024:.0f} KiB")
    walls, cpus = _time(lambda: build_portfolio_briefing(facts), args.repeat)
    _report("build_portfolio_briefing", walls, cpus, TARGET_PORTFOLIO_S)
    walls, cpus = _time(lambda: build_portfolio_briefing(portfolio_facts(snapshot)), args.repeat)
    _report("facts + build", walls, cpus, TARGET_PORTFOLIO_S)

    sku = sample_sku_briefing(n_history=156, horizon=13)
    latin = replace(
        sku,
        sku=replace(sku.sku, name="Cafe creme Tokyo", supplier="Kyoto Trading"),
        commentary=replace(sku.commentary, text="Order 480 units today: cover 3 days against a 14-day lead time."),
    )
    print("SKU briefing (156 weeks of history, 13-week horizon)")
    t = time.perf_counter()
    sku_pdf = build_sku_briefing(sku)
    print(
        f"  first build                            wall {time.perf_counter() - t:6.3f} s, {len(sku_pdf) / 1024:.0f} KiB"
    )
    walls, cpus = _time(lambda: build_sku_briefing(latin), args.repeat)
    _report("build_sku_briefing (Latin text)", walls, cpus, TARGET_SKU_S)
    walls, cpus = _time(lambda: build_sku_briefing(sku), args.repeat)
    _report("build_sku_briefing (CJK name)", walls, cpus, TARGET_SKU_S)

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "briefing-portfolio-bench.pdf").write_bytes(pdf)
        (args.out / "briefing-sku-bench.pdf").write_bytes(sku_pdf)
        print(f"PDFs written to {args.out}")


if __name__ == "__main__":
    main()
