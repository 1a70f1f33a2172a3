"""Sending a PDF by e-mail through SMTP (stdlib ``smtplib`` / ``email``), with retries and one-line errors.

Configuration comes from :mod:`settings` only (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD``,
``SMTP_FROM``, ``SMTP_STARTTLS``, ``SMTP_TIMEOUT_S``, ``SMTP_ATTEMPTS``, ``SMTP_RETRY_WAIT_S``); the password is read
from the environment and never logged or recorded.

A send is tried up to ``SMTP_ATTEMPTS`` times with exponential back-off (``SMTP_RETRY_WAIT_S`` x 1, 2, 4, ...; tenacity)
when the server cannot be reached or answers with a temporary error; a permanent refusal (bad credentials, a
recipient refused, STARTTLS not offered) is not retried. What fails is a :class:`MailError` whose message is one line
naming the server and the reason.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid

from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from services.errors import UserFacingError
from settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class MailError(UserFacingError):
    """The message could not be sent (one line: the server and the reason); ``attempts`` tries were made."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class MailConfigError(MailError):
    """SMTP is not configured (no ``SMTP_HOST`` or ``SMTP_FROM``) or an address is not valid."""


@dataclass(frozen=True)
class Sent:
    """What was sent: the message id, its recipients and the tries it took."""

    message_id: str
    recipients: tuple[str, ...]
    attempts: int


def parse_recipients(text: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """``a@x.com, b@y.org`` (commas, semicolons or a list) -> the distinct addresses, in order.

    Raises
    ------
    MailConfigError
        No address, more than :data:`MAX_RECIPIENTS`, or one that is not an e-mail address (named).
    """
    parts = text if isinstance(text, list | tuple) else re.split(r"[,;\n]", text or "")
    out: list[str] = []
    for raw in parts:
        value = str(raw).strip()
        if not value:
            continue
        if not _ADDRESS.match(value) or len(value) > 254:
            raise MailConfigError(f"{value[:80]!r} is not an e-mail address")
        if value.lower() not in {o.lower() for o in out}:
            out.append(value)
    if not out:
        raise MailConfigError("no recipient: give at least one e-mail address")
    if len(out) > MAX_RECIPIENTS:
        raise MailConfigError(f"at most {MAX_RECIPIENTS} recipients, got {len(out)}")
    return out


def server_label(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return f"{settings.smtp_host or '(no SMTP_HOST)'}:{settings.smtp_port}"


def check_configured(settings: Settings | None = None) -> None:
    """Raise :class:`MailConfigError` unless ``SMTP_HOST`` and a valid ``SMTP_FROM`` are set."""
    settings = settings or get_settings()
    if not settings.smtp_host:
        raise MailConfigError("e-mail is not configured: set SMTP_HOST (and SMTP_FROM, SMTP_PORT, ...)")
    sender = getaddresses([settings.smtp_from or ""])
    if not settings.smtp_from or not sender or not _ADDRESS.match(sender[0][1] or ""):
        raise MailConfigError("e-mail is not configured: set SMTP_FROM to the sender's address")


def build_message(
    *, sender: str, recipients: list[str], subject: str, body: str, pdf: bytes, file_name: str
) -> EmailMessage:
    """A text message with the PDF attached (``application/pdf``)."""
    message = EmailMessage()
    name, address = getaddresses([sender])[0]
    message["From"] = formataddr((name, address)) if name else address
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=address.rsplit("@", 1)[-1])
    message.set_content(body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=file_name)
    return message


def _reason(exc: BaseException) -> str:
    """One line saying why a try failed (never the password)."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipient refused: " + ", ".join(sorted(exc.recipients))[:200]
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS (set SMTP_STARTTLS=false for a server without it)"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"server answered {exc.smtp_code} {' '.join(text.split())[:160]}"
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}{': ' + text if text else ''}"


def _transient(exc: BaseException) -> bool:
    """Worth another try: the server could not be reached, dropped the line, or answered 4xx."""
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, OSError | smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError)


def _deliver(message: EmailMessage, recipients: list[str], settings: Settings) -> None:
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:
            smtp.starttls()
            smtp.ehlo()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message, to_addrs=recipients)


def send_pdf(
    *,
    to: list[str] | str,
    subject: str,
    body: str,
    pdf: bytes,
    file_name: str,
    settings: Settings | None = None,
) -> Sent:
    """Send ``pdf`` as an attachment to ``to`` through the configured SMTP server (retried with back-off).

    Raises
    ------
    MailConfigError
        SMTP is not configured or an address is not valid (nothing was tried).
    MailError
        Every try failed, or the server refused for good; ``attempts`` says how many tries were made.
    """
    settings = settings or get_settings()
    check_configured(settings)
    recipients = parse_recipients(to)
    message = build_message(
        sender=settings.smtp_from or "", recipients=recipients, subject=subject, body=body, pdf=pdf, file_name=file_name
    )
    retrying = Retrying(
        stop=stop_after_attempt(settings.smtp_attempts),
        wait=wait_exponential(
            multiplier=settings.smtp_retry_wait_s, min=0, max=max(settings.smtp_retry_wait_s, 1) * 30
        ),
        retry=retry_if_exception(_transient),
        reraise=False,
        before_sleep=lambda state: log.warning(
            "SMTP %s: try %d failed (%s); trying again",
            server_label(settings),
            state.attempt_number,
            _reason(state.outcome.exception()) if state.outcome else "?",
        ),
    )
    attempts = 0
    try:
        for attempt in retrying:
            with attempt:
                attempts = attempt.retry_state.attempt_number
                _deliver(message, recipients, settings)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise MailError(
            f"cannot send e-mail through {server_label(settings)}: {_reason(last)} "
            f"({attempts} tr{'y' if attempts == 1 else 'ies'})",
            attempts=attempts,
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(
            f"cannot send e-mail through {server_label(settings)}: {_reason(exc)} "
            f"({attempts} tr{'y' if attempts == 1 else 'ies'})",
            attempts=attempts,
        ) from None
    return Sent(message_id=str(message["Message-ID"]), recipients=tuple(recipients), attempts=attempts)
