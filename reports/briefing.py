"""PDF briefings (fpdf2): a portfolio briefing for executives and a one-SKU briefing for planners.

Both builders are pure: typed facts in (:mod:`reports.data`), PDF bytes out; no database, no network.
The house style (document, header, footer, fonts, drawing helpers) is :mod:`reports.pdf_base`; the documents are
:mod:`reports.portfolio_doc` and :mod:`reports.sku_doc`. This module keeps the public names.
"""

from __future__ import annotations

from reports.portfolio_doc import build_portfolio_briefing
from reports.sku_doc import build_sku_briefing

__all__ = ["build_portfolio_briefing", "build_sku_briefing"]
