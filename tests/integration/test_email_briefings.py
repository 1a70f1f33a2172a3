"""E-mailed briefings on both engines, against a local SMTP server on loopback (aiosmtpd), never the network:
`send-briefing` delivers one message with the PDF attached; a refused connection is one line and exit status 1;
schedules are sent when due, once per slot, and a failed scheduled send is retried later, recorded and never raised.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import os
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader
from sqlalchemy import select

import cli
from db.models import AuditLog, BriefingSchedule, BriefingSend
from db.session import session_scope
from services import schedules
from services.briefing import BriefingScope
from settings import get_settings


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    handler = _Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch):
    def point_at(port: int) -> None:
        for name, value in {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_FROM": "Planning <planning@example.com>",
            "SMTP_STARTTLS": "false",
            "SMTP_RETRY_WAIT_S": "0",
            "SMTP_ATTEMPTS": "3",
            "SMTP_TIMEOUT_S": "5",
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield point_at
    get_settings.cache_clear()


@pytest.fixture
def portfolio(db_url: str) -> str:
    from services import demo
    from services.recompute import recompute

    with session_scope() as session:
        demo.store(session=session, portfolio=demo.generate(skus=12, periods=60, seed=5))
    with session_scope() as session:
        recompute(session=session, triggered_by="tests")
    return db_url


def _attachment(raw: bytes) -> tuple[email.message.Message, list[tuple[str, bytes]]]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [
        (part.get_filename(), part.get_payload(decode=True))
        for part in message.walk()
        if part.get_content_type() == "application/pdf"
    ]
    return message, parts


def test_send_briefing_delivers_one_message_with_the_pdf(portfolio, inbox, smtp_env, capsys) -> None:
    handler, port = inbox
    smtp_env(port)
    status = cli.main(["send-briefing", "--to", "ceo@example.com, cfo@example.com"])
    out = capsys.readouterr()
    assert status == 0, out.err
    assert "sent briefing-portfolio-" in out.out
    assert len(handler.messages) == 1
    sender, recipients, raw = handler.messages[0]
    assert sender == "planning@example.com" and recipients == ["ceo@example.com", "cfo@example.com"]
    message, pdfs = _attachment(raw)
    assert str(message["Subject"]).strip().startswith("Inventory briefing: Whole portfolio")
    assert len(pdfs) == 1 and pdfs[0][0].startswith("briefing-portfolio-") and pdfs[0][0].endswith(".pdf")
    reader = PdfReader(io.BytesIO(pdfs[0][1]))
    assert len(reader.pages) >= 1 and "briefing" in reader.pages[0].extract_text().lower()
    with session_scope() as session:
        sends = session.scalars(select(BriefingSend)).all()
        assert [(s.status, s.attempts, s.source) for s in sends] == [("sent", 1, "cli")]
        assert session.scalar(select(AuditLog.outcome).where(AuditLog.action == "briefing.email")) == "ok"


def test_a_category_briefing_by_mail(portfolio, inbox, smtp_env, capsys) -> None:
    handler, port = inbox
    smtp_env(port)
    with session_scope() as session:
        from db.models import Sku

        category = session.scalars(select(Sku.category)).first()
    assert cli.main(["send-briefing", "--to", "a@example.com", "--category", category]) == 0
    message, pdfs = _attachment(handler.messages[0][2])
    assert f"Category {category}" in message["Subject"] and len(pdfs) == 1


def test_refused_connection_is_one_line_and_exit_1(portfolio, smtp_env, capsys) -> None:
    smtp_env(_free_port())
    status = cli.main(["send-briefing", "--to", "ceo@example.com"])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "connection refused" in lines[0] and "127.0.0.1:" in lines[0] and "3 tries" in lines[0]
    assert "Traceback" not in err
    with session_scope() as session:
        send = session.scalars(select(BriefingSend)).one()
        assert send.status == "failed" and send.attempts == 3 and "connection refused" in send.error


def test_bad_input_is_refused_before_sending(portfolio, smtp_env, capsys) -> None:
    smtp_env(_free_port())
    assert cli.main(["send-briefing", "--to", "not-an-address"]) == 2
    assert "is not an e-mail address" in capsys.readouterr().err
    assert cli.main(["send-briefing", "--to", "a@example.com", "--sku", "NO-SUCH"]) == 2
    assert "NO-SUCH" in capsys.readouterr().err
    os.environ.pop("SMTP_HOST")
    get_settings.cache_clear()
    assert cli.main(["send-briefing", "--to", "a@example.com"]) == 2
    assert "SMTP_HOST" in capsys.readouterr().err


def test_due_schedules_are_sent_once_per_slot(portfolio, inbox, smtp_env) -> None:
    handler, port = inbox
    smtp_env(port)
    monday_9 = dt.datetime(2026, 12, 7, 9, 0)
    with session_scope() as session:
        view = schedules.add_schedule(
            session=session,
            weekday="Monday",
            time_of_day="09:00",
            scope=BriefingScope(),
            recipients="ops@example.com",
            user="admin@example.com",
            now=monday_9 - dt.timedelta(days=1),
        )
    assert schedules.send_due(now=monday_9 - dt.timedelta(minutes=1)) == []
    lines = schedules.send_due(now=monday_9 + dt.timedelta(minutes=1))
    assert len(lines) == 1 and ": sent:" in lines[0]
    assert schedules.send_due(now=monday_9 + dt.timedelta(minutes=2)) == []
    assert len(handler.messages) == 1 and handler.messages[0][1] == ["ops@example.com"]
    with session_scope() as session:
        row = session.get(BriefingSchedule, view.id)
        assert row.last_status == "sent" and row.last_slot == monday_9 and row.failures == 0


def test_a_failed_scheduled_send_is_retried_recorded_and_never_raises(portfolio, inbox, smtp_env) -> None:
    handler, port = inbox
    smtp_env(_free_port())
    monday_9 = dt.datetime(2026, 12, 7, 9, 0)
    with session_scope() as session:
        view = schedules.add_schedule(
            session=session,
            weekday=0,
            time_of_day="09:00",
            scope=BriefingScope(),
            recipients="ops@example.com",
            user="admin@example.com",
            now=monday_9 - dt.timedelta(days=2),
        )
    first = monday_9 + dt.timedelta(minutes=1)
    lines = schedules.send_due(now=first)
    assert len(lines) == 1 and ": failed:" in lines[0] and "connection refused" in lines[0]
    with session_scope() as session:
        row = session.get(BriefingSchedule, view.id)
        assert row.last_status == "failed" and row.failures == 1
        assert row.retry_at == first + schedules.retry_delay(1)
        assert "connection refused" in row.last_error
    assert schedules.send_due(now=first + dt.timedelta(minutes=5)) == []  # not yet: back-off
    smtp_env(port)  # the server is back
    lines = schedules.send_due(now=first + schedules.retry_delay(1))
    assert len(lines) == 1 and ": sent:" in lines[0]
    assert len(handler.messages) == 1
    with session_scope() as session:
        statuses = [s.status for s in session.scalars(select(BriefingSend).order_by(BriefingSend.id))]
        assert statuses == ["failed", "sent"]
        row = session.get(BriefingSchedule, view.id)
        assert row.last_status == "sent" and row.retry_at is None and row.failures == 0
    assert schedules.send_due_task()["handled"] == []  # the beat task's body returns, does not raise
