from __future__ import annotations

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
            case_id=self.case_id, recipient=recipient, subject=subject, body=body,
            attachments=list(attachments or []), created_at=now, next_attempt_at=now,
        )
        self.session.add(message)
        return message
