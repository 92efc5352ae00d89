"""Evaluations of a group and the yearly need checks."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, UTCDateTime, utcnow

#: evaluation: the full evaluation of process and work; need_check: "is the group still needed?"
EVALUATION_KINDS = ("evaluation", "need_check")
DECISIONS = ("continue", "change_composition", "close")


class Evaluation(Base):
    __tablename__ = "evaluations"
    #: the second: the cockpit's "evaluation overdue", oldest first (migration 0012)
    __table_args__ = (Index("ix_evaluations_status_due_on", "status", "due_on"),
                      Index("ix_evaluations_scheduled_due_on", "due_on", "case_id", "id",
                            postgresql_where=text("status = 'scheduled'"), sqlite_where=text("status = 'scheduled'")))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    kind: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date] = mapped_column(Date)
    #: scheduled | done | cancelled
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    composition: Mapped[str | None] = mapped_column(Text)
    atmosphere: Mapped[str | None] = mapped_column(Text)
    efficiency: Mapped[str | None] = mapped_column(Text)
    challenges: Mapped[str | None] = mapped_column(Text)
    work: Mapped[str | None] = mapped_column(Text)
    persons_view: Mapped[str | None] = mapped_column(Text)
    still_needed: Mapped[bool | None] = mapped_column(Boolean)
    decision: Mapped[str | None] = mapped_column(String(30))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
