"""Meetings of a responsibility group: matters, attendance, minutes and their approval, measures."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, JSON, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, UTCDateTime, utcnow

#: planned -> invited -> held -> approved -> distributed; or cancelled
MEETING_STATUSES = ("planned", "invited", "held", "approved", "distributed", "cancelled")

#: The four kinds of matters a responsibility group does not handle (all five guidelines), with
#: the redirection the guidelines give; in the reader's language (only the key is stored).
EXCLUDED_MATTERS = {
    "complaint_staff": (_l("Klage på ansatte eller tjenestens oppfølging"),
                        _l("Ta saken direkte med den det gjelder eller tjenesten.")),
    "complaint_resources": (_l("Klage på tildeling av ressurser"),
                            _l("Bruk ordinær klagevei (klage på vedtak).")),
    "training": (_l("Opplæring eller veiledning i konkrete tiltak"),
                 _l("Avtal et samarbeidsmøte mellom de involverte.")),
    "agency_disagreement": (_l("Uenighet mellom instanser"),
                            _l("Koordinator løfter saken til linjeledere i de berørte tjenestene.")),
}


#: the statuses of a meeting that has been held (its minutes written, approved or sent)
HELD_MEETING = ("held", "approved", "distributed")


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_case_id_held_at", "case_id", "held_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    place: Mapped[str | None] = mapped_column(String(300))
    video_link: Mapped[str | None] = mapped_column(String(500))
    theme: Mapped[str | None] = mapped_column(String(300))
    minute_taker_member_id: Mapped[int | None] = mapped_column(ForeignKey("case_members.id"))
    persons_needs: Mapped[str | None] = mapped_column(Text)
    agenda: Mapped[list] = mapped_column(JSON, default=list)
    agenda_agreed_with_person: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent_reason: Mapped[str | None] = mapped_column(Text)
    invitation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invitation_sequence: Mapped[int] = mapped_column(Integer, default=0)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    matters: Mapped[list["Matter"]] = relationship(order_by="Matter.id", back_populates="meeting")


class Matter(Base):
    """A matter submitted for a meeting, screened against the kinds the group does not handle."""

    __tablename__ = "matters"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    #: one of EXCLUDED_MATTERS, or None
    excluded_kind: Mapped[str | None] = mapped_column(String(40))
    kept_reason: Mapped[str | None] = mapped_column(Text)
    on_agenda: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="matters")


class Attendance(Base):
    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("case_members.id"))
    present: Mapped[bool] = mapped_column(Boolean)
    absence_reason: Mapped[str | None] = mapped_column(Text)


class MeetingReply(Base):
    """Whether a member (the person, a guardian) will come, said on their own pages before the
    meeting; the latest reply counts."""

    __tablename__ = "meeting_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("case_members.id"))
    attends: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeetingRequest(Base):
    """The person or a guardian asks for a meeting; the coordinator answers it by planning one."""

    __tablename__ = "meeting_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("case_members.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: set when the coordinator has seen to it
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Minutes(Base):
    """The structured minutes of one meeting; the PDF is archived with the case on approval."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), unique=True)
    content: Mapped[dict] = mapped_column(JSON)
    #: draft | awaiting_approval | approved
    status: Mapped[str] = mapped_column(String(20), default="awaiting_approval")
    approval_rule: Mapped[str] = mapped_column(String(20))
    approval_due_on: Mapped[date | None] = mapped_column(Date)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approval_note: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    distributed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MinutesApproval(Base):
    __tablename__ = "minutes_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("case_members.id"))
    approved: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Measure(Base):
    """An action agreed in a meeting, with a responsible member and a deadline."""

    __tablename__ = "measures"
    #: the second: the cockpit's "measure overdue", oldest first (migration 0012)
    __table_args__ = (Index("ix_measures_status_deadline", "status", "deadline"),
                      Index("ix_measures_open_deadline", "deadline", "case_id", "id",
                            postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: the meeting that agreed it; None for a measure written into the individual plan
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    #: the plan goal it serves (webapp/plans), if the group has a plan
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("plan_goals.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text)
    #: the plan's "scope" (omfang) and "how it is carried out" (gjennomføring)
    scope: Mapped[str | None] = mapped_column(Text)
    how: Mapped[str | None] = mapped_column(Text)
    responsible_member_id: Mapped[int] = mapped_column(ForeignKey("case_members.id"))
    deadline: Mapped[date] = mapped_column(Date, index=True)
    #: open | done | not_done | escalated
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeasureNote(Base):
    """Progress on a measure, recorded in a meeting or a plan revision (the measure's history)."""

    __tablename__ = "measure_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    #: open (in progress) | done | not_done
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    by_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
