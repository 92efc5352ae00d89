"""Individual plans and relay logs.

A case has at most one *current* plan (status ``consent_pending``, ``drafting`` or ``adopted``).
Its sections (the person's own words, resources, needs, contributions, cooperation) are in
``Plan.content``; its goals are ``PlanGoal`` rows and its measures are the group's ``Measure``
rows (``meetings.models``) linked to a goal: a measure in the plan and a measure agreed in a
meeting are one thing. Every change makes a ``PlanVersion``: a snapshot of the whole plan with
who, when and why; the adopted and approved versions are archived as PDF.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, JSON, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, UTCDateTime, utcnow

#: individual_plan: pbrl § 2-5 / hol § 7-1; relay_log: the BTI model's stafettlogg (ages 0–18)
PLAN_KINDS = ("individual_plan", "relay_log")
#: consent_pending -> drafting -> adopted (revised in place, new versions); refused; ended
PLAN_STATUSES = ("consent_pending", "drafting", "adopted", "refused", "ended")
CURRENT_STATUSES = ("consent_pending", "drafting", "adopted")
GOAL_TERMS = ("long", "short")
GOAL_STATUSES = ("active", "achieved", "dropped")
#: the text sections of a plan, in the order of the regulation on individual plans (§ 19)
SECTIONS = ("whats_important", "resources", "needs", "contribution_person", "contribution_services",
            "contribution_relatives", "cooperation")


class Plan(Base):
    __tablename__ = "plans"
    #: the second: the cockpit's "plan revision due", oldest first (migration 0012)
    __table_args__ = (Index("ix_plans_status_revision_due_on", "status", "revision_due_on"),
                      Index("ix_plans_adopted_revision_due_on", "revision_due_on", "case_id", "id",
                            postgresql_where=text("status = 'adopted'"), sqlite_where=text("status = 'adopted'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="individual_plan")
    status: Mapped[str] = mapped_column(String(20), default="consent_pending")
    #: the episode that establishes the plan (processes/individual_plan.bpmn)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    consent_signed_by: Mapped[str | None] = mapped_column(String(200))
    consent_how: Mapped[str | None] = mapped_column(String(20))
    consent_signed_on: Mapped[date | None] = mapped_column(Date)
    consent_refusal_reason: Mapped[str | None] = mapped_column(Text)
    #: the members who take part in the plan (case_members ids)
    participant_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: who writes the plan (guideline 004: sekretær); None: the coordinator
    secretary_member_id: Mapped[int | None] = mapped_column(ForeignKey("case_members.id"))
    #: the relay log's stafettholder (relay_log only); handed over with RelayHandover
    holder_member_id: Mapped[int | None] = mapped_column(ForeignKey("case_members.id"))
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    revision_due_on: Mapped[date | None] = mapped_column(Date)
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlanGoal(Base):
    __tablename__ = "plan_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    term: Mapped[str] = mapped_column(String(10), default="long")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanVersion(Base):
    """A snapshot of the whole plan after a change (see ``plans.snapshot``)."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: draft | adopted | meeting | revision | handover | correction
    source: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    made_by_name: Mapped[str | None] = mapped_column(String(200))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    snapshot: Mapped[dict] = mapped_column(JSON)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RelayHandover(Base):
    """The relay log passes from one stafettholder to the next; the history is kept."""

    __tablename__ = "relay_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    from_member_id: Mapped[int | None] = mapped_column(ForeignKey("case_members.id"))
    to_member_id: Mapped[int] = mapped_column(ForeignKey("case_members.id"))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
