"""API route of the decision log (services/decisions.py), with its contract (:mod:`api.contract`). Registered on the
/api/v1 blueprint when :mod:`api` is imported."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from api.contract import ApiModel, QueryModel, operation
from api.errors import invalid
from api.routes import blueprint, requires
from db.session import session_scope
from services import decisions
from services.errors import UserFacingError

TEXT_MAX = 100


def _words(value: Any) -> Any:
    """Runs of whitespace as one space (``"order  approved"`` is ``"order approved"``)."""
    return " ".join(value.split()) if isinstance(value, str) else value


Text = Annotated[str | None, BeforeValidator(_words), StringConstraints(max_length=TEXT_MAX)]
Kind = Literal[(*decisions.KINDS, *decisions.KINDS.values())]  # type: ignore[valid-type]
OutcomeState = Literal[decisions.OUTCOME_FILTERS]  # type: ignore[valid-type]


class DecisionQuery(QueryModel):
    """The filters of ``GET /decisions`` (as ``python cli.py decisions``)."""

    kind: Annotated[Kind | None, BeforeValidator(_words)] = Field(default=None, description="an action or its kind")
    sku: Text = Field(default=None, description="only decisions about this SKU code")
    user: Text = Field(default=None, description="part of the decider's e-mail")
    date_from: dt.date | None = Field(default=None, alias="from", description="first day (UTC), inclusive")
    date_to: dt.date | None = Field(default=None, alias="to", description="last day (UTC), inclusive")
    outcome: OutcomeState | None = Field(default=None, description="outcome state")
    limit: Annotated[int, Field(ge=1, le=decisions.MAX_LIMIT)] = Field(
        default=500, description="at most N decisions (default 500)"
    )


class Decision(ApiModel):
    """One decision and what became of it (:class:`services.decisions.Decision`)."""

    id: int = Field(description="the audit-log entry the decision comes from")
    kind: Literal[tuple(decisions.KINDS.values())]  # type: ignore[valid-type]
    action: Literal[tuple(decisions.KINDS)]  # type: ignore[valid-type]
    at: str = Field(description="ISO date and time (UTC)")
    user: str | None = Field(description="null: made from the command line")
    sku: str | None = Field(description="the SKU code, where the decision has one")
    target: str | None
    what: str
    before: Any = Field(description="the number before (recommended / old quantity, statistical)")
    after: Any = Field(description="the number after (approved / new quantity, override, target)")
    outcome_state: OutcomeState
    outcome: str = Field(description="one line: what became of the decision")
    outcome_values: dict[str, Any] = Field(
        description="the outcome's figures: fva, statistical_wape, override_wape (overrides); days_late, "
        "arrival_date, promised_date, stocked_out, first_stockout (orders); fill_after, fill_before, "
        "avg_on_hand_after, avg_on_hand_before (policies)"
    )


class DecisionList(ApiModel):
    data: list[Decision]


@blueprint.get("/decisions")
@requires("viewer")
@operation(
    "listDecisions",
    "The decision log with outcomes, newest first (as `decisions --json`)",
    query=DecisionQuery,
    response=DecisionList,
    envelope=False,
    description="The decisions",
    errors={400: "A parameter out of range: unknown kind or outcome, a bad date, from after to"},
)
def list_decisions(query: DecisionQuery) -> DecisionList:
    """The decision log, newest first, with outcomes (as ``python cli.py decisions --json``)."""
    args = query.model_dump()
    with session_scope() as session:
        try:
            found = decisions.list_decisions(session=session, **args)
        except UserFacingError as exc:
            raise invalid("from", str(exc)) from None
    return DecisionList(data=[Decision.model_validate(d.as_dict()) for d in found])
