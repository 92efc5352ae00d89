"""Service tasks of processes/evaluation.bpmn (and the start of the cycle at activation)."""
from __future__ import annotations

from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.cases.operations import coordinator_user
from webapp.closing import operations as closing_ops
from webapp.evaluations import operations as ops
from webapp.transitions import operations as transition_ops


#: kind -> (subject, body) of the notice to the coordinator when an evaluation falls due
NOTICES = {
    "evaluation": ("Tid for evaluering", "Det er tid for å evaluere ansvarsgruppen sammen med personen. "
                   "Logg inn for å registrere evalueringen."),
    "need_check": ("Trengs gruppen fortsatt?", "Det er tid for den årlige vurderingen av om ansvarsgruppen "
                   "fortsatt trengs. Logg inn for å registrere vurderingen."),
}


def _schedule_next(ctx: HandlerContext) -> int:
    """The next evaluation and the scheduled start of its episode; returns the evaluation's id."""
    evaluation = ops.schedule(ctx.session, ctx.case, at=ctx.clock.now(), today=ctx.clock.today(),
                              actor_id=ctx.actor_id, schedule_episode=ctx.schedule_episode)
    return evaluation.id


@handler("start_evaluation_cycle")
def start_evaluation_cycle(ctx: HandlerContext) -> int:
    """At activation: the case's first evaluation, its episode scheduled for the due day."""
    return _schedule_next(ctx)


@handler("evaluation_due")
def evaluation_due(ctx: HandlerContext) -> bool:
    """First step of the episode: link the evaluation to it and tell the coordinator."""
    evaluation = ops.get(ctx.session, ctx.case, ctx.data["evaluation"]["evaluation_id"])
    ops.begin(ctx.session, evaluation, instance_id=ctx.instance_id, at=ctx.clock.now())
    user = coordinator_user(ctx.session, ctx.case.id)
    if user is None or not user.email:
        return False
    subject, body = NOTICES[evaluation.kind]
    ctx.outbox.send(user.email, f"{subject} ({ctx.case.reference})", body)
    return True


@handler("record_evaluation")
def record_evaluation(ctx: HandlerContext) -> str:
    evaluation = ops.get(ctx.session, ctx.case, ctx.data["evaluation"]["evaluation_id"])
    ops.record_evaluation(ctx.session, evaluation, ctx.data, at=ctx.clock.now(), actor_id=ctx.actor_id)
    return evaluation.decision


@handler("evaluation_next_cycle")
def evaluation_next_cycle(ctx: HandlerContext) -> int:
    return _schedule_next(ctx)


@handler("evaluation_composition_review")
def evaluation_composition_review(ctx: HandlerContext) -> int:
    transition = transition_ops.start_composition_review(
        ctx.session, ctx.case, at=ctx.clock.now(), actor_id=ctx.actor_id, start_episode=ctx.start_episode,
        schedule_episode=ctx.schedule_episode, reason=ctx.data.get("decision_reason"))
    return transition.id


@handler("evaluation_start_closing")
def evaluation_start_closing(ctx: HandlerContext) -> int:
    closure = closing_ops.start_closing(
        ctx.session, ctx.case, initiated_by="evaluation", requested_by_name=None,
        request_reason=ctx.data.get("decision_reason"), at=ctx.clock.now(), actor_id=ctx.actor_id,
        start_episode=ctx.start_episode)
    return closure.id
