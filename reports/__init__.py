"""PDF briefings: typed facts in (:mod:`reports.data`), PDF bytes out (:mod:`reports.briefing`).

The palette shared with the dashboard lives in :mod:`reports.theme`, which imports nothing heavy: the builders
(fpdf2, matplotlib) load only when ``build_portfolio_briefing`` / ``build_sku_briefing`` are first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reports.briefing import build_portfolio_briefing, build_sku_briefing

__all__ = ["build_portfolio_briefing", "build_sku_briefing"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from reports import briefing

        return getattr(briefing, name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
