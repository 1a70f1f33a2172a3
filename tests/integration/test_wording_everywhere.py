"""The same words on every surface (issue 15 item 9): for each demo SKU, the forecast-error CV's word in the
commentary's facts (and the offline text when it mentions volatility), on the SKU page and in the SKU briefing PDF
come from ai.wording's one table."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from ai import wording
from tests.integration.test_risk import text_of


def test_sku_page_pdf_and_commentary_use_one_word(demo_app) -> None:
    from db.models import Sku
    from db.session import session_scope
    from layouts import sku as page
    from services import briefing as svc
    from services import narrative, runs
    from services.sku_detail import sku_detail

    with session_scope() as session:
        codes = list(session.scalars(select(Sku.code).order_by(Sku.code)))
    checked: set[str] = set()
    for code in codes:
        with session_scope() as session:
            detail = sku_detail(session=session, code=code)
            if detail is None or detail.snapshot is None:
                continue
            cv = wording.forecast_cv(
                detail.value("sigma"), detail.value("forecast_per_period"), detail.value("demand_baseline")
            )
            band = wording.cv_band(cv)
            if band is None or band.key in checked:
                continue
            facts = narrative.sku_facts_for_run(session=session, run=runs.latest_run(session=session), code=code)
            made = svc.make_briefing(session=session, scope=svc.BriefingScope.make(sku=code), user="tests@example.com")
            view = narrative.sku_commentary(session=session, code=code)
        assert facts.volatility_word == band.word, code
        page_text = text_of(page.detail_page(detail))
        assert wording.cv_text(cv) in page_text, code
        pdf = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(made.pdf)).pages)
        assert f"Forecast error {wording.cv_text(cv)}" in pdf, code
        text = view.text if view is not None else ""
        for other in wording.CV_BANDS:
            if other.word != band.word:
                assert f"Demand is {other.word}" not in text, (code, text)
        assert "moderately predictable" not in text and "moderately predictable" not in pdf
        checked.add(band.key)
    assert checked, "the demo has SKUs with a forecast-error CV"
