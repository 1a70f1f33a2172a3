"""services.narrative on both engines: facts from snapshot rows, the Gemini provider against the local fake server
(never the network), the narrative cache, fallbacks and the provider pause.

The snapshot is inserted directly (two finished runs of six SKUs, one per status), so the numbers are known and the
tests do not depend on the engine's speed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from ai.prompts import PROMPT_VERSION
from db.models import Narrative, RecomputeRun, Sku, SkuSnapshot
from services import narrative, runs
from settings import get_settings
from tests.fakes.gemini import FakeGemini, RecordedRequest, answer, error, fake_gemini  # noqa: F401  (fixture)

SKUS: dict[str, dict[str, Any]] = {
    "PUMP-200": {"name": "Hydraulic pump HP-200", "category": "Pumps", "status": "stockout_risk"},
    "FAN-12": {"name": "Cooling fan CF-12", "category": "Fans", "status": "surge"},
    "VALVE-9": {"name": "Brass valve BV-9", "category": "Valves", "status": "low_velocity"},
    "GASKET-1": {"name": "Legacy gasket LG-1", "category": "Seals", "status": "dead_stock"},
    "WIRE-3": {"name": "Copper wire CW-3", "category": "Cables", "status": "overstock"},
    "BRACKET-40": {"name": "Steel bracket 40mm", "category": "Hardware", "status": "normal"},
}
ROWS: dict[str, dict[str, Any]] = {
    "PUMP-200": {"demand_recent": 140.0, "demand_baseline": 118.0, "value_at_risk": 18234.6, "days_of_cover": 6.2,
                 "status_reason": "cover 6.2 days < lead time 14 days", "safety_stock": 152.6, "reorder_point": 414.6,
                 "on_hand": 116.0, "recommended_qty": 600.0},
    "FAN-12": {"demand_recent": 212.0, "demand_baseline": 88.0, "value_at_risk": 2310.0, "days_of_cover": 12.0,
               "status_reason": "recent demand 212 vs forecast 90 (z 4.1)", "surge_z": 4.13},
    "VALVE-9": {"demand_recent": 2.25, "demand_baseline": 11.0, "value_at_risk": 3120.0, "days_of_cover": 435.6,
                "status_reason": "recent demand 2.3 is 0.21 of baseline 11"},
    "GASKET-1": {"demand_recent": 0.0, "demand_baseline": 0.4, "value_at_risk": 1875.0, "days_of_cover": None,
                 "status_reason": "no sales for 19 periods", "periods_since_last_sale": 19},
    "WIRE-3": {"demand_recent": 31.0, "demand_baseline": 36.0, "value_at_risk": 9412.0, "days_of_cover": 181.6,
               "status_reason": "cover 182 days > 3 x target 35 days", "excess_value": 9412.0},
    "BRACKET-40": {"demand_recent": 86.5, "demand_baseline": 84.2, "value_at_risk": 0.0, "days_of_cover": 41.3,
                   "status_reason": "position 512 above ROP 300"},
}  # fmt: skip
KPIS = {
    "fill_rate": 0.9734,
    "inventory_value": 412345.4,
    "value_at_risk": 34951.6,
    "excess_value": 9412.0,
    "sku_count": 6.0,
    "count_stockout_risk": 1.0,
    "count_surge": 1.0,
    "count_low_velocity": 1.0,
    "count_dead_stock": 1.0,
    "count_overstock": 1.0,
    "count_normal": 1.0,
}
PREVIOUS_KPIS = {**KPIS, "fill_rate": 0.9691, "value_at_risk": 30110.0, "count_stockout_risk": 0.0, "count_normal": 2.0}
GEMINI_PATH = "/v1beta/models/gemini-2.5-flash:generateContent"


# --------------------------------------------------------------------------------------------------------------------
# helpers (also used by the CLI and callback tests)


def add_skus(session) -> dict[str, int]:
    """Insert the six SKUs; return code -> id."""
    ids = {}
    for code, master in SKUS.items():
        sku = Sku(code=code, name=master["name"], category=master["category"])
        session.add(sku)
        session.flush()
        ids[code] = sku.id
    return ids


def add_run(
    session,
    sku_ids: dict[str, int],
    *,
    kpis: dict[str, Any] | None = None,
    changes: dict[str, dict[str, Any]] | None = None,
    grain: str = "weekly",
    status: str = "finished",
) -> int:
    """Insert one run with a snapshot row per SKU (``changes`` overrides fields per code); return its id."""
    run = RecomputeRun(
        status=status,
        finished_at=dt.datetime(2026, 3, 2, 6, 0),
        grain=grain,
        data_as_of=dt.date(2026, 3, 2),
        sku_count=len(sku_ids),
        kpis=dict(KPIS if kpis is None else kpis),
        triggered_by="tests",
    )
    session.add(run)
    session.flush()
    for code, sku_id in sku_ids.items():
        values = {
            "status": SKUS[code]["status"],
            "forecast_per_period": ROWS[code]["demand_recent"],
            "sigma": 10.0,
            "lead_time_periods": 2.0,
            "inventory_value": 1000.0,
            **ROWS[code],
            **(changes or {}).get(code, {}),
        }
        session.add(SkuSnapshot(run_id=run.id, sku_id=sku_id, **values))
    session.flush()
    return run.id


def build_snapshot(session) -> int:
    """Two finished runs (the previous one with other KPIs and reorder points); return the latest run id."""
    ids = add_skus(session)
    add_run(session, ids, kpis=PREVIOUS_KPIS, changes={"PUMP-200": {"status": "normal", "reorder_point": 380.0}})
    return add_run(session, ids)


def facts_of(request: RecordedRequest) -> dict[str, Any]:
    """The facts JSON the prompt carried."""
    match = re.search(r"<facts>\s*(\{.*\})\s*</facts>", request.user_text, re.DOTALL)
    assert match, request.user_text[:300]
    return json.loads(match.group(1))


def grounded_answer(request: RecordedRequest) -> tuple[int, dict[str, Any]]:
    """A fake Gemini answer quoting only numbers of the prompt's facts (so it passes the check)."""
    facts = facts_of(request)
    if facts["scope"] == "portfolio":
        text = f"The portfolio holds {facts['sku_count']} SKUs. "
        if facts["top_risks"] and facts["value_at_risk"] is not None:
            top = facts["top_risks"][0]["name"]
            text += f"Value at risk stands at ${facts['value_at_risk']:,}, most of it in {top}."
        else:
            text += "No SKU carries value at risk."
    else:
        text = f"{facts['name']} is flagged as {facts['status'].replace('_', ' ')}. Its value at risk is being watched."
    return answer(text)


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    narrative.clear_provider_pause()
    yield
    narrative.clear_provider_pause()
    get_settings.cache_clear()


