"""Access by need (tjenstlig behov).

- The coordinator of a case sees all of it, also before consent.
- Other members with an account see the case only while a written consent is in force.
- The coordinating unit and the system owner see *register data* of every case (who, coordinator,
  status, dates, task state) but not content (form data, minutes, plans) unless they have a role.
- Someone assigned an open step of the case sees its register data and that step.
- A closed group: members' access has ended; the coordinator at closing keeps reading the case
  for the configured period (setting ``coordinator_read_months``).
- Everyone else: nothing — the refusal is a 404 that reveals nothing.
"""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import active_consent
from webapp.closing.queries import coordinator_may_read
from webapp.engine.models import OpenTask
from webapp.services import services


class Access(enum.IntEnum):
    NONE = 0
    REGISTER = 1
    FULL = 2


def case_access(session: Session, user: User, case_id: int, today: date | None = None) -> Access:
    """``today`` (Oslo) defaults to the app clock's; it matters for closed groups only."""
    if session.scalar(select(Case.status).where(Case.id == case_id)) == "closed":
        if coordinator_may_read(session, case_id, user.id, today or services().clock.today()):
            return Access.FULL
        return Access.REGISTER if user.has_role("coordinating_unit", "system_owner") else Access.NONE
    roles = set(session.scalars(select(CaseMember.role).where(
        CaseMember.case_id == case_id, CaseMember.user_id == user.id, CaseMember.active.is_(True))))
    if "koordinator" in roles:
        return Access.FULL
    if roles and active_consent(session, case_id) is not None:
        return Access.FULL
    if user.has_role("coordinating_unit", "system_owner"):
        return Access.REGISTER
    if session.scalar(select(OpenTask.id).where(OpenTask.case_id == case_id,
                                                OpenTask.assignee_id == user.id).limit(1)) is not None:
        return Access.REGISTER  # a step of this case is assigned to them (e.g. appointing without a KE)
    return Access.NONE


def case_visible(session: Session, user: User, case_id: int) -> bool:
    return case_access(session, user, case_id) > Access.NONE


def is_coordinator(session: Session, user: User, case_id: int) -> bool:
    """Whether the user is an active coordinator of the case (coordinator-only actions)."""
    return session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case_id, CaseMember.user_id == user.id, CaseMember.role == "koordinator",
        CaseMember.active.is_(True)).limit(1)) is not None
