"""Administration of user accounts: edit, reset the password, deactivate (handing the user's case
roles and open steps over) and reactivate. Each function changes the rows and writes its audit
events in the caller's transaction.

Deactivation leaves no step without someone who can do it: every active membership of the user
ends (through ``cases.operations``); with a successor chosen, the successor takes the same role in
each case (a coordinator's appointment moves to them). Then each lane in which the user had open
steps is re-resolved by the engine (``reassign``): its steps go to whoever holds the lane now, or
become *orphaned* when nobody does — orphaned steps show on the supervision page. A group left
without a coordinator is also announced to the coordinating unit by a register-data-only message
(case reference only) and recorded as ``coordinator_needed``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.auth.models import ROLES, User
from webapp.auth.passwords import hash_password
from webapp.cases.models import ENDED_STATUSES, Case, CaseMember
from webapp.cases.operations import DomainError, add_member, appoint_coordinator, current_coordinator, remove_member
from webapp.cases.roles import users_with_role
from webapp.engine.models import OpenTask

#: ``reassign(session, case_id, lane=..., from_user_id=...) -> count``: the engine's
#: ``reassign`` (the engine owns the open-task projection)
Reassign = Callable[..., int]

DEACTIVATED_REASON = "Brukeren er deaktivert"


@dataclass
class Handover:
    """What a deactivation did: memberships ended, steps moved to a holder, steps orphaned, and the
    cases that need a new coordinator."""
    memberships: int = 0
    steps_moved: int = 0
    steps_orphaned: int = 0
    cases_without_coordinator: list[str] = field(default_factory=list)


def _end_sessions(session: Session, user: User, at: datetime) -> bool:
    """End the user's server-side sessions (``auth.operations.end_user_sessions``, where the
    server-side sessions live); False when this version of the auth domain has none."""
    from webapp.auth import operations as auth_ops

    end = getattr(auth_ops, "end_user_sessions", None)
    if end is None:
        return False
    end(session, user.id)
    return True


def update_user(session: Session, user: User, *, full_name: str, email: str | None, roles: list[str],
                at: datetime, actor_id: int | None) -> list[str]:
    """Change name, e-mail and system roles; returns the names of the fields that changed."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise DomainError("Velg minst én gyldig rolle.")
    if user.id == actor_id and "admin" not in roles:
        raise DomainError("Du kan ikke ta fra deg selv rollen som administrator.")
    new_roles = ",".join(r for r in ROLES if r in roles)
    changed = [name for name, old, new in (("full_name", user.full_name, full_name),
                                           ("email", user.email, email or None),
                                           ("roles", ",".join(r for r in ROLES if r in user.role_set), new_roles))
               if old != new]
    if not changed:
        return []
    old_roles = sorted(user.role_set)
    user.full_name, user.email, user.roles = full_name, email or None, new_roles
    record(session, "user_changed", at=at, actor_id=actor_id, user_id=user.id, username=user.username,
           fields=changed, old_roles=old_roles, new_roles=sorted(user.role_set))
    return changed


def reset_password(session: Session, user: User, password: str, *, at: datetime, actor_id: int | None) -> bool:
    """Give the user a temporary password set by the administrator; the user's sessions end when
    the auth domain can end them (returned: whether it could)."""
    if len(password) < 10 or len(password) > 200:
        raise DomainError("Passordet må ha 10 til 200 tegn.")
    user.password_hash = hash_password(password)
    ended = _end_sessions(session, user, at)
    record(session, "user_password_reset", at=at, actor_id=actor_id, user_id=user.id,
           username=user.username, sessions_ended=ended)
    return ended


def _take_over(session: Session, member: CaseMember, successor: User, *, at: datetime,
               actor_id: int | None) -> None:
    """The successor takes ``member``'s role in the case (unless they already hold it)."""
    case = session.get(Case, member.case_id)
    if member.role == "koordinator":
        appointment = current_coordinator(session, case.id)
        kind = appointment.kind if appointment is not None else "coordinator"
        appoint_coordinator(session, case, successor, kind=kind, at=at, actor_id=actor_id,
                            reason=f"Overtar etter deaktivert bruker ({DEACTIVATED_REASON.lower()})")
        return
    holds = session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case.id, CaseMember.role == member.role,
        CaseMember.user_id == successor.id, CaseMember.active.is_(True)))
    if holds is None:
        add_member(session, case, successor.full_name, member.role, at=at, actor_id=actor_id,
                   user_id=successor.id, email=successor.email, unit_id=member.unit_id,
                   mandate=member.mandate)


