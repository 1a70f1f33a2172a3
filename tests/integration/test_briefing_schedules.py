"""E-mail schedules: when a weekly schedule is due (pure rules), the form's validation, and the Briefings page's
schedule editing -- admins add and delete, viewers and planners are refused on the server.

The tests on a database; the pure ones are in tests/unit/test_briefing_schedules.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services import schedules
from tests.integration.test_api import isolated  # noqa: F401  (fixture: a private copy of the demo database)

MON_9 = dt.datetime(2026, 12, 7, 9, 0)  # a Monday


# --- the Briefings page --------------------------------------------------------------------------------------------


def _body(client, callback_id: str) -> dict:
    from tests.integration.test_security_callbacks import body_for

    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if callback_id in d["output"])
    body = body_for(dep)
    body["inputs"][0]["value"] = 1
    body["changedPropIds"] = [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]
    return body


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_only_admins_edit_schedules_on_the_server(client_as, role: str) -> None:
    from auth.guard import CALLBACK_KEY_ROLES
    from layouts import _briefing_schedules as ui

    keys = [k for k in CALLBACK_KEY_ROLES if ui.SCHEDULES_GRID in k]
    assert len(keys) == 2 and all(CALLBACK_KEY_ROLES[k] == "admin" for k in keys)
    client = client_as(role)
    page = client.get("/briefings")
    assert page.status_code == 200
    for callback_id in (ui.SCHEDULE_MESSAGE + ".children", ui.SCHEDULE_MESSAGE + ".children@"):
        response = client.post("/_dash-update-component", json=_body(client, callback_id))
        assert response.status_code == 403


def test_the_card_shows_the_form_to_admins_only(demo_app) -> None:
    from layouts import _briefing_schedules as ui
    from services.briefing import ScopeOptions

    options = ScopeOptions(run_id=1, categories=["Snacks"], locations=[], abc=["A"])
    admin = str(ui.schedules_card(admin=True, options=options, schedules=[], sends=[]))
    viewer = str(ui.schedules_card(admin=False, options=options, schedules=[], sends=[]))
    assert ui.SCHEDULE_ADD in admin and ui.SCHEDULE_ADD not in viewer and ui.ADMIN_ONLY in viewer
    assert {"label": "Category Snacks", "value": "category=Snacks"} in ui.scope_choices(options)


def test_an_admin_adds_and_deletes_a_schedule(isolated) -> None:  # noqa: F811
    from callbacks import briefing_schedules as cb
    from db.session import session_scope

    message, rows = cb.add(2, "25:00", "portfolio", None, "ops@example.com", "admin@example.com")
    assert "time must be" in str(message) and rows is cb.no_update
    message, rows = cb.add(2, "06:15", "portfolio", None, "not an address", "admin@example.com")
    assert "not an e-mail address" in str(message)
    message, rows = cb.add(2, "06:15", "portfolio", "NO-SUCH-SKU", "ops@example.com", "admin@example.com")
    assert "NO-SUCH-SKU" in str(message)
    message, rows = cb.add(2, "06:15", "abc=A", None, "ops@example.com", "admin@example.com")
    assert "Added" in str(message)
    added = next(r for r in rows if r["when"] == "Wednesdays at 06:15 UTC")
    assert added["scope_label"] == "ABC class A" and added["last_status"] == "not yet"
    message, rows = cb.delete(None, "admin@example.com")
    assert "Select the schedules" in str(message)
    message, rows = cb.delete([{"id": added["id"]}], "admin@example.com")
    assert "Deleted 1 schedule." in str(message) and all(r["id"] != added["id"] for r in rows)
    with session_scope() as session:
        assert all(v.id != added["id"] for v in schedules.list_schedules(session=session))
