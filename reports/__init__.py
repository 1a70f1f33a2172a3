"""PDF briefings: typed facts in (:mod:`reports.data`), PDF bytes out (:mod:`reports.briefing`).

Palette shared with the dashboard: :mod:`reports.theme`.
"""

from reports.briefing import build_portfolio_briefing, build_sku_briefing

__all__ = ["build_portfolio_briefing", "build_sku_briefing"]
