"""A worker batch's cases, loaded at once with what its steps read of them, and how readers find
them loaded.

A batch of scheduled starts or due timers runs its steps in one transaction
(``handlers.context.prepare_batch``). Their lanes' holders (``cases.roles.resolve_role``), their
coordinator (``cases.operations.current_coordinator`` and ``coordinator_user``) and handlers
writing to the coordinators read the cases' members and appointments from the loaded
collections, without a query each; anywhere else they query as before. The collections stay up
to date within the transaction because members and appointments change only through their
objects: ``add_member`` and ``appoint_coordinator`` join a new one to its case's collection, and
ending one sets its attribute.
"""
from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.util import identity_key

from webapp.cases.models import Case, CoordinatorAppointment


def load_cases(session: Session, case_ids: set[int]) -> list[Case]:
    """The cases with their members and their coordinator appointments (with the appointed
    users), in three queries whatever their number."""
    return list(session.scalars(select(Case).where(Case.id.in_(sorted(case_ids))).options(
        selectinload(Case.members),
        selectinload(Case.appointments).joinedload(CoordinatorAppointment.user))))


def loaded(session: Session, case_id: int, collection: str) -> list | None:
    """The case's ``collection`` (``members``, ``appointments``) if the session holds the case
    with it loaded, else None (then the caller queries)."""
    case = session.identity_map.get(identity_key(Case, case_id))
    if case is None or collection in inspect(case).unloaded:
        return None
    return getattr(case, collection)
