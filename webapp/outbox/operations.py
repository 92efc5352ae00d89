from __future__ import annotations

import base64
import os
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session

from webapp.clock import Clock
from webapp.db import kept_for_block
from webapp.outbox.addresses import in_domains, normalised_address, parse_domains
from webapp.outbox.models import OutboxMessage
from webapp.wakeups import work_added

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
#: ``last_error`` of a message refused at the outbox; never sent, shown to the administrator
INVALID_RECIPIENT = "Ugyldig mottakeradresse"


def base_url() -> str:
    """Where the links in messages point: ``BASE_URL`` of the running app (the worker runs in an
    app context), else the environment, else the local default."""
    from flask import current_app, has_app_context
    if has_app_context():
        value = current_app.config.get("BASE_URL")
    else:
        value = os.environ.get("BASE_URL") or os.environ.get("ANSVARSGRUPPE_BASE_URL")
    return (value or DEFAULT_BASE_URL).rstrip("/")


class Outbox:
    """Writes messages into the current transaction; the worker sends them after commit.

    No health content in plain e-mail (DESIGN §7): unless the recipient's domain is one of the
    municipality's own (setting ``mail_attachment_domains``), a message only says that something
    is waiting in ansvarsgruppe, with the case reference and a link; body and attachments are
    left out. Callers write the full message (used for the municipality's own addresses) and a
    content-free subject."""

    def __init__(self, session: Session, clock: Clock, case_id: int | None):
        self.session = session
        self.clock = clock
        self.case_id = case_id

    def send(self, recipient: str, subject: str, body: str, attachments: list[dict] | None = None,
             *, link: str | None = None, plain: bool = False) -> OutboxMessage:
        """Queue an e-mail. ``link``: the path (``/saker/…``) the short notice points to (default:
        the case page). ``plain=True``: the caller vouches that ``body`` holds no health content
        (no names, no case content; e.g. "the group is closed, thank you"), so it is sent as
        written to everybody; attachments still only go to the own domains. A recipient that is not exactly one valid address is refused: the message
        is kept as ``failed`` for the administrator and never sent, so it holds nothing back."""
        now = self.clock.now()
        address = normalised_address(recipient)
        if address is None:
            message = OutboxMessage(
                case_id=self.case_id, channel="email", recipient=str(recipient)[:254], subject=subject[:300],
                body="", attachments=[], status="failed", created_at=now, next_attempt_at=None,
                last_error=INVALID_RECIPIENT)
            self._add(message)
            return message
        if not in_domains(address, self._own_domains()):
            body, attachments = (body if plain else self._notice(link)), []
        message = OutboxMessage(
            case_id=self.case_id, channel="email", recipient=address, subject=subject[:300], body=body,
            attachments=list(attachments or []), created_at=now, next_attempt_at=now,
        )
        self._add(message)
        work_added(self.session)  # the worker sends it as soon as this commits
        return message

    def _add(self, message: OutboxMessage) -> None:
        kept = self.session.info.get(_KEPT)
        if kept is not None:
            kept.append(message)
        else:
            self.session.add(message)

    def _own_domains(self) -> list[str]:
        from webapp.settings.operations import get_setting
        return parse_domains(get_setting(self.session, "mail_attachment_domains"))

    def _notice(self, link: str | None) -> str:
        from webapp.cases.models import Case
        case = self.session.get(Case, self.case_id) if self.case_id is not None else None
        path = link or (f"/saker/{self.case_id}" if case is not None else "/")
        where = f" (sak {case.reference})" if case is not None else ""
        return (f"Noe venter på deg i ansvarsgruppe{where}:\n{base_url()}{path}\n\n"
                "Logg inn for å lese det. Av hensyn til personvernet sendes ikke innholdet på e-post.")

    def letter(self, recipient: str, subject: str, pdf: bytes, filename: str) -> OutboxMessage:
        """A letter for someone without e-mail: kept for printing, never sent by the worker."""
        message = OutboxMessage(
            case_id=self.case_id, channel="letter", recipient=recipient, subject=subject,
            body="", attachments=[attachment(filename, "application/pdf", pdf)], status="to_print",
            created_at=self.clock.now(),
        )
        self.session.add(message)
        return message


@contextmanager
def messages_together(session: Session) -> Iterator[None]:
    """The e-mails queued inside are added to the session together at the end of the block, so
    they are written in one INSERT at commit (the worker's batches: each step's flush would
    otherwise write its own). If the block fails none is added. Nothing inside may read the
    outbox rows it queues."""
    with kept_for_block(session, _KEPT) as kept:
        yield
    session.add_all(kept)


_KEPT = "outbox_messages_kept"


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
