"""Access by need (tjenstlig behov).

- The coordinator of a case sees all of it, also before consent.
- Other members with an account see the case only while a written consent is in force.
- The coordinating unit and the system owner see *register data* of every case (who, coordinator,
  status, dates, task state) but not content (form data, minutes, plans) unless they have a role.
- Someone assigned an open step of the case sees its register data and that step.
- A closed group: members' access has ended; the coordinator at closing keeps reading the case
  for the configured period (setting ``coordinator_read_months``).
- Everyone else: nothing — the refusal is a 404 that reveals nothing.

The rule is one SQL expression (``access_level``) correlated to ``cases``, so a page decides
access for one case or for every row of a list in the same query that reads them.
"""
from __future__ import annotations

import enum
from datetime import date
from typing import Iterable

from sqlalchemy import and_, case, exists, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from webapp.auth.models import User
from webapp.cases.models import Case, CaseClosure, CaseMember, Consent
from webapp.db import code_constant
from webapp.engine.models import OpenTask
from webapp.services import services

REGISTER_ROLES = ("coordinating_unit", "system_owner")
#: the person's and guardians' member rows: their own pages decide their access (cases.own_access),
#: never these staff pages
CITIZEN_ROLES = ("bruker", "foresatt")


class Access(enum.IntEnum):
    NONE = 0
    REGISTER = 1
    FULL = 2


#: Aliases of the tables the rule reads: the enclosing query may read them itself (the task page
#: reads open_tasks). Made once: building an alias is costly, reusing one is free.
_ALIASES = (aliased(CaseClosure), aliased(CaseClosure), aliased(CaseMember), aliased(Consent), aliased(OpenTask),
            aliased(Case))


def access_level(user: User, today: date, case_id=Case.id) -> ColumnElement[int]:
    """The user's ``Access`` to the case whose id is ``case_id`` (a column of the enclosing
    query, ``cases.id`` by default), as an SQL integer expression. ``today`` (Oslo) matters for
    closed groups only."""
    return access_rule(user.has_role(*REGISTER_ROLES), user.id, today, case_id)


def access_rule(register_role: bool, user_id, today, case_id=Case.id) -> ColumnElement[int]:
    """``access_level`` for a user with or without a register role; ``user_id`` and ``today`` may
    be values or ``bindparam``s (a statement built once and run with them as parameters)."""
    closure, latest, member, consent, step, other_case = _ALIASES
    last_closure = (select(latest.id).where(latest.case_id == case_id, latest.status == "closed")
                    .order_by(latest.id.desc()).limit(1).correlate_except(latest).scalar_subquery())
    reads_after_closing = exists().where(
        closure.id == last_closure, closure.coordinator_user_id == user_id,
        closure.coordinator_access_until >= today)
    # the roles and the status as literals (``code_constant``): columns of partial indexes
    membership = and_(member.case_id == case_id, member.user_id == user_id, member.active.is_(True),
                      member.role.notin_([code_constant(role) for role in CITIZEN_ROLES]))
    coordinator = exists().where(membership, member.role == code_constant("koordinator"))
    consented_member = and_(exists().where(membership), exists().where(
        consent.case_id == case_id, consent.given.is_(True), consent.withdrawn_at.is_(None),
        consent.ended_at.is_(None)))
    status = Case.status if case_id is Case.id else \
        select(other_case.status).where(other_case.id == case_id).scalar_subquery()
    if_closed = int(Access.REGISTER if register_role else Access.NONE)
    whens = [(status == code_constant("closed"), case((reads_after_closing, int(Access.FULL)), else_=if_closed)),
             (coordinator, int(Access.FULL)),
             (consented_member, int(Access.FULL))]
    if register_role:
        return case(*whens, else_=int(Access.REGISTER))
    # a step of this case assigned to them (e.g. appointing without a coordinating unit)
    assigned_step = exists().where(step.case_id == case_id, step.assignee_id == user_id)
    return case(*whens, (assigned_step, int(Access.REGISTER)), else_=int(Access.NONE))


def may_see(user: User, today: date, case_id=Case.id) -> ColumnElement[bool]:
    """SQL condition: the user sees the case at all. Always true for the coordinating unit and
    the system owner (register data of every case), so a list of theirs filters nothing."""
    if user.has_role(*REGISTER_ROLES):
        return true()
    return access_level(user, today, case_id) > int(Access.NONE)


def access_levels(session: Session, user: User, case_ids: Iterable[int], today: date | None = None) -> dict[int, Access]:
    """The user's access to each of ``case_ids`` (unknown ids: NONE), in one query."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = session.execute(select(Case.id, access_level(user, today or services().clock.today()))
                           .where(Case.id.in_(ids)))
    found = {case_id: Access(level) for case_id, level in rows}
    return {case_id: found.get(case_id, Access.NONE) for case_id in ids}


def case_access(session: Session, user: User, case_id: int, today: date | None = None) -> Access:
    """``today`` (Oslo) defaults to the app clock's; it matters for closed groups only."""
    level = session.scalar(select(access_level(user, today or services().clock.today()))
                           .where(Case.id == case_id))
    return Access(level or 0)


def is_coordinator(session: Session, user: User, case_id: int) -> bool:
    """Whether the user is an active coordinator of the case (coordinator-only actions)."""
    return session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case_id, CaseMember.user_id == user.id, CaseMember.role == "koordinator",
        CaseMember.active.is_(True)).limit(1)) is not None
