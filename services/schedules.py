"""E-mailed briefings: send one now, keep weekly schedules, and send the ones that are due.

- :func:`send_briefing` builds the PDF briefing of a scope (:func:`services.briefing.make_briefing`, stored and
  audited like any briefing), mails it (:mod:`services.mailer`, retried with back-off) and records the send in
  ``briefing_send`` -- sent or failed -- without raising on a failed send.
- A schedule is weekly: a weekday and a time **in UTC**, a scope and recipients. Its *slot* is the latest moment with
  that weekday and time at or before now (:func:`latest_slot`); it is due when that slot is newer than the slot it
  last handled, or when a failed slot's retry time has come (:func:`is_due`). A new schedule starts at its next slot.
  A failed slot is tried again after ``RETRY_BASE`` x 1, 2, 4, ... until it failed :data:`MAX_SLOT_FAILURES` times;
  a slot missed while nothing ran is sent once (the latest one), not once per missed week.
- :func:`send_due` runs every due schedule, each in its own transaction; a schedule is claimed with a conditional
  UPDATE so two runners (beat and a cron line) never send one slot twice. It never raises for one schedule's failure.
  Celery beat calls it every minute when ``REDIS_URL`` is set (:func:`register_celery`); without Redis a cron line
  runs ``python cli.py send-due-briefings``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core import formats
from db.models import BriefingSchedule, BriefingSend, Sku, utcnow
from services import audit, jobs, mailer
from services.briefing import BriefingNotFoundError, BriefingScope, make_briefing, scope_label
from services.errors import UserFacingError

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_SLOT_FAILURES = 4
RETRY_BASE = dt.timedelta(minutes=10)
MAX_SCHEDULES = 200
SEND_DUE_TASK = "icc.briefings.send_due"
BEAT_SECONDS = 60.0


class ScheduleError(UserFacingError):
    """A schedule cannot be saved as given (the message names the field)."""


# --- due-ness (pure) -------------------------------------------------------------------------------------------------


def latest_slot(*, weekday: int, hour: int, minute: int, now: dt.datetime) -> dt.datetime:
    """The latest moment at or before ``now`` (naive UTC) falling on ``weekday`` (0 = Monday) at ``hour:minute``."""
    today_slot = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    back = (now.weekday() - weekday) % 7
    slot = today_slot - dt.timedelta(days=back)
    return slot if slot <= now else slot - dt.timedelta(days=7)


def next_slot(*, weekday: int, hour: int, minute: int, now: dt.datetime) -> dt.datetime:
    """The first moment after ``now`` on ``weekday`` at ``hour:minute``."""
    return latest_slot(weekday=weekday, hour=hour, minute=minute, now=now) + dt.timedelta(days=7)


def is_due(
    *,
    weekday: int,
    hour: int,
    minute: int,
    last_slot: dt.datetime | None,
    retry_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """Due when the latest slot is newer than the one last handled, or a failed slot's retry time has come."""
    slot = latest_slot(weekday=weekday, hour=hour, minute=minute, now=now)
    if last_slot is None or slot > last_slot:
        return True
    return retry_at is not None and retry_at <= now


def retry_delay(failures: int) -> dt.timedelta:
    """Back-off before trying a failed slot again: ``RETRY_BASE`` x 2^(failures - 1)."""
    return RETRY_BASE * (2 ** max(failures - 1, 0))


# --- schedules --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleView:
    id: int
    weekday: int
    hour: int
    minute: int
    scope: str
    scope_label: str
    recipients: str
    enabled: bool
    created_by: str | None
    last_status: str | None
    last_sent_at: dt.datetime | None
    last_error: str | None
    retry_at: dt.datetime | None
    next_at: dt.datetime

    @property
    def when(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s at {self.hour:02d}:{self.minute:02d} UTC"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "when": self.when,
            "weekday": WEEKDAYS[self.weekday],
            "time_utc": f"{self.hour:02d}:{self.minute:02d}",
            "scope": self.scope,
            "scope_label": self.scope_label,
            "recipients": self.recipients,
            "enabled": self.enabled,
            "created_by": self.created_by,
            "last_status": self.last_status,
            "last_sent_at": formats.fmt_datetime(self.last_sent_at) if self.last_sent_at else None,
            "last_error": self.last_error,
            "retry_at": formats.fmt_datetime(self.retry_at) if self.retry_at else None,
            "next_at": formats.fmt_datetime(self.next_at),
        }


