"""Building the minutes document (webapp/meetings/documents.py) from what was recorded."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseMember
from webapp.meetings import documents
from webapp.meetings.models import Measure, Meeting, Minutes
from webapp.meetings.operations import present as is_present


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def minutes_doc(session: Session, minutes: Minutes, approved_at: datetime | None = None) -> documents.MinutesDoc:
    meeting = session.get(Meeting, minutes.meeting_id)
    case = session.get(Case, meeting.case_id)
    members = {m.id: m for m in session.scalars(select(CaseMember).where(CaseMember.case_id == case.id))}
    content = minutes.content or {}

    def person(member_id) -> documents.Person:
        member = members.get(int(member_id)) if str(member_id).isdigit() else None
        return documents.Person(member.name if member else "?", member.email if member else None)

    attendance = content.get("attendance", [])
    present = [person(r["member_id"]) for r in attendance if is_present(r)]
    absent = [(person(r["member_id"]), r.get("absence_reason")) for r in attendance if not is_present(r)]
    reviewed = []
    for row in content.get("previous_measures", []):
        measure = session.get(Measure, int(row["measure_id"])) if str(row.get("measure_id", "")).isdigit() else None
        if measure is not None:
            reviewed.append(documents.MeasureLine(measure.description, person(measure.responsible_member_id).name,
                                                  measure.deadline, row.get("status"), row.get("reason") or row.get("progress")))
    new = [documents.MeasureLine(r.get("description", ""), person(r.get("responsible_member_id")).name,
                                 _date(r.get("deadline"))) for r in content.get("new_measures", [])]
    approved = content.get("previous_minutes_approved")
    minute_taker = members.get(meeting.minute_taker_member_id)
    recipients = [(person(i), "email" if person(i).email else "letter") for i in minutes.recipients or []]
    return documents.MinutesDoc(
        case_reference=case.reference, title=f"Referat fra ansvarsgruppemøte – {case.title}",
        meeting_number=meeting.number, starts_at=meeting.starts_at, duration_minutes=meeting.duration_minutes,
        place=meeting.place, video_link=meeting.video_link, present=present, absent=absent,
        minute_taker=minute_taker.name if minute_taker else "–",
        previous_minutes_approved={"ja": True, "nei": False}.get(approved),
        previous_minutes_comments=content.get("previous_minutes_comments"), previous_measures=reviewed,
        persons_account=content.get("persons_account"), services_account=content.get("services_account"),
        items=[documents.AgendaItemLine(i.get("title", ""), i.get("discussion"), i.get("conclusion"))
               for i in content.get("items", [])],
        new_measures=new, summary=content.get("summary"), next_meeting_on=_date(content.get("next_meeting_date")),
        next_meeting_theme=content.get("next_meeting_theme"), recipients=recipients,
        first_meeting_rules_reviewed=content.get("rules_reviewed") if meeting.number == 1 else None,
        approved_at=approved_at or minutes.approved_at, approval_note=minutes.approval_note,
        corrections=corrections(content),
    )


def _moment(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def corrections(content: dict) -> list[documents.CorrectionLine]:
    """The correction history kept in the minutes' content (handlers/meetings.py)."""
    return [documents.CorrectionLine(_moment(c.get("at")), [(r.get("name", "?"), r.get("comment") or "")
                                                             for r in c.get("remarks", [])],
                                     c.get("correction", ""), c.get("by"))
            for c in content.get("corrections", []) if isinstance(c, dict)]


def archive_pdf(session: Session, minutes: Minutes, *, approved_at: datetime) -> bytes:
    return documents.minutes_pdf(minutes_doc(session, minutes, approved_at=approved_at))
