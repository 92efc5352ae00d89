"""The responsibility group (case), the person it is for, its members and consent."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, LargeBinary, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from webapp.auth.models import User

#: Case lifecycle. ``establishing``: consent given, the group is being put together (between the
#: issue's "awaiting consent" and "active"); ``not_established``: consent refused.
#: ``declined``/``duplicate``: the coordinating unit (or the service that received the wish) ended
#: the wish before a coordinator was appointed.
CASE_STATUSES = ("requested", "awaiting_consent", "establishing", "active", "not_established",
                 "consent_withdrawn", "closed", "declined", "duplicate")

#: Statuses in which a case is no longer open (a new wish for the same person is no duplicate).
ENDED_STATUSES = ("closed", "not_established", "declined", "duplicate")

#: A member's part in the group -> the lane (case role) diagrams use for it.
GROUP_ROLES = {
    "coordinator": "koordinator",
    "person": "bruker",
    "guardian": "foresatt",
    "relative": "parorende",
    "service_provider": "medlem",
}


class Person(Base):
    """The person the group is for."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    national_id: Mapped[str | None] = mapped_column(String(11), index=True)
    #: the national identity number as a keyed digest (``cases.identity``), matched at an
    #: ID-porten login
    national_id_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def masked_national_id(self) -> str | None:
        """Birth date part only; the personal number is never shown."""
        return f"{self.national_id[:6]} *****" if self.national_id else None

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class Unit(Base):
    """A municipal unit or service (kindergarten, school, health station, NAV, ...)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="other")
    line_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Case(Base):
    """One responsibility group (ansvarsgruppe) around one person."""

    __tablename__ = "cases"
    #: the cockpit's "meeting due", oldest first (migration 0014)
    __table_args__ = (Index("ix_cases_meeting_due_on", "meeting_due_on", "id",
                            postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), default="requested", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    #: when the case got its current status (the last ``CaseStatusChange``): the cockpit's
    #: "waiting for consent" reads it from one index (migration 0013)
    status_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: who asked for the group: person | guardian | relative
    requested_by_kind: Mapped[str | None] = mapped_column(String(20))
    requested_by_name: Mapped[str | None] = mapped_column(String(200))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    wish: Mapped[str | None] = mapped_column(Text)
    #: yes | no | later, from the establishment's assessment
    individual_plan: Mapped[str | None] = mapped_column(String(20))
    first_meeting_on: Mapped[date | None] = mapped_column(Date)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the closed group this one re-establishes (its history stays there, linked)
    previous_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    #: the young person's answer (from the age set by ``guardian_access_consent_age``) to whether
    #: their guardians may see the group on their own pages; None: not asked yet
    guardians_may_see: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: kept by ``cases/summary.py`` on every flush (migration 0014), for lists that read the
    #: oldest stuck groups from an index: whether an active coordinator is a member, when the
    #: last held meeting was held, and the day the group falls due for its next meeting.
    #: Written by SQL only; read them in SQL, not from objects.
    has_coordinator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_meeting_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    meeting_due_on: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person | None] = relationship(lazy="joined")
    members: Mapped[list["CaseMember"]] = relationship(back_populates="case", order_by="CaseMember.id")
    #: every appointment, the current one last (``ended_at`` empty); a worker batch loads them
    #: (``cases.batch``)
    appointments: Mapped[list["CoordinatorAppointment"]] = relationship(
        back_populates="case", order_by="CoordinatorAppointment.id")


class CaseStatusChange(Base):
    __tablename__ = "case_status_changes"
    #: the yearly figures count changes to a status within a year (migration 0005)
    __table_args__ = (Index("ix_case_status_changes_to_status_at", "to_status", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseMember(Base):
    """A participant of a case. ``role`` is the lane name diagrams use (koordinator, medlem,
    foresatt, ...); ``user_id`` is empty for outside participants without an account."""

    __tablename__ = "case_members"
    #: the groups that have an active coordinator, for the cockpit's "no coordinator" rule: a
    #: partial index a few times smaller than the table (migration 0011)
    __table_args__ = (Index("ix_case_members_active_coordinator", "case_id",
                            postgresql_where=text("role = 'koordinator' AND active IS true"),
                            sqlite_where=text("role = 'koordinator' AND active = 1")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    mandate: Mapped[str | None] = mapped_column(Text)
    #: a guardian's national identity number as a keyed digest (``cases.identity``): how an
    #: ID-porten login finds them; the number itself is not stored
    national_id_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    mandate_clarified: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    left_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="members")
    unit: Mapped[Unit | None] = relationship(lazy="joined")


class CoordinatorAppointment(Base):
    __tablename__ = "coordinator_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: coordinator | child_coordinator | relay_holder
    kind: Mapped[str] = mapped_column(String(30))
    appointed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    persons_wish: Mapped[str | None] = mapped_column(Text)
    wish_weighed: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="appointments")
    user: Mapped["User"] = relationship(foreign_keys=[user_id])


class Consent(Base):
    """Written consent to establishing the group (the four statements of guideline 002)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    given: Mapped[bool] = mapped_column(Boolean)
    statement_composition: Mapped[bool] = mapped_column(Boolean, default=False)
    statement_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    statement_registration: Mapped[bool] = mapped_column(Boolean, default=False)
    statement_voluntary: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_by: Mapped[str] = mapped_column(String(200))
    #: paper (signed on paper, recorded here) | in_person | digital (given after logging in)
    signed_how: Mapped[str] = mapped_column(String(20))
    #: a digital consent: the account that gave it and the login's assurance level (``acr``)
    given_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assurance_level: Mapped[str | None] = mapped_column(String(60))
    signed_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    #: names and roles of the members when consent was given
    composition: Mapped[list] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    #: set when a renewed consent replaces this one, or when the group is closed
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(Text)
    #: a newer consent (given or refused) exists for the case; kept by ``cases/summary.py``
    #: (migration 0014) so "consent due" reads only each case's newest consent from an index
    #: (an expression index on PostgreSQL, created by the migration: the models cannot state it)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def in_force(self) -> bool:
        return self.given and self.withdrawn_at is None and self.ended_at is None


#: Who or what started a closing.
CLOSING_INITIATORS = ("person", "guardian", "evaluation", "consent_withdrawal")


class CaseClosure(Base):
    """The closing of a group: who asked, the confirmation with the person, the reason, the
    report to the coordinating unit or the system owner, and the coordinator's read period."""

    __tablename__ = "case_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    #: one of CLOSING_INITIATORS
    initiated_by: Mapped[str] = mapped_column(String(30))
    requested_by_name: Mapped[str | None] = mapped_column(String(200))
    request_reason: Mapped[str | None] = mapped_column(Text)
    #: started | closed | not_closed
    status: Mapped[str] = mapped_column(String(20), default="started")
    confirmed_with_person: Mapped[bool | None] = mapped_column(Boolean)
    confirmed_with: Mapped[str | None] = mapped_column(String(200))
    confirmed_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    #: the final minutes when a meeting closes the group: {date, present, summary, next_steps}
    final_minutes: Mapped[dict | None] = mapped_column(JSON)
    #: coordinating_unit | system_owner (setting closing_reported_to)
    reported_to: Mapped[str | None] = mapped_column(String(30))
    report_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    coordinator_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    coordinator_access_until: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# keeps the summary columns above (has_coordinator, last_meeting_at, superseded) on every flush
import webapp.cases.summary  # noqa: E402,F401
