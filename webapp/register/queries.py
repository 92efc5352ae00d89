"""The register listing: one row of register data per case, read with a fixed number of queries
(one per column family, never one per case). Register data only: who, coordinator, status and
dates — no minutes, matters, measures, plan contents, evaluation texts or consent details. Of a
plan the list shows only its next revision date (a date of the adopted plan: register data)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import Case, CoordinatorAppointment, Person
from webapp.evaluations.models import Evaluation
from webapp.clock import OSLO
from webapp.db import casefold
from webapp.paging import Page, paginate
from webapp.meetings.models import Meeting
from webapp.plans.models import Plan
from webapp.register.meeting_due import due_since_column
from webapp.transitions.models import Transition

COMING_MEETING = ("planned", "invited")
OPEN_TRANSITION = ("planned", "under_review")


@dataclass(frozen=True)
class RegisterRow:
    case_id: int
    reference: str
    status: str
    person_name: str | None
    birth_date: date | None
    coordinator_name: str | None
    coordinator_kind: str | None
    #: the newest held meeting's own date (kept on the case: cases/summary.py)
    last_meeting_at: datetime | None
    next_meeting_at: datetime | None
    #: a meeting is being planned but has no date yet
    meeting_in_planning: bool
    next_evaluation_on: date | None
    next_transition_kind: str | None
    next_transition_on: date | None
    #: the day an active group fell due for a meeting (setting meeting_interval_months), or None;
    #: kept on the case, as the cockpit and the case page read it
    meeting_due_since: date | None = None
    #: the adopted plan's (individual plan or relay log) next revision date; None without one
    next_plan_revision_on: date | None = None


def next_plan_revision():
    """The adopted plan's revision date, correlated to ``cases.id`` (a case has at most one
    current plan; ``ix_plans_case_id`` finds it)."""
    return (select(func.min(Plan.revision_due_on)).where(Plan.case_id == Case.id, Plan.status == "adopted")
            .scalar_subquery())


def register_page(session: Session, *, now: datetime, status: str | None = None, search: str | None = None,
                  cursor: str | None = None) -> Page:
    """One page of cases (or those with ``status``; ``search`` in the person's name or the
    reference, case-insensitively), ordered by reference; ``page.rows`` are ``RegisterRow``s.
    The plan's revision date is a correlated subquery of the page's own query (fifty lookups by
    index, no extra statement); the count reads the cases without it."""
    query = select(Case.id, Case.status, Person.full_name, Person.birth_date, Case.reference,
                   Case.last_meeting_at, due_since_column(now.astimezone(OSLO).date()).label("meeting_due_since"),
                   ).outerjoin(Person, Person.id == Case.person_id)
    if status:
        query = query.where(Case.status == status)
    if search:
        needle = search.casefold()
        query = query.where(or_(casefold(Case.reference).contains(needle, autoescape=True),
                                casefold(Person.full_name).contains(needle, autoescape=True)))
    page = paginate(session, query.add_columns(next_plan_revision().label("next_plan_revision_on")),
                    [Case.reference, Case.id], cursor, key_of=lambda row: (row.reference, row.id))
    if not search:  # counting a search would read every name twice: the page says "50 per page"
        page.total = session.scalar(select(func.count()).select_from(query.subquery()))
    page.rows = _register_rows(session, page.rows, now)
    return page


def _register_rows(session: Session, cases, now: datetime) -> list[RegisterRow]:
    """The register data of ``cases`` (one page), one query per column family."""
    if not cases:
        return []
    in_selection = [c.id for c in cases]
    # the newest appointment not ended (as cases.operations.current_coordinator); for a closed
    # group, whose appointment ended with it, the last one
    coordinators = {}
    for case_id, kind, name in session.execute(
            select(CoordinatorAppointment.case_id, CoordinatorAppointment.kind, User.full_name)
            .join(User, User.id == CoordinatorAppointment.user_id)
            .where(CoordinatorAppointment.case_id.in_(in_selection))
            .order_by(CoordinatorAppointment.ended_at.is_(None), CoordinatorAppointment.id)):
        coordinators[case_id] = (name, kind)
    next_meeting = dict(session.execute(
        select(Meeting.case_id, func.min(Meeting.starts_at))
        .where(Meeting.status.in_(COMING_MEETING), Meeting.starts_at >= now, Meeting.case_id.in_(in_selection))
        .group_by(Meeting.case_id)).all())
    in_planning = set(session.scalars(
        select(Meeting.case_id).where(Meeting.status == "planned", Meeting.starts_at.is_(None),
                                      Meeting.case_id.in_(in_selection)).distinct()))
    next_evaluation = dict(session.execute(
        select(Evaluation.case_id, func.min(Evaluation.due_on))
        .where(Evaluation.status == "scheduled", Evaluation.case_id.in_(in_selection))
        .group_by(Evaluation.case_id)).all())
    next_transition: dict[int, tuple[str, date]] = {}
    for case_id, kind, on_date in session.execute(
            select(Transition.case_id, Transition.kind, Transition.on_date)
            .where(Transition.status.in_(OPEN_TRANSITION), Transition.case_id.in_(in_selection))
            .order_by(Transition.on_date.desc(), Transition.id.desc())):
        next_transition[case_id] = (kind, on_date)  # the earliest wins

    rows = []
    for c in cases:
        coordinator_name, coordinator_kind = coordinators.get(c.id, (None, None))
        transition_kind, transition_on = next_transition.get(c.id, (None, None))
        rows.append(RegisterRow(
            case_id=c.id, reference=c.reference, status=c.status, person_name=c.full_name,
            birth_date=c.birth_date, coordinator_name=coordinator_name, coordinator_kind=coordinator_kind,
            last_meeting_at=c.last_meeting_at, next_meeting_at=next_meeting.get(c.id),
            meeting_in_planning=c.id in in_planning, next_evaluation_on=next_evaluation.get(c.id),
            next_transition_kind=transition_kind, next_transition_on=transition_on,
            meeting_due_since=c.meeting_due_since,
            next_plan_revision_on=c.next_plan_revision_on))
    return rows
