"""E-mail schedules: when a weekly schedule is due (pure rules), the form's validation, and the Briefings page's
schedule editing -- admins add and delete, viewers and planners are refused on the server."""

from __future__ import annotations

import datetime as dt

import pytest

from services import mailer, schedules
from services.schedules import ScheduleError, is_due, latest_slot, next_slot, retry_delay
from tests.unit.test_api import isolated  # noqa: F401  (fixture: a private copy of the demo database)

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


def _body(client, callback_id: str) -> dict:
    from tests.unit.test_security_callbacks import body_for

    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if callback_id in d["output"])
    body = body_for(dep)
    body["inputs"][0]["value"] = 1
    body["changedPropIds"] = [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]
    return body


@pytest.mark.parametrize("role", ["viewer", "planner"])
def test_only_admins_edit_schedules_on_the_server(client_as, role: str) -> None:
    from auth.guard import CALLBACK_KEY_ROLES
    from layouts import _briefing_schedules as ui

    keys = [k for k in CALLBACK_KEY_ROLES if ui.SCHEDULES_GRID in k]
    assert len(keys) == 2 and all(CALLBACK_KEY_ROLES[k] == "admin" for k in keys)
    client = client_as(role)
    page = client.get("/briefings")
    assert page.status_code == 200
    for callback_id in (ui.SCHEDULE_MESSAGE + ".children", ui.SCHEDULE_MESSAGE + ".children@"):
        response = client.post("/_dash-update-component", json=_body(client, callback_id))
        assert response.status_code == 403


def test_the_card_shows_the_form_to_admins_only(demo_app) -> None:
    from layouts import _briefing_schedules as ui
    from services.briefing import ScopeOptions

    options = ScopeOptions(run_id=1, categories=["Snacks"], locations=[], abc=["A"])
    admin = str(ui.schedules_card(admin=True, options=options, schedules=[], sends=[]))
    viewer = str(ui.schedules_card(admin=False, options=options, schedules=[], sends=[]))
    assert ui.SCHEDULE_ADD in admin and ui.SCHEDULE_ADD not in viewer and ui.ADMIN_ONLY in viewer
    assert {"label": "Category Snacks", "value": "category=Snacks"} in ui.scope_choices(options)


def test_an_admin_adds_and_deletes_a_schedule(isolated) -> None:  # noqa: F811
    from callbacks import briefing_schedules as cb
    from db.session import session_scope

    message, rows = cb.add(2, "25:00", "portfolio", None, "ops@example.com", "admin@example.com")
    assert "time must be" in str(message) and rows is cb.no_update
    message, rows = cb.add(2, "06:15", "portfolio", None, "not an address", "admin@example.com")
    assert "not an e-mail address" in str(message)
    message, rows = cb.add(2, "06:15", "portfolio", "NO-SUCH-SKU", "ops@example.com", "admin@example.com")
    assert "NO-SUCH-SKU" in str(message)
    message, rows = cb.add(2, "06:15", "abc=A", None, "ops@example.com", "admin@example.com")
    assert "Added" in str(message)
    added = next(r for r in rows if r["when"] == "Wednesdays at 06:15 UTC")
    assert added["scope_label"] == "ABC class A" and added["last_status"] == "not yet"
    message, rows = cb.delete(None, "admin@example.com")
    assert "Select the schedules" in str(message)
    message, rows = cb.delete([{"id": added["id"]}], "admin@example.com")
    assert "Deleted 1 schedule." in str(message) and all(r["id"] != added["id"] for r in rows)
    with session_scope() as session:
        assert all(v.id != added["id"] for v in schedules.list_schedules(session=session))


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
