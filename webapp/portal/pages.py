"""What the person's pages read: the group, its meetings, the person's steps and the deadlines
that concern them (read-only queries, a fixed number per page)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import CaseMember
from webapp.cases.operations import active_consent, coordinator_user
from webapp.cases.own_access import Standing, person_side
from webapp.cases.roles import PERSON_LANE
from webapp.engine.models import OpenTask
from webapp.evaluations.models import Evaluation
from webapp.meetings.models import Measure, Meeting, MeetingReply, MeetingRequest
from webapp.plans import operations as plan_ops
from webapp.transitions.models import Transition


#: a user without a part in the group, named by their office (the lane names ``role_label`` knows,
#: then "admin" and "staff")
OFFICES = (("coordinating_unit", "koordinerende_enhet"), ("system_owner", "systemansvarlig"), ("admin", "admin"))


@dataclass
class Deadline:
    on: date | datetime
    what: str  # a key the template names: meeting, measure, plan_revision, evaluation, transition, step
    detail: str | None = None


def overview(s: Session, mine: Standing, user: User, today: date) -> dict:
    case = mine.case
    consent = active_consent(s, case.id)
    members = list(s.scalars(select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.active.is_(True))
                             .order_by(CaseMember.id)))
    coordinator = coordinator_user(s, case.id)
    context = {"case": case, "consent": consent, "members": members, "coordinator": coordinator,
               "consent_step": None, "steps": [], "next_meeting": None, "past_meetings": [],
               "deadlines": [], "plan_version": None, "requests": []}
    if consent is None:
        context["consent_step"] = consent_step(s, case.id)
        return context
    meetings = list(s.scalars(select(Meeting).where(Meeting.case_id == case.id, Meeting.status != "cancelled")
                              .order_by(Meeting.number)))
    upcoming = [m for m in meetings if m.status in ("planned", "invited")]
    context["next_meeting"] = upcoming[0] if upcoming else None
    context["past_meetings"] = [m for m in reversed(meetings) if m.status in ("approved", "distributed")]
    if user.id in person_side(s, case.id, today):
        context["steps"] = list(s.scalars(select(OpenTask).where(OpenTask.case_id == case.id,
                                                                 OpenTask.lane == PERSON_LANE)))
    plan = plan_ops.latest_plan(s, case.id)
    approved = plan_ops.latest_approved(s, plan) if plan is not None else None
    context["plan_version"] = approved
    context["requests"] = list(s.scalars(select(MeetingRequest).where(
        MeetingRequest.case_id == case.id, MeetingRequest.member_id == mine.member.id,
        MeetingRequest.handled_at.is_(None))))
    context["deadlines"] = deadlines(s, mine, plan if approved is not None else None, context, today)
    return context


def deadlines(s: Session, mine: Standing, plan, context: dict, today: date) -> list[Deadline]:
    """The dates that concern the person: the next meeting, their open steps, measures the person
    or the guardian is responsible for, the plan's revision, the next evaluation and transitions."""
    found = []
    if context["next_meeting"] is not None and context["next_meeting"].starts_at:
        found.append(Deadline(context["next_meeting"].starts_at, "meeting"))
    for step in context["steps"]:
        if step.due_at:
            found.append(Deadline(step.due_at, "step"))
    for measure in s.scalars(select(Measure).where(Measure.case_id == mine.case.id, Measure.status == "open",
                                                   Measure.responsible_member_id == mine.member.id)):
        found.append(Deadline(measure.deadline, "measure", measure.description))
    if plan is not None and plan.revision_due_on:
        found.append(Deadline(plan.revision_due_on, "plan_revision"))
    evaluation = s.scalar(select(Evaluation.due_on).where(Evaluation.case_id == mine.case.id,
                                                          Evaluation.status.in_(("scheduled", "started")))
                          .order_by(Evaluation.due_on).limit(1))
    if evaluation:
        found.append(Deadline(evaluation, "evaluation"))
    for transition in s.scalars(select(Transition).where(Transition.case_id == mine.case.id,
                                                         Transition.status.in_(("planned", "under_review")), Transition.on_date >= today)
                                .order_by(Transition.on_date).limit(3)):
        found.append(Deadline(transition.on_date, "transition", transition.kind))
    return sorted(found, key=lambda d: d.on if isinstance(d.on, date) and not isinstance(d.on, datetime)
                  else d.on.date())


def roles_in_case(s: Session, case_id: int, user_ids: set[int]) -> dict[int, str]:
    """User id -> their role as the log shows it: their part in this group, else their office
    (the coordinating unit, the system owner, an administrator)."""
    if not user_ids:
        return {}
    roles = {}
    for user_id, role in s.execute(select(CaseMember.user_id, CaseMember.role).where(
            CaseMember.case_id == case_id, CaseMember.user_id.in_(user_ids)).order_by(CaseMember.id)):
        roles.setdefault(user_id, role)
    for user in s.scalars(select(User).where(User.id.in_(user_ids - roles.keys()))):
        roles[user.id] = next((label for role, label in OFFICES if user.has_role(role)), "staff")
    return roles


def consent_step(s: Session, case_id: int) -> OpenTask | None:
    """The establishment's open consent step (the written consent the person or guardians may
    give here), by its form: a transition review's consent step is another form."""
    return s.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == "consent",
                                           OpenTask.form == "consent.json").order_by(OpenTask.id).limit(1))


def person_side_view(s: Session, case_id: int, meetings: list[Meeting]) -> dict:
    """For the coordinator's case page: the person's and guardians' latest replies to the coming
    meetings, and their requests for a meeting not yet seen to."""
    upcoming = [m.id for m in meetings if m.status in ("planned", "invited")]
    members = {m.id: m for m in s.scalars(select(CaseMember).where(CaseMember.case_id == case_id))}
    latest: dict = {}
    if upcoming:
        for reply in s.scalars(select(MeetingReply).where(MeetingReply.meeting_id.in_(upcoming))
                               .order_by(MeetingReply.id)):
            latest[(reply.meeting_id, reply.member_id)] = reply
    requests = s.scalars(select(MeetingRequest).where(MeetingRequest.case_id == case_id,
                                                      MeetingRequest.handled_at.is_(None)).order_by(MeetingRequest.id))
    return {"replies": [(r, members[r.member_id]) for r in latest.values()],
            "requests": [(r, members[r.member_id]) for r in requests]}
