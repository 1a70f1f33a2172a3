"""The ``since_cycle`` / ``since_run`` / ``since_date`` query parameters of the portfolio briefing route (issue 19
item 4): where the meeting pack's "what changed since" starts. Checked before the PDF is built, so a bad value is a
400 naming the parameter."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from api.errors import invalid
from services import cycles
from services.briefing.meeting import since_run
from services.errors import UserFacingError

SINCE_PARAMETERS = ("since_cycle", "since_run", "since_date")


def since_arguments(session: Session) -> dict[str, Any]:
    """The ``make_briefing`` keyword arguments of the request's "since" parameter (at most one of them)."""
    given = {}
    for name in SINCE_PARAMETERS:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise invalid(name, "give one value")
        text = " ".join((values[0] if values else "").split())
        if text:
            given[name] = text[:200]
    if len(given) > 1:
        raise invalid(sorted(given)[1], f"give one of {', '.join(SINCE_PARAMETERS)}")
    if "since_cycle" in given:
        try:
            cycles.get_cycle(session=session, ref=given["since_cycle"])
        except UserFacingError as exc:
            raise invalid("since_cycle", str(exc)) from None
        return {"since_cycle": given["since_cycle"]}
    if "since_run" in given:
        if not given["since_run"].isdigit():
            raise invalid("since_run", f"must be a run id (a whole number), got {given['since_run'][:20]!r}")
        try:
            since_run(session=session, run_id=int(given["since_run"]))
        except UserFacingError as exc:
            raise invalid("since_run", str(exc)) from None
        return {"since_run": int(given["since_run"])}
    if "since_date" in given:
        try:
            day = dt.date.fromisoformat(given["since_date"])
        except ValueError:
            raise invalid("since_date", f"must be a date YYYY-MM-DD, got {given['since_date'][:20]!r}") from None
        try:
            since_run(session=session, day=day)
        except UserFacingError as exc:
            raise invalid("since_date", str(exc)) from None
        return {"since_date": day}
    return {}