def use_gemini(monkeypatch: pytest.MonkeyPatch, base_url: str, *, retries: int = 0) -> None:
    """Point the settings at a Gemini endpoint (env vars, as in production)."""
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.setenv("GEMINI_BASE_URL", base_url)
    monkeypatch.setenv("GEMINI_MAX_RETRIES", str(retries))
    monkeypatch.setenv("GEMINI_TIMEOUT_S", "5")
    get_settings.cache_clear()


@pytest.fixture
def gemini(db_url: str, monkeypatch: pytest.MonkeyPatch, fake_gemini: FakeGemini) -> Iterator[FakeGemini]:  # noqa: F811
    """Settings point at the fake Gemini endpoint, which answers with a grounded text by default."""
    fake_gemini.default = grounded_answer
    use_gemini(monkeypatch, fake_gemini.base_url)
    yield fake_gemini
    monkeypatch.undo()
    get_settings.cache_clear()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def stored(session, scope: str) -> list[Narrative]:
    return list(session.scalars(select(Narrative).where(Narrative.scope == scope).order_by(Narrative.id)))


# --------------------------------------------------------------------------------------------------------------------
# facts


def test_no_finished_run_means_no_commentary(session) -> None:
    ids = add_skus(session)
    add_run(session, ids, status="failed")
    assert narrative.portfolio_commentary(session=session) is None
    assert narrative.sku_commentary(session=session, code="PUMP-200") is None
    assert session.scalar(select(func.count()).select_from(Narrative)) == 0


