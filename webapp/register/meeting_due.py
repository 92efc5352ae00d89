"""Which active groups are due for a meeting (setting ``meeting_interval_months``, guidelines 000
and 002): the last held meeting — or, before the first one, the activation — lies further back
than the interval. Register data only (dates), read in one query for any number of cases."""
from __future__ import annotations

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.cases.models import Case
from webapp.clock import OSLO
from webapp.meetings.models import Meeting
from webapp.settings.operations import get_setting

HELD_MEETING = ("held", "approved", "distributed")


def meeting_due_since(session: Session, case_ids, *, today: date) -> dict[int, date]:
    """For each case of ``case_ids`` (ids or a select of ids) that is due for a meeting: the day it
    fell due."""
    months = get_setting(session, "meeting_interval_months")
    last_held = (select(Meeting.case_id, func.max(Meeting.held_at).label("held_at"))
                 .where(Meeting.status.in_(HELD_MEETING), Meeting.held_at.is_not(None))
                 .group_by(Meeting.case_id).subquery())
    rows = session.execute(
        select(Case.id, Case.activated_at, last_held.c.held_at)
        .outerjoin(last_held, last_held.c.case_id == Case.id)
        .where(Case.id.in_(case_ids), Case.status == "active")).all()
    due = {}
    for case_id, activated_at, held_at in rows:
        falls_due = due_since(held_at, activated_at, months=months, today=today)
        if falls_due is not None:
            due[case_id] = falls_due
    return due


def due_since(last_held_at: datetime | None, activated_at: datetime | None, *, months: int,
              today: date) -> date | None:
    """The day an active group fell due for a meeting, or None: ``months`` after the last held
    meeting, or after the activation when no meeting has been held."""
    since = last_held_at or activated_at
    if since is None:
        return None
    falls_due = since.astimezone(OSLO).date() + relativedelta(months=months)
    return falls_due if falls_due < today else None


def meeting_due_on(session: Session, case_id: int, *, today: date) -> date | None:
    """The day the case fell due for a meeting, or None (not due, or not an active group)."""
    return meeting_due_since(session, [case_id], today=today).get(case_id)
