"""Reading the open-task projection (never the workflows) for inboxes and case pages."""
from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember
from webapp.cases.roles import UNIT_ROLES
from webapp.engine.models import OpenTask


def _actionable(user: User):
    """SQL condition: the user can act on the open task."""
    holds_lane = exists().where(
        CaseMember.case_id == OpenTask.case_id, CaseMember.role == OpenTask.lane,
        CaseMember.user_id == user.id, CaseMember.active.is_(True))
    unit_lanes = [lane for lane, role in UNIT_ROLES.items() if user.has_role(role)]
    conditions = [OpenTask.assignee_id == user.id, and_(OpenTask.assignee_id.is_(None), holds_lane)]
    if unit_lanes:
        conditions.append(OpenTask.lane.in_(unit_lanes))
    return or_(*conditions)


def inbox(session: Session, user: User) -> list[tuple[OpenTask, Case]]:
    rows = session.execute(
        select(OpenTask, Case).join(Case, Case.id == OpenTask.case_id)
        .where(_actionable(user))
        .order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.created_at))
    return [tuple(row) for row in rows]


def task_for(session: Session, user: User, instance_id: int, task_id: str) -> OpenTask | None:
    return session.scalar(select(OpenTask).where(
        OpenTask.instance_id == instance_id, OpenTask.task_id == task_id, _actionable(user)))


def next_task_in_case(session: Session, user: User, case_id: int, instance_id: int | None = None) -> OpenTask | None:
    """The user's next step in the case: in the same episode first (the flow they are in), then
    the oldest in the case."""
    query = select(OpenTask).where(OpenTask.case_id == case_id, _actionable(user))
    if instance_id is not None:
        query = query.order_by(OpenTask.instance_id != instance_id)
    return session.scalar(query.order_by(OpenTask.created_at, OpenTask.id).limit(1))


def case_tasks(session: Session, case_id: int) -> list[OpenTask]:
    return list(session.scalars(select(OpenTask).where(OpenTask.case_id == case_id)
                                .order_by(OpenTask.created_at, OpenTask.id)))
