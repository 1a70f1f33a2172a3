"""The API contract without a database (issue 17 item 3): the OpenAPI document is generated from the routes'
models (every /api/v1 route, its role, its answers), and a query model turns bad input into the one 400 shape."""

from __future__ import annotations

import re

import pytest
from flask import Flask

import api
from api import openapi
from api.contract import parse_query
from api.errors import ApiError
from api.models_orders import OrderQuery
from api.models_skus import Sku, SkuDetail, SkuQuery


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(api.blueprint)
    return app


@pytest.fixture(scope="module")
def document(app: Flask) -> dict:
    with app.test_request_context("/api/v1/openapi.json"):
        return openapi.document()


def test_the_document_lists_every_route_with_its_role(app: Flask, document: dict) -> None:
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_v1."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routed |= {(m.lower(), path) for m in rule.methods - {"HEAD", "OPTIONS"}}
            role = getattr(app.view_functions[rule.endpoint], "required_role", None)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert document["paths"][path][method.lower()].get("x-required-role") == role
    assert {(m, p) for p, item in document["paths"].items() for m in item} == routed
    assert document["openapi"].startswith("3.1") and document["servers"] == [{"url": "/api/v1"}]


def test_the_sku_schemas_come_from_the_models(document: dict) -> None:
    schemas = document["components"]["schemas"]
    assert list(schemas["Sku"]["properties"]) == list(Sku.model_fields)
    assert set(schemas["Sku"]["required"]) == set(Sku.model_fields)
    assert set(SkuDetail.model_fields) <= set(schemas["SkuDetail"]["properties"])
    assert schemas["Sku"]["properties"]["on_hand"]["anyOf"] == [{"type": "number"}, {"type": "null"}]
    listing = document["paths"]["/skus"]["get"]
    names = [p["name"] for p in listing["parameters"]]
    assert names == list(SkuQuery.model_fields)
    assert {"200", "400", "401", "403", "409", "500"} == set(listing["responses"])


def test_schemathesis_reads_every_operation(document: dict) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(document)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert len(labels) == sum(len(item) for item in document["paths"].values())


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("per_page=0", "per_page", "must be between 1 and 200, got 0"),
        ("page=x", "page", "must be a whole number, got 'x'"),
        ("status=surge,nope", "status", "unknown value 'nope'"),
        ("q=" + "x" * 101, "q", "at most 100 characters"),
        ("page=1&page=2", "page", "give one value"),
    ],
)
def test_bad_query_values_are_a_400_naming_the_parameter(app: Flask, query: str, field: str, message: str) -> None:
    with app.test_request_context(f"/api/v1/skus?{query}"), pytest.raises(ApiError) as raised:
        parse_query(SkuQuery)
    assert raised.value.status == 400 and raised.value.code == "invalid_parameter"
    assert raised.value.details[0]["field"] == field and message in raised.value.details[0]["message"]


def test_repeated_and_comma_separated_values_and_blank_defaults(app: Flask) -> None:
    with app.test_request_context("/api/v1/skus?status=surge,normal&status=dead_stock&sort=-code&page=&q=+cola+"):
        query = parse_query(SkuQuery)
    assert query.status == ["surge", "normal", "dead_stock"] and query.page == 1 and query.q == "cola"
    assert query.sort_order() == [("code", "desc")] and query.filters().search == "cola"
    with app.test_request_context("/api/v1/purchase-orders?sku=A-1"):
        assert parse_query(OrderQuery).sku == "A-1"


def test_every_route_has_a_contract(app: Flask) -> None:
    """A route merged without ``@operation`` (CONTRIBUTING.md, "API routes") is listed here until it gets one."""
    missing = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api_v1.") and not hasattr(app.view_functions[rule.endpoint], "api_operation")
    )
    assert missing == []
