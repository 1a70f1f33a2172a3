"""Issue 16, finding 8: malformed callback bodies, unknown outputs and bad ids answer 400 with the JSON error shape
(they used to answer the generic 500 page); the component-suites path serves only real component files."""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from auth.guard import CALLBACK_KEY_ROLES
from tests.conftest import login
from tests.integration.test_security_callbacks import body_for

GARBAGE: list[Any] = [None, 0, -1, 3.5, True, "", "x", "../../x", [], [1, 2], {}, {"id": None}, "x" * 5000]


def _client(demo_app, role: str | None = "admin"):
    client = demo_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.55.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    if role:
        assert login(client, f"{role}@example.com").status_code == 302
    return client


@pytest.fixture
def deps(demo_app) -> list[dict[str, Any]]:
    client = _client(demo_app)
    return [d for d in client.get("/_dash-dependencies").get_json() if not d.get("clientside_function")]


def _set(body: dict, key: str, value: Any) -> dict:
    body[key] = value
    return body


def _mutations(rng: random.Random) -> list[Callable[[dict], dict | None]]:
    """Ways to break a well-formed body's shape (each returns the broken body, or None when it does not apply)."""

    def drop(key: str) -> Callable[[dict], dict | None]:
        return lambda b: {k: v for k, v in b.items() if k != key} if key in b else None

    def replace(key: str) -> Callable[[dict], dict | None]:
        return lambda b: _set(b, key, rng.choice([g for g in GARBAGE if g != []]))

    def resize(key: str) -> Callable[[dict], dict | None]:
        def run(b: dict) -> dict | None:
            items = b.get(key)
            if not isinstance(items, list) or not items:
                return None
            return _set(b, key, items[:-1] if rng.random() < 0.5 else [*items, copy.deepcopy(items[-1])])

        return run

    def bad_item(key: str, field: str | None) -> Callable[[dict], dict | None]:
        def run(b: dict) -> dict | None:
            items = b.get(key)
            if not isinstance(items, list) or not items:
                return None
            index = rng.randrange(len(items))
            item = items[index]
            if field is None:
                items[index] = rng.choice([g for g in GARBAGE if not isinstance(g, list)])
            elif isinstance(item, dict):
                item[field] = rng.choice(["../../x", "nope", 7, None, {"type": "../../x"}])
            elif isinstance(item, list):
                items[index] = {"id": "../../x", "property": "n_clicks", "value": 1}
            return b

        return run

    def unknown_output(b: dict) -> dict:
        return _set(b, "output", rng.choice(["nope.children", "..a.b...c.d..", "../../x.children", "x" * 20_000]))

    def bad_changed(b: dict) -> dict:
        return _set(b, "changedPropIds", rng.choice([[1], "x", {"a": 1}, [None], ["x"] * 500]))

    def bad_outputs(b: dict) -> dict:
        outputs = b.get("outputs")
        if isinstance(outputs, dict):
            return _set(b, "outputs", {**outputs, "id": "../../x"})
        return _set(b, "outputs", rng.choice([{"id": "../../x", "property": "children"}, "x", 5, [[{}]]]))

    return [
        drop("output"),
        drop("inputs"),
        replace("output"),
        replace("inputs"),
        replace("state"),
        resize("inputs"),
        resize("state"),
        bad_item("inputs", "id"),
        bad_item("inputs", "property"),
        bad_item("inputs", None),
        bad_item("state", "id"),
        bad_item("state", None),
        unknown_output,
        bad_changed,
        bad_outputs,
    ]


def _concrete(raw: Any) -> tuple[Any, str | None]:
    """A registered id as the browser sends it: wildcards filled in; and the wildcard kind (ALL / MATCH) if any."""
    spec = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
    if not isinstance(spec, dict):
        return spec, None
    kinds = {v[0] for v in spec.values() if isinstance(v, list) and len(v) == 1}
    concrete = {k: ("portfolio" if isinstance(v, list) else v) for k, v in spec.items()}
    return concrete, ("ALL" if kinds & {"ALL", "ALLSMALLER"} else "MATCH" if kinds else None)


