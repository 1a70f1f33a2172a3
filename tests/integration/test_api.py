"""The REST API: every route x every role (and anonymous), the error shape, the OpenAPI document, real calls."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import sqlite3

import pytest
from sqlalchemy import func, select

ROLES = ("viewer", "planner", "admin")
RANK = {None: -1, "viewer": 0, "planner": 1, "admin": 2}


# --------------------------------------------------------------------------------------------------------------------
# fixtures


def _token_for(email: str) -> str:
    from db.session import session_scope
    from services import users

    with session_scope() as session:
        return users.create_token(session=session, email=email, name="tests")


@pytest.fixture
def tokens(demo_app) -> dict[str, str]:
    return {role: _token_for(f"{role}@example.com") for role in ROLES}


@pytest.fixture
def isolated(demo_sqlite, demo_app, tmp_path, tmp_path_factory):
    """A private copy of the demo database for tests that change data; the shared one is restored afterwards."""
    from tests.conftest import _point_settings_at, use_demo_app

    source = sqlite3.connect(demo_sqlite.removeprefix("sqlite:///"))
    target_path = tmp_path / "copy.db"
    target = sqlite3.connect(target_path)
    source.backup(target)
    source.close()
    target.close()
    _point_settings_at(f"sqlite:///{target_path.as_posix()}", tmp_path / "data")
    yield demo_app
    use_demo_app(demo_sqlite, tmp_path_factory)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _a_sku_code(client, token: str) -> str:
    return client.get("/api/v1/skus?per_page=1", headers=_auth(token)).get_json()["data"][0]["code"]


# --------------------------------------------------------------------------------------------------------------------
# the matrix

#: (method, Flask rule, minimum role or None for public). Must list every blueprint rule (checked below).
ROUTES = [
    ("GET", "/api/v1/openapi.json", None),
    ("GET", "/api/v1/skus", "viewer"),
    ("GET", "/api/v1/skus/<code>", "viewer"),
    ("GET", "/api/v1/summary", "viewer"),
    ("GET", "/api/v1/purchase-orders", "viewer"),
    ("POST", "/api/v1/purchase-orders/<int:order_id>/approve", "planner"),
    ("POST", "/api/v1/imports/<kind>", "planner"),
    ("POST", "/api/v1/recompute", "planner"),
    ("GET", "/api/v1/recompute/<int:run_id>", "viewer"),
    ("GET", "/api/v1/briefings/portfolio.pdf", "viewer"),
    ("GET", "/api/v1/briefings/sku/<code>.pdf", "viewer"),
    ("GET", "/api/v1/backtest", "viewer"),
    ("GET", "/api/v1/supply-plan", "viewer"),
    ("GET", "/api/v1/transfers", "viewer"),
    ("POST", "/api/v1/transfers/<int:transfer_id>/approve", "planner"),
    ("GET", "/api/v1/cycles", "viewer"),
    ("GET", "/api/v1/cycles/compare", "viewer"),
    ("GET", "/api/v1/decisions", "viewer"),
    ("GET", "/api/v1/promotions", "viewer"),
    ("GET", "/api/v1/adjustments", "viewer"),
    ("POST", "/api/v1/adjustments", "planner"),
    ("GET", "/api/v1/adjustments/fva", "viewer"),
    ("DELETE", "/api/v1/adjustments/<int:adjustment_id>", "planner"),
]


def _api_rules(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.server.url_map.iter_rules()
        if rule.endpoint.startswith("api_v1.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_matrix_lists_every_api_route(demo_app) -> None:
    assert _api_rules(demo_app) == {(method, rule) for method, rule, _ in ROUTES}


def test_required_roles_match_the_routes(demo_app) -> None:
    views = demo_app.server.view_functions
    for method, rule, role in ROUTES:
        endpoint = next(
            r.endpoint for r in demo_app.server.url_map.iter_rules() if r.rule == rule and method in r.methods
        )
        assert getattr(views[endpoint], "required_role", None) == role, (method, rule)


@pytest.fixture
def fake_writes(monkeypatch):
    """Replace the services behind the state-changing routes, so the matrix tests the guard and not the engine."""
    from api import routes
    from services import orders
    from services.ingest import ImportResult
    from services.recompute import RunSummary

    calls: list[str] = []

    def fake_import(**kwargs):
        calls.append(f"import:{kwargs['kind']}:{kwargs['user']}")
        return ImportResult(kind=kwargs["kind"], file_name=kwargs["file_name"], status="committed", rows_read=1)

    def fake_recompute(**kwargs):
        calls.append(f"recompute:{kwargs['triggered_by']}")
        return RunSummary(run_id=None, status="finished", sku_count=0, seconds=0.0)

    def fake_approve(**kwargs):
        calls.append(f"approve:{kwargs['order_id']}:{kwargs['user']}")
        return orders.get_order(session=kwargs["session"], order_id=kwargs["order_id"])

    def fake_approve_transfer(**kwargs):
        from services import transfers

        calls.append(f"approve-transfer:{kwargs['transfer_id']}:{kwargs['user']}")
        return transfers.list_transfers(session=kwargs["session"])[0]

    from api import imports as import_routes
    from api import transfers as transfer_routes

    monkeypatch.setattr(transfer_routes.transfers, "approve_transfer", fake_approve_transfer)
    monkeypatch.setattr(import_routes.ingest, "import_file", fake_import)
    monkeypatch.setattr(routes.orders, "approve_order", fake_approve)
    monkeypatch.setattr(routes.recompute_service, "recompute", fake_recompute)
    from services import cycles

    def fake_compare(**kwargs):  # the answer is validated against the contract: a well-formed, empty comparison
        def cycle(name: str) -> dict:
            closed = {"closed_at": "2026-01-05T00:00:00", "closed_by": None, "run_id": None, "data_as_of": None}
            return {"id": 1, "name": name, **closed, "grain": None, "supply_source": "plan", "totals": {}}

        empty = {"totals": {}, "by_category": [], "skus": [], "sku_count": 0, "periods": []}
        return {"a": cycle(kwargs["a"]), "b": cycle(kwargs["b"]), **empty}

    monkeypatch.setattr(cycles, "compare", fake_compare)
    from api import adjustments as adjustment_routes
    from services.consensus import AdjustmentView

    def fake_adjustment(**kwargs):
        calls.append(f"adjust:{kwargs['user']}")
        when = dt.datetime(2026, 1, 1)
        return AdjustmentView(1, "sku", "X", when.date(), 5.0, None, "why", kwargs["user"], when, True)

    monkeypatch.setattr(adjustment_routes.consensus, "add_adjustment", fake_adjustment)
    monkeypatch.setattr(adjustment_routes.consensus, "delete_adjustment", fake_adjustment)
    monkeypatch.setattr(adjustment_routes.consensus, "recompute_after_adjustments", lambda **kwargs: None)
    return calls


def _any_order_id() -> int:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        return orders.list_orders(session=session, status=list(orders.PO_STATUSES), limit=1)[0].id


def _any_transfer_id() -> int:
    from db.session import session_scope
    from services import transfers

    with session_scope() as session:
        return transfers.list_transfers(session=session)[0].id  # the demo's multi-location items (issue 21)


def _any_run_id() -> int:
    from db.session import session_scope
    from services import runs

    with session_scope() as session:
        return runs.latest_run(session=session).id


def _call(client, method: str, rule: str, token: str | None, code: str):
    path = rule.replace("<code>", code).replace("<kind>", "stock").replace("<int:order_id>", str(_any_order_id()))
    path = path.replace("<int:run_id>", str(_any_run_id())).replace("<int:transfer_id>", str(_any_transfer_id()))
    path = path.replace("<int:adjustment_id>", "1")
    path += f"?sku={code}&periods=13" if rule.endswith("/backtest") else ""  # one SKU: a quick replay
    path += "?a=A&b=B" if rule.endswith("/cycles/compare") else ""
    if rule.endswith("/adjustments") and method == "POST":
        body = {"scope": code, "period": "2030-01", "change_pct": 5, "reason": "matrix"}
        return client.post(path, headers=_auth(token), json=body)
    if rule.endswith("<kind>"):
        data = {"file": (io.BytesIO(f"sku,on_hand\n{code},1\n".encode()), "stock.csv")}
        return client.post(path, headers=_auth(token), data=data, content_type="multipart/form-data")
    return client.open(path, method=method, headers=_auth(token))


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_route_answers_each_role(demo_app, tokens, fake_writes, role: str | None) -> None:
    from db.models import AuditLog
    from db.session import session_scope

    client = demo_app.server.test_client()
    code = _a_sku_code(client, tokens["viewer"])
    for method, rule, needed in ROUTES:
        with session_scope() as session:
            denied_before = session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "api.denied")
            )
        response = _call(client, method, rule, tokens.get(role), code)
        if needed is None or RANK[role] >= RANK[needed]:
            expected = 200
        elif role is None:
            expected = 401
        else:
            expected = 403
        assert response.status_code == expected, (role, method, rule, response.get_data(as_text=True)[:300])
        assert response.is_json or response.mimetype == "application/pdf"
        if expected != 200:
            assert set(response.get_json()["error"]) == {"code", "message", "details"}
        with session_scope() as session:
            denied_after = session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "api.denied")
            )
        assert denied_after == denied_before + (1 if expected == 403 else 0)
    if role in ("planner", "admin"):
        assert f"recompute:{role}@example.com" in fake_writes
        assert f"import:stock:{role}@example.com" in fake_writes
        assert any(call.startswith("approve:") and call.endswith(f":{role}@example.com") for call in fake_writes)
        assert any(call.startswith("approve-transfer:") for call in fake_writes)


def test_a_session_cookie_is_not_an_api_credential(client_as) -> None:
    client = client_as("admin")
    response = client.get("/api/v1/skus")
    assert response.status_code == 401


def test_revoked_tokens_and_deactivated_users_are_refused(demo_app) -> None:
    import uuid

    from db.session import session_scope
    from services import users
    from tests.conftest import make_user

    email = f"api{uuid.uuid4().hex[:8]}@example.com"
    make_user(email, "viewer")
    client = demo_app.server.test_client()
    first, second = _token_for(email), _token_for(email)
    assert client.get("/api/v1/summary", headers=_auth(first)).status_code == 200
    with session_scope() as session:
        row = next(t for t in users.list_tokens(session=session) if first.startswith(t.prefix))
        users.revoke_token(session=session, token_id=row.id, actor="admin@example.com")
    assert client.get("/api/v1/summary", headers=_auth(first)).status_code == 401
    assert client.get("/api/v1/summary", headers=_auth(second)).status_code == 200
    with session_scope() as session:
        user = users.get_by_email(session=session, email=email)
        users.set_active(session=session, user_id=user.id, active=False, actor="admin@example.com")
    assert client.get("/api/v1/summary", headers=_auth(second)).status_code == 401
    for header in ("Bearer", "Bearer ", "Basic abc", f"Token {second}", "Bearer icc_" + "x" * 300):
        assert client.get("/api/v1/summary", headers={"Authorization": header}).status_code == 401


# --------------------------------------------------------------------------------------------------------------------
# error shape


def _assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["details"], list)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_errors_have_one_shape(demo_app, tokens) -> None:
    client = demo_app.server.test_client()
    viewer = _auth(tokens["viewer"])
    error = _assert_error(client.get("/api/v1/skus?per_page=0", headers=viewer), 400, "invalid_parameter")
    assert error["details"][0]["field"] == "per_page"
    _assert_error(client.get("/api/v1/skus?page=abc", headers=viewer), 400, "invalid_parameter")
    _assert_error(client.get("/api/v1/skus?page=99999999999999999999", headers=viewer), 400, "invalid_parameter")
    _assert_error(client.get("/api/v1/skus?status=bogus", headers=viewer), 400, "invalid_parameter")
    _assert_error(client.get("/api/v1/skus?sort=-nope", headers=viewer), 400, "invalid_parameter")
    _assert_error(client.get("/api/v1/skus?q=" + "x" * 101, headers=viewer), 400, "invalid_parameter")
    _assert_error(client.get("/api/v1/skus"), 401, "unauthenticated")
    _assert_error(client.post("/api/v1/recompute", headers=viewer), 403, "forbidden")
    _assert_error(client.get("/api/v1/skus/NO-SUCH-SKU", headers=viewer), 404, "not_found")
    for path in ("/api/v1/nope", "/api/v1", "/api/v1/skus/", "/api/v1/skus/a/b"):
        _assert_error(client.get(path, headers=viewer), 404, "not_found")
    _assert_error(client.get("/api/v1/nope"), 404, "not_found")  # unknown routes: 404 even without a token
    response = client.post("/api/v1/skus", headers=viewer)
    _assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"
    response = client.get("/api/v1/recompute", headers=viewer)
    _assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"
    _assert_error(client.delete("/api/v1/summary", headers=viewer), 405, "method_not_allowed")


def test_unexpected_errors_are_500_without_details(demo_app, tokens, monkeypatch) -> None:
    from api import routes

    def boom(**_kwargs):
        raise RuntimeError("secret internal detail at /srv/app")

    monkeypatch.setattr(routes.watchtower, "kpi_summary", boom)
    response = demo_app.server.test_client().get("/api/v1/summary", headers=_auth(tokens["viewer"]))
    error = _assert_error(response, 500, "internal_error")
    assert "secret" not in json.dumps(error)


def test_no_snapshot_is_a_409(demo_app, tokens, monkeypatch) -> None:
    from api import routes

    monkeypatch.setattr(routes.runs, "latest_run", lambda **_kwargs: None)
    client = demo_app.server.test_client()
    for path in ("/api/v1/skus", "/api/v1/summary"):
        _assert_error(client.get(path, headers=_auth(tokens["viewer"])), 409, "no_snapshot")


def test_recompute_while_one_runs_is_a_409(demo_app, tokens, monkeypatch, fake_writes) -> None:
    from api import routes

    monkeypatch.setattr(routes.runs, "running_run", lambda **_kwargs: object())
    response = demo_app.server.test_client().post("/api/v1/recompute", headers=_auth(tokens["planner"]))
    _assert_error(response, 409, "recompute_running")
    assert fake_writes == []


def test_upload_over_the_limit_is_a_413(demo_app, tokens) -> None:
    server = demo_app.server
    limit = server.config["MAX_CONTENT_LENGTH"]
    server.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        data = {"file": (io.BytesIO(b"sku,on_hand\n" + b"A,1\n" * 1000), "stock.csv")}
        response = server.test_client().post(
            "/api/v1/imports/stock", headers=_auth(tokens["planner"]), data=data, content_type="multipart/form-data"
        )
    finally:
        server.config["MAX_CONTENT_LENGTH"] = limit
    _assert_error(response, 413, "payload_too_large")


# --------------------------------------------------------------------------------------------------------------------
# real calls

SKU_FIELDS = {
    "code",
    "name",
    "category",
    "location",
    "status",
    "status_reason",
    "on_hand",
    "on_order",
    "demand_per_period",
    "forecast_per_period",
    "safety_stock",
    "reorder_point",
    "eoq",
    "newsvendor_quantity",
    "days_of_cover",
    "abc",
    "xyz",
    "demand_class",
    "value_at_risk",
}


def test_list_skus_filters_and_pages(demo_app, tokens) -> None:
    client = demo_app.server.test_client()
    viewer = _auth(tokens["viewer"])
    everything = client.get("/api/v1/skus?per_page=200", headers=viewer).get_json()
    total = everything["meta"]["total"]
    assert total == len(everything["data"]) > 0
    assert set(everything["data"][0]) >= SKU_FIELDS
    first = client.get("/api/v1/skus?per_page=7&page=1&sort=code", headers=viewer).get_json()
    second = client.get("/api/v1/skus?per_page=7&page=2&sort=code", headers=viewer).get_json()
    codes = [r["code"] for r in first["data"] + second["data"]]
    assert codes == sorted(codes) and len(set(codes)) == 14
    assert first["meta"]["pages"] == -(-total // 7)
    status = everything["data"][0]["status"]
    filtered = client.get(f"/api/v1/skus?status={status}&per_page=200", headers=viewer).get_json()
    assert filtered["data"] and {r["status"] for r in filtered["data"]} == {status}
    assert filtered["meta"]["total"] == sum(r["status"] == status for r in everything["data"])
    category = everything["data"][0]["category"]
    both = client.get(f"/api/v1/skus?status={status}&category={category}&per_page=200", headers=viewer).get_json()
    expected = [r["code"] for r in everything["data"] if r["status"] == status and r["category"] == category]
    assert sorted(r["code"] for r in both["data"]) == sorted(expected)
    code = everything["data"][0]["code"]
    found = client.get(f"/api/v1/skus?q={code.lower()}", headers=viewer).get_json()
    assert code in [r["code"] for r in found["data"]]
    beyond = client.get(f"/api/v1/skus?page={total + 1}&per_page=1", headers=viewer).get_json()
    assert beyond["data"] == [] and beyond["meta"]["total"] == total


def test_one_sku_has_forecast_and_history(demo_app, tokens) -> None:
    client = demo_app.server.test_client()
    viewer = _auth(tokens["viewer"])
    code = _a_sku_code(client, tokens["viewer"])
    data = client.get(f"/api/v1/skus/{code}", headers=viewer).get_json()["data"]
    assert set(data) >= SKU_FIELDS and data["code"] == code
    assert data["history"] and set(data["history"][0]) == {"period", "quantity"}
    assert data["forecast"] and set(data["forecast"][0]) == {"period", "mean", "p10", "p50", "p90"}
    point = data["forecast"][0]
    assert point["p10"] <= point["p50"] <= point["p90"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", point["period"])


def test_summary_matches_the_watchtower(demo_app, tokens) -> None:
    from db.session import session_scope
    from services import watchtower

    data = demo_app.server.test_client().get("/api/v1/summary", headers=_auth(tokens["viewer"])).get_json()["data"]
    with session_scope() as session:
        expected = watchtower.kpi_summary(session=session)
    assert data["run"]["id"] == expected.run.id
    assert data["sku_count"] == expected.sku_count
    assert {k: v["value"] for k, v in data["status_counts"].items()} == {k.key: k.value for k in expected.status_counts}


def test_import_through_the_api(isolated, tokens_isolated) -> None:
    client = isolated.server.test_client()
    planner = _auth(tokens_isolated["planner"])
    code = _a_sku_code(client, tokens_isolated["viewer"])
    good = {"file": (io.BytesIO(f"sku,on_hand,on_order\n{code},123,4\n".encode()), "stock.csv")}
    response = client.post("/api/v1/imports/stock", headers=planner, data=good, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    data = response.get_json()["data"]
    assert data["status"] == "committed" and data["rows_accepted"] == 1
    assert "error_report" not in data  # no server paths
    bad = {"file": (io.BytesIO(b"sku,on_hand\nNOPE-1,-5\n"), "stock.csv")}
    response = client.post("/api/v1/imports/stock", headers=planner, data=bad, content_type="multipart/form-data")
    error = _assert_error(response, 422, "import_rejected")
    assert error["details"] and {"line", "column", "value", "reason"} <= set(error["details"][0])
    dry = {"file": (io.BytesIO(f"sku,on_hand\n{code},999\n".encode()), "stock.csv"), "dry_run": "true"}
    response = client.post("/api/v1/imports/stock", headers=planner, data=dry, content_type="multipart/form-data")
    assert response.get_json()["data"]["status"] == "checked"
    missing = client.post("/api/v1/imports/stock", headers=planner, data={}, content_type="multipart/form-data")
    _assert_error(missing, 400, "missing_file")
    unknown = {"file": (io.BytesIO(b"x\n"), "x.csv")}
    _assert_error(
        client.post("/api/v1/imports/nope", headers=planner, data=unknown, content_type="multipart/form-data"),
        404,
        "not_found",
    )
    flag = {"file": (io.BytesIO(b"x\n"), "x.csv"), "dry_run": "maybe"}
    _assert_error(
        client.post("/api/v1/imports/stock", headers=planner, data=flag, content_type="multipart/form-data"),
        400,
        "invalid_parameter",
    )
    from settings import get_settings

    assert list((get_settings().data_dir / "uploads").glob("api-*.csv")) == []  # uploads are removed


def test_approve_through_the_api(isolated, tokens_isolated) -> None:
    from db.session import session_scope
    from services import orders

    with session_scope() as session:
        recommended = [o for o in orders.list_orders(session=session, status="recommended") if o.qty > 0]
    assert recommended, "the demo recompute made no recommended order"
    order_id = recommended[0].id
    client = isolated.server.test_client()
    listed = client.get(
        "/api/v1/purchase-orders?status=recommended&per_page=200", headers=_auth(tokens_isolated["viewer"])
    )
    assert order_id in [o["id"] for o in listed.get_json()["data"]]
    path = f"/api/v1/purchase-orders/{order_id}/approve"
    _assert_error(client.post(path, headers=_auth(tokens_isolated["viewer"])), 403, "forbidden")
    response = client.post(path, headers=_auth(tokens_isolated["planner"]))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.get_json()["data"]
    assert data["status"] == "approved" and data["approved_by"] == "planner@example.com"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["order_date"])
    _assert_error(client.post(path, headers=_auth(tokens_isolated["planner"])), 409, "conflict")
    _assert_error(
        client.post("/api/v1/purchase-orders/999999999/approve", headers=_auth(tokens_isolated["planner"])), 404
    )
    _assert_error(
        client.post(f"/api/v1/purchase-orders/{2**70}/approve", headers=_auth(tokens_isolated["planner"])), 404
    )
    _assert_error(client.get("/api/v1/purchase-orders?status=nope", headers=_auth(tokens_isolated["viewer"])), 400)
    approved = client.get("/api/v1/purchase-orders?status=approved", headers=_auth(tokens_isolated["viewer"]))
    assert order_id in [o["id"] for o in approved.get_json()["data"]]


@pytest.fixture
def tokens_isolated(isolated) -> dict[str, str]:
    return {role: _token_for(f"{role}@example.com") for role in ROLES}


# --------------------------------------------------------------------------------------------------------------------
# the OpenAPI document


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_openapi_lists_exactly_the_routes(demo_app) -> None:
    document = demo_app.server.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "/api/v1"}]
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routed = {(method, _openapi_path(rule)) for method, rule in _api_rules(demo_app)}
    assert documented == routed
    for method, rule, role in ROUTES:
        operation = document["paths"][_openapi_path(rule)][method.lower()]
        assert operation.get("x-required-role") == role
        assert "200" in operation["responses"]
        if role is not None:
            assert {"401", "403", "500"} <= set(operation["responses"])


def test_list_skus_runs_the_same_number_of_queries_for_any_page_size(demo_app, tokens) -> None:
    """No N+1: a page of 50 SKUs costs as many SQL statements as a page of 5 (one batch query for the rows)."""
    from sqlalchemy import event

    from db.session import engine_for
    from settings import get_settings

    engine = engine_for(get_settings().database_url)
    client = demo_app.server.test_client()
    viewer = _auth(tokens["viewer"])
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def count(per_page: int) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            body = client.get(f"/api/v1/skus?per_page={per_page}&sort=code", headers=viewer).get_json()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert len(body["data"]) == per_page
        return len(statements)

    assert count(50) == count(5) > 0


# --------------------------------------------------------------------------------------------------------------------
# recompute: queued on the workers with Redis (202 + Location), synchronous without (200)

REDIS_URL = "redis://127.0.0.1:6379/12"  # a db of its own: no worker of another test consumes the queue here


@pytest.fixture
def queued(isolated, monkeypatch):
    """REDIS_URL on db 12 of the local Redis (skipped when unreachable); this test's queue and keys deleted after."""
    import redis

    from services import job_store, jobs
    from settings import get_settings

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(exc).__name__})")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    client.delete(jobs.DEFAULT_QUEUE)
    yield client
    client.delete(jobs.DEFAULT_QUEUE, *client.keys("celery-task-meta-*"), *client.keys(f"{job_store.KEY_PREFIX}:*"))
    monkeypatch.delenv("REDIS_URL")
    get_settings.cache_clear()


