"""The decision log and the meeting pack on both engines (issue 19 items 3 and 4).

Done when: after approving an order, the next portfolio briefing has a decisions section naming its SKU; after a
receipt import showing its arrival and a recompute, a later briefing shows its outcome. Also the CLI's JSON, the
filters, an override's FVA once its period's actual arrives, and "what changed since" a chosen cycle.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

import cli
from db.models import AuditLog, PurchaseOrder, Sku
from db.session import session_scope
from services import briefing, decisions, orders


@pytest.fixture
def portfolio(db_url: str) -> str:
    from services import demo
    from services.recompute import recompute

    with session_scope() as session:
        demo.store(session=session, portfolio=demo.generate(skus=30, periods=104, seed=19))
    with session_scope() as session:
        recompute(session=session, triggered_by="tests")
    return db_url


def _run(capsys, *argv: str) -> str:
    status = cli.main(list(argv))
    out = capsys.readouterr()
    assert status == 0, out.err
    return out.out


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _brief() -> tuple[str, str]:
    """A stored portfolio briefing: (page 1 text, the whole text)."""
    with session_scope() as session:
        made = briefing.make_briefing(session=session, scope=briefing.BriefingScope(), user="exec@example.com")
    reader = PdfReader(io.BytesIO(made.pdf))
    return reader.pages[0].extract_text() or "", _pdf_text(made.pdf)


def _approve_one() -> tuple[int, str, dt.date]:
    with session_scope() as session:
        po = session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.status == "recommended", PurchaseOrder.qty > 0)
        ).first()
        assert po is not None, "the demo recompute recommends orders"
        view = orders.approve_order(session=session, order_id=po.id, user="planner@example.com")
        return po.id, view.sku, po.order_date


def test_an_approved_order_reaches_the_briefing_then_its_outcome(portfolio, capsys, tmp_path) -> None:
    order_id, code, ordered = _approve_one()
    first_page, text = _brief()
    assert "Decisions since" in text and "Decisions needed" in text
    assert code in text.split("Decisions since", 1)[1]
    section = text.split("Decisions since", 1)[1]
    assert f"approved order {order_id} for {code}" in section and "on order, promised" in section
    assert "Decisions since" not in first_page  # page 1 stays the executive summary

    listed = json.loads(_run(capsys, "decisions", "--json", "--sku", code))["data"]
    assert [d["action"] for d in listed] == ["order.approve"]
    assert listed[0]["outcome_state"] == "pending" and listed[0]["user"] == "planner@example.com"

    receipts = tmp_path / "receipts.csv"
    with session_scope() as session:
        qty = session.get(PurchaseOrder, order_id).qty
    receipts.write_text(
        f"sku,order_date,received_date,quantity\n{code},{ordered.isoformat()},{ordered.isoformat()},{qty}\n"
    )
    _run(capsys, "import", "receipts", str(receipts))
    _run(capsys, "recompute")
    _, later = _brief()
    assert "Outcomes of earlier decisions" in later
    outcome_part = later.split("Outcomes of earlier decisions", 1)[1]
    assert code in outcome_part and "arrived" in outcome_part and "early" in outcome_part

    known = json.loads(_run(capsys, "decisions", "--json", "--outcome", "known"))["data"]
    mine = [d for d in known if d["sku"] == code and d["action"] == "order.approve"]
    assert mine and mine[0]["outcome_values"]["arrival_date"] == ordered.isoformat()
    assert mine[0]["outcome_values"]["days_late"] < 0 and mine[0]["outcome_values"]["stocked_out"] is False
    assert json.loads(_run(capsys, "decisions", "--json", "--kind", "order.reject"))["data"] == []


def test_override_fva_once_the_actual_arrives(portfolio) -> None:
    from services import overrides

    with session_scope() as session:
        code = session.scalars(select(Sku.code).order_by(Sku.code)).first()
        first = overrides.override_periods(session=session, code=code)[0]
        overrides.add_override(
            session=session, code=code, periods=[first.period], qty=123.0, reason="promo", user="p@example.com"
        )
    with session_scope() as session:
        pending = decisions.list_decisions(session=session, kind="forecast.override")
    assert pending[0].sku == code and pending[0].outcome.state == "pending"
    assert pending[0].before == pytest.approx(first.statistical, rel=1e-3) and pending[0].after == 123.0
    with session_scope() as session:  # the actual for that period arrives
        from db.models import Demand

        sku_id = session.scalar(select(Sku.id).where(Sku.code == code))
        session.add(Demand(sku_id=sku_id, period=first.period, quantity=100.0))
    with session_scope() as session:
        known = decisions.list_decisions(session=session, kind="override saved", outcome="known")
    assert len(known) == 1
    stat = first.statistical
    expected = abs(stat - 100.0) / 100.0 - 0.23  # statistical WAPE - override WAPE
    assert known[0].outcome.values["fva"] == pytest.approx(expected, abs=1e-6)


def test_what_changed_since_a_chosen_cycle_and_the_filters(portfolio, capsys, tmp_path) -> None:
    _run(capsys, "cycle", "close", "--name", "Oct")
    _run(capsys, "cycle", "close", "--name", "Nov")
    _run(capsys, "cycle", "close", "--name", "Dec")
    with session_scope() as session:
        facts, _ = briefing.portfolio_briefing_facts(session=session, since_cycle="Oct")
    pack = facts.meeting_pack
    assert pack is not None and pack.changes_label.startswith("cycle Oct")
    assert "Compared with cycle Dec" in pack.changes[0]
    assert {d.kind for d in pack.decisions} == {"cycle closed"}
    out = tmp_path / "pack.pdf"
    _run(capsys, "briefing", "--out", str(out), "--since-cycle", "Oct", "--no-store")
    text = _pdf_text(out.read_bytes())
    assert "What changed since cycle Oct" in text and "Compared with cycle Dec" in text
    assert "cycle closed" in text.split("Decisions since", 1)[1]
    assert cli.main(["briefing", "--out", str(out), "--since-cycle", "Nope"]) == 2
    assert "Nope" in capsys.readouterr().err
    with session_scope() as session:
        closed = decisions.list_decisions(session=session, kind="cycle.close")
        assert [d.outcome.state for d in closed] == ["none"] * 3
        assert decisions.list_decisions(session=session, user="nobody@") == []
        session.execute(update(AuditLog).values(created_at=dt.datetime(2026, 1, 5, 12)))
    with session_scope() as session:
        assert (
            len(decisions.list_decisions(session=session, date_from=dt.date(2026, 1, 5), date_to=dt.date(2026, 1, 5)))
            == 3
        )
        assert decisions.list_decisions(session=session, date_from=dt.date(2026, 1, 6)) == []
        with pytest.raises(Exception, match="kind must be one of"):
            decisions.list_decisions(session=session, kind="order.teleport")


def test_policy_and_rejection_outcomes_from_demand_and_stock_rows(portfolio) -> None:
    from db.models import Demand, StockPosition
    from services import audit

    with session_scope() as session:
        sku = session.scalars(select(Sku).order_by(Sku.code)).first()
        code, sku_id = sku.code, sku.id
        last = max(session.scalars(select(Demand.period).where(Demand.sku_id == sku_id)))
        applied = last - dt.timedelta(days=7 * 4)  # four weeks of demand after the decision
        entry = audit.record(
            session=session,
            action="policy.apply",
            user_email="planner@example.com",
            target="portfolio",
            details={
                "scope": "portfolio",
                "skus": 1,
                "measure": "csl",
                "target": 0.97,
                "policy": "sQ",
                "codes": [code],
            },
        )
        session.flush()
        entry.created_at = dt.datetime.combine(applied, dt.time(9))
        # a zero stock count in the last period after the decision, one well before it
        session.execute(StockPosition.__table__.delete().where(StockPosition.sku_id == sku_id))
        session.add_all(
            [
                StockPosition(sku_id=sku_id, as_of=applied - dt.timedelta(days=14), on_hand=40.0),
                StockPosition(sku_id=sku_id, as_of=applied + dt.timedelta(days=7), on_hand=30.0),
                StockPosition(sku_id=sku_id, as_of=last, on_hand=0.0),
            ]
        )
        demand = dict(
            session.execute(
                select(Demand.period, Demand.quantity).where(Demand.sku_id == sku_id, Demand.period >= applied)
            ).all()
        )
    with session_scope() as session:
        found = decisions.list_decisions(session=session, kind="policy applied", sku=code)
    assert len(found) == 1 and found[0].sku == code and found[0].after == 0.97
    out = found[0].outcome
    assert out.state == "known" and out.values["periods"] == len(demand)
    total = sum(demand.values())
    expected = (total - demand[last]) / total if total else None
    assert out.values["fill_after"] == pytest.approx(expected)
    assert out.values["avg_on_hand_after"] == pytest.approx(15.0) and out.values["avg_on_hand_before"] == pytest.approx(
        40.0
    )

    with session_scope() as session:  # a rejection: the zero count falls within the lead time after it
        po = session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.status == "recommended", PurchaseOrder.sku_id == sku_id)
        ).first()
        if po is None:
            po = PurchaseOrder(sku_id=sku_id, qty=10.0, status="recommended")
            session.add(po)
            session.flush()
        orders.reject_order(session=session, order_id=po.id, user="planner@example.com", reason="enough stock")
        mark = session.scalars(select(AuditLog).where(AuditLog.action == "order.reject")).one()
        mark.created_at = dt.datetime.combine(last - dt.timedelta(days=1), dt.time(9))
        session.get(Sku, sku_id).lead_time_mean = 10.0
    with session_scope() as session:
        (rejected,) = decisions.list_decisions(session=session, kind="order.reject")
    assert rejected.sku == code and rejected.outcome.state == "known" and rejected.outcome.values["stocked_out"] is True
