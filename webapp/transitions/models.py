"""Transitions and their reviews."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, UTCDateTime, utcnow

#: Kinds of transition -> Norwegian label. The first four follow from the birth date.
TRANSITION_KINDS = {
    "school_start": "Skolestart",
    "lower_secondary": "Overgang til ungdomsskolen",
    "upper_secondary": "Overgang til videregående skole",
    "adulthood": "Myndig (18 år)",
    "own_home": "Flytting til egen bolig",
    "work": "Overgang til arbeid",
    "school_change": "Skolebytte",
    "moving": "Flytting",
    "composition_change": "Endret sammensetning etter evaluering",
    "other": "Annen overgang",
}

#: planned (review not started) -> under_review -> reviewed; or cancelled
TRANSITION_STATUSES = ("planned", "under_review", "reviewed", "cancelled")


class Transition(Base):
    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_status_review_from", "status", "review_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)
    on_date: Mapped[date] = mapped_column(Date)
    #: the day the review of the composition starts (on_date minus the setting's lead time)
    review_from: Mapped[date] = mapped_column(Date)
    #: birth_date (computed) | coordinator | evaluation
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    composition_changed: Mapped[bool | None] = mapped_column(Boolean)
    consent_renewed: Mapped[bool | None] = mapped_column(Boolean)
    #: hand-over of responsibility between services: [{from, to, what, on}]
    handover: Mapped[list] = mapped_column(JSON, default=list)
    #: when the coordinator changes: the previous coordinator stays until this day
    overlap_until: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(Text)
    #: the transition still has to go on a meeting agenda (no meeting open for matters yet)
    agenda_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def label(self) -> str:
        return TRANSITION_KINDS.get(self.kind, self.kind)