def test_portfolio_facts_come_from_the_latest_run_and_the_previous_kpis(session) -> None:
    run_id = build_snapshot(session)
    run = runs.latest_run(session=session)
    assert run.id == run_id
    facts = narrative.portfolio_facts_for_run(session=session, run=run)
    assert facts.sku_count == 6 and facts.period == "week" and facts.as_of == dt.date(2026, 3, 2)
    assert facts.status_counts["stockout_risk"] == 1 and facts.status_count_changes["stockout_risk"] == 1
    assert facts.value_at_risk == 34952 and facts.value_at_risk_change == 4842
    assert facts.fill_rate_pct == 97.3 and facts.fill_rate_change_pts == 0.4
    assert [b.name for b in facts.top_risks][:2] == ["Hydraulic pump HP-200", "Copper wire CW-3"]
    assert facts.top_movers[0].name == "Cooling fan CF-12"  # |212 - 88| is the largest move


def test_sku_facts_compare_with_the_previous_run_and_use_the_grain(session) -> None:
    ids = add_skus(session)
    add_run(session, ids, changes={"PUMP-200": {"status": "normal", "reorder_point": 380.0}}, grain="monthly")
    run_id = add_run(session, ids, grain="monthly")
    facts = narrative.sku_facts_for_run(session=session, run=session.get(RecomputeRun, run_id), code="PUMP-200")
    assert (facts.code, facts.name, facts.category) == ("PUMP-200", "Hydraulic pump HP-200", "Pumps")
    assert facts.status == "stockout_risk" and facts.previous_status == "normal"
    assert facts.reorder_point == 415 and facts.reorder_point_change == 35
    assert facts.period == "month" and facts.lead_time_days == 61  # 2 periods x 30.4 days
    assert narrative.sku_facts_for_run(session=session, run=session.get(RecomputeRun, run_id), code="NOPE") is None


# --------------------------------------------------------------------------------------------------------------------
# offline writer (no key)


def test_without_a_key_the_offline_writer_answers_and_is_cached(session) -> None:
    build_snapshot(session)
    first = narrative.portfolio_commentary(session=session)
    assert first.provider == "offline" and first.model == "offline-v1"
    assert first.grounded and not first.fell_back and first.notice is None and not first.cached
    assert "Hydraulic pump HP-200" in first.text
    again = narrative.portfolio_commentary(session=session)
    assert again.cached and again.text == first.text and again.created_at == first.created_at
    assert len(stored(session, "portfolio")) == 1


# --------------------------------------------------------------------------------------------------------------------
# Gemini through the fake endpoint


def test_a_good_answer_is_stored_shown_and_then_served_from_the_cache(session, gemini: FakeGemini) -> None:
    run_id = build_snapshot(session)
    view = narrative.portfolio_commentary(session=session)
    assert view.text == (
        "The portfolio holds 6 SKUs. Value at risk stands at $34,952, most of it in Hydraulic pump HP-200."
    )
    assert (view.provider, view.model, view.scope, view.run_id) == ("gemini", "gemini-2.5-flash", "portfolio", run_id)
    assert view.grounded and not view.fell_back and view.notice is None and not view.cached
    assert view.written_by.startswith("Written by Gemini (gemini-2.5-flash) at ")
    (request,) = gemini.requests
    assert request.path == GEMINI_PATH  # base_url honoured, API version v1beta
    assert request.headers.get("x-goog-api-key") == "test-key"
    (row,) = stored(session, "portfolio")
    assert (row.provider, row.text, row.fell_back, row.prompt_version) == (
        "gemini",
        view.text,
        False,
        f"portfolio_{PROMPT_VERSION}",
    )

    session.commit()  # a later request, another session: still a cache hit
    again = narrative.portfolio_commentary(session=session)
    assert again.cached and again.text == view.text and again.provider == "gemini"
    assert len(gemini.requests) == 1, "a cache hit must not call the endpoint"


def test_changed_facts_write_a_new_commentary(session, gemini: FakeGemini) -> None:
    build_snapshot(session)
    first = narrative.portfolio_commentary(session=session)
    ids = {sku.code: sku.id for sku in session.scalars(select(Sku))}
    add_run(session, ids, kpis={**KPIS, "value_at_risk": 40000.0})  # a new run with other numbers
    second = narrative.portfolio_commentary(session=session)
    assert len(gemini.requests) == 2 and not second.cached
    assert "$40,000" in second.text and second.facts_hash != first.facts_hash
    narrative.portfolio_commentary(session=session)
    assert len(gemini.requests) == 2