def _outputs_of_key(key: str) -> list[dict[str, Any]]:
    """The outputs of a callback key as the renderer sends them (an allow_duplicate property keeps "@<hash>")."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        component, _, prop = part.rpartition(".")
        if "@" in component:  # the hash follows the property, which rpartition split off wrongly
            component, _, prop = part.split("@")[0].rpartition(".")
            prop = prop + "@" + part.split("@", 1)[1]
        out.append({"id": component, "property": prop})
    return out


def browser_body(dep: dict[str, Any]) -> dict[str, Any]:
    """A callback request as the browser builds it from a /_dash-dependencies entry (null values)."""
    template = body_for(dep)

    def items(entries: list[dict[str, Any]], with_value: bool) -> list[Any]:
        out: list[Any] = []
        for entry in entries:
            concrete, kind = _concrete(entry["id"])
            item = {"id": concrete, "property": entry["property"], **({"value": None} if with_value else {})}
            out.append([item] if kind == "ALL" else item)
        return out

    outputs = items(_outputs_of_key(dep["output"]), False)
    return {
        **template,
        "inputs": items(dep["inputs"], True),
        "state": items(dep.get("state", []), True),
        "outputs": outputs if isinstance(template["outputs"], list) else outputs[0],
    }


def malformed_bodies(deps: list[dict[str, Any]], count: int = 200, seed: int = 16) -> list[Any]:
    """``count`` broken callback bodies: a few fixed ones from the finding, then mutations of real bodies."""
    rng = random.Random(seed)
    fixed: list[Any] = [
        {},
        {"output": None},
        {"output": "x.children"},
        {"output": "x.children", "outputs": {"id": "x", "property": "children"}, "inputs": []},
        {"output": deps[0]["output"]},
    ]
    bodies = list(fixed)
    mutations = _mutations(rng)
    while len(bodies) < count:
        dep = rng.choice(deps)
        broken = rng.choice(mutations)(copy.deepcopy(browser_body(dep)))
        if broken is not None and broken != browser_body(dep):
            bodies.append(broken)
    return bodies


def _guarded_for(body: Any, role: str) -> bool:
    """True when the guard refuses ``body`` for ``role`` before looking at its shape (403 is then right)."""
    from auth.guard import required_role_for_callback
    from services.users import has_role

    try:
        needed = required_role_for_callback(body) if isinstance(body, dict) else None
    except Exception:
        return False
    return bool(needed) and not has_role(role, needed)


def test_two_hundred_malformed_callback_bodies_never_answer_5xx(demo_app, deps) -> None:
    bodies = malformed_bodies(deps)
    assert len(bodies) == 200
    statuses: dict[int, int] = {}
    for role in ("admin", "viewer"):
        client = _client(demo_app, role)
        for body in bodies if role == "admin" else bodies[::4]:
            response = client.post("/_dash-update-component", json=body)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (role, json.dumps(body)[:300], response.get_data(as_text=True)[:300])
            expected = 403 if _guarded_for(body, role) else 400
            assert response.status_code == expected, (role, json.dumps(body)[:300], response.status_code)
            error = response.get_json()["error"]
            assert set(error) == {"code", "message", "details"}
    assert statuses.get(400, 0) >= 150


def test_the_findings_bodies_answer_400(demo_app) -> None:
    client = _client(demo_app)
    for body in ({}, {"output": "nope.children", "outputs": {"id": "nope", "property": "children"}, "inputs": []}):
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "bad_request"


def test_every_well_formed_body_still_passes_the_check(demo_app, deps) -> None:
    """The check must not refuse what the browser sends: every registered callback with null values passes."""
    from auth.callback_body import problem

    for dep in deps:
        assert problem(browser_body(dep), demo_app.callback_map) is None, dep["output"]
    guarded = [d for d in deps if d["output"] in CALLBACK_KEY_ROLES]
    assert len(guarded) >= len(deps) - 2


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/..%2f..%2fsettings.py",
        "/_dash-component-suites/dash/..%2f..%2f..%2fsettings.py",
        "/_dash-component-suites/dash/deps/nope.js",
        "/_dash-component-suites/os/path.py",
        "/_dash-component-suites/settings/settings.py",
    ],
)
def test_component_suites_serve_only_component_files(demo_app, path: str) -> None:
    anonymous = _client(demo_app, None)
    response = anonymous.get(path)
    assert response.status_code in (404, 308), (path, response.status_code)
    if response.status_code == 404 and path.count("/") >= 3:
        assert "SECRET" not in response.get_data(as_text=True)


def test_real_component_files_are_served_to_anyone(demo_app) -> None:
    page = _client(demo_app).get("/").get_data(as_text=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert scripts
    response = _client(demo_app, None).get(scripts[0])
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
