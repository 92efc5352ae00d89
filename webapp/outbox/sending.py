"""Sending the outbox over SMTP, with retries and exponential backoff.

A message is claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sent, and marked in one
transaction; if the SMTP server fails, the attempt is counted and the message waits for its next
turn. Nothing is lost: a message is only ``sent`` after the server accepted it. Without an SMTP
host (the embedded default) messages stay in the outbox and are shown in the UI.
"""
from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from webapp.clock import Clock
from webapp.db import Database
from webapp.outbox.models import OutboxMessage
from webapp.outbox.operations import attachment_bytes

MAX_ATTEMPTS = 8


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = f"<outbox-{message.id}@ansvarsgruppe>"
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


def send_due(db: Database, clock: Clock, host: str | None, port: int, sender: str, limit: int = 50) -> int:
    if not host:
        return 0
    sent = 0
    smtp: smtplib.SMTP | None = None  # one connection for the whole round, reopened after a failure
    try:
        for _ in range(limit):
            with db.transaction(serialised=True) as s:
                now = clock.now()
                query = (select(OutboxMessage)
                         .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                         .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1))
                if db.dialect == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                message = s.scalar(query)
                if message is None:
                    break
                message.attempts += 1
                try:
                    email = build_email(message, sender)
                    smtp = smtp or smtplib.SMTP(host, port, timeout=20)
                    smtp.send_message(email)
                except Exception as exc:  # one bad message never holds back the others
                    _close(smtp)
                    smtp = None
                    message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                    if message.attempts >= MAX_ATTEMPTS:
                        message.status = "failed"
                    else:
                        message.next_attempt_at = now + timedelta(minutes=2 ** (message.attempts - 1))
                    continue
                message.status, message.sent_at, message.last_error = "sent", now, None
                sent += 1
    finally:
        _close(smtp)
    return sent


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
