"""The commentary panel (layouts/_commentary.py) as a component tree, and the Regenerate callback called directly.

The tests on a database; the pure ones are in tests/unit/test_commentary.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from dash import html

from layouts._commentary import (
    REGENERATE_TYPE,
)

WHEN = dt.datetime(2026, 3, 2, 9, 5, 7)


def walk(component: Any) -> Iterator[Any]:
    """Every component and string in a Dash tree."""
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, list | tuple):
        for child in children:
            yield from walk(child)
    elif children is not None:
        yield from walk(children)


def texts(component: Any) -> list[str]:
    return [item for item in walk(component) if isinstance(item, str)]


# --------------------------------------------------------------------------------------------------------------------
# the callback, called directly (outside a request the guard passes; the HTTP tests check the roles)


@pytest.fixture
def snapshot_db(sqlite_db: str) -> Iterator[str]:
    """A SQLite database with two finished runs; the app (pages and callbacks) built once per test process."""
    from db.session import session_scope
    from services.narrative import clear_provider_pause
    from tests.conftest import _APP
    from tests.integration.test_narrative import build_snapshot

    if "app" not in _APP:  # importing callbacks registers pages, which needs the app (shared with demo_app)
        from app import create_app

        _APP["app"] = create_app()
    clear_provider_pause()
    with session_scope() as session:
        build_snapshot(session)
    yield sqlite_db


def test_regenerate_writes_again_and_returns_the_new_body(snapshot_db: str) -> None:
    from sqlalchemy import func, select

    from callbacks.commentary import regenerate
    from db.models import Narrative
    from db.session import session_scope

    body = regenerate(1, {"type": REGENERATE_TYPE, "scope": "portfolio"})
    assert any("Hydraulic pump HP-200" in s for s in texts(html.Div(body)))
    assert any(s.startswith("Written by the offline writer (offline-v1)") for s in texts(html.Div(body)))
    body = regenerate(2, {"type": REGENERATE_TYPE, "scope": "sku:FAN-12"})
    assert any("Cooling fan CF-12" in s for s in texts(html.Div(body)))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Narrative)) == 2


def test_regenerate_ignores_non_clicks_and_foreign_scopes(snapshot_db: str) -> None:
    from dash.exceptions import PreventUpdate

    from callbacks.commentary import regenerate

    for n_clicks, component_id in (
        (0, {"type": REGENERATE_TYPE, "scope": "portfolio"}),
        (None, {"type": REGENERATE_TYPE, "scope": "portfolio"}),
        (1, None),
        (1, {"type": REGENERATE_TYPE, "scope": 5}),
        (1, {"type": REGENERATE_TYPE, "scope": "settings"}),
    ):
        with pytest.raises(PreventUpdate):
            regenerate(n_clicks, component_id)


def test_regenerate_of_an_unknown_sku_shows_the_empty_text(snapshot_db: str) -> None:
    from callbacks.commentary import regenerate

    body = regenerate(1, {"type": REGENERATE_TYPE, "scope": "sku:NOPE"})
    assert texts(html.Div(body)) == ["No commentary yet: it is written from the latest finished recompute."]
