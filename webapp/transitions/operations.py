"""State changes of transitions and their reviews; each writes its audit event.

A transition is planned with a *scheduled start* of its ``transition_review`` episode at midnight
(Oslo) of ``review_from`` (at once when that moment has passed): no instance waits years for the
day, and the version of the diagram current on that day runs. The episode guides the coordinator
through the review of the composition. A changed composition takes effect only when the person is
informed and the consent renewed (guideline 002 Salangen)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Callable

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.auth.models import User
from webapp.cases import operations as case_ops
from webapp.cases.models import Case, CaseMember, Consent
from webapp.cases.operations import DomainError
from webapp.clock import OSLO
from webapp.meetings.models import Matter, Meeting
from webapp.meetings.operations import submit_matter
from webapp.settings.operations import get_setting
from webapp.transitions.dates import school_transitions
from webapp.transitions.models import TRANSITION_KINDS, Transition

#: The process each transition's review runs in.
REVIEW_PROCESS = "transition_review"

#: Kinds the coordinator adds by hand (school stages and adulthood follow from the birth date;
#: ``composition_change`` comes from an evaluation).
ADDABLE_KINDS = ("own_home", "work", "school_change", "moving", "other")

#: Statuses whose review has not finished (they can be cancelled).
OPEN_STATUSES = ("planned", "under_review")

CONSENT_STATEMENTS = ("statement_composition", "statement_confidential", "statement_registration",
                      "statement_voluntary")

#: ``start_episode(process_id, data) -> instance id``, bound to the caller's transaction.
StartEpisode = Callable[[str, dict], int]
#: ``schedule_episode(process_id, due_at, data, key=None) -> scheduled start id``, bound to the
#: caller's transaction.
ScheduleEpisode = Callable[..., int]
#: ``reassign(lane, from_user_id) -> count``: the engine hands a lane's open steps to its holders now
Reassign = Callable[[str, int], int]


def _today(at: datetime) -> date:
    return at.astimezone(OSLO).date()


def review_start(session: Session, on_date: date, today: date) -> date:
    """``on_date`` minus the municipality's lead time; today if that day has already passed."""
    months = int(get_setting(session, "transition_review_months"))
    return max(on_date - relativedelta(months=months), today)


def review_start_data(transition: Transition) -> dict:
    """Start data of a review episode."""
    return {"transition_id": transition.id,
            "transition_title": f"{transition.label} {transition.on_date:%d.%m.%Y}"}


def review_key(transition_id: int) -> str:
    """The scheduled start's reference to its transition (to cancel it with the transition)."""
    return f"transition:{transition_id}"


def review_starts_at(transition: Transition) -> datetime:
    """Midnight in Oslo at the start of ``review_from``."""
    return datetime.combine(transition.review_from, time(0, 0), OSLO)


def plan_transition(session: Session, case: Case, *, kind: str, on_date: date, source: str, at: datetime,
                    actor_id: int | None, start_episode: StartEpisode, schedule_episode: ScheduleEpisode,
                    description: str | None = None, review_from: date | None = None) -> Transition:
    """A transition and its review episode, in the caller's transaction: a scheduled start at the
    start of ``review_from``, or started at once when that moment has passed (the episode's first
    step links it to the transition)."""
    if kind not in TRANSITION_KINDS:
        raise DomainError("Ukjent type overgang.")
    today = _today(at)
    if on_date < today:
        raise DomainError("Datoen for overgangen kan ikke være tilbake i tid.")
    transition = Transition(case_id=case.id, kind=kind, description=description, on_date=on_date,
                            review_from=review_from or review_start(session, on_date, today), source=source,
                            status="planned", handover=[], agenda_pending=False, created_by_id=actor_id,
                            created_at=at)
    session.add(transition)
    session.flush()
    record(session, "transition_planned", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Overgang planlagt: %(transition)s %(date)s", transition=transition.label,
                    date=f"{on_date:%d.%m.%Y}"), transition_id=transition.id,
           kind=kind, on_date=on_date.isoformat(), review_from=transition.review_from.isoformat(), source=source)
    due_at = review_starts_at(transition)
    if due_at <= at:
        start_episode(REVIEW_PROCESS, review_start_data(transition))
    else:
        schedule_episode(REVIEW_PROCESS, due_at, review_start_data(transition), key=review_key(transition.id))
    return transition