def _view(row: BriefingSchedule, now: dt.datetime) -> ScheduleView:
    return ScheduleView(
        id=int(row.id),
        weekday=row.weekday,
        hour=row.hour,
        minute=row.minute,
        scope=row.scope,
        scope_label=scope_label(row.scope),
        recipients=row.recipients,
        enabled=bool(row.enabled),
        created_by=row.created_by,
        last_status=row.last_status,
        last_sent_at=row.last_sent_at,
        last_error=row.last_error,
        retry_at=row.retry_at,
        next_at=row.retry_at or next_slot(weekday=row.weekday, hour=row.hour, minute=row.minute, now=now),
    )


def list_schedules(*, session: Session, now: dt.datetime | None = None) -> list[ScheduleView]:
    now = now or utcnow()
    rows = session.scalars(select(BriefingSchedule).order_by(BriefingSchedule.id)).all()
    return [_view(r, now) for r in rows]


def parse_time(text: str | None) -> tuple[int, int]:
    """``"07:30"`` -> (7, 30); raises :class:`ScheduleError` naming the value."""
    value = (text or "").strip()
    parts = value.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ScheduleError(f"time must be HH:MM (24-hour, UTC), got {value[:20]!r}")
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(f"time must be between 00:00 and 23:59, got {value[:20]!r}")
    return hour, minute


def parse_weekday(value: Any) -> int:
    """0-6, or a weekday's name (``Monday``, ``mon``); raises :class:`ScheduleError`."""
    text = str(value if value is not None else "").strip()
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    for index, name in enumerate(WEEKDAYS):
        if text and name.lower().startswith(text.lower()) and len(text) >= 3:
            return index
    raise ScheduleError(f"weekday must be one of {', '.join(WEEKDAYS)}, got {text[:20]!r}")


def check_scope(*, session: Session, scope: BriefingScope) -> None:
    """A SKU scope must name a known SKU."""
    if scope.is_sku and session.scalar(select(Sku.id).where(Sku.code == scope.sku)) is None:
        raise BriefingNotFoundError(f"no SKU with code {scope.sku!r}")


def add_schedule(
    *,
    session: Session,
    weekday: Any,
    time_of_day: str | None,
    scope: BriefingScope,
    recipients: str | list[str],
    user: str | None,
    now: dt.datetime | None = None,
) -> ScheduleView:
    """Store a weekly schedule (first send at its next slot) and audit it (``briefing.schedule.add``)."""
    now = now or utcnow()
    day = parse_weekday(weekday)
    hour, minute = parse_time(time_of_day)
    addresses = mailer.parse_recipients(recipients)
    check_scope(session=session, scope=scope)
    if len(session.scalars(select(BriefingSchedule.id)).all()) >= MAX_SCHEDULES:
        raise ScheduleError(f"at most {MAX_SCHEDULES} schedules; delete one first")
    row = BriefingSchedule(
        weekday=day,
        hour=hour,
        minute=minute,
        scope=scope.key[:200],
        recipients=", ".join(addresses),
        enabled=True,
        created_by=user,
        created_at=now,
        last_slot=latest_slot(weekday=day, hour=hour, minute=minute, now=now),
        failures=0,
    )
    session.add(row)
    session.flush()
    view = _view(row, now)
    audit.record(
        session=session,
        action="briefing.schedule.add",
        user_email=user,
        target=f"schedule {row.id}",
        details={"when": view.when, "scope": row.scope, "recipients": len(addresses)},
    )
    return view


