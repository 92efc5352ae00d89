from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from sqlalchemy import insert
from sqlalchemy.orm import Session

from webapp.audit.models import AuditEvent
from webapp.db import kept_for_block


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
) -> int | None:
    """Write an audit event in the current transaction and return its id: a Core insert on the
    session's connection (every step writes one; the ORM's unit of work cost more than the row).
    The ids it names are rows already written, so it needs no flush of its own. Inside
    ``events_together`` the event is written with the others at its end, and no id is returned."""
    row = {"kind": kind, "created_at": at, "actor_id": actor_id, "case_id": case_id,
           "instance_id": instance_id, "detail": detail}
    kept = session.info.get(_KEPT)
    if kept is not None:
        kept.append(row)
        return None
    return session.connection().execute(_INSERT_EVENT, row).inserted_primary_key[0]


@contextmanager
def events_together(session: Session) -> Iterator[None]:
    """The events recorded inside are written together, in their order, in one statement at the
    end of the block (still in the caller's transaction): for the worker's batches, where each of
    a few steps would otherwise send two or three inserts of its own. If the block fails nothing
    is written. Nothing inside may read the audit events it records."""
    with kept_for_block(session, _KEPT) as kept:
        yield
    if kept:
        session.connection().execute(_INSERT_EVENT, kept)


_KEPT = "audit_events_kept"
_INSERT_EVENT = insert(AuditEvent.__table__)
