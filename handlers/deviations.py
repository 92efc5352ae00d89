"""Service tasks of processes/deviation.bpmn: each calls webapp.deviations.operations."""
from __future__ import annotations


from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.cases.operations import DomainError
from webapp.cases.roles import users_with_role
from webapp.deviations import operations as ops
from webapp.deviations.models import Deviation


def _deviation(ctx: HandlerContext) -> Deviation:
    deviation = ctx.session.get(Deviation, int(ctx.data["deviation_id"]))
    if deviation is None or deviation.case_id != ctx.case.id:
        raise DomainError("Avviket finnes ikke i denne saken.")
    return deviation


@handler("record_deviation_followup")
def record_deviation_followup(ctx: HandlerContext) -> dict:
    closed = ctx.data["decision"] == "closed"
    ops.follow_up(ctx.session, _deviation(ctx), ctx.data["follow_up"], closed=closed, at=ctx.clock.now(),
                  actor_id=ctx.actor_id)
    return {"closed": closed}


@handler("escalate_deviation")
def escalate_deviation(ctx: HandlerContext) -> int:
    """Mark the deviation escalated and tell the system owners; returns how many were mailed.
    The mail names the case only: the deviation itself is read after logging in."""
    deviation = _deviation(ctx)
    if ctx.data.get("decision") == "cannot_close":
        reason = ctx.data["escalation_reason"]
    else:  # the follow-up deadline passed without an answer
        reason = f"Ikke fulgt opp i ansvarsgruppen innen {ctx.data['followup_days']} dager."
    ops.escalate(ctx.session, deviation, reason, at=ctx.clock.now(), actor_id=ctx.actor_id)
    owners = [u for u in users_with_role(ctx.session, "system_owner") if u.email]
    for owner in owners:
        ctx.outbox.send(owner.email, f"Avvik til behandling ({ctx.case.reference})",
                        f"Et avvik i ansvarsgruppe {ctx.case.reference} er ikke lukket i gruppen og er sendt "
                        "til systemansvarlig. Logg inn for å behandle avviket.", plain=True)
    return len(owners)


@handler("close_deviation")
def close_deviation(ctx: HandlerContext) -> bool:
    action = ctx.data["owner_action"]
    if ctx.data.get("closing_remark"):
        action = f"{action}\n\nAvsluttende merknad: {ctx.data['closing_remark']}"
    ops.close_by_system_owner(ctx.session, _deviation(ctx), action, at=ctx.clock.now(), actor_id=ctx.actor_id)
    return True
