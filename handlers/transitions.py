"""Service tasks of processes/transition_review.bpmn (and planning transitions at activation)."""
from __future__ import annotations

from datetime import date

from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.auth.models import User
from webapp.cases.models import CaseMember, Unit
from webapp.cases.operations import DomainError, current_coordinator
from webapp.clock import start_of_day
from webapp.settings.operations import get_setting
from webapp.transitions import operations as ops
from webapp.transitions.models import Transition


def _id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _transition(ctx: HandlerContext) -> Transition:
    transition = ctx.session.get(Transition, _id(ctx.data.get("transition_id")))
    if transition is None or transition.case_id != ctx.case.id:
        raise DomainError("Overgangen finnes ikke i denne saken.")
    return transition


def _rows(ctx: HandlerContext, name: str) -> list[dict]:
    return [row for row in ctx.data.get(name) or [] if isinstance(row, dict)]


@handler("plan_transitions")
def plan_transitions(ctx: HandlerContext) -> int:
    """At activation: the school stages and adulthood still ahead, each with the scheduled start
    of its review episode."""
    return ops.plan_from_birth_date(ctx.session, ctx.case, today=ctx.clock.today(), at=ctx.clock.now(),
                                    actor_id=ctx.actor_id, start_episode=ctx.start_episode,
                                    schedule_episode=ctx.schedule_episode)


@handler("begin_transition_review")
def begin_transition_review(ctx: HandlerContext) -> bool:
    """First step of the episode: link it to the transition and tell the coordinator."""
    transition = _transition(ctx)
    ops.begin_review(ctx.session, transition, instance_id=ctx.instance_id, at=ctx.clock.now(),
                     actor_id=ctx.actor_id)
    for member in ctx.case.members:  # loaded once for a batch of scheduled starts
        if member.role == "koordinator" and member.active and member.email:
            ctx.outbox.send(member.email, f"Gjennomgang før overgang: {transition.label} ({ctx.case.reference})",
                            f"Overgangen «{transition.label}» er {transition.on_date:%d.%m.%Y}. Logg inn og gå "
                            "gjennom gruppens sammensetning og overføringen av ansvar mellom tjenestene.")
    return True


@handler("record_transition_review")
def record_transition_review(ctx: HandlerContext) -> dict:
    transition = _transition(ctx)
    changed = bool(_rows(ctx, "leaving") or _rows(ctx, "joining") or ctx.data.get("new_coordinator_user_id"))
    handover = [{"from": row.get("from"), "to": row.get("to"), "what": row.get("what"), "on": row.get("on")}
                for row in _rows(ctx, "handover")]
    ops.record_review(ctx.session, transition, composition_changed=changed, handover=handover,
                      summary=ctx.data.get("summary") or "", at=ctx.clock.now(), actor_id=ctx.actor_id)
    return {"composition_changed": changed}


def _leaving(ctx: HandlerContext) -> list[tuple[CaseMember, str]]:
    leaving = []
    for row in _rows(ctx, "leaving"):
        member = ctx.session.get(CaseMember, _id(row.get("member_id")))
        if member is None or member.case_id != ctx.case.id:
            raise DomainError("Medlemmet finnes ikke i denne saken.")
        leaving.append((member, row.get("reason") or "Overgang"))
    return leaving


def _joining(ctx: HandlerContext) -> list[dict]:
    joining = []
    for row in _rows(ctx, "joining"):
        user = ctx.session.get(User, _id(row.get("user_id"))) if row.get("user_id") else None
        unit = ctx.session.get(Unit, _id(row.get("unit_id"))) if row.get("unit_id") else None
        joining.append({"name": row["name"], "user_id": user.id if user else None, "unit_id": unit.id if unit else None,
                        "email": row.get("email") or (user.email if user else None)})
    return joining


@handler("apply_transition_consent")
def apply_transition_consent(ctx: HandlerContext) -> dict:
    """Only a renewed consent lets the changed composition take effect."""
    transition = _transition(ctx)
    now, informed_on = ctx.clock.now(), date.fromisoformat(ctx.data["informed_on"])
    if ctx.data.get("consent_renewed") != "ja":
        ops.record_consent_not_renewed(ctx.session, transition, reason=ctx.data.get("refusal_reason") or "",
                                       informed_on=informed_on, at=now, actor_id=ctx.actor_id)
        return {"renewed": False, "previous_coordinator_user_id": None}
    new_coordinator = None
    if ctx.data.get("new_coordinator_user_id"):
        new_coordinator = ctx.session.get(User, _id(ctx.data["new_coordinator_user_id"]))
        if new_coordinator is None or not new_coordinator.active:
            raise DomainError("Valgt koordinator finnes ikke.")
    overlap = ctx.data.get("overlap_until")
    joining, added = _joining(ctx), []
    previous = ops.change_composition(
        ctx.session, ctx.case, transition, leaving=_leaving(ctx), joining=joining, new_coordinator=new_coordinator,
        coordinator_kind=ctx.data.get("coordinator_kind"), overlap_until=date.fromisoformat(overlap) if overlap else None,
        at=now, actor_id=ctx.actor_id, reassign=ctx.reassign, added=added)
    ops.renew_consent(ctx.session, ctx.case, transition, signed_by=ctx.data["signed_by"],
                      signed_how=ctx.data["signed_how"], signed_on=date.fromisoformat(ctx.data["signed_on"]),
                      statements={n: ctx.data.get(n) for n in ops.CONSENT_STATEMENTS}, informed_on=informed_on,
                      at=now, actor_id=ctx.actor_id,
                      valid_months=int(get_setting(ctx.session, "consent_valid_months") or 0))
    for row in joining:
        if row["email"]:
            ctx.outbox.send(row["email"], f"Du er med i en ansvarsgruppe ({ctx.case.reference})",
                            f"Du er lagt til i ansvarsgruppen i forbindelse med overgangen «{transition.label}». "
                            "Logg inn for å se gruppen og neste møte.")
    coordinator = current_coordinator(ctx.session, ctx.case.id)
    to_confirm = [{"member_id": m.id, "name": m.name,
                   "confirm_by": m.user_id or (coordinator.user_id if coordinator else None)} for m in added]
    return {"renewed": True, "previous_coordinator_user_id": previous, "to_confirm": to_confirm}


@handler("transition_members_to_confirm")
def transition_members_to_confirm(ctx: HandlerContext) -> list[dict]:
    """The members who joined (each clarifies the mandate, as at establishment); none without a
    renewed consent."""
    return (ctx.data.get("applied") or {}).get("to_confirm") or []


@handler("finish_transition_review")
def finish_transition_review(ctx: HandlerContext) -> dict:
    """On the next meeting's agenda (or pending until one is created); the review is done."""
    transition = _transition(ctx)
    now = ctx.clock.now()
    ops.put_on_agenda(ctx.session, transition, at=now, actor_id=ctx.actor_id)
    ops.finish_review(ctx.session, transition, at=now, actor_id=ctx.actor_id)
    overlap_at = start_of_day(transition.overlap_until) if transition.overlap_until else None
    return {"overlap": overlap_at is not None, "overlap_at": overlap_at}


@handler("end_coordinator_overlap")
def end_coordinator_overlap(ctx: HandlerContext) -> int:
    transition = _transition(ctx)
    user_id = _id((ctx.data.get("applied") or {}).get("previous_coordinator_user_id"))
    if user_id is None:
        return 0
    return ops.end_coordinator_overlap(ctx.session, transition, user_id, at=ctx.clock.now(), actor_id=ctx.actor_id,
                                       reassign=ctx.reassign)
