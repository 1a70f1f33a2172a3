"""Supply page, API route and Watchtower mention on the demo database: the plan's view and figures, scenarios saved
from the page, exports, roles (viewers look, planners save), and ``GET /api/v1/supply-plan``."""

from __future__ import annotations

import pytest

from layouts import _ids as ids
from tests.integration.test_api import _auth, isolated, tokens, tokens_isolated  # noqa: F401  (fixtures)


@pytest.fixture
def cb(demo_app):
    from callbacks import supply

    return supply


@pytest.fixture
def page(demo_app):
    from layouts import supply

    return supply


@pytest.mark.parametrize("role", ["viewer", "planner", "admin"])
def test_the_page_and_its_link_are_there_for_everyone(client_as, role: str) -> None:
    client = client_as(role)
    assert client.get("/supply").status_code == 200
    from layouts._shell import nav_items

    assert ("Supply", "/supply") in nav_items(role)


@pytest.mark.parametrize("strategy", ["chase", "level", "optimal"])
def test_the_view_of_each_strategy(cb, page, strategy: str) -> None:
    view, message = cb.plan_view(12, strategy, None)
    assert view["strategy"] == strategy and len(view["labels"]) == 12
    names = [r["resource"] for r in view["resources"]]
    assert {"Bottling line", "Snack line", "GreenLeaf supply"} & set(names)
    series = view["resources"][0]
    assert len(series["capacity"]) == len(series["planned"]) == 12
    assert page.kpi_tiles(view) is not None
    capacity = page.capacity_figure(view, names[0])
    assert [t["name"] for t in capacity["data"]] == [
        "Planned, regular",
        "Planned, overtime",
        "Regular capacity",
        "Capacity + overtime",
        "Required (demand + target)",
    ]
    inventory = page.inventory_figure(view, names[0])
    assert {t["name"] for t in inventory["data"]} >= {"Projected inventory", "Safety stock", "Unmet demand"}
    for row in page.unmet_rows(view):
        assert row["sku_link"] == f"[{row['sku']}](/sku/{row['sku']})" and row["reason"]
    assert [o["value"] for o in page.resource_options(view)] == names
    if strategy == "optimal":
        assert "Linear programme" in str(message)


def test_bad_knobs_give_a_message_not_a_traceback(cb) -> None:
    view, message = cb.plan_view(40, "chase", None)
    assert view is None and "horizon must be between 3 and 18" in str(message)
    view, message = cb.plan_view(12, "chase", "lots")
    assert view is None and "overtime % must be a number" in str(message)


def test_planner_saves_scenarios_and_compares_them(cb, page, isolated) -> None:  # noqa: F811
    view, _ = cb.plan_view(6, "level", 20)
    message, saved = cb.save("Level, 20% overtime", view, "planner@example.com")
    assert saved and "Saved" in str(message)
    message, saved = cb.save("level, 20% OVERTIME", view, "planner@example.com")
    assert not saved and "exists already" in str(message)
    message, saved = cb.save("", view, "planner@example.com")
    assert not saved and "give the scenario a name" in str(message)
    from db.session import session_scope
    from services.supply import scenarios

    with session_scope() as session:
        rows = scenarios.list_scenarios(session=session)
    assert rows[0].overtime_pct == 20 and rows[0].horizon == 6
    table = str(page.comparison_table(rows))
    assert "Level, 20% overtime" in table and "20%" in table
    assert len(page.comparison_figure(rows)["data"]) == 4


def test_exports_are_csv_in_the_plan_s_shape(cb) -> None:
    view, _ = cb.plan_view(3, "chase", None)
    resources = cb.export_file("resources", view)
    assert resources["content"].splitlines()[0] == (
        "strategy,resource,period,capacity,overtime_capacity,required,planned,overtime_used,shortfall"
    )
    skus = cb.export_file("skus", view)
    lines = skus["content"].splitlines()
    assert lines[0] == "strategy,sku,resource,period,demand,supply,projected_inventory,target_inventory,unmet_demand"
    assert len(lines) == 1 + 3 * view["skus"]


