"""Reading a case's access log one page at a time, newest first (the coordinator's page and the
person's "who has looked" page): keyset-paginated on ``(at, id)`` with the
``(case_id, at DESC, id DESC)`` index, so a long log costs the same as a short one."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.audit.models import AccessLogEntry
from webapp.auth.models import User

#: rows on one page of a case's access log
PAGE_SIZE = 100


def parse_cursor(raw: str) -> tuple[datetime, int] | None:
    """``<at>,<id>`` of the last row of the page before (at in ISO 8601 with offset), or None —
    anything else means the first page."""
    at_text, _sep, id_text = raw.rpartition(",")
    try:
        at, entry_id = datetime.fromisoformat(at_text), int(id_text)
        if at.tzinfo is None or not 1 <= entry_id < 2**63:
            return None
        return at.astimezone(timezone.utc), entry_id
    except (ValueError, OverflowError):
        return None


def log_page(session: Session, case_id: int, before: tuple[datetime, int] | None
             ) -> tuple[list[tuple[AccessLogEntry, User]], str | None]:
    """One page of (entry, user) rows and the cursor of the next older page (None: no more)."""
    query = (select(AccessLogEntry, User).join(User, User.id == AccessLogEntry.user_id)
             .where(AccessLogEntry.case_id == case_id))
    if before is not None:
        at, entry_id = before
        # "at <=" lets the (case_id, at DESC, id DESC) index seek to the cursor
        query = query.where(AccessLogEntry.at <= at, or_(AccessLogEntry.at < at, AccessLogEntry.id < entry_id))
    # one row more than a page tells whether there are older ones
    rows = session.execute(query.order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
                           .limit(PAGE_SIZE + 1)).all()
    older = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1][0]
        older = f"{last.at.astimezone(timezone.utc).isoformat()},{last.id}"
    return [tuple(r) for r in rows], older
