"""The policy backtest use case on both engines: the document, short histories left out, bad periods, empty scopes,
one SKU with its replay paths, stored results."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import delete, select, update

from db.models import Demand, PolicyBacktest, Sku
from services import backtest as bt
from services import demo
from services.recompute import recompute

END = dt.date(2026, 1, 5)  # a Monday: the demo's last week
WEEKS = 80
SKUS = 24


@pytest.fixture
def stored_demo(session):
    """A weekly demo of 24 SKUs x 80 weeks: one SKU cut to 20 weeks of history, one without demand, one inactive."""
    portfolio = demo.generate(skus=SKUS, periods=WEEKS, end=END)
    demo.store(session=session, portfolio=portfolio)
    codes = portfolio.skus["code"].tolist()
    ids = dict(session.execute(select(Sku.code, Sku.id)).all())
    short, empty, inactive = codes[3], codes[5], codes[7]
    session.execute(delete(Demand).where(Demand.sku_id == ids[short], Demand.period < END - dt.timedelta(weeks=19)))
    session.execute(delete(Demand).where(Demand.sku_id == ids[empty]))
    session.execute(update(Sku).where(Sku.code == inactive).values(active=False))
    session.commit()
    return {"codes": codes, "short": short, "empty": empty, "inactive": inactive}


def test_portfolio_backtest_document_and_stored_result(session, stored_demo) -> None:
    seen: list[tuple[float, str]] = []
    result = bt.run_backtest(session=session, triggered_by="tests", progress=lambda f, m: seen.append((f, m)))
    doc = result.document

    assert doc["periods"] == 26 and doc["grain"] == "weekly"  # the weekly default
    assert doc["replay_end"] == END.isoformat() and doc["fit_periods"] == WEEKS - 26
    assert doc["replay_start"] == (END - dt.timedelta(weeks=25)).isoformat()
    excluded = {row["code"]: row["reason"] for row in doc["excluded"]}
    assert excluded == {
        stored_demo["short"]: "20 weeks of history; replaying 26 needs at least 34 (26 replayed + 8 to fit)",
        stored_demo["empty"]: "no demand history",
    }
    replayed = [row["code"] for row in doc["skus"]]
    expected = sorted(set(stored_demo["codes"]) - {stored_demo["inactive"], *excluded})
    assert replayed == expected and doc["sku_count"] == len(expected)  # code order, active SKUs only

    demand = np.array([r["demand"] for r in doc["skus"]])
    fill = np.array([np.nan if r["fill_rate"] is None else r["fill_rate"] for r in doc["skus"]])
    ok = demand > 0
    assert doc["portfolio"]["fill_rate"] == pytest.approx(np.sum(demand[ok] * fill[ok]) / demand[ok].sum(), rel=1e-5)
    assert doc["portfolio"]["average_inventory_value"] == pytest.approx(
        sum(r["average_inventory_value"] or 0.0 for r in doc["skus"]), rel=1e-6
    )
    for row in doc["skus"]:
        assert 0 <= row["stockout_periods"] <= 26 and row["orders"] >= 0
        assert row["fill_rate"] is None or 0.0 <= row["fill_rate"] <= 1.0
    targets = [f["service_target"] for f in doc["frontier"]]
    assert targets == sorted(targets) and targets[0] == 0.5 and targets[-1] == 0.999
    values = [f["average_inventory_value"] for f in doc["frontier"]]
    assert values == sorted(values)  # a higher target holds more stock
    assert doc["baseline"]["target_service_level"] == doc["portfolio"]["target_service_level"]
    assert 0.5 < doc["portfolio"]["target_service_level"] < 1.0
    assert doc["comparison"]["verdict"] in bt.document.VERDICTS
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and any("batch 1 of 1" in m for _, m in seen)

    stored = bt.latest_stored(session=session, scope=bt.BacktestScope())
    assert stored is not None and stored.id == result.stored_id and stored.triggered_by == "tests"
    assert stored.document == doc and stored.sku_count == len(expected) and stored.excluded_count == 2
    assert stored.fill_rate == doc["portfolio"]["fill_rate"] and stored.data_as_of == END
    assert bt.latest_stored(session=session, scope=bt.BacktestScope.make(category="Beverages")) is None


def test_periods_longer_than_the_history_is_one_clear_error(session, stored_demo) -> None:
    with pytest.raises(bt.BacktestError) as caught:
        bt.run_backtest(session=session, periods=WEEKS - 7)
    assert caught.value.field == "periods" and caught.value.kind == "invalid"
    assert str(caught.value) == (
        f"periods {WEEKS - 7} is longer than the history allows: it holds {WEEKS} weeks and the fit needs 8 before "
        f"the replay, so at most {WEEKS - 8}"
    )
    for bad in (0, -3, 2.5, True):
        with pytest.raises(bt.BacktestError, match="periods must"):
            bt.run_backtest(session=session, periods=bad)
    assert session.scalar(select(PolicyBacktest.id)) is None  # nothing stored


def test_a_sku_with_too_short_a_history_says_why(session, stored_demo) -> None:
    scope = bt.BacktestScope.make(sku=stored_demo["short"])
    with pytest.raises(bt.BacktestError) as caught:
        bt.run_backtest(session=session, scope=scope)
    assert caught.value.kind == "no_data"
    assert str(caught.value) == (
        f"SKU {stored_demo['short']!r} cannot be replayed: 20 weeks of history; replaying 26 needs at least 34 "
        "(26 replayed + 8 to fit)"
    )
    result = bt.run_backtest(session=session, scope=scope, periods=12, store=False)  # 12 + 8 <= 20: it fits
    assert result.document["sku_count"] == 1 and result.stored_id is None


@pytest.mark.parametrize(
    ("scope", "message", "kind"),
    [
        ({"category": "No such category"}, "no active SKU in category 'No such category'", "not_found"),
        ({"sku": "NOPE-1"}, "no SKU 'NOPE-1'", "not_found"),
        ({"abc": "A"}, "ABC classes come from a recompute: run one first (python cli.py recompute)", "no_data"),
    ],
)
def test_empty_scopes_say_so(session, stored_demo, scope, message, kind) -> None:
    with pytest.raises(bt.BacktestError) as caught:
        bt.run_backtest(session=session, scope=bt.BacktestScope.make(**scope))
    assert str(caught.value) == message and caught.value.kind == kind


def test_inactive_sku_and_empty_database(session, stored_demo) -> None:
    with pytest.raises(bt.BacktestError, match="is inactive"):
        bt.run_backtest(session=session, scope=bt.BacktestScope.make(sku=stored_demo["inactive"]))
    session.execute(update(Sku).values(active=False))
    session.commit()
    with pytest.raises(bt.BacktestError, match="there are no active SKUs yet"):
        bt.run_backtest(session=session)


def test_one_sku_keeps_its_replay_paths_and_segments_follow_the_recompute(session, stored_demo) -> None:
    recompute(session=session, triggered_by="tests")
    code = stored_demo["codes"][0]
    result = bt.run_backtest(session=session, scope=bt.BacktestScope.make(sku=code), periods=13)
    assert result.codes == [code] and len(result.replay_dates) == 13
    paths = bt.sku_paths(result.replayed.engine.replay, 0)
    assert set(paths) == {"demand", "served", "arrived", "ordered", "on_hand", "position"}
    assert all(len(v) == 13 for v in paths.values())
    demand, served = np.array(paths["demand"]), np.array(paths["served"])
    assert np.all(served <= demand + 1e-9)
    assert served.sum() == pytest.approx(result.document["skus"][0]["demand"] * result.document["skus"][0]["fill_rate"])
    assert bt.sku_paths(result.replayed.baseline.replay, 0)["demand"] == paths["demand"]
    assert 0 < result.service_levels[0] < 1

    # an ABC class of the latest recompute: exactly its active SKUs with history
    from db import queries_recompute as q
    from services.runs import latest_run

    snap = q.snapshot_frame(session.connection(), run_id=latest_run(session=session).id)
    class_a = sorted(set(snap.loc[snap["abc"] == "A", "code"]) - {stored_demo["short"], stored_demo["empty"]})
    doc = bt.run_backtest(session=session, scope=bt.BacktestScope.make(abc="A"), periods=13).document
    assert [r["code"] for r in doc["skus"]] == class_a and doc["scope"]["key"] == "portfolio?abc=A"


def test_old_results_are_pruned_per_scope(session, stored_demo) -> None:
    from services.backtest.store import KEEP_PER_SCOPE, KEEP_SKU_ROWS, store_document

    scope = bt.BacktestScope.make(category="Beverages")
    doc = {"periods": 4, "portfolio": {}, "excluded": [], "sku_count": 1, "data_as_of": "2026-01-05"}
    ids = [store_document(session=session, scope=scope, document=doc, triggered_by="t")[0] for _ in range(5)]
    other = store_document(session=session, scope=bt.BacktestScope(), document=doc, triggered_by="t")[0]
    session.commit()
    kept = set(session.scalars(select(PolicyBacktest.id)))
    assert kept == {*ids[-KEEP_PER_SCOPE:], other}
    assert bt.latest_stored(session=session, scope=scope).id == ids[-1]
    skus = [
        store_document(session=session, scope=bt.BacktestScope.make(sku=f"X-{i}"), document=doc, triggered_by="t")[0]
        for i in range(KEEP_SKU_ROWS + 4)
    ]
    session.commit()
    kept = set(session.scalars(select(PolicyBacktest.id)))
    assert kept == {*ids[-KEEP_PER_SCOPE:], other, *skus[-KEEP_SKU_ROWS:]}  # SKU replays never push segments out


def test_the_portfolio_briefing_prints_the_latest_stored_replay(session, stored_demo) -> None:
    import io

    from pypdf import PdfReader

    from services import briefing

    recompute(session=session, triggered_by="tests")
    facts, _ = briefing.portfolio_briefing_facts(session=session)
    assert facts.policy_backtest is None  # nothing replayed yet: no line, and the briefing does not replay
    doc = bt.run_backtest(session=session, periods=13).document
    made = briefing.make_briefing(session=session, scope=briefing.BriefingScope(), user=None, store=False)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(made.pdf)).pages)
    fill = f"{100 * doc['portfolio']['fill_rate']:.1f}%"
    target = f"{100 * doc['portfolio']['target_service_level']:.1f}%"
    assert (
        f"Policy replay over the last 13 weeks of demand ({doc['sku_count']} SKUs): fill rate {fill} against a " in text
    )
    assert f"against a {target} target" in text and "on data through 5 Jan 2026" in text

    segment = briefing.BriefingScope.make(category="Beverages")
    assert briefing.portfolio_briefing_facts(session=session, scope=segment)[0].policy_backtest is None
    bt.run_backtest(session=session, scope=bt.BacktestScope.make(category="Beverages"), periods=13)
    line = briefing.portfolio_briefing_facts(session=session, scope=segment)[0].policy_backtest
    assert line is not None and line.startswith("Policy replay over the last 13 weeks of demand (")
    located = briefing.BriefingScope.make(location=demo.LOCATIONS[0])  # backtests have no location scope
    assert briefing.portfolio_briefing_facts(session=session, scope=located)[0].policy_backtest is None
