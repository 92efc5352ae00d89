"""State changes of deviations (guideline 004); each writes its audit event.

A deviation is *open* while the coordinator follows it up, *escalated* when the group cannot close
it (or did not within the municipality's deadline) and the system owner handles it, and *closed*
either in the group or by the system owner. Audit events carry the deviation's id, never its text:
the timeline of the case must not repeat what was reported.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.cases.models import ENDED_STATUSES, Case
from webapp.cases.operations import DomainError
from webapp.clock import OSLO
from webapp.deviations.models import Deviation

#: a case in one of these states takes no new deviations (nothing runs in it any more)
ENDED_CASE_STATUSES = (*ENDED_STATUSES, "consent_withdrawn")


def record_deviation(session: Session, case: Case, *, title: str, description: str, happened_on: date | None,
                     reported_by_id: int | None, reported_by_name: str, at: datetime) -> Deviation:
    if case.status in ENDED_CASE_STATUSES:
        raise DomainError("Saken er avsluttet; avvik kan ikke registreres.")
    if happened_on is not None and happened_on > at.astimezone(OSLO).date():
        raise DomainError("Datoen for avviket kan ikke være fram i tid.")
    deviation = Deviation(case_id=case.id, title=title, description=description, happened_on=happened_on,
                          reported_by_id=reported_by_id, reported_by_name=reported_by_name, reported_at=at,
                          status="open")
    session.add(deviation)
    session.flush()
    record(session, "deviation_recorded", at=at, actor_id=reported_by_id, case_id=case.id,
           **titled("Avvik registrert"), deviation_id=deviation.id)
    return deviation


def follow_up(session: Session, deviation: Deviation, what_was_done: str, *, closed: bool, at: datetime,
              actor_id: int | None) -> None:
    """The coordinator's follow-up: closes the deviation in the group, or notes what was done
    before it goes to the system owner (``escalate``)."""
    if deviation.status != "open":
        raise DomainError("Avviket er ikke lenger til oppfølging i gruppen.")
    deviation.follow_up, deviation.closed_in_group = what_was_done, closed
    if closed:
        deviation.status, deviation.closed_at, deviation.closed_by_id = "closed", at, actor_id
        record(session, "deviation_closed_in_group", at=at, actor_id=actor_id, case_id=deviation.case_id,
               **titled("Avvik lukket i ansvarsgruppen"), deviation_id=deviation.id)
    else:
        record(session, "deviation_not_closed_in_group", at=at, actor_id=actor_id, case_id=deviation.case_id,
               **titled("Avvik kan ikke lukkes i ansvarsgruppen"), deviation_id=deviation.id)


def escalate(session: Session, deviation: Deviation, reason: str, *, at: datetime, actor_id: int | None) -> None:
    """Hand the deviation to the system owner (the group could not close it, or the deadline passed)."""
    if deviation.status != "open":
        raise DomainError("Bare åpne avvik kan sendes til systemansvarlig.")
    if not reason.strip():
        raise DomainError("Skriv hvorfor avviket ikke kan lukkes i gruppen.")
    deviation.status, deviation.escalation_reason, deviation.escalated_at = "escalated", reason, at
    if deviation.closed_in_group is None:  # not answered in the group within the deadline
        deviation.closed_in_group = False
    record(session, "deviation_escalated", at=at, actor_id=actor_id, case_id=deviation.case_id,
           **titled("Avvik sendt til systemansvarlig"), deviation_id=deviation.id)


def close_by_system_owner(session: Session, deviation: Deviation, action: str, *, at: datetime,
                          actor_id: int | None) -> None:
    if deviation.status != "escalated":
        raise DomainError("Avviket er ikke sendt til systemansvarlig.")
    if not action.strip():
        raise DomainError("Skriv hva som er gjort med avviket.")
    deviation.status, deviation.system_owner_action = "closed", action
    deviation.closed_at, deviation.closed_by_id = at, actor_id
    record(session, "deviation_closed_by_system_owner", at=at, actor_id=actor_id, case_id=deviation.case_id,
           **titled("Avvik lukket av systemansvarlig"), deviation_id=deviation.id)


def open_count(session: Session, case_id: int) -> int:
    """Deviations of the case that are not closed (open in the group or with the system owner)."""
    return session.scalar(select(func.count(Deviation.id)).where(
        Deviation.case_id == case_id, Deviation.status != "closed")) or 0


def case_deviations(session: Session, case_id: int) -> list[Deviation]:
    """The case's deviations, newest first."""
    return list(session.scalars(select(Deviation).where(Deviation.case_id == case_id)
                                .order_by(Deviation.reported_at.desc(), Deviation.id.desc())))