def delete_schedule(*, session: Session, schedule_id: Any, user: str | None) -> bool:
    """Delete a schedule (its sends stay, unlinked); False when there is none with that id."""
    try:
        ident = int(schedule_id)
    except (TypeError, ValueError):
        return False
    deleted = session.execute(delete(BriefingSchedule).where(BriefingSchedule.id == ident)).rowcount
    if deleted:
        audit.record(session=session, action="briefing.schedule.delete", user_email=user, target=f"schedule {ident}")
    return bool(deleted)


# --- sending ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message: str
    attempts: int
    send_id: int | None
    file_name: str | None = None


def _subject(label: str, file_name: str) -> str:
    return f"Inventory briefing: {label}"


def send_briefing(
    *,
    session: Session,
    scope: BriefingScope,
    recipients: str | list[str],
    user: str | None,
    source: str = "cli",
    schedule_id: int | None = None,
) -> SendResult:
    """Build the briefing of ``scope``, mail it, record the send (sent / failed) and audit it; never raises for a
    failed send (``ok`` False with the one-line reason).

    Raises
    ------
    MailConfigError
        SMTP is not configured or an address is not valid (nothing is built or recorded).
    UserFacingError
        The briefing cannot be built (an unknown SKU, ...).
    """
    mailer.check_configured()
    addresses = mailer.parse_recipients(recipients)
    made = make_briefing(session=session, scope=scope, user=user, store=True, source=f"e-mail {source}"[:30])
    body = (
        f"The {scope.label.lower() if not scope.is_sku else scope.label} briefing of the Inventory Command Center is "
        f"attached: {made.file_name} ({made.page_count} pages, run "
        f"{made.run_id if made.run_id is not None else 'none'}).\n"
    )
    error: str | None = None
    attempts = 1
    try:
        sent = mailer.send_pdf(
            to=addresses,
            subject=_subject(scope.label, made.file_name),
            body=body,
            pdf=made.pdf,
            file_name=made.file_name,
        )
        attempts = sent.attempts
    except mailer.MailConfigError:
        raise
    except mailer.MailError as exc:
        error, attempts = str(exc), max(exc.attempts, 1)
    row = BriefingSend(
        created_at=utcnow(),
        schedule_id=schedule_id,
        scope=scope.key[:200],
        recipients=", ".join(addresses),
        status="failed" if error else "sent",
        attempts=attempts,
        error=error,
        file_name=made.file_name[:255],
        source=source[:20],
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        action="briefing.email",
        user_email=user,
        target=scope.key[:255],
        outcome="error" if error else "ok",
        details={"send_id": row.id, "recipients": len(addresses), "attempts": attempts, "schedule_id": schedule_id},
    )
    message = (
        error or f"sent {made.file_name} to {', '.join(addresses)} ({attempts} tr{'y' if attempts == 1 else 'ies'})"
    )
    return SendResult(ok=error is None, message=message, attempts=attempts, send_id=row.id, file_name=made.file_name)


