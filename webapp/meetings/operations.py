"""State changes of meetings, matters, minutes and measures; each writes its audit event."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import DomainError
from webapp.meetings.models import (
    EXCLUDED_MATTERS, Attendance, Matter, Measure, Meeting, Minutes, MinutesApproval,
)
from webapp.settings.operations import get_setting
from webapp.clock import OSLO

#: members who can take part in a meeting's work (not the person, guardians or relatives)
SERVICE_ROLES = ("koordinator", "medlem")

#: The process each meeting runs in (planning, invitation, the meeting, the minutes).
MEETING_PROCESS = "meeting"


def local_start(day: date, at: time) -> datetime:
    return datetime.combine(day, at, OSLO).astimezone(OSLO)


def chosen_start(data: dict) -> datetime:
    """The start a form chose as ``new_date`` and ``new_time`` (HH:MM, Oslo): the late-notice
    step's and the move of an invited meeting, both validated already."""
    hour, minute = (int(x) for x in data["new_time"].split(":"))
    return local_start(date.fromisoformat(data["new_date"]), time(hour, minute))


def create_meeting(session: Session, case: Case, *, at: datetime, actor_id: int | None,
                   proposed_on: date | None = None, place: str | None = None) -> Meeting:
    number = (session.scalar(select(func.count(Meeting.id)).where(Meeting.case_id == case.id)) or 0) + 1
    meeting = Meeting(case_id=case.id, number=number, status="planned", created_at=at, place=place or None,
                      duration_minutes=int(get_setting(session, "meeting_minutes_default")),
                      starts_at=local_start(proposed_on, time(9, 0)) if proposed_on else None)
    session.add(meeting)
    session.flush()
    record(session, "meeting_created", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Møte %(number)s opprettet", number=number), meeting_id=meeting.id, number=number)
    return meeting


def planning_starts_at(session: Session, meeting: Meeting) -> datetime | None:
    """When the meeting's episode starts: midnight (Oslo) the notice period (``notice_days``) plus
    the planning lead time (``meeting_planning_days``) before the meeting's day; None without a day."""
    if meeting.starts_at is None:
        return None
    days = int(get_setting(session, "notice_days")) + int(get_setting(session, "meeting_planning_days"))
    return datetime.combine(meeting.starts_at.astimezone(OSLO).date() - timedelta(days=days), time(0, 0), OSLO)


def scheduled_key(meeting_id: int) -> str:
    """The scheduled start's reference to its meeting."""
    return f"meeting:{meeting_id}"


def start_planning(session: Session, meeting: Meeting, data: dict, *, at: datetime, actor_id: int | None,
                   start_episode: Callable[[str, dict], int], schedule_episode: Callable[..., int]) -> datetime:
    """The meeting's episode: a scheduled start a lead time before the meeting, or started at once
    when that moment has passed (the episode's first step links it to the meeting). Returns when
    it starts."""
    due_at = planning_starts_at(session, meeting)
    if due_at is None or due_at <= at:
        start_episode(MEETING_PROCESS, data)
        return at
    schedule_episode(MEETING_PROCESS, due_at, data, key=scheduled_key(meeting.id))
    record(session, "meeting_planning_scheduled", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Planleggingen av møte %(number)s starter %(date)s", number=meeting.number,
                    date=f"{due_at.astimezone(OSLO):%d.%m.%Y}"),
           meeting_id=meeting.id, starts_at=due_at.isoformat())
    return due_at


def begin_planning(session: Session, meeting: Meeting, *, instance_id: int, at: datetime) -> None:
    """The meeting's episode has started (its first step)."""
    if meeting.status != "planned":
        raise DomainError("Møtet er ikke lenger planlagt.")
    meeting.instance_id = instance_id
    record(session, "meeting_planning_started", at=at, case_id=meeting.case_id, instance_id=instance_id,
           **titled("Planleggingen av møte %(number)s er startet", number=meeting.number), meeting_id=meeting.id)


def current_meeting(session: Session, case_id: int) -> Meeting | None:
    """The meeting being prepared or held (the newest not yet distributed or cancelled)."""
    return session.scalar(select(Meeting).where(
        Meeting.case_id == case_id, Meeting.status.in_(("planned", "invited", "held")))
        .order_by(Meeting.number.desc()).limit(1))


def eligible_minute_takers(session: Session, case_id: int) -> list[CaseMember]:
    roles = ("medlem", "koordinator") if get_setting(session, "coordinator_may_take_minutes") else ("medlem",)
    return list(session.scalars(select(CaseMember).where(
        CaseMember.case_id == case_id, CaseMember.active.is_(True), CaseMember.role.in_(roles))
        .order_by(CaseMember.id)))


