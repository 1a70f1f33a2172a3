"""The portfolio briefing's line on the latest stored policy replay of its scope (read only: the briefing never
replays). Kept apart from the use case so the briefing depends on the stored results alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from core.formats import fmt_date_prose, fmt_datetime
from services.backtest.document import summary_line
from services.backtest.scope import BacktestError, BacktestScope
from services.backtest.store import latest_stored


def briefing_line(
    *,
    session: Session,
    category: str | None,
    abc: str | None,
    location: str | None,
    data_as_of: dt.date | None,
    money: Callable[[float | None], str],
    pct: Callable[[float | None], str],
) -> str | None:
    """The portfolio briefing's line: the latest stored backtest of the briefing's scope -- replayed fill rate and
    inventory against the target and the textbook, and when it was run -- or None (no stored result, or a location
    scope, which backtests do not cover). Reads the stored result only: the briefing never replays."""
    if location:
        return None
    try:
        scope = BacktestScope.make(category=category, abc=abc)
    except BacktestError:
        return None
    stored = latest_stored(session=session, scope=scope)
    if stored is None:
        return None
    when = f"Replayed {fmt_datetime(stored.created_at)} on data through "
    when += fmt_date_prose(stored.data_as_of) if stored.data_as_of else "an unknown date"
    if data_as_of and stored.data_as_of and stored.data_as_of < data_as_of:
        when += f" (the data now runs to {fmt_date_prose(data_as_of)})"
    return f"{summary_line(stored.document, money=money, pct=pct)} {when}."


__all__ = ["briefing_line"]
