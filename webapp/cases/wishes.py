"""Handling a registered wish before a coordinator is appointed: who may decide on it, declining it
or marking it as a duplicate (ending the establishment episode in the same transaction), and the
registrant's own list of the wishes they registered."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.cases import operations as ops
from webapp.cases.models import Case
from webapp.cases.registration import ESTABLISHMENT
from webapp.engine.models import OpenTask
from webapp.tasks import queries

#: The establishment step in which the wish is decided on.
APPOINT_STEP = "appoint"

#: What the registrant sees of a wish's progress, by case status (until the group is established).
REGISTRANT_STATUS = {
    "requested": "registered", "awaiting_consent": "appointed", "establishing": "appointed",
    "declined": "declined", "duplicate": "duplicate",
}


def appoint_task(session: Session, user: User, case_id: int) -> OpenTask | None:
    """The open appointment step of the case, if ``user`` can act on it (the coordinating unit, or
    without one the service that received the wish)."""
    row = session.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == APPOINT_STEP)
                         .order_by(OpenTask.id).limit(1))
    if row is None:
        return None
    return queries.task_for(session, user, row.instance_id, row.task_id)


def decline(services, case_id: int, user: User, *, reason: str, duplicate_of_reference: str | None = None) -> Case:
    """Decline the wish, or mark it as a duplicate of the case with ``duplicate_of_reference``; the
    establishment episode is cancelled in the same transaction. Raises ``ops.DomainError``."""
    with services.db.transaction(serialised=True) as s:
        case = s.get(Case, case_id)
        if case is None or appoint_task(s, user, case_id) is None:
            raise ops.DomainError("Ønsket er allerede behandlet.")
        duplicate_of = None
        if duplicate_of_reference is not None:
            duplicate_of = s.scalar(select(Case).where(Case.reference == duplicate_of_reference.strip().upper()))
            if duplicate_of is None:
                raise ops.DomainError("Finner ingen sak med det saksnummeret.")
        instances = services.engine.lock_running(s, case_id)
        ops.decline_wish(s, case, reason=reason, duplicate_of=duplicate_of, at=services.clock.now(),
                         actor_id=user.id)
        why = "Ønsket er merket som duplikat" if duplicate_of is not None else "Ønsket er avslått"
        for instance in instances:
            if instance.definition.process_id == ESTABLISHMENT:
                services.engine.cancel_in(s, instance, why, actor_id=user.id)
        return case


def registered_by(session: Session, user_id: int) -> list[tuple[Case, str | None]]:
    """The wishes ``user_id`` registered, newest first, each with its registrant status
    (``REGISTRANT_STATUS``; None once the group is established or ended otherwise)."""
    cases = session.scalars(select(Case).where(Case.registered_by_id == user_id)
                            .order_by(Case.created_at.desc(), Case.id.desc())).all()
    return [(case, REGISTRANT_STATUS.get(case.status)) for case in cases]
