"""Sending the outbox over SMTP, with retries and exponential backoff.

No database lock is held while the SMTP server is talked to (a hung relay must never block
SQLite's single writer or a PostgreSQL row):

1. **claim** (a short transaction; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL): the oldest due
   messages, up to :data:`CLAIM_BATCH`, become ``sending``, each attempt is counted and
   ``next_attempt_at`` becomes the end of the claim (now + :data:`CLAIM_TIMEOUT`); commit;
2. **send** them one after the other over one connection, outside any transaction, bounded by
   ``SMTP_TIMEOUT`` per network operation;
3. **mark**: the ones the server accepted ``sent``, together in one short transaction after the
   batch; one that failed at once in its own: back to ``pending`` with the next retry time, or
   ``failed`` after :data:`MAX_ATTEMPTS` (or at once for a permanent refusal, e.g. an invalid
   address or a 5xx answer) — each only if the claim is still ours.

Claiming and marking a batch together takes two transactions per batch instead of two per
message, which at 10,000 messages was most of the time.

A worker that crashes between 1 and 3 leaves its messages in ``sending``; once the claim has
expired any worker takes them again (so the rest of a batch waits that long after a crash).
Delivery is therefore *at least once*: what the server had already accepted of the batch when
the worker died is sent a second time after :data:`CLAIM_TIMEOUT`. Messages are independent:
one that fails never holds back the others.

``last_error`` is shown to administrators, so it never carries content: the exception type and,
for SMTP answers, the server's code and text (which may name the recipient, nothing else).
Without an SMTP host (the embedded default) messages stay in the outbox and are shown in the UI.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import or_, select

from webapp.clock import Clock
from webapp.db import Database
from webapp.outbox.addresses import domain_of, normalised_address
from webapp.outbox.models import OutboxMessage
from webapp.outbox.operations import INVALID_RECIPIENT, attachment_bytes

MAX_ATTEMPTS = 8
#: how long a claimed message may stay in ``sending`` before another worker takes it again; far
#: longer than one SMTP exchange can take with the default ``SMTP_TIMEOUT``
CLAIM_TIMEOUT = timedelta(minutes=15)
#: messages claimed, sent and marked together (see the module doc)
CLAIM_BATCH = 20
SECURITY = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int = 25
    sender: str = "ansvarsgruppe@localhost"
    security: str = "none"  # none | starttls | ssl
    username: str | None = None
    password: str | None = None
    timeout: float = 20.0  # seconds per network operation (connect, each command)

    @classmethod
    def from_config(cls, config) -> "SmtpSettings":
        security = (config.get("SMTP_SECURITY") or "none").lower()
        if security not in SECURITY:
            raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SECURITY)}")
        default_port = 465 if security == "ssl" else (587 if security == "starttls" else 25)
        return cls(host=config.get("SMTP_HOST") or None, port=int(config.get("SMTP_PORT") or default_port),
                   sender=config.get("MAIL_FROM") or "ansvarsgruppe@localhost", security=security,
                   username=config.get("SMTP_USERNAME") or None, password=config.get("SMTP_PASSWORD") or None,
                   timeout=float(config.get("SMTP_TIMEOUT") or 20))


@dataclass(frozen=True)
class Claimed:
    """What the sender needs of a claimed message (read in the claim transaction)."""
    id: int
    attempt: int
    recipient: str
    subject: str
    body: str
    attachments: list


class Permanent(Exception):
    """A failure no retry can fix (the message is parked as failed at once)."""


def build_email(message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=domain_of(sender) or None)
    email.set_content(message.body)
    for item in message.attachments or []:
        maintype, _, subtype = item.get("content_type", "application/octet-stream").partition("/")
        if maintype == "text":  # text parts keep their UTF-8 charset (Norwegian letters in .ics)
            params = {"method": "REQUEST"} if subtype == "calendar" else {}
            email.add_attachment(attachment_bytes(item).decode("utf-8"), subtype=subtype,
                                 filename=item["filename"], params=params)
        else:
            email.add_attachment(attachment_bytes(item), maintype=maintype, subtype=subtype,
                                 filename=item["filename"])
    return email


def send_due(db: Database, clock: Clock, settings: SmtpSettings | str | None, port: int | None = None,
             sender: str | None = None, limit: int = 500, *, timeout: float | None = None) -> int:
    """Send up to ``limit`` due messages, claiming a batch after the other while any is due; returns
    how many the server accepted (the worker runs another round straight away while that is > 0).

    ``settings``: :class:`SmtpSettings`, or (short form for plain SMTP) the host, with ``port``,
    ``sender`` and ``timeout``."""
    if not isinstance(settings, SmtpSettings):
        settings = SmtpSettings(host=settings, port=port or 25, sender=sender or "ansvarsgruppe@localhost",
                                timeout=timeout if timeout is not None else 20.0)
    if not settings.host:
        return 0
    sent = handled = 0
    smtp: smtplib.SMTP | None = None  # one connection for the whole round, reopened after a failure
    try:
        while handled < limit:
            batch = _claim_batch(db, clock, min(CLAIM_BATCH, limit - handled))
            if not batch:
                break
            handled += len(batch)
            accepted = []
            for claimed in batch:
                try:
                    if normalised_address(claimed.recipient) != claimed.recipient:
                        raise Permanent(INVALID_RECIPIENT)
                    email = build_email(claimed, settings.sender)
                    smtp = smtp or _connect(settings)
                    smtp.send_message(email, to_addrs=[claimed.recipient])
                except Exception as exc:  # one bad message never holds back the others
                    _close(smtp)
                    smtp = None
                    _mark_failed(db, clock, claimed, exc)
                    continue
                accepted.append(claimed)
            sent += _mark_sent(db, clock, accepted)
    finally:
        _close(smtp)
    return sent


def _claim_batch(db: Database, clock: Clock, size: int) -> list[Claimed]:
    with db.transaction(serialised=True) as s:
        now = clock.now()
        query = (select(OutboxMessage)
                 .where(OutboxMessage.channel == "email",
                        or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
                        OutboxMessage.next_attempt_at <= now)
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(size))
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        while True:
            messages = list(s.scalars(query))
            # one whose worker died during its last attempt: parked, not tried forever
            dead = [m for m in messages if m.status == "sending" and m.attempts >= MAX_ATTEMPTS]
            for message in dead:
                message.status, message.next_attempt_at = "failed", None
                message.last_error = "Sendingen ble avbrutt (arbeidsprosessen stoppet)"
            if not dead:
                break
            s.flush()
        claimed = []
        for message in messages:
            message.status = "sending"
            message.attempts += 1
            message.next_attempt_at = now + CLAIM_TIMEOUT  # the claim ends here (see the module doc)
            claimed.append(Claimed(message.id, message.attempts, message.recipient, message.subject, message.body,
                                   list(message.attachments or [])))
        return claimed


def _ours(s, claimed: Claimed) -> OutboxMessage | None:
    """The message if our claim still holds (nobody re-claimed it after a claim timeout)."""
    query = select(OutboxMessage).where(OutboxMessage.id == claimed.id, OutboxMessage.status == "sending",
                                        OutboxMessage.attempts == claimed.attempt)
    return s.scalar(query)


def _mark_sent(db: Database, clock: Clock, accepted: list[Claimed]) -> int:
    """Mark what the server accepted as sent, in one transaction; returns how many were still
    ours (a message re-claimed after a claim timeout is another worker's now)."""
    if not accepted:
        return 0
    attempts = {claimed.id: claimed.attempt for claimed in accepted}
    with db.transaction(serialised=True) as s:
        now, marked = clock.now(), 0
        for message in s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(attempts),
                                                             OutboxMessage.status == "sending")):
            if message.attempts != attempts[message.id]:
                continue
            message.status, message.sent_at, message.last_error = "sent", now, None
            message.next_attempt_at = None
            marked += 1
        return marked


