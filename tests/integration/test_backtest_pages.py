"""The backtest panels without a browser: component trees, figures, and the callbacks called directly.

The tests on a database; the pure ones are in tests/unit/test_backtest_pages.py.
"""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate


def _text(component) -> str:
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child)
        elif node is not None:
            walk(getattr(node, "children", None))

    walk(component)
    return " ".join(parts)


# --------------------------------------------------------------------------------------------------------------------
# callbacks, on the demo database


def test_sku_callback_replays_and_reports_bad_periods(demo_app) -> None:
    from callbacks import backtest as cb
    from db.session import session_scope
    from services.sku_detail import search_skus

    with session_scope() as session:
        code = search_skus(session=session, text="B-", limit=1)[0].code
    seen: list = []
    out = cb.replay_sku(seen.append, code, 8)
    assert "Engine" in _text(out) and seen and seen[-1][0] == 100
    assert "periods 999 is longer than the history allows" in _text(cb.replay_sku(seen.append, code, 999))
    assert "periods must be a whole number" in _text(cb.replay_sku(seen.append, code, "x"))
    assert "no SKU 'NOPE'" in _text(cb.replay_sku(seen.append, "NOPE", None))
    with pytest.raises(PreventUpdate):
        cb.sku_backtest(seen.append, None, {"code": code}, None)


def test_risk_stored_callback_reads_the_scope(demo_app) -> None:
    from callbacks import backtest as cb

    assert "No policy replay of category 'Nothing'" in _text(cb.risk_stored({"scope": "category:Nothing"}, None))
    assert "not a backtest scope" in _text(cb.risk_stored({"scope": "weird:thing"}, None))
    assert cb._periods("") is None and cb._periods(13.0) == 13 and cb._periods(2.5) == 2.5
