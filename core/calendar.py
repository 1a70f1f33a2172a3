"""Calendar helpers shared by the engine: period lengths and default season lengths per data grain."""

from __future__ import annotations

GRAIN_DAYS: dict[str, float] = {"daily": 1.0, "weekly": 7.0, "monthly": 365.25 / 12}
"""Days per period for each supported grain (monthly = 365.25 / 12 days)."""

_SEASON_LENGTH: dict[str, int] = {"daily": 7, "weekly": 52, "monthly": 12}


def default_season_length(grain: str) -> int:
    """Return the default season length (periods per seasonal cycle) of a grain.

    Parameters
    ----------
    grain
        One of ``"daily"`` (weekly cycle: 7), ``"weekly"`` (yearly cycle: 52) or ``"monthly"`` (yearly cycle: 12).

    Returns
    -------
    int
        Periods per season.

    Raises
    ------
    ValueError
        If ``grain`` is not a known grain.
    """
    try:
        return _SEASON_LENGTH[grain]
    except KeyError:
        raise ValueError(f"grain must be one of {sorted(_SEASON_LENGTH)}, got {grain!r}") from None
