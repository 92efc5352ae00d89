from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from webapp.audit.models import AuditEvent


def titled(msgid: str, **args) -> dict:
    """An audit event's title, renderable in the reader's language: pass it on with
    ``record(..., **titled("Møte %(number)s planlagt", number=3))``.

    ``title`` is the bokmål text (as stored before titles were translated); ``title_msgid`` and
    ``title_args`` let the timeline (``webapp.templating.event_title``) render the same sentence
    from the catalogue. ``msgid`` is a whole sentence with named placeholders (extracted with the
    ``titled`` keyword, see docs/translations.md); ``args`` are plain JSON values (text, numbers,
    None: dates as "dd.mm.yyyy" text). No Flask here: the engine records titles too."""
    return {"title": msgid % args, "title_msgid": msgid, "title_args": args}


def record(
    session: Session,
    kind: str,
    /,
    *,
    at: datetime,
    actor_id: int | None = None,
    case_id: int | None = None,
    instance_id: int | None = None,
    **detail,
) -> int:
    """Write an audit event in the current transaction, at once, and return its id: a Core
    insert on the session's connection (every step writes one; the ORM's unit of work cost more
    than the row). The ids it names are rows already written, so it needs no flush of its own."""
    return session.connection().execute(_INSERT_EVENT, {
        "kind": kind, "created_at": at, "actor_id": actor_id, "case_id": case_id,
        "instance_id": instance_id, "detail": detail}).inserted_primary_key[0]


_INSERT_EVENT = insert(AuditEvent.__table__)
