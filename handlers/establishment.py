"""Service tasks of processes/establishment.bpmn: each turns the data of the step before it
into domain rows through webapp.cases.operations."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.meetings.notices import told_on_own_pages
from webapp.portal.notices import notify_person_side
from webapp.auth.models import User
from webapp.cases import operations as ops
from webapp.cases.models import CaseMember, Unit
from webapp.plans import operations as plan_ops
from webapp.settings.operations import get_setting


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@handler("appoint_coordinator")
def appoint_coordinator(ctx: HandlerContext) -> dict:
    user = ctx.session.get(User, _int(ctx.data.get("coordinator_user_id")))
    if user is None or not user.active:
        raise ops.DomainError("Valgt koordinator finnes ikke.")
    ops.appoint_coordinator(ctx.session, ctx.case, user, kind=ctx.data["coordinator_kind"],
                            at=ctx.clock.now(), actor_id=ctx.actor_id,
                            persons_wish=ctx.data.get("persons_wish"),
                            wish_weighed=bool(ctx.data.get("wish_weighed")), reason=ctx.data.get("reason"))
    if user.email:
        ctx.outbox.send(user.email, f"Du er oppnevnt som koordinator ({ctx.case.reference})",
                        "Du er oppnevnt som koordinator for en ansvarsgruppe. Logg inn for å innhente "
                        "samtykke og sette sammen gruppen.")
    # the person or the guardians may give the consent themselves, after logging in
    notify_person_side(ctx.session, ctx.outbox, ctx.case, ctx.clock.today(), "consent", acting=True,
                       link=f"/min-side/saker/{ctx.case.id}/samtykke")
    return {"user_id": user.id, "kind": ctx.data["coordinator_kind"]}


@handler("record_consent")
def record_consent(ctx: HandlerContext) -> bool:
    given = ctx.data.get("consent_decision") == "gitt"
    # a digital consent (webapp/portal): given by the logged-in person or guardian completing the step
    digital = ctx.data.get("signed_how") == "digital" and ctx.data.get("consent_user_id") == ctx.actor_id
    ops.record_consent(
        ctx.session, ctx.case, given=given, signed_by=ctx.data["signed_by"],
        signed_how=ctx.data["signed_how"], signed_on=date.fromisoformat(ctx.data["signed_on"]),
        at=ctx.clock.now(), actor_id=ctx.actor_id, refusal_reason=ctx.data.get("refusal_reason"),
        statements={k: ctx.data.get(k) for k in ("statement_composition", "statement_confidential",
                                                 "statement_registration", "statement_voluntary")},
        valid_months=int(get_setting(ctx.session, "consent_valid_months") or 0),
        given_by_user_id=ctx.actor_id if digital else None,
        assurance_level=ctx.data.get("consent_acr") if digital else None)
    return given


@handler("propose_members")
def propose_members(ctx: HandlerContext) -> list[dict]:
    """Add the proposed members; return who confirms each one (the member, or for outside
    participants without an account, the coordinator)."""
    now = ctx.clock.now()
    coordinator = ops.current_coordinator(ctx.session, ctx.case.id)
    to_confirm = []
    for row in ctx.data.get("members", []):
        user = ctx.session.get(User, _int(row.get("user_id"))) if row.get("user_id") else None
        unit = ctx.session.get(Unit, _int(row.get("unit_id"))) if row.get("unit_id") else None
        member = ops.add_member(ctx.session, ctx.case, row["name"], "medlem", at=now, actor_id=ctx.actor_id,
                                user_id=user.id if user else None,
                                email=row.get("email") or (user.email if user else None),
                                unit_id=unit.id if unit else None)
        to_confirm.append({"member_id": member.id, "name": member.name,
                           "confirm_by": user.id if user else (coordinator.user_id if coordinator else None)})
        if member.email:
            ctx.outbox.send(member.email, f"Forespørsel om deltakelse i ansvarsgruppe ({ctx.case.reference})",
                            "Du er foreslått som medlem i en ansvarsgruppe. Logg inn for å bekrefte "
                            "deltakelse og avklare mandatet ditt.")
    return to_confirm


@handler("record_confirmations")
def record_confirmations(ctx: HandlerContext) -> int:
    now = ctx.clock.now()
    count = 0
    for item in ctx.data.get("confirmations", []):
        member = ctx.session.get(CaseMember, _int(item.get("member_id")))
        if member is None or member.case_id != ctx.case.id:
            continue
        ops.set_mandate(ctx.session, member, confirmed=item.get("participates") == "ja",
                        mandate=item.get("mandate"), at=now, actor_id=ctx.actor_id)
        count += 1
    return count


@handler("record_plan_need")
def record_plan_need(ctx: HandlerContext) -> str:
    """The need for an individual plan; "yes" starts the plan episode (consent to the plan,
    drafting, adoption), or the relay log's where a stafettholder leads the group."""
    ops.record_plan_assessment(ctx.session, ctx.case, ctx.data["plan_need"], at=ctx.clock.now(),
                               actor_id=ctx.actor_id)
    if ctx.data["plan_need"] == "yes" and plan_ops.current_plan(ctx.session, ctx.case.id) is None:
        plan_ops.start_plan(ctx.session, ctx.case, kind=plan_ops.default_kind(ctx.session, ctx.case, ctx.clock.today()),
                            at=ctx.clock.now(), actor_id=ctx.actor_id, start_episode=ctx.start_episode)
    return ctx.data["plan_need"]


@handler("activate_case")
def activate_case(ctx: HandlerContext) -> str:
    day = date.fromisoformat(ctx.data["first_meeting_date"])
    ops.activate(ctx.session, ctx.case, day, at=ctx.clock.now(), actor_id=ctx.actor_id)
    members = ctx.session.scalars(select(CaseMember).where(
        CaseMember.case_id == ctx.case.id, CaseMember.active.is_(True), CaseMember.email.is_not(None)))
    for member in members:
        if told_on_own_pages(ctx.session, ctx.outbox, ctx.case, member, "meeting"):
            continue  # the person and guardians: a notice to their own pages (or nothing, see there)
        ctx.outbox.send(member.email, f"Ansvarsgruppen er opprettet ({ctx.case.reference})",
                        f"Første møte er satt til {day:%d.%m.%Y}. Innkalling kommer.")
    return day.isoformat()
