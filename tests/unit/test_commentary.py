"""The commentary panel (layouts/_commentary.py) as a component tree, and the Regenerate callback called directly.

Only the pure tests here; those on a database are in tests/integration/test_commentary.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from dash import dcc, html

from layouts._commentary import (
    BODY_TYPE,
    REGENERATE_TYPE,
    body_id,
    commentary_body,
    commentary_panel,
    regenerate_id,
)
from services.narrative import CommentaryView, notice_for

WHEN = dt.datetime(2026, 3, 2, 9, 5, 7)


def make_view(**changes: Any) -> CommentaryView:
    values: dict[str, Any] = {
        "text": "Fill rate is 97.3%. Hydraulic pump HP-200 is at risk.",
        "provider": "gemini",
        "model": "gemini-2.5-flash",
        "created_at": WHEN,
        "grounded": True,
        "fell_back": False,
        "scope": "portfolio",
        "run_id": 7,
    }
    return CommentaryView(**(values | changes))


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


def find(component: Any, component_id: Any) -> Any:
    return next(item for item in walk(component) if getattr(item, "id", None) == component_id)


def test_panel_shows_the_text_who_wrote_it_and_when() -> None:
    panel = commentary_panel(make_view(), scope="portfolio", can_regenerate=False)
    strings = texts(panel)
    assert "Fill rate is 97.3%. Hydraulic pump HP-200 is at risk." in strings
    assert any(s.startswith("Written by Gemini (gemini-2.5-flash) at 2026-03-02 09:05 UTC") for s in strings)
    assert any("numbers checked" in s for s in strings)
    assert not any(getattr(item, "id", None) == regenerate_id("portfolio") for item in walk(panel))
    assert find(panel, body_id("portfolio")) is not None


def test_planners_get_a_regenerate_button_with_a_pattern_id() -> None:
    panel = commentary_panel(make_view(scope="sku:A-1"), scope="sku:A-1", can_regenerate=True)
    button = find(panel, {"type": REGENERATE_TYPE, "scope": "sku:A-1"})
    assert button.children == "Regenerate" and button.n_clicks == 0
    assert find(panel, {"type": BODY_TYPE, "scope": "sku:A-1"}) is not None


def test_no_view_shows_the_empty_text_and_no_button() -> None:
    panel = commentary_panel(None, scope="portfolio", can_regenerate=True, empty="No snapshot yet.")
    assert "No snapshot yet." in texts(panel)
    assert not any(getattr(item, "id", None) == regenerate_id("portfolio") for item in walk(panel))


def test_a_fallback_shows_its_notice_and_the_offline_writer() -> None:
    notice = notice_for(fell_back=True, reasons=("number '91,234' is not in the facts",))
    view = make_view(provider="offline", model="offline-v1", fell_back=True, notice=notice)
    strings = texts(commentary_panel(view, scope="portfolio", can_regenerate=True))
    assert notice in strings and notice.startswith("Gemini's text failed the number check")
    assert any(s.startswith("Written by the offline writer (offline-v1) at ") for s in strings)
    no_notice = texts(commentary_panel(make_view(), scope="portfolio", can_regenerate=True))
    assert not any("offline writer" in s for s in no_notice)


def test_the_text_is_plain_text_never_markdown_or_raw_html() -> None:
    hostile = '<img src=x onerror="alert(1)"> **bold** [link](javascript:alert(1))\nSecond line.'
    panel = commentary_panel(make_view(text=hostile), scope="portfolio", can_regenerate=True)
    items = list(walk(panel))
    assert not any(isinstance(item, dcc.Markdown) for item in items)
    assert not any(getattr(item, "dangerously_allow_html", False) for item in items)
    paragraphs = [item for item in items if isinstance(item, html.P)]
    assert [p.children for p in paragraphs] == [hostile.split("\n")[0], "Second line."]  # strings: React escapes them
    assert "Iframe" not in {type(item).__name__ for item in items}


def test_an_unverified_text_says_so() -> None:
    strings = texts(html.Div(commentary_body(make_view(grounded=False))))
    assert any("numbers not verified" in s for s in strings)


@pytest.mark.parametrize("scope", ["", "sku:", "sku:  ", "other", "SKU:A"])
def test_bad_scopes_are_refused(scope: str) -> None:
    with pytest.raises(ValueError, match="scope"):
        commentary_panel(make_view(), scope=scope, can_regenerate=True)


@pytest.mark.parametrize(
    ("reasons", "start"),
    [
        (("gemini failed: gemini connection error: ConnectError (after 1 attempts)",), "Gemini did not answer ("),
        (("gemini failed: not asked: it failed to answer recently (next try in 90 s)",), "Gemini did not answer a"),
        (("too many sentences: 9 > 6",), "Gemini's text failed the check (too many"),
        (("year '2031' is not in the facts",), "Gemini's text failed the number check"),
        ((), "Gemini's text could not be used when this commentary was written"),
    ],
)
def test_notices_name_the_reason(reasons: tuple[str, ...], start: str) -> None:
    notice = notice_for(fell_back=True, reasons=reasons)
    assert notice.startswith(start) and notice.endswith("showing the offline writer's text.")
    assert notice_for(fell_back=False, reasons=reasons) is None


# --------------------------------------------------------------------------------------------------------------------
# the callback, called directly (outside a request the guard passes; the HTTP tests check the roles)
