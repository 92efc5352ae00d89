"""Reading the open-task projection (never the workflows) for inboxes and case pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.access import Access, access_level
from webapp.cases.models import Case, CaseMember
from webapp.cases.roles import unit_lanes as served_unit_lanes
from webapp.engine.models import OpenTask, ProcessInstance


def _actionable(session: Session, user: User):
    """SQL condition: the user can act on the open task."""
    holds_lane = exists().where(
        CaseMember.case_id == OpenTask.case_id, CaseMember.role == OpenTask.lane,
        CaseMember.user_id == user.id, CaseMember.active.is_(True))
    unit_lanes = served_unit_lanes(session, user)
    conditions = [OpenTask.assignee_id == user.id, and_(OpenTask.assignee_id.is_(None), holds_lane)]
    if unit_lanes:
        conditions.append(OpenTask.lane.in_(unit_lanes))
    return or_(*conditions)


#: Orders of the inbox: by due date (undated last), by case reference, newest first.
INBOX_SORTS = ("due", "case", "created")


def inbox(session: Session, user: User, *, sort: str = "due", case_id: int | None = None,
          due_from: datetime | None = None, due_before: datetime | None = None,
          search: str | None = None) -> list[tuple[OpenTask, Case]]:
    """The user's open steps with their cases. ``due_from``/``due_before`` keep steps due in that
    window (undated steps drop out); ``search`` matches the case reference or the person's name,
    case-insensitively (in Python: casefold handles æ, ø, å on SQLite too)."""
    query = select(OpenTask, Case).join(Case, Case.id == OpenTask.case_id).where(_actionable(session, user))
    if case_id is not None:
        query = query.where(OpenTask.case_id == case_id)
    if due_from is not None:
        query = query.where(OpenTask.due_at >= due_from)
    if due_before is not None:
        query = query.where(OpenTask.due_at < due_before)
    by_due = (OpenTask.due_at.is_(None), OpenTask.due_at)
    if sort == "case":
        query = query.order_by(Case.reference, *by_due, OpenTask.created_at, OpenTask.id)
    elif sort == "created":
        query = query.order_by(OpenTask.created_at.desc(), OpenTask.id.desc())
    else:
        query = query.order_by(*by_due, OpenTask.created_at, OpenTask.id)
    rows = [tuple(row) for row in session.execute(query)]
    if search:
        needle = search.casefold()
        rows = [(task, case) for task, case in rows
                if needle in case.reference.casefold()
                or (case.person is not None and needle in case.person.full_name.casefold())]
    return rows


@dataclass
class TaskPage:
    """An open step the user may do, with its case and the user's access to that case."""

    task: OpenTask
    case: Case
    access: Access
    instance: ProcessInstance | None = None


def task_page(session: Session, user: User, instance_id: int, task_id: str, today: date, *,
              with_instance: bool = True) -> TaskPage | None:
    """The open step ``task_id`` of ``instance_id`` if the user can act on it and sees its case,
    in one query (with its instance, unless the caller holds it locked already)."""
    entities = [OpenTask, Case, access_level(user, today)] + ([ProcessInstance] if with_instance else [])
    query = select(*entities).join(Case, Case.id == OpenTask.case_id).where(
        OpenTask.instance_id == instance_id, OpenTask.task_id == task_id, _actionable(session, user))
    if with_instance:
        query = query.join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
    row = session.execute(query).first()
    if row is None or row[2] == Access.NONE:
        return None
    return TaskPage(row[0], row[1], Access(row[2]), row[3] if with_instance else None)


def task_for(session: Session, user: User, instance_id: int, task_id: str) -> OpenTask | None:
    return session.scalar(select(OpenTask).where(
        OpenTask.instance_id == instance_id, OpenTask.task_id == task_id, _actionable(session, user)))


def actionable_ids(session: Session, user: User, case_id: int) -> set[int]:
    """Ids of the case's open steps the user can act on (one query for the whole list)."""
    return set(session.scalars(select(OpenTask.id).where(OpenTask.case_id == case_id, _actionable(session, user))))


def next_task_in_case(session: Session, user: User, case_id: int, instance_id: int | None = None) -> OpenTask | None:
    """The user's next step in the case: in the same episode first (the flow they are in), then
    the oldest in the case."""
    query = select(OpenTask).where(OpenTask.case_id == case_id, _actionable(session, user))
    if instance_id is not None:
        query = query.order_by(OpenTask.instance_id != instance_id)
    return session.scalar(query.order_by(OpenTask.created_at, OpenTask.id).limit(1))


def case_tasks(session: Session, case_id: int) -> list[OpenTask]:
    return list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)
                                .order_by(OpenTask.created_at, OpenTask.id)))