def test_sku_commentary_is_cached_per_sku(session, gemini: FakeGemini) -> None:
    build_snapshot(session)
    pump = narrative.sku_commentary(session=session, code="PUMP-200")
    fan = narrative.sku_commentary(session=session, code=" FAN-12 ")
    assert pump.scope == "sku:PUMP-200" and fan.scope == "sku:FAN-12"
    assert pump.text.startswith("Hydraulic pump HP-200 is flagged as stockout risk.")
    assert facts_of(gemini.requests[0])["reorder_point_change"] == 35
    assert narrative.sku_commentary(session=session, code="PUMP-200").cached
    assert len(gemini.requests) == 2
    assert narrative.sku_commentary(session=session, code="UNKNOWN") is None
    with pytest.raises(ValueError, match="code"):
        narrative.sku_commentary(session=session, code="  ")


def test_an_invented_number_falls_back_to_the_offline_writer_and_says_so(session, gemini: FakeGemini) -> None:
    build_snapshot(session)
    gemini.script(answer("The portfolio holds 6 SKUs. Value at risk jumped to $91,234 this week."))
    view = narrative.portfolio_commentary(session=session)
    assert view.fell_back and view.grounded and (view.provider, view.model) == ("offline", "offline-v1")
    assert "91,234" not in view.text and "Hydraulic pump HP-200" in view.text
    assert any("91,234" in reason for reason in view.reasons)
    assert view.notice.startswith("Gemini's text failed the number check")
    assert view.notice.endswith("showing the offline writer's text.")
    (row,) = stored(session, "portfolio")
    assert row.fell_back and row.provider == "offline"


def test_a_cached_fallback_is_retried_at_most_once_per_interval(session, gemini: FakeGemini) -> None:
    build_snapshot(session)
    gemini.script(answer("Value at risk jumped to $91,234. Nothing else changed."))
    assert narrative.portfolio_commentary(session=session).fell_back
    cached = narrative.portfolio_commentary(session=session)
    assert cached.cached and cached.fell_back and len(gemini.requests) == 1
    assert cached.notice and "could not be used" in cached.notice

    (row,) = stored(session, "portfolio")
    row.created_at -= narrative.FALLBACK_RETRY_AFTER + dt.timedelta(seconds=1)  # the interval has passed
    session.flush()
    retried = narrative.portfolio_commentary(session=session)
    assert len(gemini.requests) == 2 and retried.provider == "gemini" and not retried.fell_back
    assert narrative.portfolio_commentary(session=session).cached and len(gemini.requests) == 2


def test_an_offline_text_written_before_the_key_was_set_is_replaced_later(session, monkeypatch, fake_gemini) -> None:  # noqa: F811
    build_snapshot(session)
    assert narrative.portfolio_commentary(session=session).provider == "offline"  # no key yet
    fake_gemini.default = grounded_answer
    use_gemini(monkeypatch, fake_gemini.base_url)
    assert narrative.portfolio_commentary(session=session).cached  # within the retry interval: no call
    (row,) = stored(session, "portfolio")
    row.created_at -= narrative.FALLBACK_RETRY_AFTER
    session.flush()
    assert narrative.portfolio_commentary(session=session).provider == "gemini"
    assert len(fake_gemini.requests) == 1


def test_regenerate_asks_again_even_on_a_cache_hit(session, gemini: FakeGemini) -> None:
    build_snapshot(session)
    first = narrative.portfolio_commentary(session=session)
    gemini.script(answer("The portfolio holds 6 SKUs. Hydraulic pump HP-200 carries the largest risk."))
    second = narrative.portfolio_commentary(session=session, regenerate=True)
    assert len(gemini.requests) == 2 and not second.cached
    assert second.text != first.text and second.text.endswith("carries the largest risk.")
    assert narrative.portfolio_commentary(session=session).text == second.text  # the newest row is served
    sku = narrative.sku_commentary(session=session, code="PUMP-200", regenerate=True)
    assert sku.provider == "gemini" and len(gemini.requests) == 3


