"""Resolving a lane (a case role) to the users who hold it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, String, bindparam, select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases.batch import loaded
from webapp.cases.models import Case, CaseMember
from webapp.cases.own_access import person_side
from webapp.settings.operations import get_setting

#: Lanes served by a municipal unit rather than by members of the case.
UNIT_ROLES = {"koordinerende_enhet": "coordinating_unit", "systemansvarlig": "system_owner"}

#: Every lane a diagram may use: the case roles (``templating.role_label`` names them).
LANE_ROLES = ("koordinator", "medlem", "referent", "bruker", "foresatt", "parorende", "linjeleder",
              "koordinerende_enhet", "systemansvarlig")


def users_with_role(session: Session, role: str) -> list[User]:
    """Active users holding a system role (coordinating_unit, system_owner, ...), e.g. to notify them."""
    return [u for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id))
            if u.has_role(role)]


def unit_lanes(session: Session, user: User) -> list[str]:
    """The lanes ``user`` serves through a system role. Without a coordinating unit that appoints
    (guideline 001) its lane is served by the service that received the wish only (the step is
    assigned to them), not by holders of the coordinating-unit role."""
    lanes = [lane for lane, role in UNIT_ROLES.items() if user.has_role(role)]
    if "koordinerende_enhet" in lanes and not get_setting(session, "coordinating_unit_appoints"):
        lanes.remove("koordinerende_enhet")
    return lanes


#: the person's own lane: the person or the guardians with a login act in it (cases.own_access);
#: without one, the coordinator does, as before the person could log in
PERSON_LANE = "bruker"


def resolve_role(session: Session, case_id: int, role: str, today: date | None = None) -> list[int]:
    """User ids that can act in ``role`` for the case (empty: the task is orphaned). ``today``
    (Oslo; the age rules of the person's lane) defaults to the app clock's."""
    if role == PERSON_LANE:
        if today is None:
            from webapp.services import services
            today = services().clock.today()
        return person_side(session, case_id, today) or resolve_role(session, case_id, "koordinator")
    if role == "koordinerende_enhet" and not get_setting(session, "coordinating_unit_appoints"):
        # No coordinating unit (guideline 001): the service that received the wish appoints.
        registered_by = session.scalar(select(Case.registered_by_id).where(Case.id == case_id))
        return [registered_by] if registered_by else []
    if role in UNIT_ROLES:
        return [u.id for u in users_with_role(session, UNIT_ROLES[role])]
    members = loaded(session, case_id, "members")  # a worker batch's (cases.batch)
    if members is not None:
        return sorted({m.user_id for m in members if m.role == role and m.active and m.user_id is not None})
    session.flush()  # the connection does not autoflush: members changed in this transaction first
    return sorted(set(session.connection().scalars(_HOLDERS, {"case_id": case_id, "role": role})))


#: the active members of a case holding a role (run on every step that opens a task: built once,
#: and run on the connection, as the ORM's handling of a plain column query cost more than the query)
_HOLDERS = select(CaseMember.user_id).where(
    CaseMember.case_id == bindparam("case_id", type_=Integer), CaseMember.role == bindparam("role", type_=String),
    CaseMember.active.is_(True), CaseMember.user_id.is_not(None))
