"""Issue 15 item 1, engine side, on SQLite and PostgreSQL: a file for 3 SKUs and a new period leaves every other
SKU's numbers unchanged, "data through" follows what most SKUs reported, SKUs behind it say "last reported", and a
period the data covers only in part is not fitted as a low one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.models_skus import Sku as ApiSku
from core.formats import fmt_date_prose
from db import queries_recompute as q
from db.models import DemandPartial, Sku
from services import demo, sku_detail, watchtower
from services.recompute import RunSummary, recompute
from tests.integration.test_ingest import run
from tests.integration.test_watchtower_data import ensure_app

COMPARED = ("forecast_per_period", "sigma", "safety_stock", "reorder_point", "periods_since_last_sale")
END = dt.date(2026, 6, 1)  # a Monday well in the past: the next week is complete


def _portfolio(session: Session) -> RunSummary:
    demo.store(session=session, portfolio=demo.generate(skus=60, periods=104, seed=11, end=END))
    session.commit()
    return recompute(session=session, triggered_by="tests")


def _snapshot(session: Session, run_id: int) -> pd.DataFrame:
    frame = q.snapshot_frame(session.connection(), run_id=run_id).set_index("code")
    session.commit()
    return frame


def _changed(before: pd.DataFrame, after: pd.DataFrame, codes: list[str]) -> dict[str, list[str]]:
    out = {}
    for column in COMPARED:
        x = before.loc[codes, column].to_numpy(dtype=float)
        y = after.loc[codes, column].to_numpy(dtype=float)
        moved = ~np.isclose(x, y, rtol=0.0, atol=1e-6, equal_nan=True)
        out[column] = [c for c, m in zip(codes, moved, strict=True) if m]
    return out


def _demand_file(codes: list[str], day: dt.date, quantity: float) -> str:
    return "date,sku,quantity\n" + "".join(f"{day.isoformat()},{code},{quantity:g}\n" for code in codes)


def test_a_three_sku_file_for_a_new_week_leaves_every_other_sku_unchanged(session: Session, tmp_path: Path) -> None:
    first = _portfolio(session)
    before = _snapshot(session, first.run_id)
    assert first.data_as_of == END and (before["last_reported"] == END).all()
    three = ["A-00002", "B-00010", "C-00031"] if "A-00002" in before.index else list(before.index[[2, 10, 31]])
    result = run(session, tmp_path, _demand_file(three, END + dt.timedelta(days=7), 400))
    assert result.status == "committed", result.summary()
    second = recompute(session=session, triggered_by="tests")
    after = _snapshot(session, second.run_id)
    assert second.data_as_of == END  # 3 of 60 SKUs do not move data through
    others = [c for c in before.index if c not in three]
    assert _changed(before, after, others) == {column: [] for column in COMPARED}
    np.testing.assert_allclose(
        after.loc[others, "recommended_qty"].to_numpy(dtype=float),
        before.loc[others, "recommended_qty"].to_numpy(dtype=float),
        atol=1e-6,
    )
    own = _changed(before, after, three)
    assert set(own["forecast_per_period"]) == set(three)  # their own numbers follow their new week
    assert set(own["sigma"]) == set(three)
    assert (after.loc[three, "last_reported"] == END + dt.timedelta(days=7)).all()
    # the stored forecast of an ahead SKU starts after its own last week, the others' after data through
    forecasts = q.forecast_frame(session.connection(), run_id=second.run_id, kind="future")
    starts = forecasts.groupby("code")["period"].min().map(pd.Timestamp)
    assert (starts.loc[three] == pd.Timestamp(END + dt.timedelta(days=14))).all()
    assert (starts.loc[others] == pd.Timestamp(END + dt.timedelta(days=7))).all()
    # nobody is behind data through: no "last reported" anywhere
    rows = watchtower.query_skus(session=session, run_id=second.run_id, limit=100).rows
    assert all(r["last_reported"] is None for r in rows)

    # most SKUs report the week: data through moves, the 5 that did not are behind and say so
    behind = others[:5]
    reporting = [c for c in before.index if c not in behind and c not in three]
    assert run(session, tmp_path, _demand_file(reporting, END + dt.timedelta(days=7), 30)).status == "committed"
    third = recompute(session=session, triggered_by="tests")
    assert third.data_as_of == END + dt.timedelta(days=7)
    latest = _snapshot(session, third.run_id)
    # the behind SKUs' history ends at END: no zero week was invented for them
    assert (latest.loc[behind, "periods_since_last_sale"] == before.loc[behind, "periods_since_last_sale"]).all()
    rows = {r["code"]: r for r in watchtower.query_skus(session=session, run_id=third.run_id, limit=100).rows}
    assert {c for c, r in rows.items() if r["last_reported"]} == set(behind)
    assert rows[behind[0]]["last_reported"] == END.isoformat()
    detail = sku_detail.sku_detail(session=session, code=behind[0])
    assert detail is not None and detail.reported_behind and detail.last_reported == END
    ensure_app()  # the page modules register with the app
    from layouts import sku as sku_layout

    assert f"last reported {fmt_date_prose(END)}" in str(sku_layout.header(detail))
    up_to_date = sku_detail.sku_detail(session=session, code=reporting[0])
    assert up_to_date is not None and "last reported" not in str(sku_layout.header(up_to_date))
    summary = sku_detail.sku_summaries(session=session, run_id=third.run_id, codes=[behind[0], reporting[0]])
    assert [ApiSku.of(s).model_dump(mode="json")["last_reported"] for s in summary] == [END.isoformat(), None]


def test_a_full_extract_for_3_skus_records_zero_sales_for_the_others(session: Session, tmp_path: Path) -> None:
    first = _portfolio(session)
    before = _snapshot(session, first.run_id)
    three = list(before.index[[2, 10, 31]])
    monday = END + dt.timedelta(days=7)
    result = run(session, tmp_path, _demand_file(three, monday, 400), full_extract=True)
    assert result.status == "committed", result.summary()
    second = recompute(session=session, triggered_by="tests")
    after = _snapshot(session, second.run_id)
    assert second.data_as_of == monday  # every active SKU reported the week: the file said so
    assert (after["last_reported"] == monday).all()
    others = [c for c in before.index if c not in three]
    sold = before.loc[others, "periods_since_last_sale"].to_numpy() == 0
    # a SKU that sold in the last week now has one week without a sale: the extract's zero is a real row
    assert (after.loc[others, "periods_since_last_sale"].to_numpy()[sold] == 1).all()


def test_a_week_reported_through_wednesday_is_not_fitted_as_a_low_week(session: Session, tmp_path: Path) -> None:
    first = _portfolio(session)
    before = _snapshot(session, first.run_id)
    three = list(before.sort_values("forecast_per_period").index[-3:])  # fast movers: a 3-day week looks low
    monday = END + dt.timedelta(days=7)
    content = "date,sku,quantity\n" + "".join(
        f"{(monday + dt.timedelta(days=k)).isoformat()},{code},1\n" for code in three for k in range(3)
    )
    result = run(session, tmp_path, content)
    assert result.status == "committed", result.summary()
    assert result.coverage is not None and [p.period for p in result.coverage.incomplete] == [monday]
    marks = session.execute(select(DemandPartial.period, func.count()).group_by(DemandPartial.period)).all()
    assert marks == [(monday, 3)]
    marked_run = recompute(session=session, triggered_by="tests")
    marked = _snapshot(session, marked_run.run_id)
    # the incomplete week is not reported yet: every SKU, the three included, keeps its numbers
    assert marked_run.data_as_of == END
    assert _changed(before, marked, list(before.index)) == {column: [] for column in COMPARED}
    assert (marked.loc[three, "last_reported"] == END).all()
    # the same rows without the mark would be fitted as a whole week of 3 units
    session.execute(delete(DemandPartial))
    session.commit()
    unmarked = _snapshot(session, recompute(session=session, triggered_by="tests").run_id)
    assert (unmarked.loc[three, "last_reported"] == monday).all()
    assert set(_changed(before, unmarked, three)["forecast_per_period"]) == set(three)
    # the whole week arriving later replaces the partial row and its mark
    session.add_all([DemandPartial(sku_id=i, period=monday) for i in _ids(session, three)])
    session.commit()
    rest = "date,sku,quantity\n" + "".join(f"{monday.isoformat()},{code},360\n" for code in three)
    assert run(session, tmp_path, rest).status == "committed"
    assert session.scalar(select(func.count()).select_from(DemandPartial)) == 0


def _ids(session: Session, codes: list[str]) -> list[int]:
    return list(session.scalars(select(Sku.id).where(Sku.code.in_(codes))))


def test_an_ahead_sku_counts_its_order_by_date_from_its_own_last_period() -> None:
    from services.orders import order_by_date

    through = dt.date(2026, 6, 1)
    assert order_by_date(data_as_of=through, order_by_periods=0, grain="weekly") == dt.date(2026, 6, 8)
    ahead = order_by_date(data_as_of=through, order_by_periods=0, grain="weekly", last_reported=dt.date(2026, 6, 8))
    assert ahead == dt.date(2026, 6, 15)  # its forecast (and "now") starts after its own last week
    behind = order_by_date(data_as_of=through, order_by_periods=2, grain="weekly", last_reported=dt.date(2026, 5, 4))
    assert behind == dt.date(2026, 6, 22)  # a SKU behind counts from data through like every other