def test_only_the_newest_rows_of_a_scope_are_kept(session, gemini: FakeGemini) -> None:
    build_snapshot(session)
    for _ in range(narrative.KEEP_PER_SCOPE + 2):
        narrative.portfolio_commentary(session=session, regenerate=True)
    assert len(stored(session, "portfolio")) == narrative.KEEP_PER_SCOPE


def test_gemini_unreachable_falls_back_quickly_and_pauses_the_model(session, monkeypatch) -> None:
    build_snapshot(session)
    use_gemini(monkeypatch, closed_port_url())
    start = time.perf_counter()
    view = narrative.portfolio_commentary(session=session)
    first_seconds = time.perf_counter() - start
    assert view.fell_back and view.provider == "offline" and view.grounded and view.text
    assert view.notice.startswith("Gemini did not answer (connection error")
    assert first_seconds < 3.0, first_seconds

    start = time.perf_counter()  # another scope during the pause: the model is not asked at all
    sku = narrative.sku_commentary(session=session, code="FAN-12")
    assert time.perf_counter() - start < 1.0
    assert sku.fell_back and "not asked again" in sku.notice
    assert narrative.portfolio_commentary(session=session).cached  # the fallback is served while paused


def test_the_pause_ends_and_regenerate_ignores_it(session, monkeypatch, fake_gemini) -> None:  # noqa: F811
    build_snapshot(session)
    fake_gemini.default = grounded_answer
    fake_gemini.script(error(503))
    use_gemini(monkeypatch, fake_gemini.base_url)
    view = narrative.portfolio_commentary(session=session)
    assert view.fell_back and "HTTP 503" in view.notice
    narrative.sku_commentary(session=session, code="WIRE-3")
    assert len(fake_gemini.requests) == 1  # paused
    regenerated = narrative.portfolio_commentary(session=session, regenerate=True)
    assert regenerated.provider == "gemini" and len(fake_gemini.requests) == 2

    narrative.clear_provider_pause()  # the pause is over
    (row,) = stored(session, "sku:WIRE-3")
    row.created_at -= narrative.FALLBACK_RETRY_AFTER
    session.flush()
    assert narrative.sku_commentary(session=session, code="WIRE-3").provider == "gemini"
    assert len(fake_gemini.requests) == 3


def test_the_view_is_json_ready(session) -> None:
    build_snapshot(session)
    data = narrative.portfolio_commentary(session=session).to_dict()
    assert json.loads(json.dumps(data))["created_at"].endswith("+00:00")
    expected = {"text", "provider", "model", "created_at", "grounded", "fell_back", "notice", "scope", "run_id"}
    assert set(data) >= expected


def test_commentary_from_a_real_demo_recompute(session, gemini: FakeGemini) -> None:
    recompute = pytest.importorskip("services.recompute").recompute
    from services import demo

    demo.store(session=session, portfolio=demo.generate(skus=6, periods=40, seed=5))
    session.commit()
    summary = recompute(session=session, triggered_by="tests", workers=1)
    assert summary.status == "finished"
    view = narrative.portfolio_commentary(session=session)
    assert (view.provider, view.run_id, view.fell_back) == ("gemini", summary.run_id, False)
    facts = facts_of(gemini.requests[0])
    assert facts["sku_count"] == 6 and sum(facts["status_counts"].values()) == 6 and facts["period"] == "week"
    code = session.scalar(select(Sku.code).order_by(Sku.code).limit(1))
    sku = narrative.sku_commentary(session=session, code=code)
    assert sku.provider == "gemini" and sku.scope == f"sku:{code}" and facts_of(gemini.requests[1])["code"] == code


def test_commentary_for_scope_routes_and_refuses_unknown_scopes(session) -> None:
    build_snapshot(session)
    assert narrative.commentary_for_scope(session=session, scope="portfolio").scope == "portfolio"
    assert narrative.commentary_for_scope(session=session, scope="sku:FAN-12").scope == "sku:FAN-12"
    for bad in ("sku:", "sku: ", "other", ""):
        with pytest.raises(ValueError, match="scope"):
            narrative.commentary_for_scope(session=session, scope=bad)
