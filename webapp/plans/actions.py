"""Plan operations started from a page (outside a process step), each in one transaction."""
from __future__ import annotations

from webapp.cases.models import Case
from webapp.cases.operations import record_plan_assessment
from webapp.plans import operations as ops


def start_plan(services, case_id: int, *, kind: str, actor_id: int) -> int:
    """The coordinator assesses the need for a plan as "yes" on the case page: the plan and its
    episode (consent to the plan first). Returns the plan's id."""
    with services.db.transaction(serialised=True) as s:
        case = s.get(Case, case_id)
        now = services.clock.now()
        if kind == "relay_log" and not ops.relay_log_allowed(s, case, services.clock.today()):
            raise ops.DomainError("Kommunen bruker ikke stafettlogg for denne alderen.")
        if case.individual_plan != "yes":
            record_plan_assessment(s, case, "yes", at=now, actor_id=actor_id)
        plan = ops.start_plan(s, case, kind=kind, at=now, actor_id=actor_id,
                              start_episode=services.engine.episode_starter(s, case_id, actor_id=actor_id))
        return plan.id
