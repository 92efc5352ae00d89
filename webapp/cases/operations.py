"""State changes of cases, members, appointments and consent. Each writes its audit event in the
same transaction (see webapp/audit)."""
from __future__ import annotations

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.auth.models import User
from webapp.cases import identity
from webapp.cases.batch import loaded
from webapp.cases.models import (
    ENDED_STATUSES, GROUP_ROLES, Case, CaseMember, CaseStatusChange, Consent, CoordinatorAppointment, Person, Unit,
)


#: Who leads the group: coordinator, child coordinator, the relay holder (guideline 000), or by age
#: stage the health nurse or the school (guideline 001).
APPOINTMENT_KINDS = ("coordinator", "child_coordinator", "relay_holder", "health_nurse", "school")


class DomainError(ValueError):
    """A request that breaks a rule of the domain; the message is Norwegian, for the user."""


def _next_reference(session: Session, at: datetime) -> str:
    count = session.scalar(select(func.count(Case.id))) or 0
    return f"AG-{at.year}-{count + 1:04d}"


def open_case(session: Session, title: str, *, at: datetime, actor_id: int | None = None,
              reference: str | None = None, person: Person | None = None) -> Case:
    case = Case(title=title, reference=reference or _next_reference(session, at), created_at=at,
                status="requested", status_since=at, person_id=person.id if person else None)
    session.add(case)
    session.flush()
    session.add(CaseStatusChange(case_id=case.id, from_status=None, to_status="requested",
                                 actor_id=actor_id, at=at))
    record(session, "case_opened", at=at, actor_id=actor_id, case_id=case.id, case_title=title,
           **titled("Sak opprettet"))
    return case


def change_status(session: Session, case: Case, to_status: str, *, at: datetime,
                  actor_id: int | None, reason: str | None = None) -> None:
    if case.status == to_status:
        return
    session.add(CaseStatusChange(case_id=case.id, from_status=case.status, to_status=to_status,
                                 reason=reason, actor_id=actor_id, at=at))
    record(session, "case_status_changed", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Status: %(status)s", status=to_status), from_status=case.status, to_status=to_status,
           reason=reason)
    from webapp.register.owner_reports import report_status_change  # setting report_to_system_owner (004)
    report_status_change(session, case, case.status, to_status, at=at)
    case.status, case.status_reason, case.status_since = to_status, reason, at


