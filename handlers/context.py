from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from webapp.cases.models import Case
    from webapp.clock import Clock
    from webapp.engine.hooks import StepContext
    from webapp.outbox.operations import Outbox


@dataclass
class HandlerContext:
    """Everything a handler may use. No Flask globals: the web request, the worker and the
    tests build the same context."""

    session: "Session"
    case: "Case"
    actor_id: int | None
    clock: "Clock"
    outbox: "Outbox"
    instance_id: int
    task_spec: str
    data: dict[str, Any]
    #: start another episode (process instance) of this case in the same transaction; returns its id
    start_episode: Callable[[str, dict], int] | None = None
    #: cancel the case's other running episodes and pending scheduled starts (except the processes
    #: named in ``keep``); returns how many were cancelled
    cancel_other_episodes: Callable[..., int] | None = None
    #: ``(process_id, due_at, data, key=None) -> id``: start an episode when it falls due
    schedule_episode: Callable[..., int] | None = None
    #: ``(process_id=None, key=None, reason="") -> count``: cancel pending scheduled starts
    cancel_scheduled: Callable[..., int] | None = None
    #: ``(lane, from_user_id) -> count``: hand open steps of a lane to whoever holds it now
    reassign: Callable[[str, int], int] | None = None


def context_factory(clock: "Clock", reassign: Callable[..., int]) -> Callable[["StepContext"], HandlerContext]:
    """The engine's ``handler_context`` hook: the domain's view of one service-task call."""
    from webapp.cases.models import Case
    from webapp.outbox.operations import Outbox

    def make(step: "StepContext") -> HandlerContext:
        session = step.session
        return HandlerContext(
            session=session, case=session.get(Case, step.case_id), actor_id=step.actor_id, clock=clock,
            outbox=Outbox(session, clock, step.case_id), instance_id=step.instance_id,
            task_spec=step.task_spec, data=step.data, start_episode=step.start_episode,
            cancel_other_episodes=step.cancel_other_episodes, schedule_episode=step.schedule_episode,
            cancel_scheduled=step.cancel_scheduled,
            reassign=lambda lane, from_user_id: reassign(session, step.case_id, lane=lane,
                                                         from_user_id=from_user_id))
    return make


def prepare_batch(session: "Session", steps: list[tuple[int, dict]]) -> None:
    """The engine's ``prepare_batch`` hook, for a worker batch's steps ``(case id, start data)``
    (scheduled starts; due timers, without data): their cases with their members and
    coordinators (``cases.batch``), and the rows the first handlers of a start read by an id in
    its data (a transition, an evaluation, a meeting, a plan), each kind in one query, so each
    step finds them in the session. The session's identity map holds loaded rows only weakly:
    ``session.info`` keeps them for the batch's transaction."""
    from sqlalchemy import select

    from webapp.cases.batch import load_cases
    from webapp.cases.models import Case

    wanted: dict[type, set[int]] = {Case: {case_id for case_id, _data in steps}}
    for _case_id, data in steps:
        for model, value in _named_rows(data):
            if isinstance(value, int) and not isinstance(value, bool):
                wanted.setdefault(model, set()).add(value)
    held: list = load_cases(session, wanted.pop(Case))
    for model, ids in wanted.items():
        held += session.scalars(select(model).where(model.id.in_(sorted(ids))))
    session.info["prepared_rows"] = held


def _named_rows(data: dict) -> list[tuple[type, object]]:
    """The rows a start's first handler reads by id, as the domains write their start data
    (``transitions.operations.review_start_data``, ``evaluations.operations.start_data``,
    ``plans.operations.start_data``, the meeting's planning data)."""
    from webapp.evaluations.models import Evaluation
    from webapp.meetings.models import Meeting
    from webapp.plans.models import Plan
    from webapp.transitions.models import Transition

    if not isinstance(data, dict):
        return []

    def inner(key: str, name: str):
        value = data.get(key)
        return value.get(name) if isinstance(value, dict) else None

    return [(Transition, data.get("transition_id")), (Meeting, data.get("meeting_id")),
            (Evaluation, inner("evaluation", "evaluation_id")), (Plan, inner("plan", "plan_id"))]
