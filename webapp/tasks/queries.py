"""Reading the open-task projection (never the workflows) for inboxes and case pages."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import Date, Integer, Select, String, and_, bindparam, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.access import REGISTER_ROLES, Access, access_level, access_rule, may_see
from webapp.cases.models import Case, CaseMember, Person
from webapp.db import casefold
from webapp.cases.roles import unit_lanes as served_unit_lanes
from webapp.engine.models import OpenTask, ProcessInstance


def _actionable(session: Session, user: User):
    """SQL condition: the user can act on the open task."""
    return _actionable_rule(user.id, tuple(served_unit_lanes(session, user)))


def _actionable_rule(user_id, unit_lanes: tuple[str, ...]):
    """``_actionable`` with ``user_id`` a value or a ``bindparam``."""
    holds_lane = exists().where(
        CaseMember.case_id == OpenTask.case_id, CaseMember.role == OpenTask.lane,
        CaseMember.user_id == user_id, CaseMember.active.is_(True))
    conditions = [OpenTask.assignee_id == user_id, and_(OpenTask.assignee_id.is_(None), holds_lane)]
    if unit_lanes:
        conditions.append(OpenTask.lane.in_(unit_lanes))
    return or_(*conditions)


#: Orders of the inbox: by due date (undated last), by case reference, newest first.
INBOX_SORTS = ("due", "case", "created")
#: most cases offered in the inbox's case filter (a longer list is no help; search by reference instead)
MAX_FILTER_CASES = 200
#: an open step's due date as a sort key, undated steps last (the inbox and supervision sort by it)
DUE_OR_LAST = func.coalesce(OpenTask.due_at, literal(datetime(9999, 12, 31, tzinfo=timezone.utc),
                                                     OpenTask.due_at.type))


def inbox_keys(sort: str) -> tuple[list, bool]:
    """The inbox's sort keys for ``sort`` (the last one unique) and whether they run descending."""
    if sort == "case":
        return [Case.reference, DUE_OR_LAST, OpenTask.created_at, OpenTask.id], False
    if sort == "created":
        return [OpenTask.created_at, OpenTask.id], True
    return [DUE_OR_LAST, OpenTask.created_at, OpenTask.id], False


def inbox(session: Session, user: User, today: date, *, sort: str = "due", case_id: int | None = None,
          due_from: datetime | None = None, due_before: datetime | None = None,
          search: str | None = None) -> Select:
    """The user's open steps in cases they see, as rows of ``OpenTask.id, *sort keys``: paginate
    it with ``inbox_keys``, then read the page with ``inbox_rows``. Only open_tasks is read unless
    the sort or the search needs the case, so a page is found without touching every case.
    ``due_from``/``due_before`` keep steps due in that window (undated steps drop out); ``search``
    matches the case reference or the person's name, case-insensitively."""
    keys, _descending = inbox_keys(sort)
    query = select(OpenTask.id, *keys).where(_actionable(session, user), may_see(user, today, OpenTask.case_id))
    if sort == "case" or search:
        query = query.join(Case, Case.id == OpenTask.case_id)
    if case_id is not None:
        query = query.where(OpenTask.case_id == case_id)
    if due_from is not None:
        query = query.where(OpenTask.due_at >= due_from)
    if due_before is not None:
        query = query.where(OpenTask.due_at < due_before)
    if search:
        needle = search.casefold()
        query = query.outerjoin(Person, Person.id == Case.person_id).where(or_(
            casefold(Case.reference).contains(needle, autoescape=True),
            casefold(Person.full_name).contains(needle, autoescape=True)))
    return query


def inbox_rows(session: Session, user: User, today: date, task_ids: list[int]) -> list[tuple[OpenTask, Case, Access]]:
    """The steps ``task_ids`` (one page of the inbox) with their cases and the user's access to
    each, in that order, in one query."""
    if not task_ids:
        return []
    found = {task.id: (task, case, Access(level)) for task, case, level in session.execute(
        select(OpenTask, Case, access_level(user, today)).join(Case, Case.id == OpenTask.case_id)
        .where(OpenTask.id.in_(task_ids)))}
    return [found[task_id] for task_id in task_ids if task_id in found]


def inbox_cases(session: Session, user: User, today: date) -> list[tuple[int, str]]:
    """(id, reference) of the cases with steps in the user's inbox, for its case filter; empty
    when they are more than ``MAX_FILTER_CASES`` (a list that long is no help: search instead)."""
    case_ids = session.scalars(
        select(OpenTask.case_id).where(_actionable(session, user), may_see(user, today, OpenTask.case_id))
        .distinct().limit(MAX_FILTER_CASES + 1)).all()
    if not case_ids or len(case_ids) > MAX_FILTER_CASES:
        return []
    return session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids))
                           .order_by(Case.reference)).all()


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
    statement = _task_page_statement(user.has_role(*REGISTER_ROLES), tuple(served_unit_lanes(session, user)),
                                     with_instance)
    row = session.execute(statement, {"user_id": user.id, "today": today, "instance_id": instance_id,
                                      "task_id": task_id}).first()
    if row is None or row[2] == Access.NONE:
        return None
    return TaskPage(row[0], row[1], Access(row[2]), row[3] if with_instance else None)


@functools.lru_cache(maxsize=64)
def _task_page_statement(register_role: bool, unit_lanes: tuple[str, ...], with_instance: bool) -> Select:
    """The task page's query, built once per kind of user (on every completion, building it
    would cost more than running it); the user, the day and the step are its parameters."""
    user_id, today = bindparam("user_id", type_=Integer), bindparam("today", type_=Date)
    entities = [OpenTask, Case, access_rule(register_role, user_id, today)]
    query = select(*entities + ([ProcessInstance] if with_instance else [])).join(
        Case, Case.id == OpenTask.case_id).where(
        OpenTask.instance_id == bindparam("instance_id", type_=Integer),
        OpenTask.task_id == bindparam("task_id", type_=String), _actionable_rule(user_id, unit_lanes))
    if with_instance:
        query = query.join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
    return query


def task_for(session: Session, user: User, instance_id: int, task_id: str) -> OpenTask | None:
    return session.scalar(select(OpenTask).where(
        OpenTask.instance_id == instance_id, OpenTask.task_id == task_id, _actionable(session, user)))


def actionable_ids(session: Session, user: User, case_id: int) -> set[int]:
    """Ids of the case's open steps the user can act on (one query for the whole list)."""
    return set(session.scalars(select(OpenTask.id).where(OpenTask.case_id == case_id, _actionable(session, user))))


def case_tasks(session: Session, case_id: int) -> list[OpenTask]:
    return list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)
                                .order_by(OpenTask.created_at, OpenTask.id)))
