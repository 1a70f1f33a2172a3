"""The ``since_cycle`` / ``since_run`` / ``since_date`` query parameters of the portfolio briefing route (issue 19
item 4): where the meeting pack's "what changed since" starts. Checked before the PDF is built, so a bad value is a
400 naming the parameter (their types are checked by the route's query model, :class:`api.briefings.BriefingQuery`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.errors import invalid
from services import cycles
from services.briefing.meeting import since_run
from services.errors import UserFacingError

SINCE_PARAMETERS = ("since_cycle", "since_run", "since_date")


def since_arguments(session: Session, query: Any) -> dict[str, Any]:
    """The ``make_briefing`` keyword arguments of the query's "since" parameter (at most one of them)."""
    given = {name: getattr(query, name) for name in SINCE_PARAMETERS if getattr(query, name) not in (None, "")}
    if len(given) > 1:
        raise invalid(sorted(given)[1], f"give one of {', '.join(SINCE_PARAMETERS)}")
    if "since_cycle" in given:
        text = " ".join(str(given["since_cycle"]).split())
        try:
            cycles.get_cycle(session=session, ref=text)
        except UserFacingError as exc:
            raise invalid("since_cycle", str(exc)) from None
        return {"since_cycle": text}
    if "since_run" in given:
        try:
            since_run(session=session, run_id=int(given["since_run"]))
        except UserFacingError as exc:
            raise invalid("since_run", str(exc)) from None
        return {"since_run": int(given["since_run"])}
    if "since_date" in given:
        try:
            since_run(session=session, day=given["since_date"])
        except UserFacingError as exc:
            raise invalid("since_date", str(exc)) from None
        return {"since_date": given["since_date"]}
    return {}