def register_wish(session: Session, *, full_name: str, birth_date: date, at: datetime,
                  actor_id: int | None, national_id: str | None = None, phone: str | None = None,
                  email: str | None = None, address: str | None = None,
                  requested_by_kind: str = "person", requested_by_name: str | None = None,
                  wish: str | None = None, relatives: list[dict] | None = None) -> Case:
    """A wish for a responsibility group, registered by a staff member on someone's behalf."""
    person = Person(full_name=full_name, birth_date=birth_date, national_id=national_id or None,
                    national_id_digest=identity.digest(national_id), phone=phone, email=email, address=address, created_at=at)
    session.add(person)
    session.flush()
    case = open_case(session, f"Ansvarsgruppe for {full_name}", at=at, actor_id=actor_id, person=person)
    case.requested_by_kind = requested_by_kind
    case.requested_by_name = requested_by_name or (full_name if requested_by_kind == "person" else None)
    case.registered_by_id, case.wish = actor_id, wish
    add_member(session, case, full_name, GROUP_ROLES["person"], at=at, actor_id=actor_id,
               email=email, phone=phone)
    for relative in relatives or []:
        kind = "guardian" if relative.get("kind") == "guardian" else "relative"
        member = add_member(session, case, relative["name"], GROUP_ROLES[kind], at=at, actor_id=actor_id,
                            email=relative.get("email"), phone=relative.get("phone"))
        if kind == "guardian":  # how the guardian's ID-porten login finds them; only the digest is kept
            member.national_id_digest = identity.digest(relative.get("national_id"))
    record(session, "wish_registered", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Ønske om ansvarsgruppe registrert"), requested_by=requested_by_kind)
    return case


def add_member(session: Session, case: Case, name: str, role: str, *, at: datetime,
               actor_id: int | None = None, user_id: int | None = None, email: str | None = None,
               phone: str | None = None, unit_id: int | None = None, mandate: str | None = None) -> CaseMember:
    # joined by the relationship, so a case whose members are loaded (cases.roles) has it too
    member = CaseMember(case=case, name=name, role=role, user_id=user_id, email=email,
                        phone=phone, unit_id=unit_id, mandate=mandate, created_at=at)
    session.add(member)
    session.flush()
    record(session, "member_added", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Medlem lagt til: %(name)s", name=name), name=name, member_id=member.id, role=role)
    return member


def remove_member(session: Session, member: CaseMember, reason: str, *, at: datetime,
                  actor_id: int | None) -> None:
    member.active, member.left_reason = False, reason
    record(session, "member_removed", at=at, actor_id=actor_id, case_id=member.case_id,
           **titled("Medlem ute av gruppen: %(name)s", name=member.name), name=member.name, member_id=member.id,
           reason=reason)


def current_coordinator(session: Session, case_id: int) -> CoordinatorAppointment | None:
    appointments = loaded(session, case_id, "appointments")  # a worker batch's (cases.batch)
    if appointments is not None:
        return next((a for a in reversed(appointments) if a.ended_at is None), None)
    return session.scalar(select(CoordinatorAppointment).where(
        CoordinatorAppointment.case_id == case_id, CoordinatorAppointment.ended_at.is_(None))
        .order_by(CoordinatorAppointment.id.desc()).limit(1))


def coordinator_user(session: Session, case_id: int) -> User | None:
    """The current coordinator's account (None without a coordinator), as notices and pages name
    the coordinator: the appointment and its user in one query, or none in a worker batch."""
    if loaded(session, case_id, "appointments") is not None:  # with their users (cases.batch)
        appointment = current_coordinator(session, case_id)
        return appointment.user if appointment is not None else None
    return session.scalar(select(User).join(CoordinatorAppointment, CoordinatorAppointment.user_id == User.id)
                          .where(CoordinatorAppointment.case_id == case_id,
                                 CoordinatorAppointment.ended_at.is_(None))
                          .order_by(CoordinatorAppointment.id.desc()).limit(1))


def appoint_coordinator(session: Session, case: Case, user, *, kind: str, at: datetime,
                        actor_id: int | None, persons_wish: str | None = None,
                        wish_weighed: bool = False, reason: str | None = None,
                        keep_previous_member: bool = False) -> CoordinatorAppointment:
    """``keep_previous_member``: the previous coordinator stays a member (an overlap at a
    transition; transitions.operations ends it)."""
    if kind not in APPOINTMENT_KINDS:
        raise DomainError("Ukjent type koordinator.")
    previous = current_coordinator(session, case.id)
    if previous is not None:
        previous.ended_at = at
        for member in session.scalars(select(CaseMember).where(
                CaseMember.case_id == case.id, CaseMember.role == "koordinator",
                CaseMember.user_id == previous.user_id, CaseMember.active.is_(True))):
            if previous.user_id != user.id and not keep_previous_member:
                remove_member(session, member, "Ny koordinator oppnevnt", at=at, actor_id=actor_id)
    appointment = CoordinatorAppointment(case=case, user_id=user.id, kind=kind,
                                         appointed_by_id=actor_id, persons_wish=persons_wish,
                                         wish_weighed=wish_weighed, reason=reason, at=at)
    session.add(appointment)
    already = session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case.id, CaseMember.role == "koordinator",
        CaseMember.user_id == user.id, CaseMember.active.is_(True)))
    if already is None:
        add_member(session, case, user.full_name, "koordinator", at=at, actor_id=actor_id,
                   user_id=user.id, email=user.email)
    session.flush()
    record(session, "coordinator_appointed", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Koordinator oppnevnt: %(name)s", name=user.full_name), name=user.full_name, user_id=user.id,
           coordinator_kind=kind)
    if case.status == "requested":
        change_status(session, case, "awaiting_consent", at=at, actor_id=actor_id,
                      reason="Koordinator oppnevnt")
    return appointment


def active_consent(session: Session, case_id: int) -> Consent | None:
    return session.scalar(select(Consent).where(
        Consent.case_id == case_id, Consent.given.is_(True), Consent.withdrawn_at.is_(None),
        Consent.ended_at.is_(None)).order_by(Consent.id.desc()).limit(1))


