"""Every state change the person and guardians make on their own pages (each writes its audit
event): linking a login to the group, answering a meeting, asking for one, and the young
person's answer about the guardians' access."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.auth.models import CITIZEN, User
from webapp.auth.passwords import hash_password
from webapp.cases.models import Case, CaseMember, Person
from webapp.cases.operations import DomainError, coordinator_user, current_coordinator
from webapp.cases.roles import PERSON_LANE
from webapp.meetings.models import Meeting, MeetingReply, MeetingRequest
from webapp.outbox.operations import Outbox, base_url


def members_for(session: Session, digest: str) -> list[CaseMember]:
    """The member rows a national identity number (as its digest) stands for: the person's own
    row in each of their groups, and every guardian row with that number."""
    person_ids = select(Person.id).where(Person.national_id_digest == digest)
    cases_of_person = select(Case.id).where(Case.person_id.in_(person_ids))
    return list(session.scalars(select(CaseMember).where(CaseMember.active.is_(True), or_(
        (CaseMember.role == "bruker") & CaseMember.case_id.in_(cases_of_person),
        (CaseMember.role == "foresatt") & (CaseMember.national_id_digest == digest))).order_by(CaseMember.id)))


def link_citizen(session: Session, digest: str, *, at: datetime, reassign) -> User | None:
    """The citizen account for an ID-porten login, linked to every member row the number stands
    for; None (and nothing stored) when it stands for none. ``reassign(session, case_id, lane=,
    from_user_id=)`` moves the person's open steps from the coordinator to them."""
    members = members_for(session, digest)
    if not members:
        return None
    user = session.scalar(select(User).where(User.national_id_digest == digest))
    if user is None:
        user = User(username=f"id-{digest[:20]}", full_name=members[0].name, national_id_digest=digest,
                    password_hash=hash_password(secrets.token_urlsafe(32)), roles=CITIZEN, created_at=at)
        session.add(user)
        session.flush()
        record(session, "citizen_account_created", at=at, actor_id=user.id, user_id=user.id,
               **titled("Innbyggerkonto opprettet ved innlogging"))
    if not user.active:
        return None
    for member in members:
        if member.user_id == user.id:
            continue
        member.user_id = user.id
        record(session, "citizen_linked", at=at, actor_id=user.id, case_id=member.case_id, member_id=member.id,
               **titled("%(name)s logget inn for første gang", name=member.name))
        coordinator = current_coordinator(session, member.case_id)
        if coordinator is not None:
            reassign(session, member.case_id, lane=PERSON_LANE, from_user_id=coordinator.user_id)
    return user


def reply_to_meeting(session: Session, meeting: Meeting, member: CaseMember, *, attends: bool, note: str | None,
                     at: datetime, actor_id: int) -> MeetingReply:
    if meeting.status not in ("planned", "invited"):
        raise DomainError("Møtet er holdt eller avlyst.")
    reply = MeetingReply(meeting_id=meeting.id, member_id=member.id, attends=attends, note=note or None, at=at)
    session.add(reply)
    record(session, "meeting_replied", at=at, actor_id=actor_id, case_id=meeting.case_id, meeting_id=meeting.id,
           **(titled("%(name)s kommer på møtet", name=member.name) if attends
              else titled("%(name)s kommer ikke på møtet", name=member.name)))
    return reply


def latest_replies(session: Session, meeting_id: int) -> dict[int, MeetingReply]:
    """Member id -> their latest reply to the meeting."""
    replies = session.scalars(select(MeetingReply).where(MeetingReply.meeting_id == meeting_id)
                              .order_by(MeetingReply.id))
    return {reply.member_id: reply for reply in replies}


def request_meeting(session: Session, case: Case, member: CaseMember, *, reason: str, clock,
                    actor_id: int) -> MeetingRequest:
    """The request, its audit event, and an e-mail that tells the coordinator (with a link; what
    the person wrote stays in the app)."""
    at = clock.now()
    request = MeetingRequest(case_id=case.id, member_id=member.id, reason=reason, at=at)
    session.add(request)
    session.flush()
    record(session, "meeting_requested", at=at, actor_id=actor_id, case_id=case.id, request_id=request.id,
           **titled("%(name)s ber om et møte", name=member.name))
    coordinator = coordinator_user(session, case.id)
    if coordinator is not None and coordinator.email:
        # written plain (nothing of what they wrote), so the link is in the text itself
        Outbox(session, clock, case.id).send(
            coordinator.email, f"Ønske om møte i ansvarsgruppen ({case.reference})",
            "Personen eller foresatte ber om et møte i ansvarsgruppen. Logg inn for å se ønsket:\n"
            f"{base_url()}/saker/{case.id}", plain=True)
    return request


def handle_meeting_request(session: Session, request: MeetingRequest, *, at: datetime, actor_id: int) -> None:
    request.handled_at = at
    record(session, "meeting_request_handled", at=at, actor_id=actor_id, case_id=request.case_id,
           request_id=request.id, **titled("Ønsket om møte er fulgt opp"))


def set_guardians_may_see(session: Session, case: Case, allowed: bool, *, at: datetime, actor_id: int) -> None:
    """The young person's answer: may the guardians see the group on their own pages?"""
    if case.guardians_may_see is allowed:
        return
    case.guardians_may_see = allowed
    record(session, "guardians_access_changed", at=at, actor_id=actor_id, case_id=case.id, allowed=allowed,
           **(titled("Personen gir foresatte innsyn i saken") if allowed
              else titled("Personen gir ikke foresatte innsyn i saken")))