def plan_from_birth_date(session: Session, case: Case, *, today: date, at: datetime, actor_id: int | None,
                         start_episode: StartEpisode, schedule_episode: ScheduleEpisode) -> int:
    """The school stages and adulthood still ahead of the person, each with its review episode;
    kinds already planned (or reviewed) are skipped, so it is safe to call again."""
    person = case.person
    if person is None:
        return 0
    known = set(session.scalars(select(Transition.kind).where(
        Transition.case_id == case.id, Transition.source == "birth_date", Transition.status != "cancelled")))
    planned = 0
    for kind, on_date in school_transitions(person.birth_date):
        if on_date <= today or kind in known:
            continue
        plan_transition(session, case, kind=kind, on_date=on_date, source="birth_date", at=at,
                        actor_id=actor_id, start_episode=start_episode, schedule_episode=schedule_episode)
        planned += 1
    return planned


def start_composition_review(session: Session, case: Case, *, at: datetime, actor_id: int | None,
                             start_episode: StartEpisode, schedule_episode: ScheduleEpisode,
                             reason: str) -> Transition:
    """A review of the composition that starts at once (an evaluation decided to change it)."""
    today = _today(at)
    return plan_transition(session, case, kind="composition_change", on_date=today, review_from=today,
                           source="evaluation", description=reason, at=at, actor_id=actor_id,
                           start_episode=start_episode, schedule_episode=schedule_episode)


def begin_review(session: Session, transition: Transition, *, instance_id: int, at: datetime,
                 actor_id: int | None) -> None:
    """The review episode has started (the first step of ``instance_id``)."""
    if transition.status != "planned":
        raise DomainError("Overgangen er ikke lenger planlagt.")
    transition.status, transition.instance_id = "under_review", instance_id
    record(session, "transition_review_started", at=at, actor_id=actor_id, case_id=transition.case_id,
           instance_id=instance_id,
           **titled("Gjennomgang før overgangen startet: %(transition)s", transition=transition.label),
           transition_id=transition.id)


def record_review(session: Session, transition: Transition, *, composition_changed: bool, handover: list[dict],
                  summary: str, at: datetime, actor_id: int | None) -> None:
    transition.composition_changed = composition_changed
    transition.handover, transition.summary = handover, summary
    record(session, "transition_composition_reviewed", at=at, actor_id=actor_id, case_id=transition.case_id,
           **titled("Sammensetningen gjennomgått før overgangen: %(transition)s", transition=transition.label),
           transition_id=transition.id,
           composition_changed=composition_changed, handovers=len(handover))


def change_composition(session: Session, case: Case, transition: Transition, *, leaving: list[tuple[CaseMember, str]],
                       joining: list[dict], new_coordinator: User | None, coordinator_kind: str | None,
                       overlap_until: date | None, at: datetime, actor_id: int | None,
                       reassign: Reassign, added: list[CaseMember] | None = None) -> int | None:
    """Who leaves, who joins and a new coordinator, once the consent covers it. With an overlap the
    previous coordinator stays a member until ``overlap_until``; returns that coordinator's user id.
    The members who joined are appended to ``added`` (they clarify their mandate next)."""
    for member, reason in leaving:
        if member.active and member.case_id == case.id:
            case_ops.remove_member(session, member, reason, at=at, actor_id=actor_id)
    for row in joining:
        member = case_ops.add_member(session, case, row["name"], "medlem", at=at, actor_id=actor_id,
                                     user_id=row.get("user_id"), email=row.get("email"), unit_id=row.get("unit_id"))
        if added is not None:
            added.append(member)
    if new_coordinator is None:
        return None
    previous = case_ops.current_coordinator(session, case.id)
    keep = overlap_until is not None and previous is not None and previous.user_id != new_coordinator.id
    case_ops.appoint_coordinator(session, case, new_coordinator,
                                 kind=coordinator_kind or (previous.kind if previous else "coordinator"),
                                 at=at, actor_id=actor_id, reason=f"Overgang: {transition.label}",
                                 keep_previous_member=keep)
    if not keep:
        if previous is not None:
            reassign_coordinator_tasks(session, case.id, previous.user_id, reassign, at=at, actor_id=actor_id)
        return None
    transition.overlap_until = overlap_until
    record(session, "coordinator_overlap_started", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Forrige koordinator er med i gruppen til %(date)s", date=f"{overlap_until:%d.%m.%Y}"),
           transition_id=transition.id, user_id=previous.user_id, until=overlap_until.isoformat())
    return previous.user_id


