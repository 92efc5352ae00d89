"""What process owners work on: drafts of a process, and the reports of migrations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, UTCDateTime, utcnow


class ProcessDraft(Base):
    """An editable copy of a process: its diagram files and the forms it may use. Publishing turns
    it into a new immutable version (``ProcessDefinition``).

    ``revision`` grows by one on every save, and a save names the revision it was made from: a
    save from an older revision is refused as a conflict (someone else saved in between) instead
    of overwriting their work."""

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the version it was made from (None: a new process, or an imported file)
    base_version: Mapped[int | None] = mapped_column(Integer)
    #: the diagram file the editor shows (the one that holds ``process_id``)
    main_file: Mapped[str] = mapped_column(String(255))
    #: {filename: xml text}
    documents: Mapped[dict] = mapped_column(JSON)
    #: {form filename: JSON Schema}: the forms the draft changed or added (others come from the library)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    #: open | published | discarded
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    published_version: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MigrationRun(Base):
    """The report of one migration (or dry run) of running instances to a version: per instance
    whether it could move, whether it moved, and why not."""

    __tablename__ = "migration_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    to_version: Mapped[int] = mapped_column(Integer)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    #: [{instance_id, case_id, from_version, can_move, moved, reasons}]
    results: Mapped[list] = mapped_column(JSON, default=list)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    stayed: Mapped[int] = mapped_column(Integer, default=0)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
