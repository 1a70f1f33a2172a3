"""Decisions page and API on a private copy of the demo database: the page and its link for every role, the filters
(kind, SKU, user, dates, outcome), the CSV, GET /api/v1/decisions (viewer; 400 on a bad parameter, 401 without a
token) and the role check on the page's callback."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from tests.integration.test_api import _auth, isolated, tokens_isolated  # noqa: F401  (fixtures)


@pytest.mark.parametrize("role", ["viewer", "planner", "admin"])
def test_the_page_and_its_link_are_there_for_everyone(client_as, role: str) -> None:
    from layouts._shell import nav_items

    response = client_as(role).get("/decisions")
    assert response.status_code == 200
    assert ("Decisions", "/decisions") in nav_items(role)


def test_signed_out_callback_is_refused(demo_app) -> None:
    from auth.guard import CALLBACK_KEY_ROLES
    from layouts import decisions as page

    key = next(k for k in CALLBACK_KEY_ROLES if page.GRID in k)
    assert CALLBACK_KEY_ROLES[key] == "viewer"


def _approve_and_reject(user: str) -> tuple[str, str]:
    from db.models import PurchaseOrder
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        found = session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.status == "recommended", PurchaseOrder.qty > 0).limit(2)
        ).all()
        assert len(found) == 2
        approved = orders.approve_order(session=session, order_id=found[0].id, user=user)
        rejected = orders.reject_order(session=session, order_id=found[1].id, user=user, reason="supplier closed")
        return approved.sku, rejected.sku


def test_filters_csv_and_api(isolated, tokens_isolated) -> None:  # noqa: F811
    from callbacks import decisions as cb

    approved, rejected = _approve_and_reject("planner@example.com")
    rows, note = cb.view(None, None, None, None, None, None)
    kinds = {(r["kind"], r["sku"]) for r in rows}
    assert ("order approved", approved) in kinds and ("order rejected", rejected) in kinds
    assert "decision" in str(note)
    only, _ = cb.view("order.approve", approved, "planner@", None, None, None)
    assert [r["sku"] for r in only] == [approved] and only[0]["sku_link"] == f"[{approved}](/sku/{approved})"
    assert only[0]["outcome_state"] == "pending" and "promised" in only[0]["outcome"]
    assert cb.view(None, None, "nobody@", None, None, None)[0] == []
    assert cb.view(None, None, None, "2001-01-01", "2001-01-02", None)[0] == []
    assert cb.view(None, None, None, None, None, "none")[0] == [r for r in rows if r["outcome_state"] == "none"]
    bad_rows, bad_note = cb.view(None, None, None, "2026-02-02", "2026-01-01", None)
    assert bad_rows == [] and "after the end" in str(bad_note)
    typo_rows, typo_note = cb.view(None, None, None, "6/12/2026", None, None)
    assert typo_rows == [] and "YYYY-MM-DD" in str(typo_note)

    text = cb.export_text(cb.find(None, None, None, None, None, None))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert {r["sku"] for r in parsed} >= {approved, rejected}
    refused = next(r for r in parsed if r["sku"] == rejected and r["kind"] == "order rejected")
    assert "supplier closed" in refused["what"] and refused["outcome_state"] in ("pending", "known")

    client = isolated.server.test_client()
    body = client.get(f"/api/v1/decisions?sku={approved}", headers=_auth(tokens_isolated["viewer"])).get_json()
    assert [d["action"] for d in body["data"]] == ["order.approve"]
    assert body["data"][0]["outcome_state"] == "pending" and body["data"][0]["user"] == "planner@example.com"
    for query in ("kind=teleport", "outcome=maybe", "from=yesterday", "limit=0", "from=2026-02-02&to=2026-01-01"):
        response = client.get(f"/api/v1/decisions?{query}", headers=_auth(tokens_isolated["viewer"]))
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "invalid_parameter"
    assert client.get("/api/v1/decisions").status_code == 401


def test_briefings_page_picks_the_cycle_what_changed_starts_from(isolated) -> None:  # noqa: F811
    from pypdf import PdfReader

    from callbacks import briefings as cb
    from db.models import Briefing
    from db.session import session_scope
    from layouts import _ids as ids
    from layouts import briefings as page
    from services import cycles

    for name in ("Sep 2026", "Oct 2026", "Nov 2026"):
        with session_scope() as session:
            cycles.close_cycle(session=session, name=name, user="planner@example.com", source="tests")
    picker = str(page.since_cycle_picker(["Oct 2026"]))
    assert ids.BRIEFINGS_SINCE_CYCLE in picker and "Oct 2026" in picker
    current, *_ = cb.make(lambda _: None, 1, "portfolio", None, "Sep 2026")
    with session_scope() as session:
        pdf = session.get(Briefing, current["id"]).pdf
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "What changed since cycle Sep 2026" in text and "Compared with cycle Nov 2026" in text
    assert "Decisions since" in text and "cycle closed" in text
