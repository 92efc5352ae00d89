"""Access by need (tjenstlig behov): a user sees a case only through a role in it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import CaseMember


def case_visible(session: Session, user: User, case_id: int) -> bool:
    if user.has_role("coordinating_unit"):
        return True
    return session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case_id, CaseMember.user_id == user.id,
        CaseMember.active.is_(True)).limit(1)) is not None
