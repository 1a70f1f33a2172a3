"""Briefings on the demo portfolio after a real recompute: the SKU briefing of the unicode SKU, segment KPIs against
the engine's stored KPIs, the API routes (roles, PDF, errors) and the CLI."""

from __future__ import annotations

import io
import math

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from reports.fonts import find_cjk_font
from reports.formatting import fmt_pct, fmt_qty

UNICODE_NAME = "Café crème 東京"


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _unicode_code() -> str:
    from db.models import Sku
    from db.session import session_scope

    with session_scope() as session:
        code = session.scalar(select(Sku.code).where(Sku.name == UNICODE_NAME))
    assert code, "the demo portfolio has the unicode SKU"
    return code


def _token(email: str) -> str:
    from db.session import session_scope
    from services import users

    with session_scope() as session:
        return users.create_token(session=session, email=email, name="briefing tests")


def test_sku_briefing_of_the_unicode_sku(demo_app) -> None:
    from db.session import session_scope
    from services import briefing as svc
    from services import narrative
    from services.sku_detail import sku_detail

    code = _unicode_code()
    with session_scope() as session:
        made = svc.make_briefing(session=session, scope=svc.BriefingScope.make(sku=code), user="viewer@example.com")
        detail = sku_detail(session=session, code=code)
        view = narrative.sku_commentary(session=session, code=code)
    text = " ".join(page_texts(made.pdf))
    assert made.page_count >= 1 and made.file_name.startswith(f"briefing-sku-{code.lower()}-")
    assert "SKU briefing" in text and code in text and "Café crème" in text
    if find_cjk_font() is not None:
        assert UNICODE_NAME in text
    assert detail is not None and detail.snapshot is not None
    policy = text[text.index("Policy card") :]
    assert f"Reorder point {fmt_qty(detail.value('reorder_point'))}" in policy
    assert f"Safety stock {fmt_qty(detail.value('safety_stock'))}" in policy
    assert f"Service level target {fmt_pct(detail.value('service_level'))}" in policy
    assert f"Chosen model {detail.value('forecast_model')}" in policy
    assert "Demand and forecast" in text and "Projected stock" in text
    assert view is not None
    commentary = " ".join(view.text.split())
    assert commentary[:60] in text[text.index("Commentary") :]


def test_segment_kpis_reproduce_the_engine_kpis_on_the_whole_portfolio(demo_app) -> None:
    from db.session import session_scope
    from services.runs import latest_run, segment_kpis, snapshot_frame

    with session_scope() as session:
        run = latest_run(session=session)
        frame = snapshot_frame(session=session, run_id=run.id)
    got = segment_kpis(frame, days_per_period=7.0 if run.grain == "weekly" else 1.0)
    for key, stored in run.kpis.items():
        if stored is None or (isinstance(stored, float) and math.isnan(stored)):
            continue
        assert got[key] == pytest.approx(stored, rel=1e-9, abs=1e-9), key


def test_abc_segment_briefing_on_the_demo(demo_app) -> None:
    from db.session import session_scope
    from services import briefing as svc
    from services import runs

    with session_scope() as session:
        options = svc.scope_options(session=session)
        assert options.abc and options.categories and options.locations
        scope = svc.BriefingScope.make(abc="A")
        frame = runs.snapshot_frame(session=session, run_id=options.run_id, where=scope.filters().conditions())
        made = svc.make_briefing(session=session, scope=svc.BriefingScope.make(abc="a"), user=None)
    text = " ".join(page_texts(made.pdf))
    assert "ABC class A" in text and f"SKUs in scope {len(frame)}" in text
    assert set(frame["abc"]) == {"A"}


def test_api_briefing_routes(demo_app) -> None:
    from db.models import Briefing
    from db.session import session_scope

    client = demo_app.server.test_client()
    code = _unicode_code()
    for path in ("/api/v1/briefings/portfolio.pdf", f"/api/v1/briefings/sku/{code}.pdf"):
        anonymous = client.get(path)
        assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthenticated"
    viewer = {"Authorization": f"Bearer {_token('viewer@example.com')}"}
    response = client.get("/api/v1/briefings/portfolio.pdf?category=Beverages", headers=viewer)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert (
        "attachment" in response.headers["Content-Disposition"]
        and "beverages" in response.headers["Content-Disposition"]
    )
    with session_scope() as session:
        row = session.get(Briefing, int(response.headers["X-Briefing-Id"]))
        assert row.user_email == "viewer@example.com" and row.scope == "portfolio?category=Beverages"
        assert bytes(row.pdf) == response.data
    sku = client.get(f"/api/v1/briefings/sku/{code}.pdf", headers=viewer)
    assert sku.status_code == 200 and "Café crème" in page_texts(sku.data)[0]
    assert client.get("/api/v1/briefings/sku/NOPE-404.pdf", headers=viewer).status_code == 404
    bad = client.get("/api/v1/briefings/portfolio.pdf?abc=D", headers=viewer)
    assert bad.status_code == 400 and bad.get_json()["error"]["details"][0]["field"] == "abc"
    assert client.get("/api/v1/briefings/portfolio.pdf?category=a&category=b", headers=viewer).status_code == 400
    assert client.get("/api/v1/briefings/portfolio.pdf?category=Nope", headers=viewer).status_code == 422


def test_cli_briefing(demo_app, tmp_path, capsys) -> None:
    import cli
    from db.models import Briefing
    from db.session import session_scope
    from services import briefing as svc

    def stored() -> int:
        with session_scope() as session:
            return len(session.scalars(select(Briefing.id)).all())

    with session_scope() as session:
        location = svc.scope_options(session=session).locations[0]
    out = tmp_path / "brief.pdf"
    before = stored()
    assert cli.main(["briefing", "--out", str(out), "--location", location, "--no-store"]) == 0
    assert f"Location {location}" in page_texts(out.read_bytes())[0]
    assert stored() == before
    code = _unicode_code()
    assert cli.main(["briefing", "--out", str(out), "--sku", code]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert "stored as briefing" in capsys.readouterr().out
    assert cli.main(["briefing", "--out", str(out), "--sku", code, "--abc", "A"]) == 2
    assert cli.main(["briefing", "--out", str(out), "--abc", "Q"]) == 2
    assert cli.main(["briefing", "--out", str(tmp_path / "missing" / "x.pdf")]) == 2
    assert cli.main(["briefing", "--out", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err


def test_sku_briefing_of_a_one_shot_sku_shows_the_newsvendor_policy(demo_app) -> None:
    from db.models import Sku, SkuSnapshot
    from db.session import session_scope
    from services import briefing as svc

    with session_scope() as session:
        code = session.scalar(
            select(Sku.code)
            .join(SkuSnapshot, SkuSnapshot.sku_id == Sku.id)
            .where(SkuSnapshot.order_policy == "newsvendor")
            .order_by(Sku.code)
            .limit(1)
        )
        assert code, "the demo has one-shot SKUs ordered with the newsvendor quantity"
        facts, _run = svc.sku_briefing_facts(session=session, code=code)
        made = svc.make_briefing(session=session, scope=svc.BriefingScope.make(sku=code), user="viewer@example.com")
    assert facts.policy.one_shot and 0 < facts.policy.critical_ratio < 1
    assert facts.policy.horizon_periods > 0 and facts.policy.horizon_demand > 0
    text = " ".join(page_texts(made.pdf))
    assert "One-shot (newsvendor)" in text and "Critical ratio" in text
