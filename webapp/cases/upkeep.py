"""Upkeep after an upgrade: active groups that became active before the evaluation cycle and
the transition reviews existed get them started. Idempotent; `serve` and `demo` run it at start."""
from __future__ import annotations

from sqlalchemy import select

from webapp.cases.models import Case
from webapp.closing.queries import open_closure
from webapp.engine.models import ProcessDefinition, ProcessInstance
from webapp.evaluations.operations import EVALUATION_PROCESS, next_evaluation
from webapp.transitions.operations import plan_from_birth_date


def start_missing_cycles(services) -> int:
    """Returns how many episodes were started."""
    with services.db.session() as s:
        active = list(s.scalars(select(Case.id).where(Case.status == "active")))
    started = 0
    for case_id in active:
        with services.db.transaction(serialised=True) as s:
            case = s.get(Case, case_id)
            if case is None or case.status != "active" or open_closure(s, case_id) is not None:
                continue
            start = services.engine.episode_starter(s, case_id, actor_id=None)
            evaluating = s.scalar(select(ProcessInstance.id).join(ProcessInstance.definition).where(
                ProcessInstance.case_id == case_id, ProcessInstance.status.in_(("running", "incident")),
                ProcessDefinition.process_id == EVALUATION_PROCESS).limit(1))
            if evaluating is None and next_evaluation(s, case_id) is None:
                start(EVALUATION_PROCESS, {})
                started += 1
            started += plan_from_birth_date(s, case, today=services.clock.today(), at=services.clock.now(),
                                            actor_id=None, start_episode=start)
    return started
