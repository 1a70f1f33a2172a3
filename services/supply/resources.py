"""The Data page's resources table: capacity rows for the grid, add / edit / delete with the import's rules, export.

Exports are in the import format (``resources``: resource, period, capacity, overtime_capacity, overtime_cost,
regular_cost), so an exported file imports back to the same data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import Resource, ResourceCapacity
from services import audit, datatables
from services.datatables import RecordError, validate_record
from services.ingest.resources import OVERLAP, VALUE_COLUMNS, stored_grain


def capacity_rows(*, session: Session) -> list[dict[str, Any]]:
    """Every capacity row (resource, then period) under the import column names, plus id and grain."""
    query = (
        select(ResourceCapacity, Resource.name, Resource.grain)
        .join(Resource, Resource.id == ResourceCapacity.resource_id)
        .order_by(Resource.name, ResourceCapacity.period)
    )
    return [
        {
            "id": row.id,
            "resource": name,
            "period": row.period.isoformat(),
            "grain": grain,
            **{c: getattr(row, c) for c in VALUE_COLUMNS},
        }
        for row, name, grain in session.execute(query)
    ]


def _period_end(period: dt.date, grain: str) -> dt.date:
    if grain == "monthly":
        return (pd.Timestamp(period) + pd.DateOffset(months=1)).date()
    return period + dt.timedelta(days=7)


def _check_period(session: Session, resource: Resource | None, period: dt.date, grain: str) -> None:
    if grain == "monthly" and period.day != 1:
        raise RecordError(f"period: a monthly period starts on the 1st of a month ({period})")
    if resource is None:
        return
    end = _period_end(period, grain)
    for other in session.scalars(select(ResourceCapacity.period).where(ResourceCapacity.resource_id == resource.id)):
        if other < end and period < _period_end(other, grain):
            raise RecordError(f"period: {OVERLAP}: {period} overlaps the period starting {other} of {resource.name}")


def save_capacity(
    *, session: Session, values: dict[str, Any], user: str | None, row_id: int | None = None
) -> ResourceCapacity:
    """Add a capacity row (``row_id`` None; a new resource name creates the resource) or edit one's figures."""
    if row_id is None:
        parsed = validate_record(kind="resources", values=values)
        name, period = parsed["resource"], parsed["period"]
        resource = session.scalar(select(Resource).where(Resource.name == name))
        grain = stored_grain(session) or ("monthly" if period.day == 1 else "weekly")
        _check_period(session, resource, period, grain)
        if resource is None:
            resource = Resource(name=name, grain=grain)
            session.add(resource)
            session.flush()
        row = ResourceCapacity(
            resource_id=resource.id, period=period, **{c: parsed.get(c) or 0.0 for c in VALUE_COLUMNS}
        )
        session.add(row)
        action, target = "data.add", f"resource:{name}:{period.isoformat()}"
    else:
        row = session.get(ResourceCapacity, int(row_id))
        if row is None:
            raise RecordError(f"no capacity row with id {row_id}")
        given = {k: v for k, v in values.items() if k in VALUE_COLUMNS}
        parsed = validate_record(kind="resources", values=given, partial=True)
        for column in VALUE_COLUMNS:
            if column in given:
                setattr(row, column, parsed.get(column) or 0.0)
        action, target = "data.edit", f"resource:{row.resource.name}:{row.period.isoformat()}"
    session.flush()
    details = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in parsed.items()}
    audit.record(session=session, action=action, user_email=user, target=target[:255], details=details)
    return row


def delete_capacities(*, session: Session, ids: list[int], user: str | None) -> int:
    """Delete capacity rows by id; returns the count (the resources and the SKUs naming them stay)."""
    clean = sorted({int(i) for i in ids})
    if not clean:
        return 0
    removed = session.execute(delete(ResourceCapacity).where(ResourceCapacity.id.in_(clean))).rowcount or 0
    audit.record(
        session=session,
        action="data.delete",
        user_email=user,
        target="resources",
        details={"ids": clean[:500], "count": removed},
    )
    return removed


def export_text(*, session: Session) -> str:
    """The capacity rows as spreadsheet-safe CSV in the import format."""
    return datatables.export_text(session=session, table="resources")


def resource_names(*, session: Session) -> list[str]:
    """Every resource name, sorted."""
    return list(session.scalars(select(Resource.name).order_by(Resource.name)))
