"""Which active groups are due for a meeting (setting ``meeting_interval_months``, guidelines 000
and 002): the last held meeting — or, before the first one, the activation — lies further back
than the interval. Register data only (dates), read in one query for any number of cases: the
day is kept on the case (``cases.meeting_due_on``, by ``cases/summary.py``)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from webapp.cases.models import Case


def meeting_due_since(session: Session, case_ids, *, today: date) -> dict[int, date]:
    """For each case of ``case_ids`` (ids or a select of ids) that is due for a meeting: the day it
    fell due."""
    return dict(session.execute(select(Case.id, Case.meeting_due_on).where(Case.id.in_(case_ids), _due(today))).all())


def due_since_column(today: date):
    """The same day as a column of a list's own query: the day, or NULL when not due."""
    return case((_due(today), Case.meeting_due_on), else_=None)


def _due(today: date):
    return and_(Case.status == "active", Case.meeting_due_on < today)


def meeting_due_on(session: Session, case_id: int, *, today: date) -> date | None:
    """The day the case fell due for a meeting, or None (not due, or not an active group)."""
    return meeting_due_since(session, [case_id], today=today).get(case_id)