def recent_sends(*, session: Session, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.scalars(select(BriefingSend).order_by(BriefingSend.id.desc()).limit(limit)).all()
    return [
        {
            "id": r.id,
            "created_at": formats.fmt_datetime(r.created_at),
            "scope": scope_label(r.scope),
            "recipients": r.recipients,
            "status": r.status,
            "attempts": r.attempts,
            "error": r.error or "",
            "source": r.source,
        }
        for r in rows
    ]


def _claim(session: Session, row: BriefingSchedule, now: dt.datetime) -> dt.datetime | None:
    """Take the schedule's due slot for this runner (conditional UPDATE); None when another runner took it."""
    slot = latest_slot(weekday=row.weekday, hour=row.hour, minute=row.minute, now=now)
    fresh = row.last_slot is None or slot > row.last_slot
    same_slot = (
        BriefingSchedule.last_slot.is_(None) if row.last_slot is None else BriefingSchedule.last_slot == row.last_slot
    )
    same_retry = (
        BriefingSchedule.retry_at.is_(None) if row.retry_at is None else BriefingSchedule.retry_at == row.retry_at
    )
    values: dict[str, Any] = {"last_slot": slot, "retry_at": None}
    if fresh:
        values["failures"] = 0
    claimed = session.execute(
        update(BriefingSchedule)
        .where(BriefingSchedule.id == row.id, same_slot, same_retry)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return slot if claimed else None


def _send_one(session: Session, schedule_id: int, now: dt.datetime) -> str | None:
    """Send one schedule if it is (still) due; the outcome in a line (None: not due or taken by another runner)."""
    row = session.get(BriefingSchedule, schedule_id)
    if row is None or not row.enabled:
        return None
    due = is_due(
        weekday=row.weekday,
        hour=row.hour,
        minute=row.minute,
        last_slot=row.last_slot,
        retry_at=row.retry_at,
        now=now,
    )
    if not due or _claim(session, row, now) is None:
        return None
    session.refresh(row)
    try:
        result = send_briefing(
            session=session,
            scope=BriefingScope.parse(row.scope),
            recipients=row.recipients,
            user=None,
            source="schedule",
            schedule_id=row.id,
        )
        ok, message = result.ok, result.message
    except Exception as exc:  # one schedule's failure (bad scope, no run, SMTP config) is recorded
        session.rollback()
        row = session.get(BriefingSchedule, schedule_id)
        if row is None:
            return None
        ok, message = False, " ".join(str(exc).split())[:300] or type(exc).__name__
        log.warning("scheduled briefing %s failed", schedule_id, exc_info=True)
    if ok:
        row.last_status, row.last_sent_at, row.last_error, row.failures, row.retry_at = "sent", now, None, 0, None
    else:
        row.failures = (row.failures or 0) + 1
        row.last_status, row.last_error = "failed", message
        row.retry_at = now + retry_delay(row.failures) if row.failures < MAX_SLOT_FAILURES else None
    session.commit()
    return f"schedule {schedule_id}: {'sent' if ok else 'failed'}: {message}"


def send_due(*, now: dt.datetime | None = None) -> list[str]:
    """Send every due schedule (each in its own transaction); one line per schedule handled. Never raises for a
    schedule's failure; a database outage while listing the schedules does raise."""
    from db.session import session_scope

    now = now or utcnow()
    with session_scope() as session:
        ids = session.scalars(
            select(BriefingSchedule.id).where(BriefingSchedule.enabled.is_(True)).order_by(BriefingSchedule.id)
        ).all()
    lines: list[str] = []
    for schedule_id in ids:
        try:
            with session_scope() as session:
                line = _send_one(session, int(schedule_id), now)
        except Exception as exc:  # the next schedule still runs
            log.exception("scheduled briefing %s could not be handled", schedule_id)
            line = f"schedule {schedule_id}: error: {type(exc).__name__}"
        if line:
            lines.append(line)
    return lines


# --- Celery beat ---------------------------------------------------------------------------------------------------


def send_due_task() -> dict[str, Any]:
    """The beat task's body: :func:`send_due`, never raising (a worker must not crash on it)."""
    try:
        return {"handled": send_due()}
    except Exception as exc:  # logged; beat tries again next minute
        log.exception("sending the due briefings failed")
        return {"error": type(exc).__name__}


def register_celery(app: Celery) -> None:
    """Register :data:`SEND_DUE_TASK` on ``app`` and run it every :data:`BEAT_SECONDS` under Celery beat."""

    @app.task(name=SEND_DUE_TASK, shared=False, ignore_result=True)
    def _send_due() -> dict[str, Any]:
        return send_due_task()

    schedule = dict(app.conf.beat_schedule or {})
    schedule["send-due-briefings"] = {"task": SEND_DUE_TASK, "schedule": BEAT_SECONDS}
    app.conf.beat_schedule = schedule


jobs.on_celery_app(register_celery)  # the project's Celery app carries the task and the beat entry