def record_consent(session: Session, case: Case, *, given: bool, signed_by: str, signed_how: str,
                   signed_on: date, at: datetime, actor_id: int | None, statements: dict[str, bool],
                   refusal_reason: str | None = None, valid_months: int = 0,
                   given_by_user_id: int | None = None, assurance_level: str | None = None) -> Consent:
    """The written consent: on paper or in person (recorded by the coordinator), or ``digital``,
    given by the person or a guardian after logging in (``given_by_user_id``, with the login's
    assurance level)."""
    names = ("statement_composition", "statement_confidential", "statement_registration",
             "statement_voluntary")
    if given and not all(statements.get(n) for n in names):
        raise DomainError("Alle fire erklæringene må være bekreftet for at samtykket er gitt.")
    if not given and not (refusal_reason or "").strip():
        raise DomainError("Skriv hvorfor samtykke ikke er gitt.")
    composition = [{"name": m.name, "role": m.role} for m in session.scalars(select(CaseMember).where(
        CaseMember.case_id == case.id, CaseMember.active.is_(True)))]
    consent = Consent(case_id=case.id, given=given, signed_by=signed_by, signed_how=signed_how,
                      signed_on=signed_on, refusal_reason=refusal_reason, composition=composition,
                      recorded_by_id=actor_id, recorded_at=at, given_by_user_id=given_by_user_id,
                      assurance_level=assurance_level,
                      valid_until=(signed_on + relativedelta(months=valid_months)) if valid_months else None,
                      **{n: bool(statements.get(n)) for n in names})
    session.add(consent)
    session.flush()
    if given:
        record(session, "consent_given", at=at, actor_id=actor_id, case_id=case.id,
               **titled("Skriftlig samtykke registrert"), consent_id=consent.id)
        change_status(session, case, "establishing", at=at, actor_id=actor_id, reason="Samtykke gitt")
    else:
        record(session, "consent_refused", at=at, actor_id=actor_id, case_id=case.id,
               **titled("Samtykke ikke gitt"), consent_id=consent.id)
        change_status(session, case, "not_established", at=at, actor_id=actor_id,
                      reason=f"Samtykke ikke gitt: {refusal_reason}")
    return consent


