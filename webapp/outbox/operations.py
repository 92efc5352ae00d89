from __future__ import annotations

import base64

from sqlalchemy.orm import Session

from webapp.clock import Clock
from webapp.outbox.models import OutboxMessage


class Outbox:
    """Writes messages into the current transaction; the worker sends them after commit."""

    def __init__(self, session: Session, clock: Clock, case_id: int | None):
        self.session = session
        self.clock = clock
        self.case_id = case_id

    def send(self, recipient: str, subject: str, body: str, attachments: list[dict] | None = None) -> OutboxMessage:
        now = self.clock.now()
        message = OutboxMessage(
            case_id=self.case_id, channel="email", recipient=recipient, subject=subject, body=body,
            attachments=list(attachments or []), created_at=now, next_attempt_at=now,
        )
        self.session.add(message)
        return message

    def letter(self, recipient: str, subject: str, pdf: bytes, filename: str) -> OutboxMessage:
        """A letter for someone without e-mail: kept for printing, never sent by the worker."""
        message = OutboxMessage(
            case_id=self.case_id, channel="letter", recipient=recipient, subject=subject,
            body="", attachments=[attachment(filename, "application/pdf", pdf)], status="to_print",
            created_at=self.clock.now(),
        )
        self.session.add(message)
        return message


def attachment(filename: str, content_type: str, content: bytes | str) -> dict:
    """An outbox attachment; binary content is stored base64-encoded in the JSON column."""
    if isinstance(content, bytes):
        return {"filename": filename, "content_type": content_type, "encoding": "base64",
                "content": base64.b64encode(content).decode("ascii")}
    return {"filename": filename, "content_type": content_type, "content": content}


def attachment_bytes(item: dict) -> bytes:
    if item.get("encoding") == "base64":
        return base64.b64decode(item["content"])
    return item["content"].encode("utf-8")
