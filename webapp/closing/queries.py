"""Read-only questions about closings (used by access checks, views and operations)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseClosure


def open_closure(session: Session, case_id: int) -> CaseClosure | None:
    return session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id,
                                                    CaseClosure.status == "started").limit(1))


def last_closure(session: Session, case_id: int) -> CaseClosure | None:
    return session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id, CaseClosure.status == "closed")
                          .order_by(CaseClosure.id.desc()).limit(1))


def coordinator_may_read(session: Session, case_id: int, user_id: int, today: date) -> bool:
    """Whether the coordinator at closing still has read access to a closed case."""
    closure = last_closure(session, case_id)
    return (closure is not None and closure.coordinator_user_id == user_id
            and closure.coordinator_access_until is not None and today <= closure.coordinator_access_until)


def reestablished_as(session: Session, case_id: int) -> Case | None:
    return session.scalar(select(Case).where(Case.previous_case_id == case_id).limit(1))
