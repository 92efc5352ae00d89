"""What a case keeps about its members, meetings and consents so that lists of stuck groups
read the oldest ones from an index instead of computing every group (migration 0014):

- ``cases.has_coordinator``: an active member has the role ``koordinator``;
- ``cases.last_meeting_at``: the date of the newest held meeting (held, approved or distributed):
  its own date (``starts_at``), or when its minutes were recorded if it has none (migration 0015);
  the register shows it, and the interval counts from it;
- ``cases.meeting_due_on``: the day the group falls due for a meeting, the Oslo day of that
  meeting (or of the activation, before the first) plus the setting ``meeting_interval_months``;
- ``consents.superseded``: the case has a newer consent.

They are kept after every flush that adds, changes or deletes a member, activates a case, holds a
meeting, records a consent or changes the meeting interval: one UPDATE per kind for the cases
touched (all cases for the interval), in the same transaction. Writers that bypass the ORM (bulk
``update()`` of these tables) must call :func:`refresh` themselves; today none changes what these
columns depend on.
"""
from __future__ import annotations

from sqlalchemy import and_, event, exists, func, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseMember, Consent
from webapp.db import day_after_months
from webapp.settings.defaults import DEFINITIONS
from webapp.settings.models import Setting

INTERVAL = "meeting_interval_months"
#: ``refresh(..., due=EVERY_CASE)``: the meeting interval changed, every case's due day moves
EVERY_CASE = "every case"


def meeting_interval(connection: Connection) -> int:
    """The setting as stored, read on the flush's own connection (no autoflush inside a flush)."""
    stored = connection.execute(select(Setting.value).where(Setting.key == INTERVAL)).scalar()
    return int(DEFINITIONS[INTERVAL].default if stored is None else stored)


def refresh(connection: Connection, *, coordinators=(), meetings=(), due=(), consents=(),
            months: int | None = None) -> None:
    """Recompute the summary of the given cases, per kind (case ids). ``meetings`` also moves
    their due day; ``due`` moves only that (an activation), or every case's (``EVERY_CASE``)."""
    # meetings depend on cases, not the other way round
    from webapp.meetings.models import HELD_MEETING, Meeting

    if coordinators:
        connection.execute(update(Case).where(Case.id.in_(sorted(coordinators))).values(
            has_coordinator=exists().where(CaseMember.case_id == Case.id, CaseMember.role == "koordinator",
                                           CaseMember.active.is_(True))))
    if meetings:
        connection.execute(update(Case).where(Case.id.in_(sorted(meetings))).values(
            # the meeting's own date; when its minutes were recorded if it has none
            last_meeting_at=select(func.max(func.coalesce(Meeting.starts_at, Meeting.held_at)))
            .where(Meeting.case_id == Case.id, Meeting.status.in_(HELD_MEETING), Meeting.held_at.is_not(None))
            .scalar_subquery()))
    if due or meetings:  # EVERY_CASE is a non-empty text
        statement = update(Case)
        if due != EVERY_CASE:
            statement = statement.where(Case.id.in_(sorted(set(due) | set(meetings))))
        months = meeting_interval(connection) if months is None else months
        connection.execute(statement.values(meeting_due_on=day_after_months(
            func.coalesce(Case.last_meeting_at, Case.activated_at), months)))
    if consents:
        newer = Consent.__table__.alias("newer")
        connection.execute(update(Consent).where(Consent.case_id.in_(sorted(consents))).values(
            superseded=exists().where(and_(newer.c.case_id == Consent.case_id, newer.c.id > Consent.id))))


def _changed(obj, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _keep_summary(session: Session, _context) -> None:
    from webapp.meetings.models import Meeting

    coordinators, meetings, due, consents = set(), set(), set(), set()
    every_case, months = False, None
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        new_or_gone = obj in session.new or obj in session.deleted
        if isinstance(obj, CaseMember):
            if new_or_gone or _changed(obj, "role", "active", "case_id"):
                coordinators.add(obj.case_id)
        elif isinstance(obj, Meeting):
            if (obj.held_at is not None and (new_or_gone or _changed(obj, "status"))) or (
                    not new_or_gone and _changed(obj, "held_at", "starts_at", "case_id")):
                meetings.add(obj.case_id)
        elif isinstance(obj, Consent):
            if new_or_gone:
                consents.add(obj.case_id)
        elif isinstance(obj, Case):
            if obj.activated_at is not None and (new_or_gone or _changed(obj, "activated_at")):
                due.add(obj.id)
        elif isinstance(obj, Setting) and obj.key == INTERVAL and (new_or_gone or _changed(obj, "value")):
            every_case, months = True, None if obj in session.deleted else int(obj.value)
    for found in (coordinators, meetings, consents):
        found.discard(None)
    if coordinators or meetings or due or consents or every_case:
        refresh(session.connection(), coordinators=coordinators, meetings=meetings,
                due=EVERY_CASE if every_case else due, consents=consents, months=months)
