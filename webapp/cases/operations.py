"""State changes of cases and their members. Each writes its audit event in the same transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audit.operations import record
from webapp.cases.models import Case, CaseMember


def _next_reference(session: Session, at: datetime) -> str:
    count = session.scalar(select(func.count(Case.id))) or 0
    return f"AG-{at.year}-{count + 1:04d}"


def open_case(session: Session, title: str, *, at: datetime, actor_id: int | None = None,
              reference: str | None = None) -> Case:
    case = Case(title=title, reference=reference or _next_reference(session, at), created_at=at,
                status="requested")
    session.add(case)
    session.flush()
    record(session, "case_opened", at=at, actor_id=actor_id, case_id=case.id, title=title)
    return case


def add_member(session: Session, case: Case, name: str, role: str, *, at: datetime,
               actor_id: int | None = None, user_id: int | None = None,
               email: str | None = None) -> CaseMember:
    member = CaseMember(case_id=case.id, name=name, role=role, user_id=user_id, email=email,
                        created_at=at)
    session.add(member)
    session.flush()
    record(session, "member_added", at=at, actor_id=actor_id, case_id=case.id,
           member_id=member.id, role=role, name=name)
    return member
