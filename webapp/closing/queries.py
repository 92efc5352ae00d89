"""Read-only questions about closings (used by views and operations; the access rule reads the
closing in SQL, ``cases.access.access_rule``)."""
from __future__ import annotations


from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseClosure


def open_closure(session: Session, case_id: int) -> CaseClosure | None:
    return session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id,
                                                    CaseClosure.status == "started").limit(1))


def last_closure(session: Session, case_id: int) -> CaseClosure | None:
    return session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id, CaseClosure.status == "closed")
                          .order_by(CaseClosure.id.desc()).limit(1))


def shown_closure(session: Session, case_id: int) -> CaseClosure | None:
    """The open closing (``open_closure``), else the last finished one (``last_closure``), in
    one query: what the case page shows."""
    return session.scalar(select(CaseClosure).where(CaseClosure.case_id == case_id,
                                                    CaseClosure.status.in_(("started", "closed")))
                          .order_by(CaseClosure.status != "started", CaseClosure.id.desc()).limit(1))


def reestablished_as(session: Session, case_id: int) -> Case | None:
    return session.scalar(select(Case).where(Case.previous_case_id == case_id).limit(1))
