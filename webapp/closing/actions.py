"""Requests from the case page that start an episode, each in one transaction: closing on the
person's or guardians' wish, and re-establishing a closed group."""
from __future__ import annotations

from webapp.cases.models import Case
from webapp.closing import operations as ops
from webapp.cases.registration import ESTABLISHMENT


def request_closing(services, case_id: int, *, initiated_by: str, requested_by_name: str, reason: str,
                    actor_id: int) -> None:
    with services.db.transaction(serialised=True) as s:
        case = s.get(Case, case_id)
        ops.start_closing(s, case, initiated_by=initiated_by, requested_by_name=requested_by_name,
                          request_reason=reason, at=services.clock.now(), actor_id=actor_id,
                          start_episode=services.engine.episode_starter(s, case_id, actor_id=actor_id))


def reestablish(services, case_id: int, *, requested_by_kind: str, requested_by_name: str, wish: str,
                actor_id: int) -> tuple[int, str]:
    """Returns the new case's (id, reference)."""
    with services.db.transaction(serialised=True) as s:
        previous = s.get(Case, case_id)
        case = ops.reestablish(s, previous, requested_by_kind=requested_by_kind,
                               requested_by_name=requested_by_name, wish=wish, at=services.clock.now(),
                               actor_id=actor_id)
        services.engine.start_in(s, case.id, ESTABLISHMENT, actor_id=actor_id,
                                 data={"wish": wish, "person_name": case.person.full_name})
        return case.id, case.reference