def renew_consent(session: Session, case: Case, transition: Transition, *, signed_by: str, signed_how: str,
                  signed_on: date, statements: dict[str, bool], informed_on: date, at: datetime,
                  actor_id: int | None, valid_months: int = 0) -> Consent:
    """A new consent for the current composition; the one it replaces ends. Unlike
    ``cases.operations.record_consent`` the case's status stays as it is."""
    if not all(statements.get(n) for n in CONSENT_STATEMENTS):
        raise DomainError("Alle fire erklæringene må være bekreftet for at samtykket er gitt.")
    previous = case_ops.active_consent(session, case.id)
    if previous is not None:
        previous.ended_at = at
        previous.end_reason = f"Erstattet av fornyet samtykke etter endret sammensetning ({transition.label})"
    composition = [{"name": m.name, "role": m.role} for m in session.scalars(select(CaseMember).where(
        CaseMember.case_id == case.id, CaseMember.active.is_(True)).order_by(CaseMember.id))]
    consent = Consent(case_id=case.id, given=True, signed_by=signed_by, signed_how=signed_how, signed_on=signed_on,
                      composition=composition, recorded_by_id=actor_id, recorded_at=at,
                      valid_until=(signed_on + relativedelta(months=valid_months)) if valid_months else None,
                      **{n: True for n in CONSENT_STATEMENTS})
    session.add(consent)
    session.flush()
    transition.consent_renewed = True
    record(session, "consent_renewed", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Samtykket er fornyet for den nye sammensetningen"), consent_id=consent.id,
           previous_consent_id=previous.id if previous else None, transition_id=transition.id,
           informed_on=informed_on.isoformat())
    return consent


def record_consent_not_renewed(session: Session, transition: Transition, *, reason: str, informed_on: date,
                               at: datetime, actor_id: int | None) -> None:
    """The person did not consent to the new composition: the group stays as it was."""
    transition.consent_renewed = False
    record(session, "transition_consent_not_renewed", at=at, actor_id=actor_id, case_id=transition.case_id,
           **titled("Samtykket ble ikke fornyet; sammensetningen er ikke endret"), transition_id=transition.id,
           reason=reason, informed_on=informed_on.isoformat())


def _agenda_text(transition: Transition) -> str:
    lines = [transition.summary or ""]
    if transition.handover:
        lines += ["", "Overføring av ansvar:"]
        lines += [f"- {h.get('from')} → {h.get('to')}: {h.get('what')} ({date.fromisoformat(h['on']):%d.%m.%Y})"
                  if h.get("on") else f"- {h.get('from')} → {h.get('to')}: {h.get('what')}" for h in transition.handover]
    if transition.consent_renewed is False:
        lines += ["", "Samtykket ble ikke fornyet; sammensetningen er ikke endret."]
    return "\n".join(lines).strip()


def _submit(session: Session, transition: Transition, meeting: Meeting, *, at: datetime,
            actor_id: int | None) -> Matter:
    coordinator = case_ops.coordinator_user(session, transition.case_id)
    matter = submit_matter(session, meeting, title=f"Overgang: {transition.label} {transition.on_date:%d.%m.%Y}",
                           description=_agenda_text(transition), excluded_kind=None,
                           submitted_by_name=coordinator.full_name if coordinator else "Koordinator",
                           submitted_by_id=actor_id, at=at)
    transition.agenda_pending = False
    return matter


def put_on_agenda(session: Session, transition: Transition, *, at: datetime, actor_id: int | None) -> Matter | None:
    """A matter on the case's earliest meeting still open for matters; without one, the next
    meeting that is created picks it up (``place_pending``)."""
    meeting = session.scalar(select(Meeting).where(Meeting.case_id == transition.case_id, Meeting.status == "planned")
                             .order_by(Meeting.number).limit(1))
    if meeting is not None:
        return _submit(session, transition, meeting, at=at, actor_id=actor_id)
    transition.agenda_pending = True
    record(session, "transition_agenda_pending", at=at, actor_id=actor_id, case_id=transition.case_id,
           **titled("Overgangen settes på sakslisten til neste møte: %(transition)s", transition=transition.label),
           transition_id=transition.id)
    return None