def suggest_minute_taker(session: Session, case_id: int) -> CaseMember | None:
    """With rotation on: the eligible member who took minutes longest ago (or never)."""
    eligible = eligible_minute_takers(session, case_id)
    if not eligible or not get_setting(session, "minute_taker_rotates"):
        return None
    last_taken = dict(session.execute(
        select(Meeting.minute_taker_member_id, func.max(Meeting.number))
        .where(Meeting.case_id == case_id, Meeting.minute_taker_member_id.is_not(None))
        .group_by(Meeting.minute_taker_member_id)).all())
    return min(eligible, key=lambda m: (last_taken.get(m.id, 0), m.id))


def plan_meeting(session: Session, meeting: Meeting, *, starts_at: datetime, duration_minutes: int,
                 place: str | None, video_link: str | None, minute_taker: CaseMember, theme: str | None,
                 at: datetime, actor_id: int | None) -> None:
    if minute_taker not in eligible_minute_takers(session, meeting.case_id):
        raise DomainError("Referenten må være et medlem som kan skrive referat etter kommunens regler.")
    meeting.starts_at, meeting.duration_minutes = starts_at, duration_minutes
    meeting.place, meeting.video_link, meeting.theme = place, video_link, theme
    meeting.minute_taker_member_id = minute_taker.id
    record(session, "meeting_planned", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Møte %(number)s planlagt", number=meeting.number), meeting_id=meeting.id,
           starts_at=starts_at.isoformat(), minute_taker=minute_taker.name)


def submit_matter(session: Session, meeting: Meeting, *, title: str, description: str | None,
                  excluded_kind: str | None, submitted_by_name: str, submitted_by_id: int | None,
                  at: datetime) -> Matter:
    if meeting.status != "planned":
        raise DomainError("Sakslisten er sendt ut; nye saker tas med til neste møte.")
    if excluded_kind is not None and excluded_kind not in EXCLUDED_MATTERS:
        raise DomainError("Ukjent type sak.")
    matter = Matter(meeting_id=meeting.id, title=title, description=description, excluded_kind=excluded_kind,
                    submitted_by_name=submitted_by_name, submitted_by_id=submitted_by_id,
                    on_agenda=excluded_kind is None, created_at=at)
    session.add(matter)
    session.flush()
    record(session, "matter_submitted", at=at, actor_id=submitted_by_id, case_id=meeting.case_id,
           **titled("Sak meldt inn: %(matter)s", matter=title), meeting_id=meeting.id, matter_id=matter.id,
           excluded_kind=excluded_kind)
    return matter