def test_recompute_with_redis_is_queued_and_polled(isolated, queued, tokens_isolated) -> None:
    from services import jobs

    client = isolated.server.test_client()
    planner, viewer = _auth(tokens_isolated["planner"]), _auth(tokens_isolated["viewer"])
    response = client.post("/api/v1/recompute", headers=planner)
    assert response.status_code == 202, response.get_data(as_text=True)[:300]
    body = response.get_json()["data"]
    run_id = body["run_id"]
    assert body["status"] == "queued" and body["job_id"]
    assert response.headers["Location"] == body["location"] == f"/api/v1/recompute/{run_id}"

    # the job is in the workers' queue, for this run
    messages = [json.loads(m) for m in queued.lrange(jobs.DEFAULT_QUEUE, 0, -1)]
    assert [m["headers"]["id"] for m in messages] == [body["job_id"]]
    args, kwargs, _embed = json.loads(base64.b64decode(messages[0]["body"]))
    assert messages[0]["headers"]["task"] == jobs.RUN_TASK and kwargs["run_id"] == run_id
    assert kwargs["triggered_by"] == "planner@example.com"

    polled = client.get(body["location"], headers=viewer)
    assert polled.status_code == 200 and polled.headers["Retry-After"] == "5"
    assert polled.get_json()["data"]["status"] == "running" and polled.get_json()["data"]["kpis"] is None
    again = client.post("/api/v1/recompute", headers=planner)
    _assert_error(again, 409, "recompute_running")

    # what a worker does with the message: the same task body, on the recorded run
    result = jobs.run_recompute_job(**kwargs)
    assert result == {"run_id": run_id, "status": "finished", "sku_count": result["sku_count"]}
    done = client.get(body["location"], headers=viewer)
    data = done.get_json()["data"]
    assert done.status_code == 200 and "Retry-After" not in done.headers
    assert data["status"] == "finished" and data["sku_count"] == result["sku_count"] > 0
    assert data["kpis"]["sku_count"] == data["sku_count"] and data["scope"] is None
    assert client.get("/api/v1/skus", headers=viewer).get_json()["meta"]["run_id"] == run_id
    _assert_error(client.get("/api/v1/recompute/99999", headers=viewer), 404, "not_found")


def test_recompute_without_redis_answers_with_the_finished_run(isolated, tokens_isolated) -> None:
    client = isolated.server.test_client()
    response = client.post("/api/v1/recompute", headers=_auth(tokens_isolated["planner"]))
    assert response.status_code == 200 and "Location" not in response.headers
    data = response.get_json()["data"]
    assert data["status"] == "finished" and data["sku_count"] > 0
    polled = client.get(f"/api/v1/recompute/{data['run_id']}", headers=_auth(tokens_isolated["viewer"]))
    assert polled.get_json()["data"]["status"] == "finished"
