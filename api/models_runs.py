"""The contract of the recompute routes (``POST /recompute``, ``GET /recompute/<id>``): a finished run, a queued
one and a run's status, as pydantic models (:mod:`api.contract`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.contract import ApiModel, IsoText, Number
from api.serialize import plain
from services import runs


class RunSummary(ApiModel):
    """A recompute that ran in the request (:class:`services.recompute.RunSummary`)."""

    run_id: int | None
    status: str
    sku_count: int
    seconds: Number
    grain: str | None
    data_as_of: IsoText
    kpis: dict[str, Any]

    @classmethod
    def of(cls, result: Any) -> RunSummary:
        data = {name: getattr(result, name) for name in cls.model_fields}
        return cls.model_validate({**data, "kpis": plain(result.kpis or {})})


class RunQueued(ApiModel):
    """A run queued on the job workers."""

    run_id: int
    job_id: str = Field(description="Celery task id")
    status: Literal["queued"]
    location: str = Field(description="Where to poll the run (also the Location header)")


RUN_FIELDS = ("status", "grain", "sku_count", "triggered_by", "error")


class RunStatus(ApiModel):
    """One ``recompute_run`` row as the poll answer of ``GET /recompute/<id>``."""

    run_id: int
    status: Literal["running", "finished", "failed", "cancelled"]
    grain: str | None
    sku_count: int | None
    triggered_by: str | None
    error: str | None
    started_at: IsoText
    finished_at: IsoText
    data_as_of: IsoText
    kpis: dict[str, Any] | None = Field(description="The run's KPIs once it has finished")
    scope: dict[str, Any] | None = Field(
        description="Partial runs (some SKUs recomputed, the others carried forward): partial, skus, sku_count, "
        "carried_from, carried_skus; null for a full run"
    )

    @classmethod
    def of(cls, run: Any) -> RunStatus:
        return cls.model_validate(
            {
                "run_id": run.id,
                **{name: getattr(run, name) for name in RUN_FIELDS},
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "data_as_of": run.data_as_of,
                "kpis": plain(run.kpis or {}) if run.status == "finished" else None,
                "scope": plain(runs.run_scope(run)),
            }
        )
