"""The Cycles page's Consensus demand section on a private copy of the demo database: planners add and delete
adjustments (the server refuses a viewer's callback), bad input is a message (nothing written), and the layers and
forecast value added are shown."""

from __future__ import annotations

from tests.integration.test_api import isolated, tokens_isolated  # noqa: F401  (fixtures)


def test_only_planners_get_the_form_and_the_callbacks(client_as) -> None:
    from auth.guard import CALLBACK_KEY_ROLES
    from db.session import session_scope
    from layouts import _consensus as ui
    from tests.integration.test_security_callbacks import body_for

    with session_scope() as session:
        planner = str(ui.consensus_section(session=session, can_edit=True))
        viewer = str(ui.consensus_section(session=session, can_edit=False))
    assert ui.SAVE in planner and ui.DELETE in planner
    assert ui.SAVE not in viewer and ui.PLANNER_ONLY in viewer and ui.GRID in viewer and ui.FVA in viewer
    for output in (ui.MESSAGE, f"{ui.MESSAGE}.children@"):
        keys = [k for k in CALLBACK_KEY_ROLES if output in k]
        assert keys and all(CALLBACK_KEY_ROLES[k] == "planner" for k in keys)
    page = client_as("viewer")
    assert page.get("/cycles").status_code == 200
    dep = next(d for d in page.get("/_dash-dependencies").get_json() if ui.MESSAGE in d["output"])
    body = body_for(dep)
    body["inputs"][0]["value"] = 1
    assert page.post("/_dash-update-component", json=body).status_code == 403


def test_save_bad_input_and_delete(isolated, tokens_isolated) -> None:  # noqa: F811
    from callbacks import consensus as cb
    from db.session import session_scope
    from services import consensus

    with session_scope() as session:
        month = consensus.month_range(session)[0].isoformat()
        category = sorted(consensus.known_scopes(session)[1])[0]
    bad = cb.save(scope="NOPE", period=month, kind="pct", value=5, reason="x", user="planner@example.com")
    assert "unknown SKU or category" in str(bad[0])
    bad = cb.save(scope=category, period=month, kind="pct", value=None, reason="x", user="planner@example.com")
    assert "give a change" in str(bad[0])
    with session_scope() as session:
        assert consensus.list_adjustments(session=session) == []
    message, rows, layers, _fva = cb.save(
        scope=f"category:{category}", period=month, kind="units", value=500, reason="tender", user="planner@example.com"
    )
    assert "Saved" in str(message) and "Recomputed" in str(message)
    assert len(rows) == 1 and rows[0]["change"] == "+500 units" and rows[0]["who"] == "planner@example.com"
    assert "Consensus" in str(layers)
    assert "Select an adjustment" in str(cb.delete(selected=None, user="planner@example.com")[0])
    message, rows, *_ = cb.delete(selected=[{"id": rows[0]["id"]}], user="planner@example.com")
    assert "Deleted adjustment" in str(message) and rows == []
