"""Service tasks of processes/evaluation.bpmn (and the start of the cycle at activation)."""
from __future__ import annotations


from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.auth.models import User
from webapp.cases.operations import current_coordinator
from webapp.clock import start_of_day
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


@handler("start_evaluation_cycle")
def start_evaluation_cycle(ctx: HandlerContext) -> int:
    """Start the case's first evaluation episode (it schedules itself)."""
    return ctx.start_episode(ops.EVALUATION_PROCESS, {})


@handler("schedule_evaluation")
def schedule_evaluation(ctx: HandlerContext) -> dict:
    evaluation = ops.schedule(ctx.session, ctx.case, instance_id=ctx.instance_id, at=ctx.clock.now(),
                              today=ctx.clock.today())
    return {"evaluation_id": evaluation.id, "kind": evaluation.kind,
            "due_at": start_of_day(evaluation.due_on)}


@handler("evaluation_due")
def evaluation_due(ctx: HandlerContext) -> bool:
    appointment = current_coordinator(ctx.session, ctx.case.id)
    user = ctx.session.get(User, appointment.user_id) if appointment else None
    if user is None or not user.email:
        return False
    subject, body = NOTICES[ctx.data["evaluation"]["kind"]]
    ctx.outbox.send(user.email, f"{subject} ({ctx.case.reference})", body)
    return True


@handler("record_evaluation")
def record_evaluation(ctx: HandlerContext) -> str:
    evaluation = ops.get(ctx.session, ctx.case, ctx.data["evaluation"]["evaluation_id"])
    ops.record_evaluation(ctx.session, evaluation, ctx.data, at=ctx.clock.now(), actor_id=ctx.actor_id)
    return evaluation.decision


@handler("evaluation_next_cycle")
def evaluation_next_cycle(ctx: HandlerContext) -> int:
    return ctx.start_episode(ops.EVALUATION_PROCESS, {})


@handler("evaluation_composition_review")
def evaluation_composition_review(ctx: HandlerContext) -> int:
    transition = transition_ops.start_composition_review(
        ctx.session, ctx.case, at=ctx.clock.now(), actor_id=ctx.actor_id, start_episode=ctx.start_episode,
        reason=ctx.data.get("decision_reason"))
    return transition.id


@handler("evaluation_start_closing")
def evaluation_start_closing(ctx: HandlerContext) -> int:
    closure = closing_ops.start_closing(
        ctx.session, ctx.case, initiated_by="evaluation", requested_by_name=None,
        request_reason=ctx.data.get("decision_reason"), at=ctx.clock.now(), actor_id=ctx.actor_id,
        start_episode=ctx.start_episode)
    return closure.id