def place_pending(session: Session, case: Case, meeting: Meeting, *, at: datetime, actor_id: int | None) -> int:
    """Put the transitions waiting for a meeting on the agenda of ``meeting`` (just created)."""
    pending = session.scalars(select(Transition).where(
        Transition.case_id == case.id, Transition.agenda_pending.is_(True), Transition.status != "cancelled")
        .order_by(Transition.on_date, Transition.id)).all()
    for transition in pending:
        _submit(session, transition, meeting, at=at, actor_id=actor_id)
    return len(pending)


def finish_review(session: Session, transition: Transition, *, at: datetime, actor_id: int | None) -> None:
    transition.status, transition.reviewed_at = "reviewed", at
    record(session, "transition_reviewed", at=at, actor_id=actor_id, case_id=transition.case_id,
           **titled("Overgangen er gjennomgått: %(transition)s", transition=transition.label), transition_id=transition.id,
           composition_changed=transition.composition_changed, consent_renewed=transition.consent_renewed)


def end_coordinator_overlap(session: Session, transition: Transition, user_id: int, *, at: datetime,
                            actor_id: int | None, reassign: Reassign) -> int:
    """The previous coordinator leaves the group when the overlap ends (unless appointed again)."""
    current = case_ops.current_coordinator(session, transition.case_id)
    if current is not None and current.user_id == user_id:
        return 0
    members = session.scalars(select(CaseMember).where(
        CaseMember.case_id == transition.case_id, CaseMember.user_id == user_id,
        CaseMember.role == "koordinator", CaseMember.active.is_(True))).all()
    for member in members:
        case_ops.remove_member(session, member, "Overlapp med ny koordinator er avsluttet", at=at, actor_id=actor_id)
    reassign_coordinator_tasks(session, transition.case_id, user_id, reassign, at=at, actor_id=actor_id)
    record(session, "coordinator_overlap_ended", at=at, actor_id=actor_id, case_id=transition.case_id,
           **titled("Overlappen mellom forrige og ny koordinator er avsluttet"), transition_id=transition.id,
           user_id=user_id)
    return len(members)


def reassign_coordinator_tasks(session: Session, case_id: int, from_user_id: int, reassign: Reassign, *,
                               at: datetime, actor_id: int | None) -> int:
    """Open steps of the coordinator's lane that were assigned to a coordinator who has left go
    to whoever holds the lane now (the engine owns the open-task projection: ``reassign`` is
    ``engine.reassign`` bound to this transaction and case)."""
    count = reassign("koordinator", from_user_id)
    if count:
        record(session, "coordinator_tasks_reassigned", at=at, actor_id=actor_id, case_id=case_id,
               **titled("Koordinators åpne oppgaver er overført til ny koordinator"), from_user_id=from_user_id,
               count=count)
    return count


def cancel_transition(session: Session, transition: Transition, *, reason: str, at: datetime,
                      actor_id: int | None) -> None:
    """Mark a planned or ongoing review cancelled (the caller cancels its scheduled start or its
    running episode)."""
    if transition.status not in OPEN_STATUSES:
        raise DomainError("Overgangen er allerede gjennomgått eller avbrutt.")
    transition.status = "cancelled"
    record(session, "transition_cancelled", at=at, actor_id=actor_id, case_id=transition.case_id,
           **titled("Overgang avbrutt: %(transition)s", transition=transition.label), transition_id=transition.id, reason=reason)


def cancel_open(session: Session, case_id: int, *, at: datetime, actor_id: int | None, reason: str) -> int:
    """Cancel every planned or ongoing transition review of a case (closing cancels the episodes
    and the scheduled starts)."""
    open_ones = session.scalars(select(Transition).where(Transition.case_id == case_id,
                                                         Transition.status.in_(OPEN_STATUSES))).all()
    for transition in open_ones:
        cancel_transition(session, transition, reason=reason, at=at, actor_id=actor_id)
    return len(open_ones)


def next_transition(session: Session, case_id: int, today: date) -> Transition | None:
    """The next transition on or after ``today`` that is not cancelled."""
    return session.scalar(select(Transition).where(
        Transition.case_id == case_id, Transition.status != "cancelled", Transition.on_date >= today)
        .order_by(Transition.on_date, Transition.id).limit(1))


def case_transitions(session: Session, case_id: int) -> list[Transition]:
    return list(session.scalars(select(Transition).where(Transition.case_id == case_id)
                                .order_by(Transition.on_date, Transition.id)))
