from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.audit.models import AuditEvent


def record(
    session: Session,
    kind: str,
    /,
    *,
    at: datetime,
    actor_id: int | None = None,
    case_id: int | None = None,
    instance_id: int | None = None,
    **detail,
) -> AuditEvent:
    """Add an audit event to the current transaction."""
    event = AuditEvent(
        kind=kind, created_at=at, actor_id=actor_id, case_id=case_id,
        instance_id=instance_id, detail=detail,
    )
    session.add(event)
    return event