def deactivate_user(session: Session, user: User, *, successor: User | None, reassign: Reassign,
                    outbox_for: Callable[[int | None], object], at: datetime,
                    actor_id: int | None) -> Handover:
    """Deactivate ``user`` and hand their case roles and open steps over (see the module text).
    ``outbox_for(case_id)`` gives an ``Outbox`` writing in this transaction."""
    if not user.active:
        raise DomainError("Brukeren er allerede deaktivert.")
    if user.id == actor_id:
        raise DomainError("Du kan ikke deaktivere deg selv.")
    if successor is not None and (successor.id == user.id or not successor.active):
        raise DomainError("Velg en aktiv bruker som overtar.")
    if user.has_role("admin") and not [u for u in users_with_role(session, "admin") if u.id != user.id]:
        raise DomainError("Den siste administratoren kan ikke deaktiveres.")
    result = Handover()
    lanes = {(case_id, lane) for case_id, lane in session.execute(select(OpenTask.case_id, OpenTask.lane).where(
        OpenTask.assignee_id == user.id, OpenTask.lane.is_not(None)))}
    memberships = session.scalars(select(CaseMember).where(
        CaseMember.user_id == user.id, CaseMember.active.is_(True)).order_by(CaseMember.id)).all()
    for member in memberships:
        lanes.add((member.case_id, member.role))
        if successor is not None:
            _take_over(session, member, successor, at=at, actor_id=actor_id)
        if member.active:  # appoint_coordinator ends the previous coordinator's membership itself
            remove_member(session, member, DEACTIVATED_REASON, at=at, actor_id=actor_id)
        result.memberships += 1
        if member.role == "koordinator":
            appointment = current_coordinator(session, member.case_id)
            if appointment is not None and appointment.user_id == user.id:
                appointment.ended_at = at
                case = session.get(Case, member.case_id)
                if case.status in ENDED_STATUSES:
                    continue  # a closed group needs no new coordinator
                record(session, "coordinator_needed", at=at, actor_id=actor_id, case_id=case.id,
                       **titled("Koordinator deaktivert: gruppen trenger ny koordinator"), user_id=user.id)
                result.cases_without_coordinator.append(case.reference)
                for unit_user in users_with_role(session, "coordinating_unit"):
                    if unit_user.email and unit_user.id != user.id:
                        outbox_for(case.id).send(
                            unit_user.email, f"Ansvarsgruppe {case.reference} trenger ny koordinator",
                            f"Koordinatoren for ansvarsgruppe {case.reference} er deaktivert som bruker. "
                            "Gruppen trenger en ny koordinator. Logg inn for å se saken.")
    user.active = False
    session.flush()
    for case_id, lane in sorted(lanes):
        result.steps_moved += reassign(session, case_id, lane=lane, from_user_id=user.id)
    session.flush()
    result.steps_orphaned = len(session.scalars(select(OpenTask.id).where(
        OpenTask.case_id.in_({case_id for case_id, _lane in lanes} or {-1}),
        OpenTask.orphaned.is_(True))).all())
    ended = _end_sessions(session, user, at)
    record(session, "user_deactivated", at=at, actor_id=actor_id, user_id=user.id, username=user.username,
           successor_id=successor.id if successor else None, memberships=result.memberships,
           steps_moved=result.steps_moved, steps_orphaned=result.steps_orphaned, sessions_ended=ended,
           cases_without_coordinator=result.cases_without_coordinator)
    return result


def reactivate_user(session: Session, user: User, *, at: datetime, actor_id: int | None) -> None:
    """The account can log in again; case roles are not given back (they were handed over)."""
    if user.active:
        raise DomainError("Brukeren er allerede aktiv.")
    user.active = True
    record(session, "user_reactivated", at=at, actor_id=actor_id, user_id=user.id, username=user.username)
