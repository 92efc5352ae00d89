"""Closing a group and re-establishing a closed one. Each function is one state change with its
audit event; the closing episode (processes/closing.bpmn) calls them through handlers/closing.py."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.cases import operations as case_ops
from webapp.cases.models import (
    CLOSING_INITIATORS,
    GROUP_ROLES,
    Case,
    CaseClosure,
    CaseMember,
    Consent,
    CoordinatorAppointment,
)
from webapp.cases.operations import DomainError
from webapp.closing.queries import open_closure, reestablished_as
from webapp.evaluations import operations as evaluation_ops
from webapp.meetings.models import Measure, Meeting
from webapp.plans import operations as plan_ops
from webapp.settings.operations import get_setting
from webapp.transitions import operations as transition_ops

#: Statuses from which a group can be closed (a refused consent ends as not established).
CLOSABLE = ("requested", "awaiting_consent", "establishing", "active", "consent_withdrawn")
INITIATOR_LABELS = {"person": "personen selv", "guardian": "foresatte", "evaluation": "evaluering",
                    "consent_withdrawal": "tilbaketrukket samtykke"}
#: Episodes that outlive the group: deviations are the system owner's once escalated (guideline 004).
OUTLIVES_GROUP = ("deviation",)
#: The person's side of the group, carried over to a re-established group.
PERSONS_SIDE = tuple(GROUP_ROLES[part] for part in ("person", "guardian", "relative"))






def start_closing(session: Session, case: Case, *, initiated_by: str, requested_by_name: str | None,
                  request_reason: str | None, at: datetime, actor_id: int | None,
                  start_episode: Callable[[str, dict], int]) -> CaseClosure:
    """Record who asked for the closing and start its episode (the coordinator confirms it)."""
    if initiated_by not in CLOSING_INITIATORS:
        raise DomainError("Ukjent grunn til avslutning.")
    if case.status not in CLOSABLE:
        raise DomainError("Saken kan ikke avsluttes i denne statusen.")
    if open_closure(session, case.id) is not None:
        raise DomainError("Avslutning av gruppen er allerede startet.")
    closure = CaseClosure(case_id=case.id, initiated_by=initiated_by, requested_by_name=requested_by_name,
                          request_reason=request_reason, started_at=at, started_by_id=actor_id)
    session.add(closure)
    session.flush()
    record(session, "closing_started", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Avslutning startet (%(initiator)s)", initiator=INITIATOR_LABELS[initiated_by]),
           closure_id=closure.id,
           initiated_by=initiated_by)
    closure.instance_id = start_episode("closing", {"closure_id": closure.id, "initiated_by": initiated_by})
    return closure


def get_closure(session: Session, case: Case, closure_id) -> CaseClosure:
    try:
        closure = session.get(CaseClosure, int(closure_id))
    except (TypeError, ValueError):
        closure = None
    if closure is None or closure.case_id != case.id:
        raise DomainError("Avslutningen finnes ikke i denne saken.")
    return closure


def confirm(session: Session, closure: CaseClosure, *, confirmed: bool, confirmed_with: str | None,
            confirmed_on: date | None, reason: str, at: datetime, actor_id: int | None) -> None:
    closure.confirmed_with_person, closure.confirmed_with = confirmed, confirmed_with
    closure.confirmed_on, closure.reason = confirmed_on, reason
    record(session, "closing_confirmed" if confirmed else "closing_not_confirmed", at=at, actor_id=actor_id,
           case_id=closure.case_id, closure_id=closure.id,
           **(titled("Avslutningen er bekreftet med personen") if confirmed
              else titled("Avslutningen ble ikke bekreftet")))


def keep_open(session: Session, closure: CaseClosure, *, at: datetime, actor_id: int | None) -> None:
    closure.status = "not_closed"
    record(session, "closing_stopped", at=at, actor_id=actor_id, case_id=closure.case_id,
           **titled("Gruppen fortsetter"), closure_id=closure.id, reason=closure.reason)


def record_final_minutes(session: Session, closure: CaseClosure, minutes: dict, *, at: datetime,
                         actor_id: int | None) -> None:
    closure.final_minutes = minutes
    record(session, "final_minutes_recorded", at=at, actor_id=actor_id, case_id=closure.case_id,
           **titled("Sluttreferat registrert"), closure_id=closure.id)


def close_case(session: Session, case: Case, closure: CaseClosure, *, report_pdf: bytes, at: datetime,
               today: date, actor_id: int | None) -> None:
    """Close the group: members' access ends (the coordinator keeps reading for the configured
    period), the consent ends, planned meetings, evaluations and transitions are cancelled, open
    measures are closed, the plan ends, and the report is archived. The caller cancels the running episodes."""
    reason = "Ansvarsgruppen er avsluttet"
    appointment = case_ops.current_coordinator(session, case.id)
    closure.coordinator_user_id = appointment.user_id if appointment else None
    closure.coordinator_access_until = today + relativedelta(months=int(get_setting(session, "coordinator_read_months")))
    closure.reported_to = get_setting(session, "closing_reported_to")
    closure.report_pdf, closure.status, closure.closed_at, closure.closed_by_id = report_pdf, "closed", at, actor_id
    for member in session.scalars(select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.active.is_(True))):
        member.active, member.left_reason = False, reason
    for appointment in session.scalars(select(CoordinatorAppointment).where(  # objects: cases.batch
            CoordinatorAppointment.case_id == case.id, CoordinatorAppointment.ended_at.is_(None))):
        appointment.ended_at = at
    session.execute(update(Consent).where(Consent.case_id == case.id, Consent.ended_at.is_(None))
                    .values(ended_at=at, end_reason=reason))
    session.execute(update(Meeting).where(Meeting.case_id == case.id, Meeting.status.in_(("planned", "invited")))
                    .values(status="cancelled"))
    session.execute(update(Measure).where(Measure.case_id == case.id, Measure.status == "open")
                    .values(status="not_done", reason=reason, closed_at=at))
    evaluation_ops.cancel_scheduled(session, case.id, at=at, actor_id=actor_id, reason=reason)
    transition_ops.cancel_open(session, case.id, at=at, actor_id=actor_id, reason=reason)
    plan_ops.end_plan(session, case.id, at=at, actor_id=actor_id, reason=reason)
    case.closed_at = at
    case_ops.change_status(session, case, "closed", at=at, actor_id=actor_id,
                           reason=f"Avsluttet (startet av {INITIATOR_LABELS[closure.initiated_by]})")
    record(session, "case_closed", at=at, actor_id=actor_id, case_id=case.id, **titled("Ansvarsgruppen er avsluttet"),
           closure_id=closure.id, reported_to=closure.reported_to,
           coordinator_access_until=closure.coordinator_access_until.isoformat())






def reestablish(session: Session, previous: Case, *, requested_by_kind: str, requested_by_name: str | None,
                wish: str, at: datetime, actor_id: int | None) -> Case:
    """A new group for the same person on a changed need: a new case linked to the closed one
    (whose history stays as it was), with the person's side carried over; the caller starts its
    establishment episode (new coordinator, new consent)."""
    if previous.status != "closed":
        raise DomainError("Bare en avsluttet gruppe kan opprettes på nytt.")
    if reestablished_as(session, previous.id) is not None:
        raise DomainError("Gruppen er allerede opprettet på nytt.")
    person = previous.person
    case = case_ops.open_case(session, f"Ansvarsgruppe for {person.full_name}", at=at, actor_id=actor_id,
                              person=person)
    case.previous_case_id = previous.id
    case.requested_by_kind, case.requested_by_name = requested_by_kind, requested_by_name
    case.registered_by_id, case.wish = actor_id, wish
    carried = session.scalars(select(CaseMember).where(CaseMember.case_id == previous.id,
                                                       CaseMember.role.in_(PERSONS_SIDE))
                              .order_by(CaseMember.id)).all()
    seen = set()
    for member in carried:
        if (member.name, member.role) in seen:
            continue
        seen.add((member.name, member.role))
        case_ops.add_member(session, case, member.name, member.role, at=at, actor_id=actor_id,
                            email=member.email, phone=member.phone)
    record(session, "case_reestablished", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Opprettet på nytt etter %(reference)s", reference=previous.reference),
           previous_case_id=previous.id)
    record(session, "case_reestablished", at=at, actor_id=actor_id, case_id=previous.id,
           **titled("Gruppen er opprettet på nytt som %(reference)s", reference=case.reference), new_case_id=case.id)
    return case
