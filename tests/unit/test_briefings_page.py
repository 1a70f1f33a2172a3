"""Briefings page (component tree), its callbacks called directly, the Watchtower / SKU "Download briefing" buttons,
the preview fallbacks, and the download callback through Dash's HTTP endpoint (role checked on the server).

Only the pure tests here; those on a database are in tests/integration/test_briefings_page.py.
"""

from __future__ import annotations

from typing import Any

import pytest

UNICODE_NAME = "Café crème 東京"


def walk(component: Any):
    yield component
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from walk(child)


def text_of(tree: Any) -> str:
    parts = []
    for c in walk(tree):
        children = getattr(c, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if isinstance(child, str | int | float):
                parts.append(str(child))
    return " ".join(parts)


# --------------------------------------------------------------------------------------------------------------------
# layout


# --------------------------------------------------------------------------------------------------------------------
# callbacks


def test_scope_for() -> None:
    from callbacks import briefings as cb
    from services.errors import UserFacingError

    assert cb.scope_for("portfolio", "ignored").key == "portfolio"
    assert cb.scope_for("abc", "b").key == "portfolio?abc=B"
    assert cb.scope_for("sku", " X-1 ").key == "sku:X-1"
    for kind in ("category", "sku"):
        with pytest.raises(UserFacingError, match="first"):
            cb.scope_for(kind, "  ")
    with pytest.raises(UserFacingError):
        cb.scope_for("supplier", "x")


# --------------------------------------------------------------------------------------------------------------------
# preview fallbacks: a fresh machine without poppler or pypdfium2 still gets a preview


def test_preview_without_any_renderer(monkeypatch) -> None:
    from layouts.briefings import preview_view
    from reports import build_portfolio_briefing
    from reports.samples import sample_portfolio_briefing
    from services import briefing as svc

    pdf = build_portfolio_briefing(sample_portfolio_briefing())
    monkeypatch.setattr(svc.preview.shutil, "which", lambda _name: None)  # no pdftoppm
    monkeypatch.setitem(__import__("sys").modules, "pypdfium2", None)  # import fails
    preview = svc.render_preview(pdf=pdf, cover_lines=("Portfolio briefing", "Whole portfolio"))
    assert preview.png is None and preview.method == "text" and preview.page_count == svc.pdf_page_count(pdf) > 1
    text = text_of(preview_view(preview))
    assert f"{preview.page_count} pages" in text and "Portfolio briefing" in text and "Whole portfolio" in text


def test_preview_with_pdftoppm() -> None:
    import shutil

    from reports import build_sku_briefing
    from reports.samples import sample_sku_briefing
    from services import briefing as svc

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (apt-get install -y poppler-utils)")
    preview = svc.render_preview(pdf=build_sku_briefing(sample_sku_briefing()), dpi=40)
    assert preview.method == "pdftoppm" and preview.png.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="dpi"):
        svc.render_preview(pdf=b"", dpi=5)
    assert svc.render_preview(pdf=b"not a pdf").page_count == 0


# --------------------------------------------------------------------------------------------------------------------
# over HTTP: the download callback checks the role on the server
