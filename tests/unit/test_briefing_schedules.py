"""E-mail schedules: when a weekly schedule is due (pure rules), the form's validation, and the Briefings page's
schedule editing -- admins add and delete, viewers and planners are refused on the server.

Only the pure tests here; those on a database are in tests/integration/test_briefing_schedules.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services import mailer, schedules
from services.schedules import ScheduleError, is_due, latest_slot, next_slot, retry_delay

MON_9 = dt.datetime(2026, 12, 7, 9, 0)  # a Monday


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (MON_9, MON_9),  # exactly at the slot
        (MON_9 + dt.timedelta(seconds=1), MON_9),
        (MON_9 - dt.timedelta(seconds=1), MON_9 - dt.timedelta(days=7)),  # a second early: last week's
        (MON_9 + dt.timedelta(days=3), MON_9),  # Thursday
        (MON_9 + dt.timedelta(days=6, hours=23), MON_9),  # next Monday 08:00
        (MON_9 + dt.timedelta(days=7), MON_9 + dt.timedelta(days=7)),
    ],
)
def test_latest_slot(now: dt.datetime, expected: dt.datetime) -> None:
    assert latest_slot(weekday=0, hour=9, minute=0, now=now) == expected
    assert next_slot(weekday=0, hour=9, minute=0, now=now) == expected + dt.timedelta(days=7)


def test_latest_slot_of_every_weekday_is_on_that_weekday_and_within_a_week() -> None:
    now = dt.datetime(2026, 12, 9, 13, 37)  # a Wednesday
    for weekday in range(7):
        slot = latest_slot(weekday=weekday, hour=13, minute=37, now=now)
        assert slot.weekday() == weekday and slot <= now < slot + dt.timedelta(days=7)
        assert (slot.hour, slot.minute, slot.second) == (13, 37, 0)


def test_due_once_per_slot_and_again_at_a_failed_slot_s_retry_time() -> None:
    rule = {"weekday": 0, "hour": 9, "minute": 0}
    before = MON_9 - dt.timedelta(minutes=1)
    last_week = MON_9 - dt.timedelta(days=7)
    assert not is_due(**rule, last_slot=last_week, retry_at=None, now=before)
    assert is_due(**rule, last_slot=last_week, retry_at=None, now=MON_9)
    assert is_due(**rule, last_slot=None, retry_at=None, now=before)  # never handled
    assert not is_due(**rule, last_slot=MON_9, retry_at=None, now=MON_9 + dt.timedelta(hours=5))  # sent already
    retry = MON_9 + dt.timedelta(minutes=10)
    assert not is_due(**rule, last_slot=MON_9, retry_at=retry, now=retry - dt.timedelta(seconds=1))
    assert is_due(**rule, last_slot=MON_9, retry_at=retry, now=retry)
    # three missed weeks: due (once: the slot handled becomes the latest one)
    assert is_due(**rule, last_slot=MON_9 - dt.timedelta(days=21), retry_at=None, now=MON_9 + dt.timedelta(hours=1))


def test_retry_back_off_doubles() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [schedules.RETRY_BASE * k for k in (1, 2, 4)]


@pytest.mark.parametrize("text", ["7", "24:00", "07:60", "ab:cd", "", "7:5:1"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError, match="time must be"):
        schedules.parse_time(text)


def test_times_and_weekdays() -> None:
    assert schedules.parse_time(" 07:30 ") == (7, 30)
    assert schedules.parse_weekday("monday") == 0 and schedules.parse_weekday("Sun") == 6
    assert schedules.parse_weekday(3) == 3
    with pytest.raises(ScheduleError, match="weekday"):
        schedules.parse_weekday("someday")


def test_recipients() -> None:
    assert mailer.parse_recipients("a@x.com; b@y.org,A@x.com\n") == ["a@x.com", "b@y.org"]
    for bad in ("", "a@x", "a b@x.com", "<a@x.com>"):
        with pytest.raises(mailer.MailConfigError):
            mailer.parse_recipients(bad)


# --- the Briefings page --------------------------------------------------------------------------------------------


def test_celery_beat_runs_the_task_every_minute_and_it_never_raises(monkeypatch) -> None:
    from celery import Celery

    app = Celery("icc-test", broker="memory://", set_as_current=False)
    schedules.register_celery(app)
    entry = app.conf.beat_schedule["send-due-briefings"]
    assert entry == {"task": schedules.SEND_DUE_TASK, "schedule": schedules.BEAT_SECONDS}
    task = app.tasks[schedules.SEND_DUE_TASK]
    monkeypatch.setattr(schedules, "send_due", lambda: ["schedule 1: sent: ok"])
    assert task.apply().get() == {"handled": ["schedule 1: sent: ok"]}

    def broken():
        raise RuntimeError("database restarting")

    monkeypatch.setattr(schedules, "send_due", broken)
    assert task.apply().get() == {"error": "RuntimeError"}


def test_the_project_celery_app_carries_the_beat_entry(monkeypatch) -> None:
    from services import jobs
    from settings import get_settings

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/15")
    get_settings.cache_clear()
    try:
        app = jobs.celery_app()
        assert schedules.SEND_DUE_TASK in app.tasks
        assert app.conf.beat_schedule["send-due-briefings"]["task"] == schedules.SEND_DUE_TASK
    finally:
        monkeypatch.delenv("REDIS_URL")
        get_settings.cache_clear()