def test_the_plan_runs_in_the_background_and_saving_needs_a_planner(client_as) -> None:
    from auth.guard import CALLBACK_KEY_ROLES

    deps = client_as("viewer").get("/_dash-dependencies").get_json()
    plan = next(d for d in deps if f"{ids.SUPPLY_PLAN}.data" in d["output"])
    assert plan.get("background") and CALLBACK_KEY_ROLES[plan["output"]] == "viewer"
    assert plan["running"]["running"][f"{ids.SUPPLY_RUN}.disabled"] is True
    save = next(
        d
        for d in deps
        if d["output"].startswith("..")
        and f"{ids.SUPPLY_SCENARIO_MESSAGE}.children" in d["output"]
        and "allow" not in d["output"]
        and d["inputs"][0]["id"] == ids.SUPPLY_SCENARIO_SAVE
    )
    assert CALLBACK_KEY_ROLES[save["output"]] == "planner"
    viewer = client_as("viewer")
    body = {
        "output": save["output"],
        "outputs": [
            {"id": ids.SUPPLY_SCENARIO_MESSAGE, "property": "children"},
            {"id": ids.SUPPLY_SCENARIO_VERSION, "property": "data"},
        ],
        "inputs": [{"id": ids.SUPPLY_SCENARIO_SAVE, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": ids.SUPPLY_SCENARIO_NAME, "property": "value", "value": "crafted"},
            {"id": ids.SUPPLY_PLAN, "property": "data", "value": {"request": {"horizon": 3}}},
            {"id": ids.SUPPLY_SCENARIO_VERSION, "property": "data", "value": 0},
        ],
        "changedPropIds": [f"{ids.SUPPLY_SCENARIO_SAVE}.n_clicks"],
    }
    assert viewer.post("/_dash-update-component", json=body).status_code == 403


def test_viewers_see_the_save_controls_disabled(page, monkeypatch) -> None:
    monkeypatch.setattr(page, "allowed", lambda role: False)
    text = str(page.layout())
    assert "'disabled': True" in text or "disabled=True" in text
    card = page.scenarios_card(False)
    assert page.PLANNER_ONLY in str(card)


def test_the_watchtower_mentions_capacity_shortfalls(cb, page, client_as) -> None:
    from db.session import session_scope
    from services.supply import capacity_alerts

    with session_scope() as session:
        alerts, unit = capacity_alerts(session=session)
    assert alerts, "the demo's supplier closes in February: its capacity is short"
    note = str(cb.watchtower_capacity({"run_id": 1}))
    assert "Capacity." in note and alerts[0].resource in note and "/supply" in note
    assert page.capacity_alert([]) is None


# --- API ------------------------------------------------------------------------------------------------------------


def test_the_api_serves_the_cli_document(demo_app, tokens) -> None:  # noqa: F811
    client = demo_app.server.test_client()
    answer = client.get("/api/v1/supply-plan?horizon=4&strategy=optimal", headers=_auth(tokens["viewer"]))
    assert answer.status_code == 200
    data = answer.get_json()["data"]
    assert data["strategy"] == "optimal" and len(data["periods"]) == 4
    assert {"resources", "skus", "totals", "grain"} <= set(data) and data["skus"]
    short = client.get("/api/v1/supply-plan?skus=false", headers=_auth(tokens["viewer"])).get_json()["data"]
    assert short["skus"] == [] and len(short["periods"]) == 12


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("horizon=2", "horizon"),
        ("strategy=best", "strategy"),
        ("overtime_pct=500", "overtime_pct"),
        ("skus=maybe", "skus"),
    ],
)
def test_bad_api_parameters_are_400(demo_app, tokens, query: str, field: str) -> None:  # noqa: F811
    answer = demo_app.server.test_client().get(f"/api/v1/supply-plan?{query}", headers=_auth(tokens["viewer"]))
    assert answer.status_code == 400
    assert answer.get_json()["error"]["details"][0]["field"] == field
