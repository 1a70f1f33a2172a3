"""The stored key and the label of a scope -- the whole portfolio, a segment (ABC class, category, location) or one
SKU -- shared by the briefing and the policy-backtest scopes, so both read and store them alike."""

from __future__ import annotations

from urllib.parse import urlencode

PORTFOLIO = "portfolio"
SKU_PREFIX = "sku:"
SEGMENT_WORDS = (("category", "Category"), ("location", "Location"), ("abc", "ABC class"))


def scope_key(*, sku: str | None, segment: dict[str, str | None]) -> str:
    """``portfolio``, ``portfolio?abc=A&category=Snacks`` (the set fields in alphabetical order) or ``sku:<code>``."""
    if sku is not None:
        return SKU_PREFIX + sku
    pairs = [(name, segment[name]) for name in sorted(segment) if segment[name]]
    return PORTFOLIO + ("?" + urlencode(pairs) if pairs else "")


def scope_label(*, sku: str | None, segment: dict[str, str | None]) -> str:
    """``Whole portfolio``, ``Category Snacks · ABC class A`` or ``SKU BEV-00001``."""
    if sku is not None:
        return f"SKU {sku}"
    parts = [f"{word} {segment[name]}" for name, word in SEGMENT_WORDS if segment.get(name)]
    return " \u00b7 ".join(parts) if parts else "Whole portfolio"