def _mark_failed(db: Database, clock: Clock, claimed: Claimed, exc: BaseException) -> None:
    with db.transaction(serialised=True) as s:
        message = _ours(s, claimed)
        if message is None:
            return
        now = clock.now()
        message.last_error = describe(exc)
        if _permanent(exc) or message.attempts >= MAX_ATTEMPTS:
            message.status, message.next_attempt_at = "failed", None
        else:
            message.status = "pending"
            message.next_attempt_at = now + timedelta(minutes=2 ** (message.attempts - 1))


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, Permanent):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, smtplib.SMTPAuthenticationError):
        return exc.smtp_code >= 500
    return False


def describe(exc: BaseException) -> str:
    """The error as shown to administrators: never the message's subject, body or attachments."""
    if isinstance(exc, Permanent):
        return str(exc)
    kind = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(f"{code} {_text(text)}" for code, text in exc.recipients.values())
        return f"{kind}: {answers}"[:500]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{kind}: {exc.smtp_code} {_text(exc.smtp_error)}"[:500]
    if isinstance(exc, (socket.timeout, TimeoutError)) or (
            isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)):
        return f"{kind}: e-posttjeneren svarte ikke innen tidsfristen"
    if isinstance(exc, (ConnectionError, smtplib.SMTPServerDisconnected, ssl.SSLError)):
        return f"{kind}: {_text(exc)}"[:500]  # e.g. "[Errno 111] Connection refused"
    return kind  # e.g. a message that could not be built: the type only, never its text


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                              context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
