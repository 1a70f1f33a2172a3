"""Watchtower callbacks through Dash's HTTP endpoint on the demo app: a viewer reads the grid; the server refuses a
viewer's "Recompute now" (403, audit-logged) even though the page never shows them the button."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from layouts import _ids as ids


def _dependency(client, output_id: str) -> dict[str, Any]:
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if output_id in d["output"])


def _outputs(spec: str) -> list[dict[str, str]]:
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]


def _post(client, dep: dict[str, Any], values: dict[str, Any]):
    outputs = _outputs(dep["output"])
    body = {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": [dict(i, value=values.get(f"{i['id']}.{i['property']}")) for i in dep["inputs"]],
        "state": [dict(s, value=values.get(f"{s['id']}.{s['property']}")) for s in dep.get("state", [])],
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
    }
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def _run_store(demo_app) -> dict[str, Any] | None:
    from db.session import session_scope
    from services.runs import latest_run

    with session_scope() as s:
        run = latest_run(session=s)
        return {"run_id": run.id, "sku_count": run.sku_count} if run else None


def test_viewer_reads_grid_rows_over_http(client_as, demo_app) -> None:
    client = client_as("viewer")
    run = _run_store(demo_app)
    dep = _dependency(client, f"{ids.WATCHTOWER_GRID}.getRowsResponse")
    response = _post(
        client,
        dep,
        {
            f"{ids.WATCHTOWER_GRID}.getRowsRequest": {"startRow": 0, "endRow": 20, "sortModel": []},
            f"{ids.WATCHTOWER_FILTERS}.data": {},
            f"{ids.WATCHTOWER_RUN}.data": run,
        },
    )
    if run is None:  # no engine yet: the callback has nothing to read
        assert response.status_code == 204
        return
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.get_json()["response"][ids.WATCHTOWER_GRID]["getRowsResponse"]
    assert data["rowCount"] == run["sku_count"] and len(data["rowData"]) == min(20, run["sku_count"])


def test_viewer_cannot_start_a_recompute(client_as) -> None:
    from db.models import AuditLog
    from db.session import session_scope

    client = client_as("viewer")
    dep = _dependency(client, f"{ids.WATCHTOWER_RELOAD}.href")
    with session_scope() as s:
        before = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "callback.denied"))
    response = _post(client, dep, {f"{ids.WATCHTOWER_RECOMPUTE}.n_clicks": 1, f"{ids.WATCHTOWER_URL}.search": ""})
    assert response.status_code == 403
    with session_scope() as s:
        after = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "callback.denied"))
    assert after == before + 1
    cancel = _dependency(client, f"{ids.WATCHTOWER_RECOMPUTE_CANCEL}.children")
    assert _post(client, cancel, {f"{ids.WATCHTOWER_RECOMPUTE_CANCEL}.n_clicks": 1}).status_code == 403


def test_viewer_page_has_no_recompute_button(client_as) -> None:
    from tests.integration.test_app_pages import _render

    viewer = _render(client_as("viewer"), "/")
    planner = _render(client_as("planner"), "/")
    assert ids.WATCHTOWER_RECOMPUTE not in viewer
    if ids.WATCHTOWER_GRID in planner:  # a snapshot exists
        assert ids.WATCHTOWER_RECOMPUTE in planner
