"""The coordinator adds or cancels a transition: the change and its review episode (scheduled or
started; cancelled with its scheduled start or running episode) in one transaction."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from webapp.cases.models import Case
from webapp.cases.operations import DomainError
from webapp.transitions import operations as ops
from webapp.transitions.models import Transition


def add(services, case_id: int, *, kind: str, description: str, on_date: date, actor_id: int) -> int:
    """Returns the new transition's id."""
    if kind not in ops.ADDABLE_KINDS:
        raise DomainError("Ukjent type overgang.")
    with services.db.transaction(serialised=True) as s:
        case = s.get(Case, case_id)
        transition = ops.plan_transition(
            s, case, kind=kind, on_date=on_date, source="coordinator", description=description,
            at=services.clock.now(), actor_id=actor_id,
            start_episode=services.engine.episode_starter(s, case_id, actor_id=actor_id),
            schedule_episode=services.engine.episode_scheduler(s, case_id, actor_id=actor_id))
        return transition.id


def cancel(services, case_id: int, transition_id: int, *, reason: str, actor_id: int) -> None:
    why = f"Overgangen er avbrutt: {reason}"
    with services.db.transaction(serialised=True) as s:
        # first the scheduled start (a start in flight finishes first), then the running episodes,
        # and only then the status: no step in between
        services.engine.cancel_scheduled_in(s, case_id, process_id=ops.REVIEW_PROCESS,
                                            key=ops.review_key(transition_id), reason=why, actor_id=actor_id)
        instances = services.engine.lock_running(s, case_id)
        transition = s.scalar(select(Transition).where(Transition.id == transition_id, Transition.case_id == case_id)
                              .execution_options(populate_existing=True))
        if transition is None:
            raise DomainError("Overgangen finnes ikke i denne saken.")
        ops.cancel_transition(s, transition, reason=reason, at=services.clock.now(), actor_id=actor_id)
        for instance in instances:
            if instance.id == transition.instance_id:
                services.engine.cancel_in(s, instance, why, actor_id=actor_id)
