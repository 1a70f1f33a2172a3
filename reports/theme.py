"""Colour palette and labels shared by the PDF briefings and the dashboard.

This module imports nothing heavy (no matplotlib, no Dash) so layouts can reuse it cheaply.
Colours are hex strings; :func:`hex_to_rgb` converts them for fpdf2.
"""

from __future__ import annotations

#: Health statuses in display order (most urgent first), as written by the engine's snapshot.
STATUS_ORDER: tuple[str, ...] = ("stockout_risk", "surge", "low_velocity", "dead_stock", "overstock", "normal")

#: Status colours (matplotlib "tab" family so charts and dashboard agree).
STATUS_COLORS: dict[str, str] = {
    "stockout_risk": "#d62728",  # red
    "surge": "#ff7f0e",  # orange
    "low_velocity": "#e0a800",  # amber
    "dead_stock": "#7f7f7f",  # grey
    "overstock": "#9467bd",  # purple
    "normal": "#2ca02c",  # green
}

#: Human labels for statuses.
STATUS_LABELS: dict[str, str] = {
    "stockout_risk": "Stockout risk",
    "surge": "Surge",
    "low_velocity": "Low velocity",
    "dead_stock": "Dead stock",
    "overstock": "Overstock",
    "normal": "Normal",
}

#: Fallback colour for an unknown status.
UNKNOWN_STATUS_COLOR = "#17becf"

#: Brand and neutral colours.
BRAND = {
    "primary": "#1f3a5f",  # deep navy: titles, header band, table headings
    "accent": "#2e86de",  # links, highlights
    "text": "#212529",
    "muted": "#6c757d",
    "rule": "#ced4da",
    "row_alt": "#f3f5f8",  # zebra rows
    "heading_bg": "#1f3a5f",
    "heading_fg": "#ffffff",
    "good": "#2ca02c",
    "bad": "#d62728",
    "neutral": "#6c757d",
    "panel": "#eef2f7",  # background of the cover block and note boxes
}

#: Series colours for time-series charts (history / forecast / overrides / stock path).
SERIES_COLORS = {
    "history": "#4a5568",
    "forecast": "#1f77b4",
    "band": "#9ecae1",
    "override": "#e377c2",
    "stock": "#1f3a5f",
    "safety_stock": "#d62728",
    "reorder_point": "#ff7f0e",
    "order": "#2ca02c",
}


def status_color(status: str) -> str:
    """Hex colour of a status (unknown statuses get a neutral teal)."""
    return STATUS_COLORS.get(status, UNKNOWN_STATUS_COLOR)


def status_label(status: str) -> str:
    """Human label of a status (unknown statuses are title-cased)."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """Convert ``"#rrggbb"`` (or ``"#rgb"``) to an ``(r, g, b)`` tuple of ints 0-255.

    Raises
    ------
    ValueError
        If ``color`` is not a hex colour.
    """
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    if len(value) != 6:
        raise ValueError(f"color must be '#rrggbb', got {color!r}")
    try:
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    except ValueError:
        raise ValueError(f"color must be '#rrggbb', got {color!r}") from None


def tint(color: str, amount: float) -> tuple[int, int, int]:
    """Mix ``color`` with white; ``amount`` 0 gives the colour, 1 gives white."""
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be in [0, 1], got {amount!r}")
    r, g, b = hex_to_rgb(color)
    return tuple(round(c + (255 - c) * amount) for c in (r, g, b))  # type: ignore[return-value]