def record_persons_needs(session: Session, meeting: Meeting, needs: str, *, at: datetime,
                         actor_id: int | None) -> None:
    meeting.persons_needs = needs
    record(session, "persons_needs_recorded", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Personens behov og ønsker før møtet registrert"), meeting_id=meeting.id)


def set_agenda(session: Session, meeting: Meeting, items: list[str], *, kept: dict[int, str],
               agreed_with_person: bool, at: datetime, actor_id: int | None) -> None:
    for matter in meeting.matters:
        if matter.excluded_kind and matter.id in kept:
            matter.on_agenda, matter.kept_reason = True, kept[matter.id]
    meeting.agenda = items
    meeting.agenda_agreed_with_person = agreed_with_person
    record(session, "agenda_set", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Saksliste for møte %(number)s satt opp", number=meeting.number), meeting_id=meeting.id)


def notice_ok(session: Session, meeting: Meeting, now: datetime) -> bool:
    days = int(get_setting(session, "notice_days"))
    return meeting.starts_at is not None and meeting.starts_at - now >= timedelta(days=days) \
        or bool(meeting.urgent_reason)


def reschedule(session: Session, meeting: Meeting, starts_at: datetime, *, at: datetime, actor_id: int | None) -> None:
    """Move the meeting: before its invitation (the late-notice step), or after it as part of
    ``move_invited``. What is derived from its date is computed from ``meeting.starts_at``
    afterwards: the case page and the register read it, and the reminder time and the hold
    step's due date come from ``invitation_dates`` when the invitation goes out (again)."""
    from webapp.meetings.rules import earliest_notice_start
    if meeting.status not in ("planned", "invited"):
        raise DomainError("Møtet er allerede holdt og kan ikke flyttes.")
    local = starts_at.astimezone(OSLO)
    earliest = earliest_notice_start(session, at, local.time())
    if local.date() < earliest:
        raise DomainError(f"Datoen er for tidlig til at innkallingen kan sendes i tide. "
                          f"Tidligste mulige dato er {earliest:%d.%m.%Y}.")
    meeting.starts_at = starts_at
    record(session, "meeting_rescheduled", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Møte %(number)s flyttet", number=meeting.number), meeting_id=meeting.id,
           starts_at=starts_at.isoformat())


def invitation_dates(session: Session, meeting: Meeting, *, now: datetime) -> dict:
    """The dates the rest of the episode derives from the meeting's time (the reminder timer, the
    hold step's due date): computed when the invitation goes out, and again when an invited
    meeting moves (``move_invited``)."""
    reminder_at = meeting.starts_at - timedelta(days=int(get_setting(session, "reminder_days_before")))
    if reminder_at <= now:  # invited at short notice: the invitation is the reminder
        reminder_at = meeting.starts_at  # (send_reminder does nothing once the meeting has started)
    return {"reminder_at": reminder_at.isoformat(), "starts_at": meeting.starts_at.isoformat(),
            "meeting_day": meeting.starts_at.astimezone(OSLO).date().isoformat()}


def move_invited(session: Session, outbox, case: Case, meeting: Meeting, starts_at: datetime, *, at: datetime,
                 actor_id: int | None, update_episode: Callable[[int, Callable[[dict], dict]], int]) -> None:
    """Move a meeting whose invitation has gone out: the same notice rule as before it
    (``reschedule``), an updated invitation to everyone (the calendar event's sequence raised,
    so calendars move it), and the episode's reminder and hold step follow the new date
    (``update_episode(instance id, change)``, the engine's ``update_waiting_in``). A reminder
    already sent is not sent again."""
    from webapp.meetings.notices import invite
    if meeting.status != "invited":
        raise DomainError("Bare et møte som er innkalt og ikke holdt ennå, kan flyttes her.")
    if starts_at == meeting.starts_at:
        raise DomainError("Møtet er allerede på dette tidspunktet.")
    reschedule(session, meeting, starts_at, at=at, actor_id=actor_id)
    invite(session, outbox, case, meeting)
    mark_invited(session, meeting, at=at, actor_id=actor_id)
    if meeting.instance_id is not None:
        dates = invitation_dates(session, meeting, now=at)
        update_episode(meeting.instance_id, lambda data: {"invitation": {**(data.get("invitation") or {}), **dates}})


def accept_short_notice(session: Session, meeting: Meeting, reason: str, *, at: datetime, actor_id: int | None) -> None:
    meeting.urgent_reason = reason
    record(session, "short_notice_accepted", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Kort varsel begrunnet"), meeting_id=meeting.id, reason=reason)


def mark_invited(session: Session, meeting: Meeting, *, at: datetime, actor_id: int | None) -> None:
    meeting.status, meeting.invitation_sent_at = "invited", at
    meeting.invitation_sequence += 1
    record(session, "invitation_sent", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Innkalling til møte %(number)s sendt", number=meeting.number), meeting_id=meeting.id)


def present(row: dict) -> bool:
    """An attendance row counts as present only when ticked and no absence is recorded."""
    return bool(row.get("present")) and not (row.get("absence_reason") or "").strip()


def record_meeting(session: Session, meeting: Meeting, content: dict, *, attendance: list[dict],
                   reviewed_measures: list[dict], new_measures: list[dict], recipients: list[int],
                   approval_rule: str, approval_due_on: date | None, at: datetime,
                   actor_id: int | None) -> tuple[Minutes, list[Measure]]:
    from webapp.meetings.rules import first_error, minutes_errors
    problem = first_error(minutes_errors(meeting, {**content, "new_measures": new_measures,
                                                   "attendance": attendance}, at))
    if problem:
        raise DomainError(problem)
    members = {m.id: m for m in session.scalars(select(CaseMember).where(CaseMember.case_id == meeting.case_id))}
    for row in attendance:
        member = members.get(int(row["member_id"]))
        if member is None:
            raise DomainError("Ukjent medlem i oppmøtelisten.")
        session.add(Attendance(meeting_id=meeting.id, member_id=member.id, present=present(row),
                               absence_reason=row.get("absence_reason")))
    for row in reviewed_measures:
        measure = session.get(Measure, int(row["measure_id"]))
        if measure is None or measure.case_id != meeting.case_id:
            raise DomainError("Ukjent tiltak.")
        close_measure(session, measure, row["status"], row.get("reason"), at=at, actor_id=actor_id)
    measures = []
    for row in new_measures:
        member = members.get(int(row["responsible_member_id"]))
        if member is None or not member.active:
            raise DomainError("Den ansvarlige må være medlem av gruppen.")
        measure = Measure(case_id=meeting.case_id, meeting_id=meeting.id, description=row["description"],
                          responsible_member_id=member.id, deadline=date.fromisoformat(row["deadline"]),
                          created_at=at)
        session.add(measure)
        measures.append(measure)
    minutes = Minutes(meeting_id=meeting.id, content=content, approval_rule=approval_rule,
                      approval_due_on=approval_due_on, recipients=recipients, status="awaiting_approval",
                      created_at=at)
    session.add(minutes)
    meeting.status, meeting.held_at = "held", at
    session.flush()
    record(session, "meeting_held", at=at, actor_id=actor_id, case_id=meeting.case_id,
           **titled("Møte %(number)s gjennomført, referat skrevet", number=meeting.number), meeting_id=meeting.id,
           minutes_id=minutes.id, measures=len(measures))
    return minutes, measures


def record_approval(session: Session, minutes: Minutes, member: CaseMember, approved: bool,
                    comment: str | None, *, at: datetime, actor_id: int | None) -> None:
    session.add(MinutesApproval(minutes_id=minutes.id, member_id=member.id, approved=approved,
                                comment=comment, at=at))
    record(session, "minutes_reviewed", at=at, actor_id=actor_id, case_id=member.case_id,
           **(titled("Referat godkjent av %(name)s", name=member.name) if approved
              else titled("Referat kommentert av %(name)s", name=member.name)),
           minutes_id=minutes.id, approved=approved)


#: minutes fields the correction step may change (forms/correct_minutes.json)
CORRECTABLE = ("persons_account", "services_account", "summary")


def correct_minutes(session: Session, minutes: Minutes, *, correction: str, changes: dict,
                    remarks: list[dict], by: str | None, at: datetime, actor_id: int | None,
                    case_id: int) -> int:
    """An approval round ended with remarks: the minutes are corrected and go to approval again.
    The remarks and the correction are kept in the minutes (its correction history). Returns the
    number of the new approval round."""
    if minutes.status != "awaiting_approval":
        raise DomainError("Referatet er allerede godkjent.")
    if not (correction or "").strip():
        raise DomainError("Skriv hva som er rettet.")
    content = dict(minutes.content or {})
    for key in CORRECTABLE:
        if key in changes:
            content[key] = changes[key]
    history = list(content.get("corrections", []))
    history.append({"at": at.isoformat(), "by": by, "remarks": remarks, "correction": correction.strip()})
    content["corrections"] = history
    minutes.content = content
    meeting = session.get(Meeting, minutes.meeting_id)
    record(session, "minutes_corrected", at=at, actor_id=actor_id, case_id=case_id,
           **titled("Referat fra møte %(number)s rettet og sendt til ny godkjenning", number=meeting.number),
           minutes_id=minutes.id,
           round=len(history) + 1)
    return len(history) + 1


def approve_minutes(session: Session, minutes: Minutes, *, note: str | None, pdf: bytes, at: datetime,
                    actor_id: int | None, case_id: int) -> None:
    minutes.status, minutes.approved_at, minutes.approval_note = "approved", at, note
    minutes.archived_pdf = pdf
    meeting = session.get(Meeting, minutes.meeting_id)
    meeting.status = "approved"
    record(session, "minutes_approved", at=at, actor_id=actor_id, case_id=case_id,
           **titled("Referat fra møte %(number)s godkjent og arkivert", number=meeting.number), minutes_id=minutes.id)


def mark_distributed(session: Session, minutes: Minutes, *, at: datetime, actor_id: int | None, case_id: int) -> None:
    minutes.distributed_at = at
    meeting = session.get(Meeting, minutes.meeting_id)
    meeting.status = "distributed"
    record(session, "minutes_distributed", at=at, actor_id=actor_id, case_id=case_id,
           **titled("Referat fra møte %(number)s sendt til mottakerne", number=meeting.number), minutes_id=minutes.id)


def close_measure(session: Session, measure: Measure, status: str, reason: str | None, *, at: datetime,
                  actor_id: int | None) -> None:
    if status not in ("done", "not_done", "escalated"):
        raise DomainError("Ugyldig status for tiltak.")
    if status != "done" and not (reason or "").strip():
        raise DomainError("Skriv hvorfor tiltaket ikke er gjennomført.")
    measure.status, measure.reason, measure.closed_at = status, reason, at if status != "escalated" else None
    record(session, "measure_updated", at=at, actor_id=actor_id, case_id=measure.case_id,
           **(titled("Tiltak gjennomført: %(measure)s", measure=measure.description[:80]) if status == "done"
              else titled("Tiltak eskalert: %(measure)s", measure=measure.description[:80])
              if status == "escalated"
              else titled("Tiltak ikke gjennomført: %(measure)s", measure=measure.description[:80])),
           measure_id=measure.id, status=status)


def mark_reminded(session: Session, measure: Measure, *, at: datetime) -> None:
    measure.reminded_at = at
    record(session, "measure_reminded", at=at, case_id=measure.case_id,
           **titled("Påminnelse om tiltak: %(measure)s", measure=measure.description[:80]), measure_id=measure.id)
