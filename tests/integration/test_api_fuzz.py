"""A bounded fuzz run of the API from its own OpenAPI document (schemathesis): no 500, responses match the document.

Runs against a private copy of the demo database with a planner token, so the import route runs for real on
random input; the recompute service is replaced by a fake (a real run takes minutes) and so is the PDF drawing
(the briefing facts are still read for real).
"""

from __future__ import annotations

import itertools

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install schemathesis)")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.test_api import _token_for, isolated  # noqa: E402, F401  (fixture re-used)

SELF = {"GET /openapi.json"}  # schemathesis leaves out the document's own route


def _documented(api_schema) -> set[str]:
    return {f"{method.upper()} {path}" for path, item in api_schema.raw_schema["paths"].items() for method in item}


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(isolated):  # noqa: F811
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated.server)


@pytest.fixture
def planner_token(isolated, monkeypatch) -> str:  # noqa: F811
    import reports
    from api import routes
    from services.recompute import RunSummary

    # the briefing facts are read for real; only the (slow) PDF drawing is replaced
    monkeypatch.setattr(reports, "build_portfolio_briefing", lambda facts: b"%PDF-1.4 fuzz")
    monkeypatch.setattr(reports, "build_sku_briefing", lambda facts: b"%PDF-1.4 fuzz")
    monkeypatch.setattr(
        routes.recompute_service,
        "recompute",
        lambda **_kwargs: RunSummary(run_id=None, status="finished", sku_count=0, seconds=0.0),
    )
    return _token_for("planner@example.com")


def test_api_fuzz(api_schema, planner_token: str) -> None:
    """Every operation, a bounded number of generated requests each (schemathesis' pytest plugin does not support
    pytest 9 yet, so the strategies are driven by hypothesis directly)."""
    from hypothesis import given
    from schemathesis.generation.modes import GenerationMode

    headers = {"Authorization": f"Bearer {planner_token}"}
    tried: list[str] = []
    for result, mode in itertools.product(api_schema.get_all_operations(), GenerationMode):
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=8,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            response = case.call(headers=headers)
            # negative cases break the document on purpose: only "no 500" and the error shape must hold then
            case.validate_response(response, checks=CHECKS if mode == GenerationMode.POSITIVE else [not_a_server_error])
            if response.status_code >= 400:
                assert set(response.json()["error"]) == {"code", "message", "details"}

        run()
        tried.append(operation.label)
    assert set(tried) == _documented(api_schema) - SELF


def test_the_document_loads_and_covers_every_operation(api_schema) -> None:
    """schemathesis parses every operation (a broken document fails here), one per documented path and method."""
    operations = {result.ok().label for result in api_schema.get_all_operations()}
    assert operations == _documented(api_schema) - SELF
