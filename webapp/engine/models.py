from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, UTCDateTime, utcnow


class ProcessDefinition(Base):
    """An immutable deployed version of one BPMN process with the forms it references.

    Two versions may have the same content: restoring an old version publishes its content again
    as the newest (deploying from disk still skips content any version already has)."""

    __tablename__ = "process_definitions"
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        Index("ix_process_definitions_process_id_content_hash", "process_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(255))
    #: {filename: xml text} of the .bpmn/.dmn files the process needs (deferred: steps and pages use
    #: the parsed spec and forms held by the engine's SpecCache)
    documents: Mapped[dict] = mapped_column(JSON, deferred=True)
    #: {form filename: JSON schema}
    forms: Mapped[dict] = mapped_column(JSON, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: what changed and why, written by whoever published it (none for versions deployed from disk)
    note: Mapped[str | None] = mapped_column(Text)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProcessInstance(Base):
    """One episode (establishment, one meeting, ...) of a case, pinned to a definition version."""

    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    #: running | completed | incident | cancelled
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[dict] = mapped_column(JSON)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class OpenTask(Base):
    """Projection of the open human tasks, written with the instance in the same transaction.

    On PostgreSQL two expression indexes (migration 0012) give the cockpit's overdue and orphaned
    steps in the order of their Oslo day: not declared here, as SQLAlchemy's metadata cannot state
    them for both databases and the embedded one does not need them."""

    __tablename__ = "open_tasks"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(String(36))
    task_spec: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(100), index=True)
    form: Mapped[str | None] = mapped_column(String(255))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    orphaned: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Incident(Base):
    """A failed step: the step was rolled back and the instance waits for a retry."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    #: the instance's case, kept here too: the cockpit lists open incidents in the order of (day,
    #: case) from one index (migration 0013) instead of joining every instance to sort them
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    #: open | resolved
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    message: Mapped[str] = mapped_column(Text)
    task_spec: Mapped[str | None] = mapped_column(String(255))
    #: what to redo on retry: {"action": "complete"|"advance"|"fire", ...}
    pending: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@event.listens_for(Incident, "before_insert")
def _incident_case(_mapper, connection, incident: Incident) -> None:
    """Every incident carries its instance's case, whoever writes it."""
    if incident.case_id is None:
        incident.case_id = connection.scalar(
            select(ProcessInstance.case_id).where(ProcessInstance.id == incident.instance_id))


class ScheduledStart(Base):
    """An episode that starts when it falls due: the worker starts the then-current version of
    ``process_id`` for the case at ``due_at`` with ``data`` as its start data (DESIGN §5). The
    domain reads these rows (e.g. the next evaluation) but only the engine writes them."""

    __tablename__ = "scheduled_starts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the domain's own reference (e.g. "transition:12"), to cancel or find it again
    key: Mapped[str | None] = mapped_column(String(100))
    #: pending | started | cancelled
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