def withdraw_consent(session: Session, case: Case, *, stated_by: str, reason: str, at: datetime,
                     actor_id: int | None) -> Consent:
    """Record a withdrawal (on the person's word). Access of members other than the coordinator
    ends at once (see cases.access); the caller cancels running episodes."""
    consent = active_consent(session, case.id)
    if consent is None:
        raise DomainError("Saken har ikke et gyldig samtykke som kan trekkes tilbake.")
    consent.withdrawn_at, consent.withdrawn_by_id = at, actor_id
    consent.withdrawal_reason = f"{stated_by}: {reason}"
    record(session, "consent_withdrawn", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Samtykke trukket tilbake"), stated_by=stated_by)
    change_status(session, case, "consent_withdrawn", at=at, actor_id=actor_id,
                  reason=f"Samtykket ble trukket tilbake av {stated_by}: {reason}")
    return consent


def set_mandate(session: Session, member: CaseMember, *, confirmed: bool, mandate: str | None,
                at: datetime, actor_id: int | None) -> None:
    if not confirmed:
        remove_member(session, member, "Takket nei til å delta", at=at, actor_id=actor_id)
        return
    member.mandate, member.mandate_clarified = mandate, True
    record(session, "mandate_clarified", at=at, actor_id=actor_id, case_id=member.case_id,
           **titled("Mandat avklart: %(name)s", name=member.name), name=member.name, member_id=member.id)


def record_plan_assessment(session: Session, case: Case, decision: str, *, at: datetime,
                           actor_id: int | None) -> None:
    if decision not in ("yes", "no", "later"):
        raise DomainError("Ugyldig vurdering av individuell plan.")
    case.individual_plan = decision
    record(session, "plan_need_assessed", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Behov for individuell plan vurdert"), decision=decision)


def activate(session: Session, case: Case, first_meeting_on: date, *, at: datetime,
             actor_id: int | None) -> None:
    case.first_meeting_on, case.activated_at = first_meeting_on, at
    change_status(session, case, "active", at=at, actor_id=actor_id,
                  reason=f"Første møte {first_meeting_on:%d.%m.%Y}")


def add_unit(session: Session, name: str, kind: str, *, at: datetime, actor_id: int | None) -> Unit:
    unit = Unit(name=name, kind=kind)
    session.add(unit)
    session.flush()
    record(session, "unit_added", at=at, actor_id=actor_id, unit_id=unit.id, name=name, kind=kind)
    return unit


# ----------------------------------------------------------------------------- wishes

def open_cases_for(session: Session, national_id: str | None, *, exclude_case_id: int | None = None) -> list[Case]:
    """Open cases (not ended, see ``ENDED_STATUSES``) of the person with this national identity
    number: a new wish for them is possibly a duplicate."""
    if not national_id:
        return []
    query = (select(Case).join(Person, Person.id == Case.person_id)
             .where(Person.national_id == national_id, Case.status.notin_(ENDED_STATUSES))
             .order_by(Case.id))
    if exclude_case_id is not None:
        query = query.where(Case.id != exclude_case_id)
    return list(session.scalars(query))


def decline_wish(session: Session, case: Case, *, reason: str, at: datetime, actor_id: int | None,
                 duplicate_of: Case | None = None) -> None:
    """End a wish before a coordinator is appointed: declined (with a reason) or a duplicate of
    another case. The caller cancels the establishment episode."""
    if case.status != "requested":
        raise DomainError("Ønsket er allerede behandlet.")
    reason = (reason or "").strip()
    if duplicate_of is not None:
        if duplicate_of.id == case.id:
            raise DomainError("En sak kan ikke være duplikat av seg selv.")
        text = f"Duplikat av {duplicate_of.reference}" + (f": {reason}" if reason else "")
        record(session, "wish_marked_duplicate", at=at, actor_id=actor_id, case_id=case.id,
               **titled("Ønsket er merket som duplikat av %(reference)s", reference=duplicate_of.reference),
               duplicate_of=duplicate_of.reference, duplicate_of_id=duplicate_of.id)
        change_status(session, case, "duplicate", at=at, actor_id=actor_id, reason=text)
        return
    if not reason:
        raise DomainError("Skriv hvorfor ønsket avslås.")
    record(session, "wish_declined", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Ønsket er avslått"))
    change_status(session, case, "declined", at=at, actor_id=actor_id, reason=reason)


# ----------------------------------------------------------------------------- corrections

#: Person fields the coordinator may correct after establishment.
PERSON_FIELDS = ("full_name", "birth_date", "national_id", "phone", "email", "address")
#: Roles a member's role may be corrected between (the person and the coordinator are fixed).
CORRECTABLE_ROLES = ("foresatt", "parorende", "medlem")


def correct_person(session: Session, case: Case, changes: dict, *, at: datetime, actor_id: int | None) -> list[str]:
    """Correct the person's register data; returns the names of the fields that changed. The audit
    event names the fields, never their values; the national identity number is only ever set."""
    person = case.person
    if person is None:
        raise DomainError("Saken har ingen person.")
    changed = []
    for name in PERSON_FIELDS:
        if name not in changes:
            continue
        value = changes[name]
        if name == "national_id" and not value:
            continue  # empty keeps the stored number (it is never shown in full)
        if getattr(person, name) != value:
            changed.append(name)
    if not changed:
        return []
    old_name = person.full_name
    for name in changed:
        setattr(person, name, changes[name])
    if "national_id" in changed:
        person.national_id_digest = identity.digest(person.national_id)
    for member in session.scalars(select(CaseMember).where(CaseMember.case_id == case.id,
                                                           CaseMember.role == GROUP_ROLES["person"])):
        # the person's own member row carries the same name and contact details
        member.name, member.email, member.phone = person.full_name, person.email, person.phone
    if "full_name" in changed:
        if case.title == f"Ansvarsgruppe for {old_name}":
            case.title = f"Ansvarsgruppe for {person.full_name}"
    record(session, "person_corrected", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Opplysninger om personen rettet"), fields=changed)
    return changed


def correct_member(session: Session, member: CaseMember, *, email: str | None, phone: str | None,
                   role: str | None, at: datetime, actor_id: int | None) -> list[str]:
    """Correct a member's contact details and (between guardian, relative and service provider) role.
    Who is in the group does not change here: that is a composition change (transitions)."""
    changed = []
    if (member.email or None) != (email or None):
        member.email = email or None
        changed.append("email")
    if (member.phone or None) != (phone or None):
        member.phone = phone or None
        changed.append("phone")
    if role is not None and role != member.role:
        if member.role not in CORRECTABLE_ROLES or role not in CORRECTABLE_ROLES:
            raise DomainError("Rollen kan ikke endres her.")
        member.role = role
        changed.append("role")
    if changed:
        record(session, "member_corrected", at=at, actor_id=actor_id, case_id=member.case_id,
               **titled("Opplysninger om medlem rettet: %(name)s", name=member.name), name=member.name,
               member_id=member.id, fields=changed)
    return changed
