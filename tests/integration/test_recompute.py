"""The portfolio recompute service on both engines: one run, its snapshot and forecasts, failures, inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, update

from db import queries_recompute as q
from db.models import (
    STATUSES,
    Forecast,
    ForecastOverride,
    PurchaseOrder,
    Receipt,
    RecomputeRun,
    Sku,
    SkuSnapshot,
    StockPosition,
)
from services import demo, run_export, runs
from services import recompute as rc
from services.engine_inputs import load_portfolio_inputs

END = dt.date(2026, 1, 5)  # a Monday: the demo's last week
HORIZON = 13


@pytest.fixture
def portfolio() -> demo.DemoPortfolio:
    return demo.generate(skus=30, periods=80, end=END)


def _store(session, portfolio: demo.DemoPortfolio) -> None:
    demo.store(session=session, portfolio=portfolio)
    session.commit()


def _count(session, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return session.scalar(query) or 0


def _snapshot(session, run_id: int) -> pd.DataFrame:
    return q.snapshot_frame(session.connection(), run_id=run_id).set_index("code")


def test_recompute_writes_one_run_snapshot_and_forecasts(session, portfolio) -> None:
    _store(session, portfolio)
    inactive = portfolio.skus["code"].iloc[-1]
    session.execute(update(Sku).where(Sku.code == inactive).values(active=False))
    session.commit()
    seen: list[tuple[float, str]] = []

    summary = rc.recompute(
        session=session, triggered_by="tests", progress=lambda f, m: seen.append((f, m)), batch_size=10
    )

    assert summary.status == "finished" and summary.sku_count == 29 and summary.batches == 3
    assert summary.grain == "weekly" and summary.data_as_of == END
    assert {"load", "compute", "forecast", "finalize", "write", "total"} <= set(summary.timings)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum(m.startswith("forecast and policies: batch") for _, m in seen) == 3
    # issue 23: inside a batch the bar moves with the engine's stages and says which one runs
    inside = [(f, m) for f, m in seen if m.startswith("batch 2 of 3 (10 SKUs): ")]
    assert any("gradient boosting" in m for _, m in inside) and any("policies" in m for _, m in inside)
    assert len({f for f, _ in inside}) >= 4

    run = runs.latest_run(session=session)
    assert run.id == summary.run_id and run.status == "finished" and run.triggered_by == "tests"
    assert (run.grain, run.data_as_of, run.sku_count) == ("weekly", END, 29)
    assert run.kpis["sku_count"] == 29 and set(run.timings) >= {"load", "compute", "write"}
    assert runs.previous_run(session=session) is None

    snap = _snapshot(session, run.id)
    assert len(snap) == 29 and inactive not in snap.index
    assert snap["status"].isin(["stockout_risk", "surge", "low_velocity", "dead_stock", "overstock", "normal"]).all()
    assert (snap["status_reason"].str.len() > 0).all()
    assert set(snap["lead_time_source"]) == {"receipts", "master"}  # the demo has receipts for about a third
    assert snap["abc"].isin(["A", "B", "C"]).all()
    assert isinstance(snap["model_scores"].iloc[0], dict)
    assert snap["periods_since_last_sale"].notna().all()
    # NaN from the engine is stored as NULL (e.g. days of cover of a SKU without forecast demand, or scores)
    nulls = session.scalar(select(func.count()).select_from(SkuSnapshot).where(SkuSnapshot.days_of_cover.is_(None)))
    no_demand = int((snap["forecast_per_period"] <= 0).sum())
    assert nulls == no_demand

    future = _count(session, Forecast, run_id=run.id, kind="future")
    assert future == 29 * HORIZON
    first_future = session.scalar(select(func.min(Forecast.period)).where(Forecast.kind == "future"))
    assert first_future == END + dt.timedelta(days=7)
    backtest = session.execute(
        select(Forecast.period, Forecast.mean, Forecast.p10).where(Forecast.kind == "backtest")
    ).all()
    assert len(backtest) > 29 * HORIZON  # several origins per SKU
    assert all(p <= END and m >= 0 and p10 is None for p, m, p10 in backtest)
    bands = session.execute(
        select(Forecast.p10, Forecast.p50, Forecast.p90, Forecast.mean).where(Forecast.kind == "future")
    ).all()
    assert all(0 <= lo <= mid <= hi and m >= 0 for lo, mid, hi, m in bands)

    # statuses cover the demo's patterns (the inactive SKU is the last one, in none of the checked patterns)
    codes = portfolio.skus["code"].to_numpy()
    checked = ("short", "surging", "dead")
    status = {name: snap.loc[codes[portfolio.patterns[name]], "status"].tolist() for name in checked}
    assert status["short"] and set(status["short"]) == {"stockout_risk"}, status["short"]
    # a surge that already endangers supply is reported as stockout_risk (core.health precedence); the z-score shows it
    assert status["surging"] and set(status["surging"]) <= {"surge", "stockout_risk"}, status["surging"]
    assert (snap.loc[codes[portfolio.patterns["surging"]], "surge_z"] >= 3.0).all()
    assert (
        snap.loc[codes[portfolio.patterns["surging"]], "demand_recent"]
        > 2 * snap.loc[codes[portfolio.patterns["surging"]], "demand_baseline"]
    ).all()
    # intermittent spare parts may surge legitimately (a cluster of orders); the regular SKUs must not
    quiet = np.setdiff1d(
        np.arange(29), np.concatenate([portfolio.patterns["surging"], portfolio.patterns["intermittent"]])
    )
    assert (snap.loc[codes[quiet], "status"] != "surge").all()
    assert status["dead"] and set(status["dead"]) == {"dead_stock"}, status["dead"]
    counts = snap["status"].value_counts()
    assert all(run.kpis[f"count_{s}"] == counts.get(s, 0) for s in STATUSES)


def test_rerun_gives_identical_numbers_and_keeps_previous(session, portfolio, monkeypatch) -> None:
    _store(session, portfolio)
    codes = portfolio.skus["code"].tolist()[:12]
    first = rc.recompute(session=session, sku_codes=codes, batch_size=5)
    monkeypatch.setattr(q, "STREAM_CHUNK_ROWS", 50)  # PostgreSQL: the second run goes through the streamed COPY
    second = rc.recompute(session=session, sku_codes=codes, batch_size=5)
    assert runs.latest_run(session=session).id == second.run_id
    assert runs.previous_run(session=session).id == first.run_id
    a, b = _snapshot(session, first.run_id), _snapshot(session, second.run_id)
    pd.testing.assert_frame_equal(a, b)
    fa = q.forecast_frame(session.connection(), run_id=first.run_id)
    fb = q.forecast_frame(session.connection(), run_id=second.run_id)
    assert len(fa) > 12 * HORIZON
    pd.testing.assert_frame_equal(fa, fb)
    assert first.kpis == second.kpis


def test_failure_in_the_middle_keeps_the_previous_run(session, portfolio, monkeypatch) -> None:
    _store(session, portfolio)
    codes = portfolio.skus["code"].tolist()[:3]
    good = rc.recompute(session=session, sku_codes=codes)
    snapshot_rows = _count(session, SkuSnapshot)
    forecast_rows = _count(session, Forecast)

    real = rc.compute_batch
    calls = {"n": 0}

    def flaky(inputs, *, settings):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("engine exploded on batch 2")
        return real(inputs, settings=settings)

    monkeypatch.setattr(rc, "compute_batch", flaky)
    with pytest.raises(rc.RecomputeError, match="engine exploded on batch 2") as info:
        rc.recompute(session=session, sku_codes=codes, batch_size=1, workers=1)

    failed = session.get(RecomputeRun, info.value.run_id)
    session.refresh(failed)
    assert failed.status == "failed" and "RuntimeError: engine exploded" in failed.error
    assert failed.finished_at is not None
    assert runs.latest_run(session=session).id == good.run_id
    assert _count(session, SkuSnapshot, run_id=failed.id) == 0 and _count(session, Forecast, run_id=failed.id) == 0
    assert (_count(session, SkuSnapshot), _count(session, Forecast)) == (snapshot_rows, forecast_rows)


def test_failure_while_writing_rolls_back_the_rows(session, portfolio, monkeypatch) -> None:
    _store(session, portfolio)
    codes = portfolio.skus["code"].tolist()[:2]
    real = q.insert_frame

    def fail_on_forecasts(connection, table, frame, **kwargs):
        if table.name == "forecast":
            raise OSError("disk full")
        return real(connection, table, frame, **kwargs)

    monkeypatch.setattr(q, "insert_frame", fail_on_forecasts)
    with pytest.raises(rc.RecomputeError, match="disk full") as info:
        rc.recompute(session=session, sku_codes=codes)
    assert session.get(RecomputeRun, info.value.run_id).status == "failed"
    assert _count(session, SkuSnapshot) == 0  # the snapshot rows written before the error are gone
    assert runs.latest_run(session=session) is None


def test_cancel_records_a_cancelled_run(session, portfolio) -> None:
    _store(session, portfolio)
    polls = {"n": 0}

    def cancel() -> bool:
        polls["n"] += 1
        return polls["n"] >= 3  # after the load and the first batch

    summary = rc.recompute(session=session, sku_codes=portfolio.skus["code"].tolist()[:4], batch_size=2, cancel=cancel)
    assert summary.status == "cancelled"
    run = session.get(RecomputeRun, summary.run_id)
    assert run.status == "cancelled" and run.error
    assert _count(session, SkuSnapshot) == 0 and _count(session, Forecast) == 0
    assert runs.latest_run(session=session) is None


def test_inputs_orders_lead_times_and_overrides(session, portfolio) -> None:
    _store(session, portfolio)
    ids = dict(session.execute(select(Sku.code, Sku.id)).all())
    received = set(portfolio.receipts["sku"])
    no_receipts = [c for i, c in enumerate(portfolio.skus["code"]) if i not in received]
    ordered, learned, overridden = no_receipts[:3]

    # approved orders add to on order; other statuses do not
    base_on_order = session.scalar(select(StockPosition.on_order).where(StockPosition.sku_id == ids[ordered]))
    for status, qty in (("approved", 100.0), ("approved", 20.0), ("recommended", 999.0), ("received", 555.0)):
        session.add(PurchaseOrder(sku_id=ids[ordered], qty=qty, status=status))
    # a later stock position replaces the demo's
    session.add(StockPosition(sku_id=ids[ordered], as_of=END + dt.timedelta(days=7), on_hand=42.0, on_order=5.0))
    # learned lead time: 35 days from receipts, once there are enough of them
    master_days = session.scalar(select(Sku.lead_time_mean).where(Sku.id == ids[learned]))
    for k in range(4):
        start = dt.date(2025, 1, 6) + dt.timedelta(days=30 * k)
        session.add(
            Receipt(sku_id=ids[learned], order_date=start, received_date=start + dt.timedelta(days=35), quantity=1)
        )
    # overrides: the newest row for the first future week wins; a row in the past is ignored
    week1, week3 = END + dt.timedelta(days=7), END + dt.timedelta(days=21)
    now = dt.datetime(2026, 1, 6, 9, 0)
    for period, qty, minutes in ((week1, 5.0, 0), (week1, 777.0, 5), (week3, 0.0, 1), (END, 1234.0, 9)):
        session.add(
            ForecastOverride(
                sku_id=ids[overridden],
                period=period,
                qty=qty,
                reason="promo",
                user_email="planner@example.com",
                created_at=now + dt.timedelta(minutes=minutes),
            )
        )
    session.commit()

    inputs = load_portfolio_inputs(
        connection=session.connection(), horizon=HORIZON, min_receipts=5, sku_codes=[learned]
    )
    assert inputs.lead_time_source.tolist() == ["master"]  # 4 receipts < 5
    assert inputs.sku["lead_time_mean_days"].iloc[0] == pytest.approx(master_days)
    session.add(
        Receipt(sku_id=ids[learned], order_date=dt.date(2025, 6, 2), received_date=dt.date(2025, 7, 7), quantity=1)
    )
    session.commit()

    summary = rc.recompute(session=session, sku_codes=[ordered, learned, overridden])
    snap = _snapshot(session, summary.run_id)
    assert snap.loc[ordered, "on_hand"] == 42.0
    assert snap.loc[ordered, "on_order"] == pytest.approx(5.0 + 120.0)
    assert base_on_order is not None
    assert snap.loc[learned, "lead_time_source"] == "receipts"
    assert snap.loc[learned, "lead_time_periods"] == pytest.approx(35 / 7)
    assert snap.loc[overridden, "lead_time_source"] == "master"

    fc = q.forecast_frame(session.connection(), run_id=summary.run_id, kind="future").set_index(["code", "period"])
    assert fc.loc[(overridden, week1), "mean"] == 777.0
    assert fc.loc[(overridden, week3), "mean"] == 0.0
    assert len(fc.loc[overridden]) == HORIZON


def test_old_runs_are_pruned(session, portfolio) -> None:
    _store(session, portfolio)
    codes = portfolio.skus["code"].tolist()[:1]
    runs = [rc.recompute(session=session, sku_codes=codes, keep_runs=2).run_id for _ in range(3)]
    remaining = set(session.scalars(select(RecomputeRun.id)))
    assert remaining == set(runs[1:])
    assert _count(session, SkuSnapshot, run_id=runs[0]) == 0 and _count(session, Forecast, run_id=runs[0]) == 0
    assert _count(session, SkuSnapshot) == 2


def test_empty_database_gives_a_clean_empty_run(session) -> None:
    summary = rc.recompute(session=session, triggered_by="tests")
    assert summary.status == "finished" and summary.sku_count == 0
    run = runs.latest_run(session=session)
    assert run.id == summary.run_id and run.sku_count == 0 and run.kpis == {"sku_count": 0}
    assert _count(session, SkuSnapshot) == 0


def test_skus_without_any_demand_fail_with_a_clear_message(session, portfolio) -> None:
    demo.store(
        session=session,
        portfolio=demo.DemoPortfolio(
            skus=portfolio.skus.head(2),
            demand=portfolio.demand.iloc[:0],
            stock=portfolio.stock.head(0),
            receipts=portfolio.receipts.head(0),
            periods=portfolio.periods,
        ),
    )
    session.commit()
    with pytest.raises(rc.RecomputeError, match="no demand history"):
        rc.recompute(session=session)
    assert session.scalar(select(RecomputeRun.status)) == "failed"


def test_stale_running_runs_are_marked_failed(session) -> None:
    old = RecomputeRun(status="running", started_at=dt.datetime(2020, 1, 1))
    session.add(old)
    session.commit()
    rc.recompute(session=session)
    session.refresh(old)
    assert old.status == "failed" and "interrupted" in old.error


def test_export_results_neutralises_formulas(session, portfolio, tmp_path) -> None:
    _store(session, portfolio)
    code = portfolio.skus["code"].iloc[0]
    session.execute(update(Sku).where(Sku.code == code).values(name='=HYPERLINK("http://x")'))
    session.commit()
    with pytest.raises(Exception, match="no finished recompute"):
        run_export.export_results(session=session, what="snapshot", target=tmp_path / "none.csv")
    rc.recompute(session=session, sku_codes=[code])
    rows = run_export.export_results(session=session, what="snapshot", target=tmp_path / "snap.csv")
    assert rows == 1
    frame = pd.read_csv(tmp_path / "snap.csv")
    assert frame.loc[0, "name"].startswith("'=HYPERLINK")
    assert frame.loc[0, "code"] == code and "status" in frame and "model_scores" in frame
    rows = run_export.export_results(session=session, what="forecasts", target=tmp_path / "fc.csv")
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert rows == len(fc) and set(fc["kind"]) == {"future", "backtest"}
    assert np.isfinite(fc["mean"]).all()


def test_cli_recompute_and_export_results(sqlite_db, portfolio, tmp_path, capsys) -> None:
    import cli
    from db.session import session_scope

    with session_scope() as s:
        _store(s, portfolio)
    codes = portfolio.skus["code"].tolist()[:2]
    assert cli.main(["recompute", "--sku", codes[0], "--sku", codes[1]]) == 0
    out = capsys.readouterr().out
    assert "finished: 2 SKUs" in out and "forecast" in out and "write" in out and "total" in out
    assert cli.main(["export-results", "forecasts", str(tmp_path / "f.csv")]) == 0
    frame = pd.read_csv(tmp_path / "f.csv")
    assert set(frame["code"]) == set(codes) and (frame["kind"] == "future").sum() == 2 * HORIZON
    assert cli.main(["recompute", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_results_do_not_depend_on_the_number_of_workers(sqlite_db, portfolio) -> None:
    from core.portfolio import EngineSettings
    from db.session import session_scope

    with session_scope() as s:
        _store(s, portfolio)
        inputs = load_portfolio_inputs(connection=s.connection(), horizon=HORIZON, min_receipts=5)
    inputs.codes, inputs.sku_ids, inputs.history = inputs.codes[:8], inputs.sku_ids[:8], inputs.history[:8]
    inputs.sku, inputs.lead_time_source = inputs.sku.iloc[:8], inputs.lead_time_source[:8]
    serial, _, used_serial = rc.compute(inputs=inputs, settings=EngineSettings(), batch_size=4, workers=1)
    pooled, timings, used_pool = rc.compute(inputs=inputs, settings=EngineSettings(), batch_size=4, workers=2)
    assert (used_serial, used_pool) == (1, 2)
    pd.testing.assert_frame_equal(serial.snapshot, pooled.snapshot)
    for name in ("mean", "p10", "p50", "p90", "backtest"):
        np.testing.assert_array_equal(getattr(serial, name), getattr(pooled, name))
    assert timings["compute_cpu"] > 0
