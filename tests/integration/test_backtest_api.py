"""GET /api/v1/backtest: the policy backtest document, its role, its errors (on a private copy of the demo database)."""

from __future__ import annotations

import sqlite3

import pytest

SKU_KEYS = {
    "code",
    "demand",
    "fill_rate",
    "cycle_service_level",
    "stockout_periods",
    "average_inventory_units",
    "average_inventory_value",
    "orders",
}
POINT_KEYS = {"fill_rate", "cycle_service_level", "average_inventory_value", "target_service_level"}


@pytest.fixture
def api(demo_sqlite, demo_app, tmp_path, tmp_path_factory):
    """(client, tokens) on a private copy of the demo database (a backtest stores its result)."""
    from db.session import session_scope
    from services import users
    from tests.conftest import _point_settings_at, use_demo_app

    source = sqlite3.connect(demo_sqlite.removeprefix("sqlite:///"))
    target = sqlite3.connect(tmp_path / "copy.db")
    source.backup(target)
    source.close()
    target.close()
    _point_settings_at(f"sqlite:///{(tmp_path / 'copy.db').as_posix()}", tmp_path / "data")
    with session_scope() as session:
        tokens = {r: users.create_token(session=session, email=f"{r}@example.com", name="t") for r in ("viewer",)}
    yield demo_app.server.test_client(), tokens
    use_demo_app(demo_sqlite, tmp_path_factory)


def _get(client, token: str | None, query: str):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1/backtest{query}", headers=headers)


def test_a_viewer_gets_the_backtest_document_of_a_category(api) -> None:
    from db.session import session_scope
    from services import backtest as bt

    client, tokens = api
    response = _get(client, tokens["viewer"], "?category=Spare%20parts&periods=13")
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    doc = response.get_json()["data"]
    assert doc["periods"] == 13 and doc["scope"]["category"] == "Spare parts"
    assert set(doc["portfolio"]) == POINT_KEYS and set(doc["baseline"]) == POINT_KEYS
    assert len(doc["frontier"]) == 21
    assert {f["service_target"] for f in doc["frontier"]} >= {0.5, 0.999}
    assert all(set(f) == {"service_target", "fill_rate", "average_inventory_value"} for f in doc["frontier"])
    assert doc["skus"] and all(set(row) == SKU_KEYS for row in doc["skus"])
    assert all(row["code"].startswith("SP-") for row in doc["skus"])  # the demo's spare parts
    demand = sum(r["demand"] for r in doc["skus"])
    served = sum(r["demand"] * r["fill_rate"] for r in doc["skus"] if r["fill_rate"] is not None)
    assert doc["portfolio"]["fill_rate"] == pytest.approx(served / demand, rel=1e-5)  # demand-weighted
    assert doc["comparison"]["verdict"] in bt.document.VERDICTS
    with session_scope() as session:  # stored for the Risk page and the briefing
        stored = bt.latest_stored(session=session, scope=bt.BacktestScope.make(category="Spare parts"))
    assert stored is not None and stored.triggered_by == "viewer@example.com" and stored.periods == 13


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("?periods=abc", 400, "invalid_parameter", "periods"),
        ("?periods=0", 400, "invalid_parameter", "periods"),
        ("?periods=123", 400, "invalid_parameter", "periods"),  # 130 weeks of history: at most 122
        ("?abc=D", 400, "invalid_parameter", "abc"),
        ("?sku=X&category=Y", 400, "invalid_parameter", "sku"),
        ("?sku=a&sku=b", 400, "invalid_parameter", "sku"),
        ("?sku=NO-SUCH-SKU", 404, "not_found", None),
        ("?category=Nothing%20here", 404, "not_found", None),
    ],
)
def test_bad_input_is_a_clear_error(api, query: str, status: int, code: str, field: str | None) -> None:
    client, tokens = api
    response = _get(client, tokens["viewer"], query)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"] and "\n" not in error["message"]
    if field:
        assert error["details"][0]["field"] == field


def test_periods_too_long_says_how_many_fit(api) -> None:
    client, tokens = api
    error = _get(client, tokens["viewer"], "?periods=123").get_json()["error"]
    assert "at most 122" in error["message"] and "130 weeks" in error["message"]


def test_anonymous_is_refused(api) -> None:
    client, _ = api
    response = _get(client, None, "")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"
